//! Git over SSH against the Bitbucket emulator with OpenSSH and git: repository access keys
//! authenticate, REPO_READ fetches but cannot push, REPO_WRITE pushes, unknown keys and wrong
//! host keys are refused, and deleting an access key revokes it at once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fluxstrap_sandbox::bitbucket::{BitbucketEmulator, Config, Seed, Ssh, Transport};
use serde_json::Value;

const ADMIN: &str = "admin-token-0123456789abcdef";

fn run(command: &mut Command) -> Output {
    command.output().expect("running a client")
}

fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn keygen(dir: &Path, name: &str, kind: &str) -> PathBuf {
    let path = dir.join(name);
    ok(run(Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", "", "-f"])
        .arg(&path)));
    path
}

fn rest(method: &str, url: &str, body: Option<&str>) -> Value {
    let mut command = Command::new("curl");
    command.args([
        "-s",
        "-X",
        method,
        "-H",
        &format!("Authorization: Bearer {ADMIN}"),
    ]);
    if let Some(body) = body {
        command.args(["-H", "Content-Type: application/json", "--data", body]);
    }
    let out = ok(run(command.arg(url)));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// git with OpenSSH using `key`, strict host-key checking against `known_hosts`, no prompts.
fn git_ssh(dir: &Path, key: &Path, known_hosts: &Path, args: &[&str]) -> Output {
    let ssh = format!(
        "ssh -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={}",
        key.display(),
        known_hosts.display()
    );
    run(Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_SSH_COMMAND", ssh)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("HOME", dir))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn access_keys_gate_git_over_ssh() {
    let root = std::env::temp_dir().join(format!("fluxstrap-bb-ssh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    // alice (project admin through her group) logs in with her own key.
    let keys_dir = root.join("keys");
    std::fs::create_dir_all(&keys_dir).unwrap();
    let alice_key = keygen(&keys_dir, "alice", "ed25519");
    let mut seed = Seed::default();
    let alice = seed.users.iter_mut().find(|u| u.name == "alice").unwrap();
    alice.ssh_keys = vec![std::fs::read_to_string(alice_key.with_extension("pub")).unwrap()];
    let bitbucket = BitbucketEmulator::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        context_path: String::new(),
        git_root: root.join("repos"),
        seed,
        ssh_port: 7999,
        transport: Transport::Http,
        ssh: Ssh::Enabled {
            listen: "127.0.0.1:0".parse().unwrap(),
            host_key_dir: root.join("hostkey"),
        },
    })
    .await
    .unwrap();
    let base = bitbucket.base_url().to_string();
    let ssh_url = bitbucket.ssh_url().unwrap().to_string();
    let known_hosts_line = bitbucket.ssh_known_hosts().unwrap().to_string();
    let work = root.clone();
    tokio::task::spawn_blocking(move || {
        let api = format!("{base}/rest/api/1.0");
        let repo = rest("POST", &format!("{api}/projects/PLAT/repos"), Some(r#"{"name":"fleet","defaultBranch":"main"}"#));
        assert_eq!(repo["slug"], "fleet");
        // The repository's own ssh clone link points at this server.
        let ssh_link = repo["links"]["clone"].as_array().unwrap().iter().find(|l| l["name"] == "ssh").unwrap()["href"].as_str().unwrap().to_string();
        assert_eq!(ssh_link, format!("{ssh_url}/plat/fleet.git"));

        // Seed the repository over HTTP.
        let seed = work.join("seed");
        std::fs::create_dir_all(&seed).unwrap();
        let git = |dir: &Path, args: &[&str]| ok(run(Command::new("git").arg("-C").arg(dir).args(args)));
        git(&seed, &["init", "-q", "-b", "main"]);
        std::fs::write(seed.join("README.md"), "fleet\n").unwrap();
        git(&seed, &["add", "."]);
        git(&seed, &["-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-m", "first"]);
        git(&seed, &["-c", &format!("http.extraHeader=Authorization: Bearer {ADMIN}"), "push", "-q", &format!("{base}/scm/plat/fleet.git"), "main"]);

        let keys_dir = work.join("keys");
        let reader = keygen(&keys_dir, "reader", "ed25519");
        let writer = keygen(&keys_dir, "writer", "ecdsa");
        let stranger = keygen(&keys_dir, "stranger", "ed25519");
        let known_hosts = work.join("known_hosts");
        std::fs::write(&known_hosts, format!("{known_hosts_line}\n")).unwrap();

        let access_keys = format!("{base}/rest/keys/1.0/projects/PLAT/repos/fleet/ssh");
        let register = |key: &Path, permission: &str| {
            let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
            let body = serde_json::json!({ "key": { "text": public.trim(), "label": "test" }, "permission": permission });
            rest("POST", &access_keys, Some(&body.to_string()))["key"]["id"].as_u64().unwrap()
        };
        let reader_id = register(&reader, "REPO_READ");
        register(&writer, "REPO_WRITE");

        // REPO_READ clones (Bitbucket's link form and flux's: upper-case key, no .git) …
        ok(git_ssh(&work, &reader, &known_hosts, &["clone", "-q", &ssh_link, "by-reader"]));
        assert_eq!(std::fs::read_to_string(work.join("by-reader/README.md")).unwrap(), "fleet\n");
        ok(git_ssh(&work, &reader, &known_hosts, &["clone", "-q", &format!("{ssh_url}/PLAT/fleet"), "flux-form"]));
        // … but cannot push.
        let clone = work.join("by-reader");
        std::fs::write(clone.join("x"), "x").unwrap();
        git(&clone, &["add", "x"]);
        git(&clone, &["-c", "user.name=R", "-c", "user.email=r@x", "commit", "-q", "-m", "x"]);
        let refused = git_ssh(&clone, &reader, &known_hosts, &["push", "-q", "origin", "HEAD:main"]);
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains("not permitted to push to"), "{}", stderr(&refused));
        // REPO_WRITE pushes.
        ok(git_ssh(&clone, &writer, &known_hosts, &["push", "-q", "origin", "HEAD:main"]));

        // An unknown key is refused.
        let unknown = git_ssh(&work, &stranger, &known_hosts, &["clone", "-q", &ssh_link, "stranger"]);
        assert!(!unknown.status.success());
        assert!(stderr(&unknown).contains("Permission denied (publickey)"), "{}", stderr(&unknown));
        // A wrong host key is refused by the client.
        let other_known_hosts = work.join("other_known_hosts");
        let stranger_public = std::fs::read_to_string(stranger.with_extension("pub")).unwrap();
        let port = ssh_url.rsplit(':').next().unwrap();
        std::fs::write(&other_known_hosts, format!("[127.0.0.1]:{port} {}", stranger_public)).unwrap();
        let spoofed = git_ssh(&work, &reader, &other_known_hosts, &["clone", "-q", &ssh_link, "spoofed"]);
        assert!(!spoofed.status.success());
        assert!(stderr(&spoofed).contains("Host key verification failed"), "{}", stderr(&spoofed));

        // A user's own key works with the user's permissions (alice administers the project).
        let by_alice = work.join("by-alice");
        ok(git_ssh(&work, &keys_dir.join("alice"), &known_hosts, &["clone", "-q", &ssh_link, "by-alice"]));
        std::fs::write(by_alice.join("y"), "y").unwrap();
        git(&by_alice, &["add", "y"]);
        git(&by_alice, &["-c", "user.name=Al", "-c", "user.email=al@x", "commit", "-q", "-m", "y"]);
        ok(git_ssh(&by_alice, &keys_dir.join("alice"), &known_hosts, &["push", "-q", "origin", "HEAD:main"]));

        // Deleting the access key revokes it immediately.
        rest("DELETE", &format!("{access_keys}/{reader_id}"), None);
        let revoked = git_ssh(&work, &reader, &known_hosts, &["clone", "-q", &ssh_link, "revoked"]);
        assert!(!revoked.status.success());
    })
    .await
    .unwrap();
    bitbucket.stop().await;
    let _ = std::fs::remove_dir_all(root);
}
