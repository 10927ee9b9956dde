//! The kubectl checklist against the Kubernetes API emulator, driven by the real kubectl.

use std::process::Command;

use fluxstrap_sandbox::kube::{Config, KubeEmulator, Options};

fn kubectl(kubeconfig: &std::path::Path, args: &[&str]) -> std::process::Output {
    let home = std::env::temp_dir().join(format!("kube-kubectl-home-{}", std::process::id()));
    Command::new("/usr/bin/kubectl")
        .env("HOME", &home)
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .arg(format!("--cache-dir={}", home.join("cache").display()))
        .args(args)
        .output()
        .expect("kubectl must be installed at /usr/bin/kubectl")
}

#[tokio::test]
async fn kubectl_version_reports_the_server_over_tls_with_the_token() {
    let dir = std::env::temp_dir().join(format!("kube-emu-version-{}", std::process::id()));
    let emulator = KubeEmulator::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        state_dir: dir.clone(),
        options: Options::default(),
    })
    .await
    .unwrap();
    let path = emulator.kubeconfig_path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || kubectl(&path, &["version", "-o", "json"]))
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let version: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(version["serverVersion"]["major"], "1");
    assert!(
        version["serverVersion"]["gitVersion"]
            .as_str()
            .unwrap()
            .starts_with("v1.")
    );
    emulator.stop().await;
}

#[tokio::test]
async fn kubectl_without_the_token_is_unauthorized() {
    let dir = std::env::temp_dir().join(format!("kube-emu-unauth-{}", std::process::id()));
    let emulator = KubeEmulator::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        state_dir: dir.clone(),
        options: Options::default(),
    })
    .await
    .unwrap();
    let text = std::fs::read_to_string(emulator.kubeconfig_path()).unwrap();
    let stripped = text.replace(emulator.token(), "wrong-token");
    let wrong = dir.join("kubeconfig-wrong-token");
    std::fs::write(&wrong, stripped).unwrap();
    let output = tokio::task::spawn_blocking(move || kubectl(&wrong, &["version", "-o", "json"]))
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("You must be logged in to the server"),
        "{stderr}"
    );
    emulator.stop().await;
}

#[tokio::test]
async fn kubectl_api_versions_lists_the_core_group() {
    let dir = std::env::temp_dir().join(format!("kube-emu-apiversions-{}", std::process::id()));
    let emulator = KubeEmulator::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        state_dir: dir,
        options: Options::default(),
    })
    .await
    .unwrap();
    let path = emulator.kubeconfig_path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || kubectl(&path, &["api-versions"]))
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.lines().any(|line| line == "v1"), "{stdout}");
    emulator.stop().await;
}
