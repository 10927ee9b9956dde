//! Fetching the Flux release the server offers and generating every file from it in wasm.

use std::sync::Arc;

use fluxstrap_core::bootstrap::generated_files;
use fluxstrap_core::install::{Distribution, InstallOptions};
use fluxstrap_core::sync::SyncOptions;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The release manifests, parsed once.
pub struct Release {
    pub distribution: Distribution,
}

#[derive(Deserialize)]
struct ReleaseIndex {
    files: Vec<String>,
}

/// Loads a release's files from `/api/flux/{version}`.
pub async fn load_release(version: String) -> Result<Arc<Release>, String> {
    if version.is_empty() {
        return Err("the server offers no Flux version".to_string());
    }
    let index: ReleaseIndex = crate::api::get(&format!("/api/flux/{version}"))
        .await?
        .json()
        .await
        .map_err(|e| format!("unexpected answer from /api/flux/{version}: {e}"))?;
    let mut files = Vec::with_capacity(index.files.len());
    for name in index.files {
        let bytes = crate::api::get(&format!("/api/flux/{version}/{name}"))
            .await?
            .binary()
            .await
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        files.push((name, bytes));
    }
    let distribution = Distribution::from_files(files).map_err(|e| e.to_string())?;
    Ok(Arc::new(Release { distribution }))
}

/// One file fluxstrap would write to git.
#[derive(Clone, PartialEq)]
pub struct GeneratedFile {
    pub path: String,
    pub content: String,
    pub sha256: String,
}

impl GeneratedFile {
    fn new(path: String, content: String) -> Self {
        let sha256 = Sha256::digest(content.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            path,
            content,
            sha256,
        }
    }
}

/// The three files of `<path>/<namespace>/`, as the bootstrap writes them for `options`, with
/// the cluster cloning `sync_url`.
pub fn generate_files(
    release: &Release,
    install: &InstallOptions,
    sync: &SyncOptions,
) -> Result<Vec<GeneratedFile>, String> {
    // The file set and its contents are core's, as the bootstrap engine writes them.
    let files = generated_files(&release.distribution, install, sync).map_err(|e| e.to_string())?;
    Ok(files
        .into_iter()
        .map(|file| GeneratedFile::new(file.path, file.content))
        .collect())
}
