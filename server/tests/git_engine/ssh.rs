//! Over SSH with access keys: REPO_READ may fetch but not push, REPO_WRITE pushes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use fluxstrap_core::bootstrap::ports::PortResult;
use fluxstrap_server::git::{GitAuth, NativeGit, Secret, Signing};
use fluxstrap_testkit::{Bitbucket, ssh_keygen};

use super::common::{Synced, commit, flux_files, native, sync};

/// The flux-system files (gotk-sync.yaml `v1`) synced to `main` of `url`.
async fn sync_v1(git: NativeGit, url: &str) -> PortResult<Synced> {
    sync(&git, url, "main", &flux_files("v1"), &commit(), || {}).await
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_push_with_access_keys() {
    let bitbucket = Bitbucket::loopback("git-ssh").start().await;
    bitbucket.create_repository("fleet");
    let key = |name: &str, permission: &str| -> PathBuf {
        let path = ssh_keygen(bitbucket.dir().path(), name, "ecdsa", &["-b", "384"]);
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        let body = serde_json::json!({ "key": { "text": public.trim(), "label": name }, "permission": permission });
        bitbucket
            .admin_curl("POST", "/rest/keys/1.0/projects/PLAT/repos/fleet/ssh")
            .json(&body.to_string())
            .send()
            .expect(201);
        path
    };
    let reader = key("reader", "REPO_READ");
    let writer = key("writer", "REPO_WRITE");
    // flux's SSH URL form: upper-case key, no .git.
    let url = format!("{}/PLAT/fleet", bitbucket.ssh_url().unwrap());
    let known_hosts = bitbucket.ssh_known_hosts().unwrap().to_string();
    let jobs = bitbucket.dir().subdir("jobs");
    let git = |key: &Path| {
        native(
            GitAuth::Ssh {
                private_key: Secret::new(std::fs::read_to_string(key).unwrap()),
                known_hosts: known_hosts.clone(),
            },
            Signing::None,
            &jobs,
        )
    };

    let refused = sync_v1(git(&reader), &url).await.unwrap_err();
    assert!(
        refused.to_string().contains("not permitted to push"),
        "{refused}"
    );

    let started = Instant::now();
    let pushed = sync_v1(git(&writer), &url).await.unwrap();
    println!(
        "git: full flux-system commit pushed over SSH in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert!(matches!(pushed, Synced::Pushed { .. }), "{pushed:?}");
    // The reader can fetch what was pushed: its clone sees the commit and stops at no change.
    let noop = sync_v1(git(&reader), &url).await.unwrap();
    assert!(matches!(noop, Synced::UpToDate { .. }), "{noop:?}");
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 0);
    bitbucket.stop().await;
}
