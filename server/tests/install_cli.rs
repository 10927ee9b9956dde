//! `fluxstrap install --export` as a user runs it: the real binary, the v2.9.4 release files
//! from `../shared` (as a directory and as a manifests.tar.gz), compared with flux's output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/flux");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

fn fluxstrap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fluxstrap"))
        .args(args)
        // An empty cache and releases nobody serves, so nothing but --manifests can be used.
        .env(
            "FLUXSTRAP_CACHE_DIR",
            std::env::temp_dir().join("fluxstrap-empty-cache"),
        )
        .env(
            "FLUXSTRAP_RELEASES_URL",
            "http://127.0.0.1:9/releases/download",
        )
        .output()
        .expect("running fluxstrap")
}

fn golden(case: &str) -> Vec<u8> {
    std::fs::read(
        shared()
            .join("goldens/v2.9.4")
            .join(case)
            .join("gotk-components.yaml"),
    )
    .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fluxstrap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn exports_the_default_install_from_a_directory() {
    let manifests = shared().join("releases/v2.9.4/manifests");
    let out = fluxstrap(&[
        "install",
        "--export",
        "--manifests",
        manifests.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == golden("default"),
        "differs from the default golden"
    );
}

#[test]
fn exports_from_a_manifests_tar_gz_with_flags() {
    let dir = temp_dir("tarball");
    let archive = dir.join("manifests.tar.gz");
    // A flat archive of the nine files, as Flux publishes it.
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(shared().join("releases/v2.9.4/manifests"))
        .args([
            "helm-controller.yaml",
            "image-automation-controller.yaml",
            "image-reflector-controller.yaml",
            "kustomize-controller.yaml",
            "notification-controller.yaml",
            "policies.yaml",
            "rbac.yaml",
            "source-controller.yaml",
            "source-watcher.yaml",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let out = fluxstrap(&[
        "install",
        "--export",
        "--manifests",
        archive.to_str().unwrap(),
        "--namespace=flux",
        "--components=source-controller,kustomize-controller,helm-controller",
        "--components-extra=source-watcher",
        "--registry=",
        "--log-level=error",
        "--toleration-keys=dedicated",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == golden("combo-2"),
        "differs from the combo-2 golden"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_flags_fail_with_flux_messages_before_reading_anything() {
    let out = fluxstrap(&[
        "install",
        "--export",
        "--log-level=warn",
        "--manifests",
        "/nonexistent",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "✗ invalid argument \"warn\" for \"--log-level\" flag: unsupported log level 'warn', must be one of: debug, info, error\n"
    );
    assert!(out.stdout.is_empty());
    let out = fluxstrap(&["install", "--export", "--components-extra=nope"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "✗ component nope is not available\n"
    );
}

#[test]
fn missing_manifests_say_how_to_get_them() {
    let out = fluxstrap(&["install", "--export"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "cannot download http://127.0.0.1:9/releases/download/v2.9.4/manifests.tar.gz"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("--manifests"), "{stderr}");
    assert!(stderr.contains("FLUXSTRAP_RELEASES_URL"), "{stderr}");
}

#[test]
fn broken_release_files_are_reported_with_file_and_line() {
    let dir = temp_dir("broken");
    for entry in std::fs::read_dir(shared().join("releases/v2.9.4/manifests")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.join("policies.yaml"),
        "apiVersion: v1\nkind: [unclosed\n",
    )
    .unwrap();
    let out = fluxstrap(&["install", "--export", "--manifests", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with("✗ policies.yaml:3: invalid YAML"),
        "{stderr}"
    );

    std::fs::write(
        dir.join("policies.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\napiVersion: v1\nmetadata: {}\n",
    )
    .unwrap();
    let out = fluxstrap(&["install", "--export", "--manifests", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("✗ policies.yaml:6: the document has no kind or no metadata.name"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
