//! The Bitbucket emulator's REST API driven by a real client (`curl`) over loopback, with
//! expectations from the reference and the recorded real responses.

use std::path::{Path, PathBuf};
use std::process::Command;

use fluxstrap_sandbox::bitbucket::{
    BitbucketEmulator, Config, Fault, FaultAction, Seed, Ssh, Transport,
};
use serde_json::Value;

const ADMIN: &str = "admin-token-0123456789abcdef";
const READER: &str = "reader-token-0123456789abcdef";
/// A real ed25519 public key (type + base64 of the SSH wire format).
const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

struct Answer {
    status: u16,
    headers: String,
    body: Value,
}

/// One HTTP call with curl; `auth` is a Bearer token, or `user:token` for Basic.
fn curl(method: &str, url: &str, auth: Option<&str>, body: Option<&str>) -> Answer {
    let mut command = Command::new("curl");
    command.args(["-s", "-i", "-X", method, url]);
    match auth {
        Some(basic) if basic.contains(':') => {
            command.args(["-u", basic]);
        }
        Some(token) => {
            command.args(["-H", &format!("Authorization: Bearer {token}")]);
        }
        None => {}
    }
    if let Some(body) = body {
        command.args(["-H", "Content-Type: application/json", "--data", body]);
    }
    let output = command.output().expect("running curl");
    let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    let (headers, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("an HTTP status line");
    Answer {
        status,
        headers: headers.to_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

async fn start(name: &str, context_path: &str) -> (BitbucketEmulator, PathBuf) {
    let root = std::env::temp_dir().join(format!("fluxstrap-bb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let emulator = BitbucketEmulator::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        context_path: context_path.into(),
        git_root: root.clone(),
        seed: Seed::default(),
        ssh_port: 7999,
        transport: Transport::Http,
        ssh: Ssh::Disabled,
    })
    .await
    .expect("starting the emulator");
    (emulator, root)
}

/// Runs blocking client calls off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn recorded(path: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/bitbucket/recorded")
        .join(path);
    serde_json::from_str(
        &std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
    )
    .unwrap()
}

/// Field names and JSON types of `actual` cover those of the real `expected` answer.
fn assert_same_shape(expected: &Value, actual: &Value, at: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let Some(other) = a.get(key) else {
                    panic!("{at}.{key} is missing (real Bitbucket has it)");
                };
                assert_same_shape(value, other, &format!("{at}.{key}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let (Some(first), Some(other)) = (e.first(), a.first()) {
                assert_same_shape(first, other, &format!("{at}[0]"));
            }
        }
        (Value::Null, _) | (_, Value::Null) => {}
        (e, a) => assert_eq!(
            std::mem::discriminant(e),
            std::mem::discriminant(a),
            "{at}: real {e}, emulator {a}"
        ),
    }
}

#[tokio::test]
async fn identity_headers_and_authentication() {
    let (bitbucket, _root) = start("auth", "/bitbucket").await;
    let base = bitbucket.base_url().to_string();
    blocking(move || {
        let anonymous = curl(
            "GET",
            &format!("{base}/rest/api/1.0/application-properties"),
            None,
            None,
        );
        assert_eq!(anonymous.status, 200);
        assert!(!anonymous.headers.contains("x-ausername"));
        assert_same_shape(
            &recorded("application-properties/sg__application-properties-7.11.2.json"),
            &anonymous.body,
            "$",
        );

        let bearer = curl(
            "GET",
            &format!("{base}/rest/api/latest/application-properties"),
            Some(ADMIN),
            None,
        );
        assert!(
            bearer.headers.contains("x-ausername: admin"),
            "{}",
            bearer.headers
        );
        let basic = curl(
            "GET",
            &format!("{base}/rest/api/1.0/projects/PLAT"),
            Some(&format!("admin:{ADMIN}")),
            None,
        );
        assert_eq!(basic.status, 200);

        let wrong = curl(
            "GET",
            &format!("{base}/rest/api/1.0/projects"),
            Some("not-a-token"),
            None,
        );
        assert_eq!(wrong.status, 401);
        assert_eq!(
            wrong.body["errors"][0]["exceptionName"],
            "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
        );
        // A bodiless POST without X-Atlassian-Token fails Bitbucket's XSRF check.
        let xsrf = curl(
            "POST",
            &format!("{base}/rest/api/1.0/projects/PLAT/repos"),
            Some(ADMIN),
            None,
        );
        assert_eq!(xsrf.status, 403);
        assert!(xsrf.headers.contains("text/html"));
        // The rate-limit probe go-git-providers sends first.
        assert_eq!(curl("GET", &base, None, None).status, 200);
    })
    .await;
    bitbucket.stop().await;
}

#[tokio::test]
async fn projects_repositories_and_their_rules() {
    let (bitbucket, root) = start("repos", "").await;
    let base = bitbucket.base_url().to_string();
    blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        // Keys are case-insensitive and come back canonical.
        let project = curl("GET", &format!("{api}/projects/plat"), Some(ADMIN), None);
        assert_eq!(project.body["key"], "PLAT");
        assert_same_shape(
            &recorded("project/sg__project-single-private.json"),
            &project.body,
            "$",
        );
        let missing = curl("GET", &format!("{api}/projects/NOPE"), Some(ADMIN), None);
        assert_eq!(missing.status, 404);
        assert_eq!(
            missing.body["errors"][0]["message"],
            "Project NOPE does not exist."
        );
        // The name filter is a case-insensitive substring.
        let found = curl(
            "GET",
            &format!("{api}/projects?name=platf"),
            Some(ADMIN),
            None,
        );
        assert_eq!(found.body["values"][0]["name"], "Platform");

        let created = curl(
            "POST",
            &format!("{api}/projects/PLAT/repos"),
            Some(ADMIN),
            Some(r#"{"name":"Fleet Infra","defaultBranch":"develop"}"#),
        );
        assert_eq!(created.status, 201);
        assert_eq!(created.body["slug"], "fleet-infra");
        assert_same_shape(
            &recorded("repository/sg__repo-single.json"),
            &created.body,
            "$",
        );
        let again = curl(
            "POST",
            &format!("{api}/projects/PLAT/repos"),
            Some(ADMIN),
            Some(r#"{"name":"fleet infra"}"#),
        );
        assert_eq!(again.status, 409);
        assert!(
            again.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("This repository URL is already taken")
        );
        let bad = curl(
            "POST",
            &format!("{api}/projects/PLAT/repos"),
            Some(ADMIN),
            Some(r#"{"name":"-bad"}"#),
        );
        assert_eq!(bad.status, 400);
        assert_eq!(bad.body["errors"][0]["context"], "name");
        // A reader of the project may not create repositories: 401, not 403.
        let denied = curl(
            "POST",
            &format!("{api}/projects/PLAT/repos"),
            Some(READER),
            Some(r#"{"name":"other"}"#),
        );
        assert_eq!(denied.status, 401);
        assert_eq!(
            denied.body["errors"][0]["exceptionName"],
            "com.atlassian.bitbucket.AuthorisationException"
        );
        assert_eq!(
            curl(
                "GET",
                &format!("{api}/projects/PLAT/repos/fleet-infra"),
                Some(READER),
                None
            )
            .status,
            200
        );

        // Empty repository: 204 on the default branch, 200 once a commit is pushed.
        let default_branch = format!("{api}/projects/PLAT/repos/fleet-infra/branches/default");
        assert_eq!(curl("GET", &default_branch, Some(ADMIN), None).status, 204);
        let work = root.join("work");
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .arg("-C")
                .arg(&work)
                .args(args)
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        std::fs::create_dir_all(&work).unwrap();
        git(&["init", "-q", "-b", "develop"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@x",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "first",
        ]);
        git(&[
            "push",
            "-q",
            root.join("plat/fleet-infra.git").to_str().unwrap(),
            "develop",
        ]);
        let branch = curl("GET", &default_branch, Some(ADMIN), None);
        assert_eq!(branch.status, 200);
        // The newer endpoint answers the same.
        let newer = curl(
            "GET",
            &format!("{api}/projects/PLAT/repos/fleet-infra/default-branch"),
            Some(ADMIN),
            None,
        );
        assert_eq!(newer.body["id"], "refs/heads/develop");
        assert_eq!(branch.body["id"], "refs/heads/develop");
        assert_eq!(branch.body["displayId"], "develop");

        // Paging: nextPageStart only when there is more.
        for name in ["a1", "a2"] {
            let body = format!(r#"{{"name":"{name}"}}"#);
            assert_eq!(
                curl(
                    "POST",
                    &format!("{api}/projects/PLAT/repos"),
                    Some(ADMIN),
                    Some(&body)
                )
                .status,
                201
            );
        }
        let first = curl(
            "GET",
            &format!("{api}/projects/PLAT/repos?limit=2"),
            Some(ADMIN),
            None,
        );
        assert_eq!(first.body["isLastPage"], false);
        assert_eq!(first.body["nextPageStart"], 2);
        let last = curl(
            "GET",
            &format!("{api}/projects/PLAT/repos?limit=2&start=2"),
            Some(ADMIN),
            None,
        );
        assert_eq!(last.body["isLastPage"], true);
        assert!(last.body.get("nextPageStart").is_none());
        assert_eq!(
            curl(
                "DELETE",
                &format!("{api}/projects/PLAT/repos/a2"),
                Some(ADMIN),
                None
            )
            .status,
            202
        );
        assert_eq!(
            curl(
                "GET",
                &format!("{api}/projects/PLAT/repos/a2"),
                Some(ADMIN),
                None
            )
            .status,
            404
        );
    })
    .await;
    bitbucket.stop().await;
}

#[tokio::test]
async fn group_permissions_and_access_keys() {
    let (bitbucket, _root) = start("perms", "").await;
    let base = bitbucket.base_url().to_string();
    blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        let keys = format!("{base}/rest/keys/1.0/projects/PLAT/repos/fleet/ssh");
        assert_eq!(
            curl(
                "POST",
                &format!("{api}/projects/PLAT/repos"),
                Some(ADMIN),
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
                Some(ADMIN),
                None
            )
            .status,
            204
        );
        let listed = curl("GET", &format!("{groups}?filter=form"), Some(ADMIN), None);
        assert_eq!(listed.body["values"][0]["group"]["name"], "platform-team");
        assert_eq!(listed.body["values"][0]["permission"], "REPO_WRITE");
        assert_same_shape(
            &recorded("permissions/cd__repo-permissions-groups-list.json"),
            &listed.body,
            "$",
        );
        let project_groups = curl(
            "GET",
            &format!("{api}/projects/PLAT/permissions/groups"),
            Some(ADMIN),
            None,
        );
        assert_eq!(
            project_groups.body["values"][0]["permission"],
            "PROJECT_ADMIN"
        );
        // Permissions need REPO_ADMIN.
        assert_eq!(curl("GET", &groups, Some(READER), None).status, 401);

        let add = |text: &str, permission: &str| {
            let body = format!(
                r#"{{"key":{{"text":"{text}","label":"flux"}},"permission":"{permission}"}}"#
            );
            curl("POST", &keys, Some(ADMIN), Some(&body))
        };
        let added = add(PUBLIC_KEY, "REPO_READ");
        assert_eq!(added.status, 201, "{}", added.body);
        assert_eq!(added.body["permission"], "REPO_READ");
        assert_same_shape(
            &recorded("access-keys/cd__repo-access-key-single.json"),
            &added.body,
            "$",
        );
        assert_eq!(
            add(&format!("{PUBLIC_KEY} other-comment"), "REPO_READ").status,
            409
        );
        assert_eq!(add("ssh-ed25519 not-base64", "REPO_READ").status, 400);
        let id = added.body["key"]["id"].as_u64().unwrap();
        let changed = curl(
            "PUT",
            &format!("{keys}/{id}/permission/REPO_WRITE"),
            Some(ADMIN),
            None,
        );
        assert_eq!(changed.body["permission"], "REPO_WRITE");
        let listed = curl("GET", &format!("{keys}?filter=fl"), Some(ADMIN), None);
        assert_eq!(listed.body["size"], 1);
        assert_same_shape(
            &recorded("access-keys/cd__repo-access-keys-list.json"),
            &listed.body,
            "$",
        );
        assert_eq!(
            curl("DELETE", &format!("{keys}/{id}"), Some(ADMIN), None).status,
            204
        );
        assert_eq!(curl("GET", &keys, Some(ADMIN), None).body["size"], 0);
    })
    .await;
    bitbucket.stop().await;
}

#[tokio::test]
async fn injected_faults_and_the_request_log() {
    let (bitbucket, _root) = start("faults", "").await;
    bitbucket
        .inject(Fault {
            method: Some("GET".into()),
            path_contains: "/projects/PLAT".into(),
            nth: 2,
            action: FaultAction::ServerError,
        })
        .await;
    let base = bitbucket.base_url().to_string();
    let statuses = blocking(move || {
        (0..3)
            .map(|_| {
                curl(
                    "GET",
                    &format!("{base}/rest/api/1.0/projects/PLAT"),
                    Some(ADMIN),
                    None,
                )
                .status
            })
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(statuses, [200, 500, 200]);
    bitbucket
        .inject(Fault {
            method: None,
            path_contains: "/application-properties".into(),
            nth: 1,
            action: FaultAction::DropConnection,
        })
        .await;
    let base = bitbucket.base_url().to_string();
    let dropped = blocking(move || {
        Command::new("curl")
            .args(["-s", "-o", "/dev/null"])
            .arg(format!("{base}/rest/api/1.0/application-properties"))
            .status()
            .unwrap()
    })
    .await;
    // curl exits non-zero when the server breaks the answer off.
    assert!(!dropped.success());
    let log = bitbucket.request_log().await;
    assert_eq!(log.len(), 4);
    assert!(
        log[..3]
            .iter()
            .all(|r| r.method == "GET" && r.path == "/rest/api/1.0/projects/PLAT")
    );
    assert_eq!(log[3].path, "/rest/api/1.0/application-properties");
    assert_eq!(log[1].status, 500);
    bitbucket.stop().await;
}

#[tokio::test]
async fn content_branches_users_and_user_permissions() {
    let (bitbucket, root) = start("content", "").await;
    let base = bitbucket.base_url().to_string();
    blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        let repo = format!("{api}/projects/PLAT/repos/cfg");
        assert_eq!(
            curl(
                "POST",
                &format!("{api}/projects/PLAT/repos"),
                Some(ADMIN),
                Some(r#"{"name":"cfg","defaultBranch":"main"}"#)
            )
            .status,
            201
        );
        let work = root.join("work");
        std::fs::create_dir_all(&work).unwrap();
        let git = |args: &[&str]| {
            assert!(
                Command::new("git")
                    .arg("-C")
                    .arg(&work)
                    .args(args)
                    .status()
                    .unwrap()
                    .success()
            )
        };
        git(&["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(work.join("clusters")).unwrap();
        std::fs::write(work.join("clusters/a.yaml"), "kind: A\nname: a\n").unwrap();
        git(&["add", "."]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@x",
            "commit",
            "-q",
            "-m",
            "one",
        ]);
        git(&["branch", "develop"]);
        git(&[
            "push",
            "-q",
            root.join("plat/cfg.git").to_str().unwrap(),
            "main",
            "develop",
        ]);

        let branches = curl("GET", &format!("{repo}/branches"), Some(READER), None);
        assert_eq!(branches.body["size"], 2);
        assert_same_shape(
            &recorded("branches/bbs__branches-list.json"),
            &branches.body,
            "$",
        );
        let main = branches.body["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["displayId"] == "main")
            .unwrap()
            .clone();
        assert_eq!(main["isDefault"], true);

        let raw = Command::new("curl")
            .args(["-s", "-H", &format!("Authorization: Bearer {READER}")])
            .arg(format!("{repo}/raw/clusters/a.yaml?at=refs/heads/develop"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&raw.stdout), "kind: A\nname: a\n");
        let browse = curl(
            "GET",
            &format!("{repo}/browse/clusters/a.yaml"),
            Some(READER),
            None,
        );
        assert_same_shape(
            &recorded("browse/bo__browse-file-lines.json"),
            &browse.body,
            "$",
        );
        assert_eq!(browse.body["lines"][1]["text"], "name: a");
        assert_eq!(
            curl("GET", &format!("{repo}/raw/nope.yaml"), Some(READER), None).status,
            404
        );

        let updated = curl(
            "PUT",
            &repo,
            Some(ADMIN),
            Some(r#"{"description":"cluster config"}"#),
        );
        assert_eq!(updated.status, 201);
        assert_eq!(updated.body["description"], "cluster config");

        let users = curl(
            "GET",
            &format!("{api}/users?filter=read"),
            Some(ADMIN),
            None,
        );
        assert_eq!(users.body["size"], 1);
        assert_eq!(users.body["values"][0]["name"], "reader");
        assert_same_shape(
            &recorded("user/sg__users-list-filter.json"),
            &users.body,
            "$",
        );

        // A repository grant raises the reader to REPO_ADMIN on this repository only.
        let grant = curl(
            "PUT",
            &format!("{repo}/permissions/users?name=reader&permission=REPO_ADMIN"),
            Some(ADMIN),
            None,
        );
        assert_eq!(grant.status, 204);
        let listed = curl(
            "GET",
            &format!("{repo}/permissions/users"),
            Some(READER),
            None,
        );
        assert_eq!(listed.body["values"][0]["user"]["name"], "reader");
        assert_eq!(listed.body["values"][0]["permission"], "REPO_ADMIN");
        assert_same_shape(
            &recorded("permissions/cd__repo-permissions-users-list.json"),
            &listed.body,
            "$",
        );
        assert_eq!(
            curl(
                "DELETE",
                &format!("{repo}/permissions/users?name=reader"),
                Some(ADMIN),
                None
            )
            .status,
            204
        );
        assert_eq!(
            curl(
                "GET",
                &format!("{repo}/permissions/users"),
                Some(READER),
                None
            )
            .status,
            401
        );
    })
    .await;
    bitbucket.stop().await;
}
