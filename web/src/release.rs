//! Fetching the Flux release the server offers and generating every file from it in wasm.

use std::sync::Arc;

use fluxstrap_core::bootstrap::generated_files;
use fluxstrap_core::install::{Distribution, InstallFlags};
use fluxstrap_core::options::{BranchName, GitUrl, Interval, Namespace, RelativePath};
use fluxstrap_core::sync::{DEFAULT_SECRET_NAME, Submodules, SyncOptions};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The release manifests, parsed once.
pub struct Release {
    pub version: String,
    pub distribution: Distribution,
}

#[derive(Deserialize)]
struct ReleaseIndex {
    version: String,
    files: Vec<String>,
}

async fn get(url: &str) -> Result<gloo_net::http::Response, String> {
    let response = gloo_net::http::Request::get(url)
        .send()
        .await
        .map_err(|e| format!("cannot reach the fluxstrap server: {e}"))?;
    if response.ok() {
        return Ok(response);
    }
    #[derive(Deserialize)]
    struct ApiError {
        error: String,
    }
    Err(match response.json::<ApiError>().await {
        Ok(body) => body.error,
        Err(_) => format!("{url} answered {}", response.status()),
    })
}

/// Something `/api/config` names.
#[derive(Deserialize, Clone)]
pub struct Named {
    pub name: String,
}

/// What the server offers (`/api/config`): its Bitbucket servers and Flux versions, the
/// default first.
#[derive(Deserialize, Clone)]
pub struct PageConfig {
    pub servers: Vec<Named>,
    pub versions: Vec<Named>,
}

/// The server's offer.
pub async fn page_config() -> Result<PageConfig, String> {
    get("/api/config")
        .await?
        .json()
        .await
        .map_err(|e| format!("unexpected answer from /api/config: {e}"))
}

/// Loads the default release's files from `/api/flux/{version}`.
pub async fn load_release() -> Result<Arc<Release>, String> {
    let config = page_config().await?;
    let version = config
        .versions
        .first()
        .map(|v| v.name.clone())
        .ok_or("the server offers no Flux version")?;
    let index: ReleaseIndex = get(&format!("/api/flux/{version}"))
        .await?
        .json()
        .await
        .map_err(|e| format!("unexpected answer from /api/flux/{version}: {e}"))?;
    let mut files = Vec::with_capacity(index.files.len());
    for name in index.files {
        let bytes = get(&format!("/api/flux/{version}/{name}"))
            .await?
            .binary()
            .await
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        files.push((name, bytes));
    }
    let distribution = Distribution::from_files(files).map_err(|e| e.to_string())?;
    Ok(Arc::new(Release {
        version: index.version,
        distribution,
    }))
}

/// The validated form.
#[derive(Clone, PartialEq)]
pub struct FormOptions {
    pub namespace: Namespace,
    pub branch: BranchName,
    pub path: RelativePath,
    pub interval: Interval,
    pub url: GitUrl,
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

/// The three files of `<path>/<namespace>/`, as `flux bootstrap` writes them.
pub fn generate_files(
    release: &Release,
    options: &FormOptions,
) -> Result<Vec<GeneratedFile>, String> {
    let mut flags = InstallFlags::defaults(&release.version);
    flags.namespace = options.namespace.to_string();
    let install = flags.to_options().map_err(|e| e.to_string())?;
    let sync = SyncOptions {
        version: install.version.clone(),
        namespace: options.namespace.clone(),
        url: options.url.to_string(),
        branch: options.branch.clone(),
        interval: options.interval,
        secret_name: DEFAULT_SECRET_NAME.to_string(),
        target_path: options.path.to_string(),
        submodules: Submodules::Ignore,
        sparse_checkout: Vec::new(),
    };
    // The file set and its contents are core's, as the bootstrap engine writes them.
    let files =
        generated_files(&release.distribution, &install, &sync).map_err(|e| e.to_string())?;
    Ok(files
        .into_iter()
        .map(|file| GeneratedFile::new(file.path, file.content))
        .collect())
}
