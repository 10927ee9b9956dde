//! Branches, file content, users and user permissions.

use fluxstrap_testkit::{Curl, Git, blocking};

use super::common::{
    admin, assert_first_grant, assert_recorded_shape, create_in_plat, curl, delete, get,
    grant_then_list, reader, start,
};

#[tokio::test]
async fn content_branches_users_and_user_permissions() {
    let bitbucket = start("content", "").await;
    let base = bitbucket.base_url().to_string();
    let work = bitbucket.dir().subdir("work");
    let pushed_to = bitbucket.git_root().join("plat/cfg.git");
    blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        let repo = format!("{api}/projects/PLAT/repos/cfg");
        let created = create_in_plat(&api, admin(), r#"{"name":"cfg","defaultBranch":"main"}"#);
        assert_eq!(created.status, 201);
        let git = Git::new(&work);
        git.run(&["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(work.join("clusters")).unwrap();
        std::fs::write(work.join("clusters/a.yaml"), "kind: A\nname: a\n").unwrap();
        git.run(&["add", "."]);
        git.commit("one");
        git.run(&["branch", "develop"]);
        git.run(&["push", "-q", pushed_to.to_str().unwrap(), "main", "develop"]);

        let branches = get(format!("{repo}/branches"), reader());
        assert_eq!(branches.body["size"], 2);
        assert_recorded_shape("branches/bbs__branches-list.json", &branches.body);
        let main = branches.body["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["displayId"] == "main")
            .unwrap()
            .clone();
        assert_eq!(main["isDefault"], true);

        let raw = Curl::get(format!("{repo}/raw/clusters/a.yaml?at=refs/heads/develop"))
            .bearer(reader())
            .send();
        assert_eq!(raw.text, "kind: A\nname: a\n");
        let browse = get(format!("{repo}/browse/clusters/a.yaml"), reader());
        assert_recorded_shape("browse/bo__browse-file-lines.json", &browse.body);
        assert_eq!(browse.body["lines"][1]["text"], "name: a");
        assert_eq!(get(format!("{repo}/raw/nope.yaml"), reader()).status, 404);

        let updated = curl(
            "PUT",
            &repo,
            Some(admin()),
            Some(r#"{"description":"cluster config"}"#),
        );
        assert_eq!(updated.status, 201);
        assert_eq!(updated.body["description"], "cluster config");

        let users = get(format!("{api}/users?filter=read"), admin());
        assert_eq!(users.body["size"], 1);
        assert_eq!(users.body["values"][0]["name"], "reader");
        assert_recorded_shape("user/sg__users-list-filter.json", &users.body);

        // A repository grant raises the reader to REPO_ADMIN on this repository only.
        let users = format!("{repo}/permissions/users");
        let listed = grant_then_list(&users, "name=reader&permission=REPO_ADMIN", reader(), "");
        assert_first_grant(&listed, "user", "reader", "REPO_ADMIN");
        assert_recorded_shape("permissions/cd__repo-permissions-users-list.json", &listed);
        let revoked = delete(format!("{repo}/permissions/users?name=reader"), admin());
        assert_eq!(revoked.status, 204);
        assert_eq!(
            get(format!("{repo}/permissions/users"), reader()).status,
            401
        );
    })
    .await;
    bitbucket.stop().await;
}
