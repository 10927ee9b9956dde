//! Projects and repositories: lookups, creation rules, default branches, paging, deletion.

use fluxstrap_testkit::{Git, blocking};

use super::common::{admin, assert_recorded_shape, create_in_plat, delete, get, reader, start};

#[tokio::test]
async fn projects_repositories_and_their_rules() {
    let bitbucket = start("repos", "").await;
    let base = bitbucket.base_url().to_string();
    let git = Git::new(bitbucket.dir().subdir("work"));
    let pushed_to = bitbucket.git_root().join("plat/fleet-infra.git");
    blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        // Keys are case-insensitive and come back canonical.
        let project = get(format!("{api}/projects/plat"), admin());
        assert_eq!(project.body["key"], "PLAT");
        assert_recorded_shape("project/sg__project-single-private.json", &project.body);
        let missing = get(format!("{api}/projects/NOPE"), admin());
        assert_eq!(missing.status, 404);
        assert_eq!(
            missing.body["errors"][0]["message"],
            "Project NOPE does not exist."
        );
        // The name filter is a case-insensitive substring.
        let found = get(format!("{api}/projects?name=platf"), admin());
        assert_eq!(found.body["values"][0]["name"], "Platform");

        let created = create_in_plat(
            &api,
            admin(),
            r#"{"name":"Fleet Infra","defaultBranch":"develop"}"#,
        );
        assert_eq!(created.status, 201);
        assert_eq!(created.body["slug"], "fleet-infra");
        assert_recorded_shape("repository/sg__repo-single.json", &created.body);
        let again = create_in_plat(&api, admin(), r#"{"name":"fleet infra"}"#);
        assert_eq!(again.status, 409);
        assert!(
            again.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("This repository URL is already taken")
        );
        let bad = create_in_plat(&api, admin(), r#"{"name":"-bad"}"#);
        assert_eq!(bad.status, 400);
        assert_eq!(bad.body["errors"][0]["context"], "name");
        // A reader of the project may not create repositories: 401, not 403.
        let denied = create_in_plat(&api, reader(), r#"{"name":"other"}"#);
        assert_eq!(denied.status, 401);
        assert_eq!(
            denied.body["errors"][0]["exceptionName"],
            "com.atlassian.bitbucket.AuthorisationException"
        );
        let readable = get(format!("{api}/projects/PLAT/repos/fleet-infra"), reader());
        assert_eq!(readable.status, 200);

        // Empty repository: 204 on the default branch, 200 once a commit is pushed.
        let default_branch = format!("{api}/projects/PLAT/repos/fleet-infra/branches/default");
        assert_eq!(get(&default_branch, admin()).status, 204);
        git.run(&["init", "-q", "-b", "develop"]);
        git.run(&["commit", "-q", "--allow-empty", "-m", "first"]);
        git.run(&["push", "-q", pushed_to.to_str().unwrap(), "develop"]);
        let branch = get(&default_branch, admin());
        assert_eq!(branch.status, 200);
        // The newer endpoint answers the same.
        let newer = get(
            format!("{api}/projects/PLAT/repos/fleet-infra/default-branch"),
            admin(),
        );
        assert_eq!(newer.body["id"], "refs/heads/develop");
        assert_eq!(branch.body["id"], "refs/heads/develop");
        assert_eq!(branch.body["displayId"], "develop");

        // Paging: nextPageStart only when there is more.
        for name in ["a1", "a2"] {
            let body = format!(r#"{{"name":"{name}"}}"#);
            assert_eq!(create_in_plat(&api, admin(), &body).status, 201);
        }
        let first = get(format!("{api}/projects/PLAT/repos?limit=2"), admin());
        assert_eq!(first.body["isLastPage"], false);
        assert_eq!(first.body["nextPageStart"], 2);
        let last = get(
            format!("{api}/projects/PLAT/repos?limit=2&start=2"),
            admin(),
        );
        assert_eq!(last.body["isLastPage"], true);
        assert!(last.body.get("nextPageStart").is_none());
        let a2 = format!("{api}/projects/PLAT/repos/a2");
        assert_eq!(delete(&a2, admin()).status, 202);
        assert_eq!(get(&a2, admin()).status, 404);
    })
    .await;
    bitbucket.stop().await;
}
