//! `fluxstrap install --export`: `gotk-components.yaml` on stdout, as `flux install --export`
//! prints it, from a Flux release's manifests on disk.

use std::path::{Path, PathBuf};

use fluxstrap_core::install::{Distribution, InstallFlags, RELEASE_FILES, generate};

use crate::error::{Error, Result};

/// The Flux release fluxstrap generates by default (flux's default is its own version).
pub const DEFAULT_FLUX_VERSION: &str = "v2.9.4";

/// Where `fluxstrap` looks for release manifests when `--manifests` is not given:
/// `$FLUXSTRAP_CACHE_DIR` or `~/.cache/fluxstrap`, then `manifests/<version>/`.
pub fn manifests_cache_dir(version: &str) -> Option<PathBuf> {
    let base = std::env::var_os("FLUXSTRAP_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/fluxstrap")))?;
    Some(base.join("manifests").join(version))
}

/// Reads a release's manifest files (name and bytes) from a directory of the nine files, from
/// a `manifests.tar.gz`, or from a directory holding a `manifests.tar.gz`.
pub fn read_release_files(path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let read_error = |source| Error::ReadManifests {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        let archive = path.join("manifests.tar.gz");
        if archive.is_file() && !path.join("rbac.yaml").exists() {
            return read_release_files(&archive);
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(read_error)? {
            let entry = entry.map_err(read_error)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if RELEASE_FILES.contains(&name.as_str()) && entry.path().is_file() {
                files.push((name, std::fs::read(entry.path()).map_err(read_error)?));
            }
        }
        files.sort();
        return Ok(files);
    }
    let bytes = std::fs::read(path).map_err(read_error)?;
    Ok(fluxstrap_core::install::unpack_tar_gz(&bytes)?)
}

/// Reads and parses a release's manifests (see [`read_release_files`]).
pub fn load_distribution(path: &Path) -> Result<Distribution> {
    Ok(Distribution::from_files(read_release_files(path)?)?)
}

/// Resolves the manifests location: `--manifests`, else the cache, else a clear error.
pub fn manifests_path(explicit: Option<&Path>, version: &str) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    match manifests_cache_dir(version) {
        Some(dir) if dir.exists() => Ok(dir),
        dir => Err(Error::NoManifests {
            version: version.to_string(),
            cache: dir,
        }),
    }
}

/// Generates `gotk-components.yaml` for the flags; `args` are flux's install flags as given.
pub fn export(manifests: Option<&Path>, flags: &InstallFlags) -> Result<String> {
    // Options first: a bad flag is reported before any file is read, as flux does.
    let options = flags.to_options()?;
    let path = manifests_path(manifests, &flags.version)?;
    let distribution = load_distribution(&path)?;
    Ok(generate(&distribution, &options)?)
}
