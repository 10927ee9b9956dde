//! Flux release manifests: the nine files of a version's `manifests.tar.gz`, downloaded from the
//! Flux releases (or a mirror), verified, cached and reused. `bootstrap`, `install --export` and
//! `serve` all read releases through here, so they share one cache.
//!
//! - Where: `FLUXSTRAP_RELEASES_URL`, standing for
//!   `https://github.com/fluxcd/flux2/releases/download` (`<url>/<version>/manifests.tar.gz`);
//!   a mirror for air-gapped sites has the same layout.
//! - `latest`: the releases page `<url>/../latest` answers with a redirect to
//!   `…/releases/tag/<version>` (github.com, and mirrors that proxy it); the tag is read from it.
//! - Verified: against `flux_<version>_checksums.txt`, which every Flux release since v0.25.3
//!   publishes beside the archive (it lists `manifests.tar.gz`); a mirror without that file gets
//!   a warning. Always: the archive must unpack and hold the release's manifest files, parsed.
//! - Cached: `<cache>/manifests/<version>/manifests.tar.gz` with its sha256 beside it, written to
//!   a temporary file and renamed into place (never partial); an entry whose bytes no longer
//!   match its recorded sha256, or that does not unpack, is reported and fetched again.

use std::io::Write;
use std::path::{Path, PathBuf};

use fluxstrap_core::bootstrap::{Event, ReleaseOrigin};
use fluxstrap_core::install::{Distribution, FluxVersion, RELEASE_FILES, unpack_tar_gz};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The Flux releases on GitHub.
pub const DEFAULT_RELEASES_URL: &str = "https://github.com/fluxcd/flux2/releases/download";
/// The largest archive accepted (v2.9.4's is about 160 KiB).
pub const MAX_ARCHIVE_BYTES: usize = 32 * 1024 * 1024;
/// The archive's name in a release.
pub const ARCHIVE: &str = "manifests.tar.gz";

/// A release's manifest files: (name, bytes).
pub type ReleaseFiles = Vec<(String, Vec<u8>)>;

/// Where releases come from and where they are kept.
#[derive(Debug, Clone)]
pub struct ReleaseSource {
    base_url: String,
    cache_dir: PathBuf,
    client: reqwest::Client,
}

/// `$FLUXSTRAP_CACHE_DIR`, or `~/.cache/fluxstrap`.
pub fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("FLUXSTRAP_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/fluxstrap")))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The sha256 `checksums` (goreleaser's `<hex>  <file>` lines) gives for `file`.
fn checksum_for<'a>(checksums: &'a str, file: &str) -> Option<&'a str> {
    checksums.lines().find_map(|line| {
        let (hash, name) = line.split_once(char::is_whitespace)?;
        (name.trim_start_matches([' ', '*']).trim() == file).then_some(hash.trim())
    })
}

/// GETs `url`; a failure without an answer names the URL.
async fn get(client: &reqwest::Client, url: &str) -> Result<reqwest::Response> {
    client
        .get(url)
        .send()
        .await
        .map_err(|e| Error::ReleaseDownload {
            url: url.to_string(),
            reason: crate::http::describe(e),
        })
}

/// Unpacks and parses an archive: the check every archive passes before it is used.
fn release_files(version: &str, archive: &[u8]) -> Result<ReleaseFiles> {
    let files = unpack_tar_gz(archive).map_err(|e| Error::BadRelease {
        version: version.to_string(),
        reason: e.to_string(),
    })?;
    Distribution::from_files(files.clone()).map_err(|e| Error::BadRelease {
        version: version.to_string(),
        reason: e.to_string(),
    })?;
    Ok(files)
}

impl ReleaseSource {
    /// From the environment: `FLUXSTRAP_RELEASES_URL` and `FLUXSTRAP_CACHE_DIR`.
    pub fn from_env() -> Result<Self> {
        let base_url = std::env::var("FLUXSTRAP_RELEASES_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_RELEASES_URL.to_string());
        let cache_dir = cache_dir().ok_or(Error::NoCacheDir)?;
        Self::new(&base_url, cache_dir)
    }

    /// Releases from `base_url`, cached below `cache_dir`.
    pub fn new(base_url: &str, cache_dir: PathBuf) -> Result<Self> {
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            cache_dir,
            client: crate::http::client(None, crate::http::Redirects::Follow)?,
        })
    }

    /// The cache directory of `version`.
    pub fn version_dir(&self, version: &str) -> PathBuf {
        self.cache_dir.join("manifests").join(version)
    }

    /// `requested` as a release version: `latest` is resolved, anything else must parse.
    pub async fn resolve(
        &self,
        requested: &str,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<FluxVersion> {
        if requested != "latest" {
            return Ok(FluxVersion::parse(requested)?);
        }
        let page = match self.base_url.strip_suffix("/download") {
            Some(releases) => format!("{releases}/latest"),
            None => format!("{}/latest", self.base_url),
        };
        let client = crate::http::client(None, crate::http::Redirects::Never)?;
        let answer = get(&client, &page).await?;
        let tag = answer
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.rsplit_once("/tag/").map(|(_, tag)| tag.to_string()))
            .ok_or_else(|| Error::ReleaseDownload {
                url: page.clone(),
                reason: format!(
                    "answered {} without a redirect to …/releases/tag/<version>",
                    answer.status()
                ),
            })?;
        let version = FluxVersion::parse(&tag)?;
        on_event(Event::VersionResolved {
            version: version.to_string(),
        });
        Ok(version)
    }

    /// The release files of `version`: from the cache, or downloaded, verified and cached.
    pub async fn files(
        &self,
        version: &FluxVersion,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<ReleaseFiles> {
        let version = version.to_string();
        match self.cached(&version) {
            Ok(Some(files)) => {
                on_event(Event::ReleaseReady {
                    version,
                    origin: ReleaseOrigin::Cache,
                });
                return Ok(files);
            }
            Ok(None) => {}
            Err(reason) => on_event(Event::ReleaseCacheCorrupt {
                version: version.clone(),
                reason,
            }),
        }
        let url = format!("{}/{version}/{ARCHIVE}", self.base_url);
        let archive = self.download(&url).await?;
        let published = self.published_checksum(&version).await?;
        let actual = sha256_hex(&archive);
        match &published {
            Some(expected) if !expected.eq_ignore_ascii_case(&actual) => {
                return Err(Error::ReleaseChecksum {
                    url,
                    expected: expected.clone(),
                    actual,
                });
            }
            _ => {}
        }
        let files = release_files(&version, &archive)?;
        self.store(&version, &archive, &actual)?;
        on_event(Event::ReleaseReady {
            version,
            origin: match published {
                Some(_) => ReleaseOrigin::Verified { url },
                None => ReleaseOrigin::Unverified { url },
            },
        });
        Ok(files)
    }

    /// A usable cache entry (`Ok(None)` when there is none; `Err` says why one is unusable).
    fn cached(&self, version: &str) -> std::result::Result<Option<ReleaseFiles>, String> {
        let dir = self.version_dir(version);
        let archive_path = dir.join(ARCHIVE);
        let archive = match std::fs::read(&archive_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", archive_path.display())),
        };
        let recorded = std::fs::read_to_string(dir.join(format!("{ARCHIVE}.sha256")))
            .map_err(|_| "its checksum record is missing".to_string())?;
        if recorded.trim() != sha256_hex(&archive) {
            return Err("its content no longer matches the checksum recorded at download".into());
        }
        release_files(version, &archive)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// Writes the archive, then its checksum, each to a temporary file renamed into place.
    fn store(&self, version: &str, archive: &[u8], sha256: &str) -> Result<()> {
        let dir = self.version_dir(version);
        let failed = |source| Error::CacheWrite {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(failed)?;
        // The checksum goes first: an archive without a matching record is never used.
        let _ = std::fs::remove_file(dir.join(format!("{ARCHIVE}.sha256")));
        for (name, bytes) in [
            (ARCHIVE.to_string(), archive),
            (
                format!("{ARCHIVE}.sha256"),
                format!("{sha256}\n").as_bytes(),
            ),
        ] {
            let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(failed)?;
            file.write_all(bytes)
                .and_then(|()| file.as_file().sync_all())
                .map_err(failed)?;
            file.persist(dir.join(name)).map_err(|e| failed(e.error))?;
        }
        Ok(())
    }

    async fn download(&self, url: &str) -> Result<Vec<u8>> {
        let failed = |reason: String| Error::ReleaseDownload {
            url: url.to_string(),
            reason,
        };
        let mut answer = get(&self.client, url).await?;
        if answer.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(Error::UnknownRelease {
                url: url.to_string(),
            });
        }
        if !answer.status().is_success() {
            return Err(failed(format!("answered {}", answer.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|e| failed(crate::http::describe(e)))?
        {
            if body.len() + chunk.len() > MAX_ARCHIVE_BYTES {
                return Err(failed(format!(
                    "it is larger than {MAX_ARCHIVE_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The sha256 the release publishes for its archive; `None` when it publishes no checksums.
    async fn published_checksum(&self, version: &str) -> Result<Option<String>> {
        let number = version.trim_start_matches('v');
        let url = format!("{}/{version}/flux_{number}_checksums.txt", self.base_url);
        let answer = get(&self.client, &url).await?;
        if answer.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !answer.status().is_success() {
            return Err(Error::ReleaseDownload {
                url,
                reason: format!("answered {}", answer.status()),
            });
        }
        let text = answer.text().await.map_err(|e| Error::ReleaseDownload {
            url: url.clone(),
            reason: crate::http::describe(e),
        })?;
        checksum_for(&text, ARCHIVE)
            .map(|hash| Some(hash.to_string()))
            .ok_or(Error::ReleaseChecksumMissing { url })
    }
}

/// Reads release files from a path the user gave (`--manifests`): a directory of the nine
/// files, a `manifests.tar.gz`, or a directory holding one.
pub fn read_local(path: &Path) -> Result<ReleaseFiles> {
    let read_error = |source| Error::ReadManifests {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        let archive = path.join(ARCHIVE);
        if archive.is_file() && !path.join("rbac.yaml").exists() {
            return read_local(&archive);
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
    Ok(unpack_tar_gz(&bytes)?)
}

/// The release files for `requested` (a version or `latest`): from `--manifests` when given,
/// else from the cache or the releases ([`ReleaseSource::from_env`]).
pub async fn load(
    manifests: Option<&Path>,
    requested: &str,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<(FluxVersion, ReleaseFiles)> {
    match manifests {
        Some(path) => {
            let version = FluxVersion::parse(requested)?;
            let files = read_local(path)?;
            on_event(Event::ReleaseReady {
                version: version.to_string(),
                origin: ReleaseOrigin::Local {
                    path: path.display().to_string(),
                },
            });
            Ok((version, files))
        }
        None => {
            let source = ReleaseSource::from_env()?;
            let version = source.resolve(requested, on_event).await?;
            let files = source.files(&version, on_event).await?;
            Ok((version, files))
        }
    }
}

/// The releases `serve` offers, each loaded once: from the cache (downloaded when missing) or,
/// for the version `--manifests` names, from that directory or archive.
pub struct ReleaseLibrary {
    source: ReleaseSource,
    local: Option<(FluxVersion, PathBuf)>,
    offered: Vec<FluxVersion>,
    loaded:
        tokio::sync::Mutex<std::collections::HashMap<FluxVersion, std::sync::Arc<ReleaseFiles>>>,
    parsed:
        tokio::sync::Mutex<std::collections::HashMap<FluxVersion, std::sync::Arc<ParsedRelease>>>,
}

/// A release parsed once, as the page generates from it: core's [`Distribution`] as JSON,
/// and the same gzip-compressed for browsers that take it.
pub struct ParsedRelease {
    pub json: Vec<u8>,
    pub gzip: Vec<u8>,
}

impl ReleaseLibrary {
    /// `offered` from `source`; `local` stands for its version.
    pub fn new(
        source: ReleaseSource,
        offered: Vec<FluxVersion>,
        local: Option<(FluxVersion, PathBuf)>,
    ) -> Self {
        Self {
            source,
            local,
            offered,
            loaded: tokio::sync::Mutex::default(),
            parsed: tokio::sync::Mutex::default(),
        }
    }

    /// The versions offered, the default first.
    pub fn offered(&self) -> &[FluxVersion] {
        &self.offered
    }

    /// `requested` (`vX.Y.Z`) if it is offered; else the error that lists what is.
    pub fn offered_version(&self, requested: &str) -> Result<FluxVersion> {
        FluxVersion::parse(requested)
            .ok()
            .filter(|version| self.offered.contains(version))
            .ok_or_else(|| Error::VersionNotOffered {
                requested: requested.to_string(),
                offered: self.offered.iter().map(ToString::to_string).collect(),
            })
    }

    /// The files of `version`, which must be offered.
    pub async fn files(&self, version: &FluxVersion) -> Result<std::sync::Arc<ReleaseFiles>> {
        self.offered_version(&version.to_string())?;
        // One load at a time: a first request for a release downloads it once.
        let mut loaded = self.loaded.lock().await;
        if let Some(files) = loaded.get(version) {
            return Ok(files.clone());
        }
        let mut log = |event: Event| tracing::info!("{event}");
        let files = match &self.local {
            Some((local, path)) if local == version => {
                let files = read_local(path)?;
                Distribution::from_files(files.clone())?;
                files
            }
            _ => self.source.files(version, &mut log).await?,
        };
        let files = std::sync::Arc::new(files);
        loaded.insert(version.clone(), files.clone());
        Ok(files)
    }
}

impl ReleaseLibrary {
    /// `version` parsed (which must be offered), made once.
    pub async fn parsed(&self, version: &FluxVersion) -> Result<std::sync::Arc<ParsedRelease>> {
        let files = self.files(version).await?;
        let mut parsed = self.parsed.lock().await;
        if let Some(release) = parsed.get(version) {
            return Ok(release.clone());
        }
        let bad = |reason: String| Error::BadRelease {
            version: version.to_string(),
            reason,
        };
        let distribution = Distribution::from_files(files.iter().cloned())?;
        let json = serde_json::to_vec(&distribution).map_err(|e| bad(e.to_string()))?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut encoder, &json).map_err(|e| bad(e.to_string()))?;
        let gzip = encoder.finish().map_err(|e| bad(e.to_string()))?;
        let release = std::sync::Arc::new(ParsedRelease { json, gzip });
        parsed.insert(version.clone(), release.clone());
        Ok(release)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goreleaser_checksum_lines_are_read_by_file_name() {
        let text =
            "aaaa  flux_2.9.4_linux_amd64.tar.gz\nbbbb  manifests.tar.gz\ncccc *install.yaml\n";
        assert_eq!(checksum_for(text, "manifests.tar.gz"), Some("bbbb"));
        assert_eq!(checksum_for(text, "install.yaml"), Some("cccc"));
        assert_eq!(checksum_for(text, "crd-schemas.tar.gz"), None);
    }

    #[test]
    fn sha256_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
