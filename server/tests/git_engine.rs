//! The git engine against the sandbox's git over HTTPS (its CA) and SSH (access keys): first
//! push into an empty repository, no-op second run, other files untouched, an existing
//! kustomization.yaml kept, a concurrent push (the retry path), a missing branch, a REPO_READ
//! key's push refused, and nothing left on disk. Prints push times of a full flux-system commit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use fluxstrap_sandbox::bitbucket::{BitbucketEmulator, Config};
use fluxstrap_server::git::{
    CommitSpec, FileWrite, GitAuth, Secret, SyncOutcome, WriteMode, sync_files,
};

const ADMIN: &str = "admin-token-0123456789abcdef";

async fn sandbox(root: &Path) -> BitbucketEmulator {
    BitbucketEmulator::start(Config::loopback(root))
        .await
        .unwrap()
}

fn curl(bitbucket: &BitbucketEmulator, method: &str, path: &str, body: &str) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-s", "-X", method, "--cacert"])
        .arg(bitbucket.ca_file().unwrap())
        .args([
            "-H",
            &format!("Authorization: Bearer {ADMIN}"),
            "-H",
            "Content-Type: application/json",
            "--data",
            body,
        ])
        .arg(format!("{}{path}", bitbucket.base_url()))
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

fn components() -> Vec<u8> {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/flux/goldens/v2.9.4/default/gotk-components.yaml");
    std::fs::read(golden).expect("the v2.9.4 golden in ../shared")
}

fn flux_files(sync: &str) -> Vec<FileWrite> {
    vec![
        FileWrite {
            path: "clusters/prod/flux-system/gotk-components.yaml".into(),
            content: components(),
            mode: WriteMode::Overwrite,
        },
        FileWrite {
            path: "clusters/prod/flux-system/gotk-sync.yaml".into(),
            content: sync.as_bytes().to_vec(),
            mode: WriteMode::Overwrite,
        },
        FileWrite {
            path: "clusters/prod/flux-system/kustomization.yaml".into(),
            content: b"generated\n".to_vec(),
            mode: WriteMode::CreateOnly,
        },
    ]
}

fn commit() -> CommitSpec {
    CommitSpec {
        subject: "component manifests".into(),
        message: "Add Flux v2.9.4 component manifests".into(),
        appendix: Some("Signed-off-by: ops".into()),
        author_name: "Flux".into(),
        author_email: "".into(),
        signing: fluxstrap_server::git::Signing::None,
    }
}

fn git(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn https_push_noop_concurrency_and_cleanup() {
    let root = std::env::temp_dir().join(format!("fluxstrap-git-https-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let bitbucket = sandbox(&root).await;
    curl(
        &bitbucket,
        "POST",
        "/rest/api/1.0/projects/PLAT/repos",
        r#"{"name":"fleet","defaultBranch":"main"}"#,
    );
    let url = format!("{}/scm/plat/fleet.git", bitbucket.base_url());
    let ca = bitbucket.ca_file().unwrap().to_path_buf();
    let auth = GitAuth::Https {
        username: "admin".into(),
        token: Secret::new(ADMIN),
        ca_file: Some(ca.clone()),
    };
    let jobs = root.join("jobs");
    std::fs::create_dir_all(&jobs).unwrap();

    // First push into the empty repository creates `main`.
    let started = Instant::now();
    let first = sync_files(
        &url,
        &auth,
        "main",
        &flux_files("v1"),
        &commit(),
        &jobs,
        &mut |_| {},
    )
    .await
    .unwrap();
    println!(
        "git: full flux-system commit pushed over HTTPS in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let SyncOutcome::Pushed {
        commit: first_commit,
        attempts: 1,
    } = first
    else {
        panic!("{first:?}")
    };

    // Unchanged: no commit, no push.
    let again = sync_files(
        &url,
        &auth,
        "main",
        &flux_files("v1"),
        &commit(),
        &jobs,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        again,
        SyncOutcome::UpToDate {
            head: first_commit.clone()
        }
    );

    // A project/repository token authenticates as Bearer; still nothing to commit.
    let bearer = GitAuth::HttpsBearer {
        token: Secret::new(ADMIN),
        ca_file: Some(ca.clone()),
    };
    let mut bearer_events = Vec::new();
    let again = sync_files(
        &url,
        &bearer,
        "main",
        &flux_files("v1"),
        &commit(),
        &jobs,
        &mut |event| bearer_events.push(event.to_string()),
    )
    .await
    .unwrap();
    assert_eq!(
        again,
        SyncOutcome::UpToDate {
            head: first_commit.clone()
        }
    );
    assert_eq!(
        bearer_events.last().map(String::as_str),
        Some("✔ component manifests are up to date")
    );

    // Someone else's file, and an edited kustomization.yaml, survive the next run.
    let other = root.join("other");
    let env = [("GIT_SSL_CAINFO", ca.to_str().unwrap())];
    let header = format!("http.extraHeader=Authorization: Bearer {ADMIN}");
    git(
        &root,
        &env,
        &["-c", &header, "clone", "-q", &url, other.to_str().unwrap()],
    );
    std::fs::write(other.join("README.md"), "mine\n").unwrap();
    std::fs::write(
        other.join("clusters/prod/flux-system/kustomization.yaml"),
        "edited\n",
    )
    .unwrap();
    git(&other, &env, &["add", "."]);
    git(
        &other,
        &env,
        &[
            "-c",
            "user.name=O",
            "-c",
            "user.email=o@x",
            "commit",
            "-q",
            "-m",
            "mine",
        ],
    );
    git(
        &other,
        &env,
        &["-c", &header, "push", "-q", "origin", "main"],
    );

    // The branch moves between our commit and our push: the engine starts again.
    let mut moved = false;
    let mut events = Vec::new();
    let mut move_branch = |event: fluxstrap_server::git::Progress| {
        let first_commit =
            matches!(event, fluxstrap_server::git::Progress::Committed { .. }) && !moved;
        events.push(event.to_string());
        if first_commit {
            std::fs::write(other.join("apps.yaml"), "x\n").unwrap();
            git(&other, &env, &["add", "."]);
            git(
                &other,
                &env,
                &[
                    "-c",
                    "user.name=O",
                    "-c",
                    "user.email=o@x",
                    "commit",
                    "-q",
                    "-m",
                    "race",
                ],
            );
            git(
                &other,
                &env,
                &["-c", &header, "push", "-q", "origin", "main"],
            );
            moved = true;
        }
    };
    let raced = sync_files(
        &url,
        &auth,
        "main",
        &flux_files("v2"),
        &commit(),
        &jobs,
        &mut move_branch,
    )
    .await
    .unwrap();
    assert!(moved);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.as_str() == "◎ git conflict detected, retrying with a fresh clone")
            .count(),
        1,
        "{events:#?}"
    );
    assert_eq!(
        events.first().map(String::as_str),
        Some(format!("► cloning branch \"main\" from Git repository \"{url}\"").as_str())
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some(format!("► pushing component manifests to \"{url}\"").as_str())
    );
    let SyncOutcome::Pushed { attempts: 2, .. } = raced else {
        panic!("{raced:?}")
    };

    let check = root.join("check");
    git(
        &root,
        &env,
        &["-c", &header, "clone", "-q", &url, check.to_str().unwrap()],
    );
    assert_eq!(
        std::fs::read_to_string(check.join("README.md")).unwrap(),
        "mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(check.join("apps.yaml")).unwrap(),
        "x\n"
    );
    assert_eq!(
        std::fs::read_to_string(check.join("clusters/prod/flux-system/kustomization.yaml"))
            .unwrap(),
        "edited\n"
    );
    assert_eq!(
        std::fs::read_to_string(check.join("clusters/prod/flux-system/gotk-sync.yaml")).unwrap(),
        "v2"
    );
    let log = git(&check, &[], &["log", "-1", "--format=%an <%ae>%n%B"]);
    assert_eq!(
        log.trim_end(),
        "Flux <>\nAdd Flux v2.9.4 component manifests\n\nSigned-off-by: ops"
    );

    // A branch that does not exist in a non-empty repository is an error, not a new branch.
    let missing = sync_files(
        &url,
        &auth,
        "develop",
        &flux_files("v1"),
        &commit(),
        &jobs,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("the branch \"develop\" does not exist"),
        "{missing}"
    );

    // Nothing of the jobs (clones, credentials) is left behind.
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 0);
    bitbucket.stop().await;
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_push_with_access_keys() {
    let root = std::env::temp_dir().join(format!("fluxstrap-git-ssh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let bitbucket = sandbox(&root).await;
    curl(
        &bitbucket,
        "POST",
        "/rest/api/1.0/projects/PLAT/repos",
        r#"{"name":"fleet","defaultBranch":"main"}"#,
    );
    let key = |name: &str, permission: &str| -> PathBuf {
        let path = root.join(name);
        assert!(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f"])
                .arg(&path)
                .status()
                .unwrap()
                .success()
        );
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        let body = serde_json::json!({ "key": { "text": public.trim(), "label": name }, "permission": permission });
        curl(
            &bitbucket,
            "POST",
            "/rest/keys/1.0/projects/PLAT/repos/fleet/ssh",
            &body.to_string(),
        );
        path
    };
    let reader = key("reader", "REPO_READ");
    let writer = key("writer", "REPO_WRITE");
    // flux's SSH URL form: upper-case key, no .git.
    let url = format!("{}/PLAT/fleet", bitbucket.ssh_url().unwrap());
    let known_hosts = bitbucket.ssh_known_hosts().unwrap().to_string();
    let auth = |key: &Path| GitAuth::Ssh {
        private_key: Secret::new(std::fs::read_to_string(key).unwrap()),
        known_hosts: known_hosts.clone(),
    };
    let jobs = root.join("jobs");
    std::fs::create_dir_all(&jobs).unwrap();

    let refused = sync_files(
        &url,
        &auth(&reader),
        "main",
        &flux_files("v1"),
        &commit(),
        &jobs,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("not permitted to push"),
        "{refused}"
    );

    let started = Instant::now();
    let pushed = sync_files(
        &url,
        &auth(&writer),
        "main",
        &flux_files("v1"),
        &commit(),
        &jobs,
        &mut |_| {},
    )
    .await
    .unwrap();
    println!(
        "git: full flux-system commit pushed over SSH in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert!(
        matches!(pushed, SyncOutcome::Pushed { attempts: 1, .. }),
        "{pushed:?}"
    );
    // The reader can fetch what was pushed: its clone sees the commit and stops at no change.
    let noop = sync_files(
        &url,
        &auth(&reader),
        "main",
        &flux_files("v1"),
        &commit(),
        &jobs,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(matches!(noop, SyncOutcome::UpToDate { .. }), "{noop:?}");
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 0);
    bitbucket.stop().await;
    let _ = std::fs::remove_dir_all(root);
}
