//! Git over HTTP against the Bitbucket emulator with the real `git` client: clone and push with
//! a token (Bearer header or Basic password), a reader's push refused, no credentials refused.

use std::path::Path;
use std::process::{Command, Output};

use fluxstrap_sandbox::bitbucket::{BitbucketEmulator, Config, Seed, Ssh, Transport};

const ADMIN: &str = "admin-token-0123456789abcdef";
const READER: &str = "reader-token-0123456789abcdef";

fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // Never ask a human; no user or system configuration.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("running git")
}

fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "git failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test]
async fn clone_and_push_follow_bitbucket_permissions() {
    let root = std::env::temp_dir().join(format!("fluxstrap-bb-git-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let bitbucket = BitbucketEmulator::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        context_path: "/bitbucket".into(),
        git_root: root.join("repos"),
        seed: Seed::default(),
        ssh_port: 7999,
        transport: Transport::Http,
        ssh: Ssh::Disabled,
    })
    .await
    .unwrap();
    let base = bitbucket.base_url().to_string();
    let work = root.clone();
    tokio::task::spawn_blocking(move || {
        let create = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
            .arg(format!("Authorization: Bearer {ADMIN}"))
            .args([
                "-H",
                "Content-Type: application/json",
                "--data",
                r#"{"name":"fleet","defaultBranch":"main"}"#,
            ])
            .arg(format!("{base}/rest/api/1.0/projects/PLAT/repos"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&create.stdout), "201");
        let url = format!("{base}/scm/plat/fleet.git");
        let bearer = format!("http.extraHeader=Authorization: Bearer {ADMIN}");

        // The admin clones the empty repository and pushes the first commit with a Bearer token.
        ok(git(&work, &["-c", &bearer, "clone", "-q", &url, "admin"]));
        let admin = work.join("admin");
        std::fs::write(admin.join("README.md"), "fleet\n").unwrap();
        ok(git(&admin, &["add", "README.md"]));
        ok(git(
            &admin,
            &[
                "-c",
                "user.name=Admin",
                "-c",
                "user.email=a@x",
                "commit",
                "-q",
                "-m",
                "first",
            ],
        ));
        ok(git(
            &admin,
            &["-c", &bearer, "push", "-q", "origin", "HEAD:main"],
        ));

        // The reader clones with Basic user:token (upper-case key works too) …
        let reader_url = url
            .replace("http://", &format!("http://reader:{READER}@"))
            .replace("/plat/", "/PLAT/");
        ok(git(&work, &["clone", "-q", &reader_url, "reader"]));
        let reader = work.join("reader");
        assert_eq!(
            std::fs::read_to_string(reader.join("README.md")).unwrap(),
            "fleet\n"
        );
        // … but may not push.
        std::fs::write(reader.join("x"), "x").unwrap();
        ok(git(&reader, &["add", "x"]));
        ok(git(
            &reader,
            &[
                "-c",
                "user.name=R",
                "-c",
                "user.email=r@x",
                "commit",
                "-q",
                "-m",
                "x",
            ],
        ));
        let refused = git(&reader, &["push", "-q", "origin", "HEAD:main"]);
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("403"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );

        // Without credentials git is challenged and, unable to prompt, gives up.
        let anonymous = git(&work, &["clone", "-q", &url, "anonymous"]);
        assert!(!anonymous.status.success());
        assert!(
            String::from_utf8_lossy(&anonymous.stderr).contains("Authentication failed")
                || String::from_utf8_lossy(&anonymous.stderr).contains("could not read Username"),
            "{}",
            String::from_utf8_lossy(&anonymous.stderr)
        );
        // A repository that does not exist.
        let missing = git(
            &work,
            &[
                "-c",
                &bearer,
                "clone",
                "-q",
                &format!("{base}/scm/plat/nope.git"),
                "nope",
            ],
        );
        assert!(!missing.status.success());
    })
    .await
    .unwrap();
    let log = bitbucket.request_log().await;
    assert!(
        log.iter()
            .any(|r| r.path.ends_with("/git-receive-pack") && r.status == 200)
    );
    bitbucket.stop().await;
    let _ = std::fs::remove_dir_all(root);
}
