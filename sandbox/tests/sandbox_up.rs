//! `fluxstrap-sandbox up` as scripts use it: KEY=VALUE lines, READY, HTTPS with its own CA that
//! real clients (curl, git) trust through the printed CA file, and a clean stop on SIGTERM.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn up_prints_its_settings_and_serves_https_with_its_ca() {
    let state = std::env::temp_dir().join(format!("fluxstrap-sandbox-up-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluxstrap-sandbox"))
        .args(["up", "--state"])
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting fluxstrap-sandbox up");
    let stdout = child.stdout.take().unwrap();
    let mut settings = HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line == "READY" {
            break;
        }
        let (key, value) = line.split_once('=').expect("KEY=VALUE lines before READY");
        settings.insert(key.to_string(), value.to_string());
    }
    for key in [
        "BITBUCKET_URL",
        "BITBUCKET_CA_FILE",
        "BITBUCKET_USER",
        "BITBUCKET_TOKEN",
        "BITBUCKET_PROJECT",
        "BITBUCKET_PROJECT_NAME",
        "BITBUCKET_GROUP",
        "BITBUCKET_READONLY_USER",
        "BITBUCKET_READONLY_TOKEN",
        "BITBUCKET_SSH_URL",
        "BITBUCKET_SSH_KNOWN_HOSTS",
    ] {
        assert!(
            settings.contains_key(key),
            "{key} missing from {settings:?}"
        );
    }
    let url = &settings["BITBUCKET_URL"];
    assert!(url.starts_with("https://localhost:"), "{url}");
    let project_url = format!(
        "{url}/rest/api/1.0/projects/{}",
        settings["BITBUCKET_PROJECT"]
    );

    // Trusted through the CA file…
    let trusted = Command::new("curl")
        .args(["-s", "-f", "--cacert", &settings["BITBUCKET_CA_FILE"], "-H"])
        .arg(format!(
            "Authorization: Bearer {}",
            settings["BITBUCKET_TOKEN"]
        ))
        .arg(&project_url)
        .output()
        .unwrap();
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&trusted.stdout).unwrap();
    assert_eq!(body["name"], settings["BITBUCKET_PROJECT_NAME"].as_str());
    // … and also at 127.0.0.1, which the certificate names too.
    let by_ip = project_url.replace("localhost", "127.0.0.1");
    let ip = Command::new("curl")
        .args(["-s", "-f", "--cacert", &settings["BITBUCKET_CA_FILE"], "-H"])
        .arg(format!(
            "Authorization: Bearer {}",
            settings["BITBUCKET_TOKEN"]
        ))
        .arg(&by_ip)
        .output()
        .unwrap();
    assert!(
        ip.status.success(),
        "{}",
        String::from_utf8_lossy(&ip.stderr)
    );
    // git over HTTPS, trusting the CA: a personal repository of the admin, pushed and cloned.
    let work = state.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let user = &settings["BITBUCKET_USER"];
    let created = Command::new("curl")
        .args(["-s", "-f", "--cacert", &settings["BITBUCKET_CA_FILE"], "-H"])
        .arg(format!(
            "Authorization: Bearer {}",
            settings["BITBUCKET_TOKEN"]
        ))
        .args([
            "-H",
            "Content-Type: application/json",
            "--data",
            r#"{"name":"mine","defaultBranch":"main"}"#,
        ])
        .arg(format!("{url}/rest/api/1.0/projects/~{user}/repos"))
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stdout)
    );
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(&work)
            .args(args)
            .env("GIT_SSL_CAINFO", &settings["BITBUCKET_CA_FILE"])
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let authed = url.replace(
        "https://",
        &format!("https://{user}:{}@", settings["BITBUCKET_TOKEN"]),
    );
    let remote = format!("{authed}/scm/~{user}/mine.git");
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(work.join("f"), "f\n").unwrap();
    git(&["add", "f"]);
    git(&[
        "-c",
        "user.name=A",
        "-c",
        "user.email=a@x",
        "commit",
        "-q",
        "-m",
        "f",
    ]);
    git(&["push", "-q", &remote, "main"]);
    git(&["clone", "-q", &remote, "copy"]);
    assert_eq!(std::fs::read_to_string(work.join("copy/f")).unwrap(), "f\n");

    // Without it, the certificate is rejected (exit 60: peer certificate cannot be authenticated).
    let untrusted = Command::new("curl")
        .args(["-s", "--capath", "/nonexistent", "--cacert", "/dev/null"])
        .arg(&project_url)
        .status()
        .unwrap();
    assert!(!untrusted.success());

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(
        exit.success(),
        "fluxstrap-sandbox should exit cleanly on SIGTERM: {exit}"
    );
    let _ = std::fs::remove_dir_all(state);
}

/// A restart with the same state directory keeps repositories, their access keys and the
/// TLS and SSH identities clients already trust.
#[test]
fn a_restart_keeps_repositories_keys_and_identities() {
    let state =
        std::env::temp_dir().join(format!("fluxstrap-sandbox-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fluxstrap-sandbox"))
            .args(["up", "--state"])
            .arg(&state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut settings = HashMap::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if line == "READY" {
                break;
            }
            if let Some((k, v)) = line.split_once('=') {
                settings.insert(k.to_string(), v.to_string());
            }
        }
        (child, settings)
    };
    let curl =
        |settings: &HashMap<String, String>, method: &str, path: &str, body: Option<&str>| {
            let mut command = Command::new("curl");
            command
                .args([
                    "-s",
                    "-X",
                    method,
                    "--cacert",
                    &settings["BITBUCKET_CA_FILE"],
                    "-H",
                ])
                .arg(format!(
                    "Authorization: Bearer {}",
                    settings["BITBUCKET_TOKEN"]
                ));
            if let Some(body) = body {
                command.args(["-H", "Content-Type: application/json", "--data", body]);
            }
            let out = command
                .arg(format!("{}{path}", settings["BITBUCKET_URL"]))
                .output()
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default()
        };
    let stop = |mut child: std::process::Child| {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(child.wait().unwrap().success());
    };

    let (first, before) = start();
    let created = curl(
        &before,
        "POST",
        "/rest/api/1.0/projects/PLAT/repos",
        Some(r#"{"name":"kept"}"#),
    );
    assert_eq!(created["slug"], "kept");
    let key = r#"{"key":{"text":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"},"permission":"REPO_READ"}"#;
    curl(
        &before,
        "POST",
        "/rest/keys/1.0/projects/PLAT/repos/kept/ssh",
        Some(key),
    );
    stop(first);

    let (second, after) = start();
    assert_eq!(
        curl(
            &after,
            "GET",
            "/rest/api/1.0/projects/PLAT/repos/kept",
            None
        )["id"],
        created["id"]
    );
    assert_eq!(
        curl(
            &after,
            "GET",
            "/rest/keys/1.0/projects/PLAT/repos/kept/ssh",
            None
        )["size"],
        1
    );
    assert_eq!(before["BITBUCKET_CA_FILE"], after["BITBUCKET_CA_FILE"]);
    // Same host key, so known_hosts written before the restart still matches.
    let key_of = |line: &str| {
        line.split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        key_of(&before["BITBUCKET_SSH_KNOWN_HOSTS"]),
        key_of(&after["BITBUCKET_SSH_KNOWN_HOSTS"])
    );
    stop(second);
    let _ = std::fs::remove_dir_all(state);
}

/// `up --kube-never-ready deployments`: kubectl works with the printed KUBECONFIG (objects
/// without a namespace land in `default`), and a Deployment never becomes Available.
#[test]
fn up_serves_kubectl_and_takes_kubernetes_fault_flags() {
    let state = std::env::temp_dir().join(format!("fluxstrap-sandbox-kube-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluxstrap-sandbox"))
        .args(["up", "--kube-never-ready", "deployments", "--state"])
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting fluxstrap-sandbox up");
    let mut kubeconfig = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == "READY" {
            break;
        }
        if let Some(path) = line.strip_prefix("KUBECONFIG=") {
            kubeconfig = Some(path.to_string());
        }
    }
    let kubeconfig = kubeconfig.expect("KUBECONFIG printed before READY");
    let home = state.join("home");
    let kubectl = |args: &[&str], stdin: Option<&str>| {
        let mut command = Command::new("/usr/bin/kubectl");
        command
            .env("HOME", &home)
            .env("KUBECONFIG", &kubeconfig)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut process = command.spawn().expect("kubectl at /usr/bin/kubectl");
        if let Some(input) = stdin {
            use std::io::Write as _;
            process
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(process.stdin.take());
        process.wait_with_output().unwrap()
    };
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx\n";
    let applied = kubectl(&["apply", "--server-side", "-f", "-"], Some(deployment));
    assert_eq!(
        String::from_utf8_lossy(&applied.stdout),
        "deployment.apps/web serverside-applied\n",
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let waited = kubectl(
        &[
            "wait",
            "--for=condition=Available",
            "deploy/web",
            "--timeout=2s",
        ],
        None,
    );
    assert!(!waited.status.success());
    assert!(
        String::from_utf8_lossy(&waited.stderr).contains("timed out waiting for the condition"),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(state);
}
