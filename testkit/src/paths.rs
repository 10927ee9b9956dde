//! Where things are: the workspace, the reference data in `../shared` (read in place, never
//! copied into the repository), cargo's target directory, the built binaries and web app.

use std::path::{Path, PathBuf};

/// The Flux release the goldens and recorded files in `../shared/flux` are for.
pub const FLUX_VERSION: &str = "v2.9.4";

/// The workspace root (this crate lives in `<root>/testkit`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the testkit crate is inside the workspace")
        .to_path_buf()
}

/// `../shared` next to the checkout: the project's reference data.
pub fn shared() -> PathBuf {
    let dir = workspace_root().join("../shared");
    assert!(
        dir.is_dir(),
        "{} is missing: the tests read Flux releases, goldens and recorded Bitbucket answers \
         from ../shared next to the checkout",
        dir.display()
    );
    dir
}

/// `../shared/flux`: Flux releases, flux's own outputs (goldens) and real files.
pub fn shared_flux() -> PathBuf {
    existing(shared().join("flux"))
}

/// The release files of a Flux version (`<version>/manifests`, what `--manifests` takes).
pub fn release_manifests(version: &str) -> PathBuf {
    existing(
        shared_flux()
            .join("releases")
            .join(version)
            .join("manifests"),
    )
}

/// The release files of a Flux version, as `(file name, content)`, sorted by name.
pub fn release_files(version: &str) -> Vec<(String, Vec<u8>)> {
    let dir = release_manifests(version);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry
                .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
                .path();
            let name = path
                .file_name()
                .expect("a directory entry has a name")
                .to_string_lossy()
                .into_owned();
            let content =
                std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            (name, content)
        })
        .collect();
    files.sort();
    files
}

/// The `install.yaml` a Flux release publishes.
pub fn release_install_yaml(version: &str) -> PathBuf {
    existing(
        shared_flux()
            .join("releases")
            .join(version)
            .join("install.yaml"),
    )
}

/// flux's own outputs for a version: one directory per case, listed in `cases.tsv`.
pub fn goldens(version: &str) -> PathBuf {
    existing(shared_flux().join("goldens").join(version))
}

/// The `gotk-components.yaml` flux wrote for a case of the [`FLUX_VERSION`] goldens.
pub fn golden_components(case: &str) -> Vec<u8> {
    let path = goldens(FLUX_VERSION)
        .join(case)
        .join("gotk-components.yaml");
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The sha256 flux's own output has for a case of the [`FLUX_VERSION`] `cases.tsv`.
pub fn golden_sha256(case: &str) -> String {
    let path = goldens(FLUX_VERSION).join("cases.tsv");
    let cases = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    cases
        .lines()
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .find(|columns| columns[0] == case)
        .map(|columns| columns[2].to_string())
        .unwrap_or_else(|| panic!("no case {case} in {}", path.display()))
}

/// Real files written by flux (`../shared/flux/real`).
pub fn real_files() -> PathBuf {
    existing(shared_flux().join("real"))
}

/// Real sync files from public repositories (`../shared/flux/real-sync`, see its SOURCES.tsv).
pub fn real_sync() -> PathBuf {
    existing(shared_flux().join("real-sync"))
}

/// Answers recorded from real Bitbucket Servers (`../shared/bitbucket/recorded`).
pub fn recorded_bitbucket() -> PathBuf {
    existing(shared().join("bitbucket/recorded"))
}

/// One recorded Bitbucket answer (a path below [`recorded_bitbucket`]), parsed.
pub fn recorded_answer(path: &str) -> serde_json::Value {
    let file = recorded_bitbucket().join(path);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()))
}

/// Cargo's target directory, derived from the running test binary's location
/// (`<target>/<profile>/deps/<test>`), so `CARGO_TARGET_DIR` is honoured.
pub fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("test binaries live in <target>/<profile>/deps")
        .to_path_buf()
}

/// Where tests leave screenshots and logs for a human to look at: `<target>/e2e-artifacts`.
pub fn artifacts_dir() -> PathBuf {
    let dir = target_dir().join("e2e-artifacts");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// A binary of this workspace built in the same profile as the running tests. Cargo builds
/// a crate's own binaries for its tests (use `env!("CARGO_BIN_EXE_<name>")` there); this is
/// for the binaries of other crates, which must have been built first.
pub fn workspace_binary(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first (`cargo build -p fluxstrap-server -p fluxstrap-sandbox`; \
         `scripts/dev test` does)",
        path.display()
    );
    path
}

/// The built web app: `FLUXSTRAP_WEB_DIR`, or `dist/` at the workspace root.
pub fn web_dir() -> PathBuf {
    let dir = std::env::var_os("FLUXSTRAP_WEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("dist"));
    assert!(
        dir.join("index.html").is_file(),
        "the web app is not built in {}: run `trunk build` (`scripts/dev test` does)",
        dir.display()
    );
    dir
}

/// `<target>/<profile>`, from the running test binary's `<target>/<profile>/deps/<test>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the running test executable");
    exe.ancestors()
        .nth(2)
        .expect("test binaries live in <target>/<profile>/deps")
        .to_path_buf()
}

fn existing(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing from ../shared: the tests read it in place",
        path.display()
    );
    path
}
