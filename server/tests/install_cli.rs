//! `fluxstrap install --export` as a user runs it: the real binary, the v2.9.4 release files
//! from `../shared` (as a directory and as a manifests.tar.gz), compared with flux's output.

use std::process::{Command, Output};

use fluxstrap_testkit::TempDir;
use fluxstrap_testkit::paths::{
    FLUX_VERSION, golden_components as golden, release_files, release_manifests,
};

fn fluxstrap(args: &[&str]) -> Output {
    // An empty cache, so nothing but --manifests can be used.
    let cache = TempDir::new("empty-cache");
    Command::new(env!("CARGO_BIN_EXE_fluxstrap"))
        .args(args)
        // An empty cache and releases nobody serves, so nothing but --manifests can be used.
        .env("FLUXSTRAP_CACHE_DIR", cache.path())
        .env(
            "FLUXSTRAP_RELEASES_URL",
            "http://127.0.0.1:9/releases/download",
        )
        .output()
        .expect("running fluxstrap")
}

/// fluxstrap succeeded and wrote flux's own output for the golden `case`.
#[track_caller]
fn assert_exported(out: &Output, case: &str) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == golden(case), "differs from the {case} golden");
}

#[test]
fn exports_the_default_install_from_a_directory() {
    let manifests = release_manifests(FLUX_VERSION);
    let out = fluxstrap(&[
        "install",
        "--export",
        "--manifests",
        manifests.to_str().unwrap(),
    ]);
    assert_exported(&out, "default");
}

#[test]
fn exports_from_a_manifests_tar_gz_with_flags() {
    let dir = TempDir::new("tarball");
    let archive = dir.join("manifests.tar.gz");
    // A flat archive of the nine files, as Flux publishes it.
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(release_manifests(FLUX_VERSION))
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
    assert_exported(&out, "combo-2");
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
    let dir = TempDir::new("broken");
    for (name, content) in release_files(FLUX_VERSION) {
        std::fs::write(dir.join(name), content).unwrap();
    }
    // The export's stderr with policies.yaml replaced by `policies`.
    let error_with = |policies: &str| {
        std::fs::write(dir.join("policies.yaml"), policies).unwrap();
        let manifests = dir.path().to_str().unwrap();
        let out = fluxstrap(&["install", "--export", "--manifests", manifests]);
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = error_with("apiVersion: v1\nkind: [unclosed\n");
    assert!(
        stderr.starts_with("✗ policies.yaml:3: invalid YAML"),
        "{stderr}"
    );
    let stderr = error_with(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\napiVersion: v1\nmetadata: {}\n",
    );
    assert!(
        stderr.starts_with("✗ policies.yaml:6: the document has no kind or no metadata.name"),
        "{stderr}"
    );
}
