//! Group permissions and repository access keys.

use fluxstrap_testkit::{blocking, seed};

use super::common::{admin, assert_recorded_shape, curl, reader, start};

#[tokio::test]
async fn group_permissions_and_access_keys() {
    let bitbucket = start("perms", "").await;
    let base = bitbucket.base_url().to_string();
    blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        let keys = format!("{base}/rest/keys/1.0/projects/PLAT/repos/fleet/ssh");
        assert_eq!(
            curl(
                "POST",
                &format!("{api}/projects/PLAT/repos"),
                Some(admin()),
                Some(r#"{"name":"fleet"}"#)
            )
            .status,
            201
        );

        let groups = format!("{api}/projects/PLAT/repos/fleet/permissions/groups");
        assert_eq!(
            curl(
                "PUT",
                &format!("{groups}?permission=REPO_WRITE&name=platform-team"),
                Some(admin()),
                None
            )
            .status,
            204
        );
        let listed = curl("GET", &format!("{groups}?filter=form"), Some(admin()), None);
        assert_eq!(listed.body["values"][0]["group"]["name"], "platform-team");
        assert_eq!(listed.body["values"][0]["permission"], "REPO_WRITE");
        assert_recorded_shape(
            "permissions/cd__repo-permissions-groups-list.json",
            &listed.body,
        );
        let project_groups = curl(
            "GET",
            &format!("{api}/projects/PLAT/permissions/groups"),
            Some(admin()),
            None,
        );
        assert_eq!(
            project_groups.body["values"][0]["permission"],
            "PROJECT_ADMIN"
        );
        // Permissions need REPO_ADMIN.
        assert_eq!(curl("GET", &groups, Some(reader()), None).status, 401);

        let add = |text: &str, permission: &str| {
            let body = format!(
                r#"{{"key":{{"text":"{text}","label":"flux"}},"permission":"{permission}"}}"#
            );
            curl("POST", &keys, Some(admin()), Some(&body))
        };
        let added = add(seed::ED25519_PUBLIC_KEY, "REPO_READ");
        assert_eq!(added.status, 201, "{}", added.body);
        assert_eq!(added.body["permission"], "REPO_READ");
        assert_recorded_shape("access-keys/cd__repo-access-key-single.json", &added.body);
        assert_eq!(
            add(
                &format!("{} other-comment", seed::ED25519_PUBLIC_KEY),
                "REPO_READ"
            )
            .status,
            409
        );
        assert_eq!(add("ssh-ed25519 not-base64", "REPO_READ").status, 400);
        let id = added.body["key"]["id"].as_u64().unwrap();
        let changed = curl(
            "PUT",
            &format!("{keys}/{id}/permission/REPO_WRITE"),
            Some(admin()),
            None,
        );
        assert_eq!(changed.body["permission"], "REPO_WRITE");
        let listed = curl("GET", &format!("{keys}?filter=fl"), Some(admin()), None);
        assert_eq!(listed.body["size"], 1);
        assert_recorded_shape("access-keys/cd__repo-access-keys-list.json", &listed.body);
        assert_eq!(
            curl("DELETE", &format!("{keys}/{id}"), Some(admin()), None).status,
            204
        );
        assert_eq!(curl("GET", &keys, Some(admin()), None).body["size"], 0);
    })
    .await;
    bitbucket.stop().await;
}
