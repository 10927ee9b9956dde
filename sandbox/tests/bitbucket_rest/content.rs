//! Branches, file content, users and user permissions.

use fluxstrap_testkit::{Curl, Git, blocking};

use super::common::{admin, assert_recorded_shape, curl, reader, start};

#[tokio::test]
async fn content_branches_users_and_user_permissions() {
    let bitbucket = start("content", "").await;
    let base = bitbucket.base_url().to_string();
    let work = bitbucket.dir().subdir("work");
    let pushed_to = bitbucket.git_root().join("plat/cfg.git");
    blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        let repo = format!("{api}/projects/PLAT/repos/cfg");
        assert_eq!(
            curl(
                "POST",
                &format!("{api}/projects/PLAT/repos"),
                Some(admin()),
                Some(r#"{"name":"cfg","defaultBranch":"main"}"#)
            )
            .status,
            201
        );
        let git = Git::new(&work);
        git.run(&["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(work.join("clusters")).unwrap();
        std::fs::write(work.join("clusters/a.yaml"), "kind: A\nname: a\n").unwrap();
        git.run(&["add", "."]);
        git.commit("one");
        git.run(&["branch", "develop"]);
        git.run(&["push", "-q", pushed_to.to_str().unwrap(), "main", "develop"]);

        let branches = curl("GET", &format!("{repo}/branches"), Some(reader()), None);
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
        let browse = curl(
            "GET",
            &format!("{repo}/browse/clusters/a.yaml"),
            Some(reader()),
            None,
        );
        assert_recorded_shape("browse/bo__browse-file-lines.json", &browse.body);
        assert_eq!(browse.body["lines"][1]["text"], "name: a");
        assert_eq!(
            curl(
                "GET",
                &format!("{repo}/raw/nope.yaml"),
                Some(reader()),
                None
            )
            .status,
            404
        );

        let updated = curl(
            "PUT",
            &repo,
            Some(admin()),
            Some(r#"{"description":"cluster config"}"#),
        );
        assert_eq!(updated.status, 201);
        assert_eq!(updated.body["description"], "cluster config");

        let users = curl(
            "GET",
            &format!("{api}/users?filter=read"),
            Some(admin()),
            None,
        );
        assert_eq!(users.body["size"], 1);
        assert_eq!(users.body["values"][0]["name"], "reader");
        assert_recorded_shape("user/sg__users-list-filter.json", &users.body);

        // A repository grant raises the reader to REPO_ADMIN on this repository only.
        let grant = curl(
            "PUT",
            &format!("{repo}/permissions/users?name=reader&permission=REPO_ADMIN"),
            Some(admin()),
            None,
        );
        assert_eq!(grant.status, 204);
        let listed = curl(
            "GET",
            &format!("{repo}/permissions/users"),
            Some(reader()),
            None,
        );
        assert_eq!(listed.body["values"][0]["user"]["name"], "reader");
        assert_eq!(listed.body["values"][0]["permission"], "REPO_ADMIN");
        assert_recorded_shape(
            "permissions/cd__repo-permissions-users-list.json",
            &listed.body,
        );
        assert_eq!(
            curl(
                "DELETE",
                &format!("{repo}/permissions/users?name=reader"),
                Some(admin()),
                None
            )
            .status,
            204
        );
        assert_eq!(
            curl(
                "GET",
                &format!("{repo}/permissions/users"),
                Some(reader()),
                None
            )
            .status,
            401
        );
    })
    .await;
    bitbucket.stop().await;
}
