//! Group permissions and repository access keys.

use fluxstrap_testkit::paths::recorded_answer;
use fluxstrap_testkit::{blocking, seed};

use super::common::{
    admin, assert_first_grant, assert_recorded_shape, assert_same_shape, create_in_plat, delete,
    get, grant_then_list, post, put, reader, start,
};

#[tokio::test]
async fn group_permissions_and_access_keys() {
    let bitbucket = start("perms", "").await;
    let base = bitbucket.base_url().to_string();
    blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        let keys = format!("{base}/rest/keys/1.0/projects/PLAT/repos/fleet/ssh");
        assert_eq!(
            create_in_plat(&api, admin(), r#"{"name":"fleet"}"#).status,
            201
        );

        let groups = format!("{api}/projects/PLAT/repos/fleet/permissions/groups");
        let grant = "permission=REPO_WRITE&name=platform-team";
        let listed = grant_then_list(&groups, grant, admin(), "?filter=form");
        assert_first_grant(&listed, "group", "platform-team", "REPO_WRITE");
        assert_recorded_shape("permissions/cd__repo-permissions-groups-list.json", &listed);
        let project_groups = get(format!("{api}/projects/PLAT/permissions/groups"), admin());
        assert_eq!(
            project_groups.body["values"][0]["permission"],
            "PROJECT_ADMIN"
        );
        // Permissions need REPO_ADMIN.
        assert_eq!(get(&groups, reader()).status, 401);

        let add = |text: &str, permission: &str| {
            let body = format!(
                r#"{{"key":{{"text":"{text}","label":"flux"}},"permission":"{permission}"}}"#
            );
            post(&keys, admin(), &body)
        };
        let added = add(seed::ED25519_PUBLIC_KEY, "REPO_READ");
        assert_eq!(added.status, 201, "{}", added.body);
        assert_eq!(added.body["permission"], "REPO_READ");
        assert_recorded_shape("access-keys/cd__repo-access-key-single.json", &added.body);
        // Bitbucket 8.x adds the key's algorithm and size (this recording's repository has a
        // description, which Bitbucket leaves out when there is none: only the key is compared).
        let netic = recorded_answer("access-keys/netic__repo-access-key-single.json");
        assert_same_shape(&netic["key"], &added.body["key"], "$.key");
        assert_eq!(added.body["key"]["bitLength"], 256);
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
        let changed = put(format!("{keys}/{id}/permission/REPO_WRITE"), admin());
        assert_eq!(changed.body["permission"], "REPO_WRITE");
        let listed = get(format!("{keys}?filter=fl"), admin());
        assert_eq!(listed.body["size"], 1);
        assert_recorded_shape("access-keys/cd__repo-access-keys-list.json", &listed.body);
        assert_eq!(delete(format!("{keys}/{id}"), admin()).status, 204);
        assert_eq!(get(&keys, admin()).body["size"], 0);
    })
    .await;
    bitbucket.stop().await;
}
