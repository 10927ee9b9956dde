//! Git over SSH against the Bitbucket emulator with OpenSSH and git: repository access keys
//! authenticate, REPO_READ fetches but cannot push, REPO_WRITE pushes, unknown keys and wrong
//! host keys are refused, and deleting an access key revokes it at once.

use std::path::Path;
use std::process::Output;

use fluxstrap_sandbox::bitbucket::Seed;
use fluxstrap_testkit::{Bitbucket, Curl, Git, TempDir, blocking, seed, ssh_keygen};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A REST call as the admin; its answer's JSON.
fn rest(method: &str, url: &str, body: Option<&str>) -> serde_json::Value {
    let curl = Curl::new(method, url).bearer(&seed::admin().token);
    match body {
        Some(body) => curl.json(body),
        None => curl,
    }
    .send()
    .body
}

#[tokio::test]
async fn access_keys_gate_git_over_ssh() {
    // alice (project admin through her group) logs in with her own key.
    let keys = TempDir::new("bb-ssh-keys");
    let alice_key = ssh_keygen(keys.path(), "alice", "ed25519", &[]);
    let mut seed = Seed::default();
    let alice = seed.users.iter_mut().find(|u| u.name == "alice").unwrap();
    alice.ssh_keys = vec![std::fs::read_to_string(alice_key.with_extension("pub")).unwrap()];
    let bitbucket = Bitbucket::loopback("bb-ssh")
        .plain_http()
        .seed(seed)
        .start()
        .await;
    let base = bitbucket.base_url().to_string();
    let ssh_url = bitbucket.ssh_url().unwrap().to_string();
    let known_hosts_line = bitbucket.ssh_known_hosts().unwrap().to_string();
    let work = bitbucket.dir().path().to_path_buf();
    let admin_git = bitbucket.admin_git(bitbucket.dir().subdir("seed"));
    blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        let repo = rest("POST", &format!("{api}/projects/PLAT/repos"), Some(r#"{"name":"fleet","defaultBranch":"main"}"#));
        assert_eq!(repo["slug"], "fleet");
        // The repository's own ssh clone link points at this server.
        let ssh_link = repo["links"]["clone"].as_array().unwrap().iter().find(|l| l["name"] == "ssh").unwrap()["href"].as_str().unwrap().to_string();
        assert_eq!(ssh_link, format!("{ssh_url}/plat/fleet.git"));

        // Seed the repository over HTTP.
        admin_git.run(&["init", "-q", "-b", "main"]);
        std::fs::write(admin_git.dir().join("README.md"), "fleet\n").unwrap();
        admin_git.run(&["add", "."]);
        admin_git.commit("first");
        admin_git.run(&["push", "-q", &format!("{base}/scm/plat/fleet.git"), "main"]);

        let keys_dir = keys.path();
        let reader = ssh_keygen(keys_dir, "reader", "ed25519", &[]);
        let writer = ssh_keygen(keys_dir, "writer", "ecdsa", &[]);
        let stranger = ssh_keygen(keys_dir, "stranger", "ed25519", &[]);
        let known_hosts = work.join("known_hosts");
        std::fs::write(&known_hosts, format!("{known_hosts_line}\n")).unwrap();
        // git over SSH with `key`, strict host-key checking against `known_hosts`.
        let git_ssh = |dir: &Path, key: &Path, known_hosts: &Path| Git::new(dir).ssh_key(key, known_hosts);

        let access_keys = format!("{base}/rest/keys/1.0/projects/PLAT/repos/fleet/ssh");
        let register = |key: &Path, permission: &str| {
            let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
            let body = serde_json::json!({ "key": { "text": public.trim(), "label": "test" }, "permission": permission });
            rest("POST", &access_keys, Some(&body.to_string()))["key"]["id"].as_u64().unwrap()
        };
        let reader_id = register(&reader, "REPO_READ");
        register(&writer, "REPO_WRITE");

        // REPO_READ clones (Bitbucket's link form and flux's: upper-case key, no .git) …
        git_ssh(&work, &reader, &known_hosts).run(&["clone", "-q", &ssh_link, "by-reader"]);
        assert_eq!(std::fs::read_to_string(work.join("by-reader/README.md")).unwrap(), "fleet\n");
        git_ssh(&work, &reader, &known_hosts).run(&["clone", "-q", &format!("{ssh_url}/PLAT/fleet"), "flux-form"]);
        // … but cannot push.
        let clone = work.join("by-reader");
        std::fs::write(clone.join("x"), "x").unwrap();
        Git::new(&clone).run(&["add", "x"]);
        Git::new(&clone).commit("x");
        let refused = git_ssh(&clone, &reader, &known_hosts).output(&["push", "-q", "origin", "HEAD:main"]);
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains("not permitted to push to"), "{}", stderr(&refused));
        // REPO_WRITE pushes.
        git_ssh(&clone, &writer, &known_hosts).run(&["push", "-q", "origin", "HEAD:main"]);

        // An unknown key is refused.
        let unknown = git_ssh(&work, &stranger, &known_hosts).output(&["clone", "-q", &ssh_link, "stranger"]);
        assert!(!unknown.status.success());
        assert!(stderr(&unknown).contains("Permission denied (publickey)"), "{}", stderr(&unknown));
        // A wrong host key is refused by the client.
        let other_known_hosts = work.join("other_known_hosts");
        let stranger_public = std::fs::read_to_string(stranger.with_extension("pub")).unwrap();
        let port = ssh_url.rsplit(':').next().unwrap();
        std::fs::write(&other_known_hosts, format!("[127.0.0.1]:{port} {}", stranger_public)).unwrap();
        let spoofed = git_ssh(&work, &reader, &other_known_hosts).output(&["clone", "-q", &ssh_link, "spoofed"]);
        assert!(!spoofed.status.success());
        assert!(stderr(&spoofed).contains("Host key verification failed"), "{}", stderr(&spoofed));

        // A user's own key works with the user's permissions (alice administers the project).
        let by_alice = work.join("by-alice");
        git_ssh(&work, &alice_key, &known_hosts).run(&["clone", "-q", &ssh_link, "by-alice"]);
        std::fs::write(by_alice.join("y"), "y").unwrap();
        Git::new(&by_alice).run(&["add", "y"]);
        Git::new(&by_alice).commit("y");
        git_ssh(&by_alice, &alice_key, &known_hosts).run(&["push", "-q", "origin", "HEAD:main"]);

        // Deleting the access key revokes it immediately.
        rest("DELETE", &format!("{access_keys}/{reader_id}"), None);
        let revoked = git_ssh(&work, &reader, &known_hosts).output(&["clone", "-q", &ssh_link, "revoked"]);
        assert!(!revoked.status.success());
    })
    .await;
    bitbucket.stop().await;
}
