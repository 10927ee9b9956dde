//! A mirror of the Flux releases, for the download path of `fluxstrap` (`fluxstrap-sandbox up
//! --releases DIR`): DIR is laid out like `../shared/flux/releases` (`<version>/manifests/*.yaml`),
//! and the mirror answers as GitHub does under `/releases`:
//!
//! - `/releases/download/<version>/manifests.tar.gz`: the version's files as a gzipped tar
//!   (built once, deterministically: sorted, mtime 0, mode 0644);
//! - `/releases/download/<version>/flux_<number>_checksums.txt`: goreleaser's `<sha256>  <file>`;
//! - `/releases/latest`: `302` to `/releases/tag/<newest version>`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

/// One release: its archive and the archive's sha256.
struct Release {
    archive: Vec<u8>,
    sha256: String,
}

/// A running mirror.
pub struct ReleaseMirror {
    url: String,
    versions: Vec<String>,
    shutdown: Option<oneshot::Sender<()>>,
}

/// `v2.10.1` sorts after `v2.9.4`.
fn version_key(version: &str) -> Vec<u64> {
    version
        .trim_start_matches('v')
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// `Some` for a release name Flux uses (`vX.Y.Z`): what may go into `serve`'s `versions`, which
/// parses them strictly.
fn semantic_version(name: &str) -> Option<(u64, u64, u64)> {
    let mut parts = name.strip_prefix('v')?.split('.');
    let mut next = || parts.next()?.parse::<u64>().ok();
    let version = (next()?, next()?, next()?);
    parts.next().is_none().then_some(version)
}

fn archive_of(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(encoder);
    tar.mode(tar::HeaderMode::Deterministic);
    for name in names {
        let content = std::fs::read(dir.join(&name))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, &name, content.as_slice())?;
    }
    let mut encoder = tar.into_inner()?;
    encoder.flush()?;
    encoder.finish()
}

fn releases_in(dir: &Path) -> crate::Result<BTreeMap<String, Release>> {
    let read_error = crate::Error::io("reading the releases directory");
    let mut releases = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(crate::Error::io("reading the releases directory"))?;
        let version = entry.file_name().to_string_lossy().into_owned();
        let manifests = entry.path().join("manifests");
        if !version.starts_with('v') || !manifests.is_dir() {
            continue;
        }
        let archive = archive_of(&manifests).map_err(crate::Error::io("packing a release"))?;
        let sha256 = Sha256::digest(&archive)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        releases.insert(version, Release { archive, sha256 });
    }
    Ok(releases)
}

async fn download(
    State(releases): State<Arc<BTreeMap<String, Release>>>,
    UrlPath((version, file)): UrlPath<(String, String)>,
) -> Response {
    let Some(release) = releases.get(&version) else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let checksums = format!("flux_{}_checksums.txt", version.trim_start_matches('v'));
    if file == "manifests.tar.gz" {
        (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            release.archive.clone(),
        )
            .into_response()
    } else if file == checksums {
        (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}  manifests.tar.gz\n", release.sha256),
        )
            .into_response()
    } else {
        (StatusCode::NOT_FOUND, "Not Found").into_response()
    }
}

async fn latest(State(releases): State<Arc<BTreeMap<String, Release>>>) -> Response {
    match releases.keys().max_by_key(|v| version_key(v)) {
        Some(version) => (
            StatusCode::FOUND,
            [(header::LOCATION, format!("/releases/tag/{version}"))],
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

impl ReleaseMirror {
    /// Serves the releases of `dir` over HTTP on `listen`.
    pub async fn start(dir: &Path, listen: SocketAddr) -> crate::Result<Self> {
        let releases = Arc::new(releases_in(dir)?);
        let mut versions: Vec<(_, String)> = releases
            .keys()
            .filter_map(|name| Some((semantic_version(name)?, name.clone())))
            .collect();
        versions.sort_by(|a, b| b.cmp(a));
        let app = axum::Router::new()
            .route("/releases/download/{version}/{file}", get(download))
            .route("/releases/latest", get(latest))
            .with_state(releases);
        let (listener, addr) = crate::bind(listen)?;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(crate::Error::io("preparing the releases listener"))?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            url: format!("http://{addr}/releases/download"),
            versions: versions.into_iter().map(|(_, name)| name).collect(),
            shutdown: Some(shutdown),
        })
    }

    /// What `FLUXSTRAP_RELEASES_URL` should be.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `vX.Y.Z` versions served, newest first.
    pub fn versions(&self) -> &[String] {
        &self.versions
    }

    /// Stops serving.
    pub fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut versions = vec!["v2.10.0", "v2.9.4", "v2.1.2"];
        versions.sort_by_key(|v| version_key(v));
        assert_eq!(versions, ["v2.1.2", "v2.9.4", "v2.10.0"]);
    }

    #[test]
    fn only_x_y_z_names_are_versions() {
        assert_eq!(semantic_version("v2.10.1"), Some((2, 10, 1)));
        for name in ["2.9.4", "v2.9", "v2.9.4.1", "v2.9.4-rc.1", "vx.y.z", "v"] {
            assert_eq!(semantic_version(name), None, "{name}");
        }
    }

    #[tokio::test]
    async fn the_mirror_lists_its_versions_newest_first() {
        let temp = tempfile::tempdir().unwrap();
        for name in ["v2.9.4", "v2.10.0", "v2.1.2", "v3.0.0-rc.1", "notes"] {
            std::fs::create_dir_all(temp.path().join(name).join("manifests")).unwrap();
        }
        // A version directory without manifests is not served, so not listed either.
        std::fs::create_dir_all(temp.path().join("v9.9.9")).unwrap();
        let mirror = ReleaseMirror::start(temp.path(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(mirror.versions(), ["v2.10.0", "v2.9.4", "v2.1.2"]);
        mirror.stop();
    }

    #[test]
    fn archives_are_deterministic_and_hold_the_files() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        std::fs::write(dir.join("b.yaml"), "b: 1\n").unwrap();
        std::fs::write(dir.join("a.yaml"), "a: 1\n").unwrap();
        let first = archive_of(dir).unwrap();
        assert_eq!(first, archive_of(dir).unwrap());
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(first.as_slice()));
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.yaml", "b.yaml"]);
    }
}
