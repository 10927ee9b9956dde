//! Fetching the Flux release the server offers and generating every file from it in wasm.

use std::sync::Arc;

use fluxstrap_core::bootstrap::{Subject, files_with_components};
use fluxstrap_core::install::{Distribution, InstallOptions, generate};
use fluxstrap_core::sync::SyncOptions;
use sha2::{Digest, Sha256};

/// The release manifests, parsed once.
pub struct Release {
    pub distribution: Distribution,
}

/// Loads a release from `/api/flux/{version}/distribution.json`: parsed by the server's core
/// (so the page carries no YAML parser), sent as JSON.
pub async fn load_release(version: String) -> Result<Arc<Release>, String> {
    if version.is_empty() {
        return Err("the server offers no Flux version".to_string());
    }
    let path = format!("/api/flux/{version}/distribution.json");
    let bytes = crate::api::get(&path)
        .await?
        .binary()
        .await
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    let distribution = serde_json::from_slice::<Distribution>(&bytes)
        .map_err(|e| format!("unexpected answer from {path}: {e}"))?;
    Ok(Arc::new(Release { distribution }))
}

/// One file fluxstrap would write to git.
#[derive(Clone, PartialEq)]
pub struct GeneratedFile {
    pub path: String,
    pub content: Arc<str>,
    pub sha256: Arc<str>,
}

fn sha256_hex(content: &str) -> Arc<str> {
    let digest = Sha256::digest(content.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    hex.into()
}

/// `gotk-components.yaml` for one set of install options, with its sha256: most of the
/// preview's bytes, so the page makes it only when the install options change.
#[derive(PartialEq)]
pub struct Components {
    content: String,
    sha256: Arc<str>,
}

pub fn generate_components(
    release: &Release,
    install: &InstallOptions,
) -> Result<Components, String> {
    let content = generate(&release.distribution, install).map_err(|e| e.to_string())?;
    let sha256 = sha256_hex(&content);
    Ok(Components { content, sha256 })
}

/// The three files of `<path>/<namespace>/`, as the bootstrap writes them around
/// `components`, with the cluster syncing as `sync` says.
pub fn generate_files(components: &Components, sync: &SyncOptions) -> Vec<GeneratedFile> {
    // The file set and its contents are core's, as the bootstrap engine writes them.
    files_with_components(components.content.clone(), sync)
        .into_iter()
        .map(|file| {
            let sha256 = if file.subject == Subject::Components {
                components.sha256.clone()
            } else {
                sha256_hex(&file.content)
            };
            GeneratedFile {
                path: file.path,
                content: file.content.into(),
                sha256,
            }
        })
        .collect()
}
