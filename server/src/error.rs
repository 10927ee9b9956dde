//! The one error type of the server crate; every message says what to do about it.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] fluxstrap_core::Error),

    #[error(
        "cannot listen on {addr}: {source} (is another process using the port? pick another with --listen)"
    )]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the web app directory {0} has no index.html: build it with `trunk build --release` or pass --web-dir"
    )]
    WebDirMissing(PathBuf),

    #[error("the server stopped with an error: {0}")]
    Serve(#[source] std::io::Error),

    #[error("cannot load the kubeconfig{}: {reason} (pass --kubeconfig/--context, or set KUBECONFIG)", .path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Kubeconfig {
        /// The file, when one was named.
        path: Option<PathBuf>,
        /// kube's explanation, with its causes.
        reason: String,
    },

    #[error("{action}: {}", describe_kube(.source))]
    Kube {
        action: String,
        #[source]
        source: kube::Error,
    },

    #[error(
        "the cluster does not serve {kind} ({api_version}): is its CustomResourceDefinition installed?"
    )]
    UnknownKind { kind: String, api_version: String },

    #[error("invalid Kubernetes object: every object needs apiVersion, kind and metadata.name")]
    UnnamedObject,

    #[error("the cluster's answer could not be read: {0}")]
    InvalidAnswer(String),

    #[error("no Kubernetes objects to apply")]
    NothingToApply,

    #[error("{object} failed: {reason}")]
    ObjectFailed { object: String, reason: String },

    #[error("timed out after {timeout:?} waiting for {}", .pending.join(", "))]
    ObjectsNotReady {
        timeout: std::time::Duration,
        /// Each object with why it is not ready: `Deployment flux-system/x (not found)`.
        pending: Vec<String>,
    },

    #[error("cannot read the Flux release manifests at {path}: {source}")]
    ReadManifests {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "`fluxstrap install` only exports the manifests for now: add --export (installing on a cluster is what `fluxstrap bootstrap` does)"
    )]
    InstallNeedsExport,

    #[error("unable to read TLS CA file {path}: {source}")]
    ReadCaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the CA file {path} is not usable: {reason}")]
    InvalidCaFile { path: PathBuf, reason: String },

    #[error("cannot set up the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),

    #[error("cannot run {program}: {source} (is it installed and on PATH?)")]
    RunProgram {
        program: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("{program} did not finish within {seconds} s (is the server reachable?)")]
    ProgramTimedOut { program: &'static str, seconds: u64 },

    #[error("{action}: {stderr}")]
    GitFailed { action: String, stderr: String },

    #[error("the repository URL {url} is not usable: {reason}")]
    InvalidRepositoryUrl { url: String, reason: String },

    #[error(
        "the branch \"{branch}\" does not exist in {url}: create it first or pick an existing branch ({detail})"
    )]
    MissingBranch {
        branch: String,
        url: String,
        detail: String,
    },

    #[error("refusing to write {path:?}: {reason}")]
    UnsafeRepositoryPath { path: String, reason: &'static str },

    #[error("cannot write {path}: {source}")]
    JobFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "unable to read the OpenPGP key ring (pass an armored secret key ring with --gpg-key-ring): {detail}"
    )]
    SigningKeyRing { detail: String },

    #[error(
        "the OpenPGP key ring holds no secret key: export it with `gpg --export-secret-keys --armor`"
    )]
    NoSigningKey,

    #[error("no such Bitbucket server here: the relays reach the servers of GET /api/config only")]
    RelayNotConfigured,

    #[error("only Bitbucket REST paths are relayed")]
    RelayPathRefused,

    #[error(
        "the git relay reads only: it takes upload-pack (GET …/info/refs?service=git-upload-pack, POST …/git-upload-pack) under scm/"
    )]
    GitRelayRefused,

    #[error("the {0} method is not relayed")]
    RelayMethodRefused(String),

    #[error("Bitbucket did not answer: {0}")]
    UpstreamUnreachable(String),

    #[error("Bitbucket's answer was not usable: {0}")]
    UpstreamAnswer(String),

    #[error(
        "no Flux release manifests are configured: start fluxstrap serve with --manifests DIR|FILE.tar.gz"
    )]
    NoRelease,

    #[error("{name} is not a file of Flux {version}")]
    NotAReleaseFile { name: String, version: String },

    #[error("the Flux {version} release is not usable: {reason}")]
    BadRelease { version: String, reason: String },

    #[error("no cache directory: set FLUXSTRAP_CACHE_DIR (or HOME)")]
    NoCacheDir,

    #[error(
        "cannot download {url}: {reason} (set FLUXSTRAP_RELEASES_URL to a mirror, or pass --manifests)"
    )]
    ReleaseDownload { url: String, reason: String },

    #[error("{url} does not exist: is the version right? (`latest` picks the newest release)")]
    UnknownRelease { url: String },

    #[error(
        "{url} has sha256 {actual}, but the release publishes {expected}: the download was altered or truncated; try again, or check the mirror"
    )]
    ReleaseChecksum {
        url: String,
        expected: String,
        actual: String,
    },

    #[error("{url} lists no checksum for manifests.tar.gz")]
    ReleaseChecksumMissing { url: String },

    #[error(
        "cannot write the release cache in {path}: {source} (set FLUXSTRAP_CACHE_DIR to a writable directory)"
    )]
    CacheWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("could not read token: could not read from stdin: {0}")]
    ReadToken(#[source] std::io::Error),

    #[error("cannot read {flag} {path}: {source}")]
    ReadFlagFile {
        flag: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("--ssh-signing-reuse-private-key requires --private-key-file")]
    NoPrivateKeyToReuse,

    #[error("interrupted: nothing more was changed; run the same command again to finish")]
    Interrupted,

    #[error("cannot read the configuration {path}: {source}")]
    ReadConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}:{line}: {}{reason}", .path.display(), if .key.is_empty() { String::new() } else { format!("{}: ", .key) })]
    Config {
        path: PathBuf,
        line: usize,
        key: String,
        reason: String,
    },

    #[error("{key}: {reason}")]
    ConfigFlag { key: String, reason: String },

    #[error(transparent)]
    Jobs(#[from] fluxstrap_jobs::Error),

    #[error("{requested} is not offered here: pick one of {}", .offered.join(", "))]
    VersionNotOffered {
        requested: String,
        offered: Vec<String>,
    },

    #[error("no Bitbucket server is named {0:?} here: pick one of GET /api/config's servers")]
    UnknownServer(String),

    #[error("no cluster is named {0:?} here: pick one of GET /api/config's clusters")]
    UnknownCluster(String),

    #[error(
        "cluster {cluster:?} does not allow project {project}: ask its operator to add it to the cluster's projects"
    )]
    ClusterRefusesProject { cluster: String, project: String },

    #[error(
        "job {id} is already bootstrapping this cluster namespace or repository path: wait for it to end (GET /api/bootstraps/{id})"
    )]
    JobConflict { id: String },

    #[error("no job {0}")]
    JobNotFound(String),

    #[error("job {id} had secret flags ({}) that were not recorded: start it again with them", .flags.join(", "))]
    RerunNeedsSecrets { id: String, flags: Vec<String> },

    #[error("the request is not a bootstrap request: {0}")]
    BadJobRequest(String),

    #[error("the request is larger than this server accepts (its limits.max_body_bytes)")]
    BodyTooLarge,

    #[error("send your Bitbucket token as `Authorization: Bearer <token>`")]
    Unauthenticated,

    #[error("cross-origin requests may not change anything")]
    CrossOrigin,

    #[error("the job's thread failed: {0}")]
    JobPanicked(String),

    #[error("SSH key scan for host {host}:{port} failed, error: {reason}")]
    HostKeyScan {
        host: String,
        port: u16,
        reason: String,
    },
}

/// The JSON body of every API error: `{"error": "<what happened and what to do>"}`.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiError {
    /// The message, as the error's `Display` writes it.
    pub error: String,
}

impl Error {
    /// The HTTP status an API answer with this error carries.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::RelayNotConfigured | Error::NoRelease | Error::NotAReleaseFile { .. } => {
                StatusCode::NOT_FOUND
            }
            Error::RelayPathRefused | Error::GitRelayRefused => StatusCode::FORBIDDEN,
            Error::RelayMethodRefused(_) => StatusCode::METHOD_NOT_ALLOWED,
            Error::UpstreamUnreachable(_) | Error::UpstreamAnswer(_) => StatusCode::BAD_GATEWAY,
            Error::Core(core) => core_status(core),
            Error::VersionNotOffered { .. }
            | Error::UnknownServer(_)
            | Error::UnknownCluster(_)
            | Error::BadJobRequest(_) => StatusCode::BAD_REQUEST,
            Error::JobNotFound(_) => StatusCode::NOT_FOUND,
            Error::ClusterRefusesProject { .. } | Error::CrossOrigin => StatusCode::FORBIDDEN,
            Error::Unauthenticated => StatusCode::UNAUTHORIZED,
            Error::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::JobConflict { .. } | Error::RerunNeedsSecrets { .. } => StatusCode::CONFLICT,
            Error::ReleaseDownload { .. } | Error::UnknownRelease { .. } => StatusCode::BAD_GATEWAY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A core error's status: Bitbucket's refusals keep theirs (401 bad token, 403 not permitted,
/// 404 no such project), Bitbucket failing is a bad gateway, anything else a bad request.
fn core_status(error: &fluxstrap_core::Error) -> StatusCode {
    use fluxstrap_core::Error as Core;
    match error {
        Core::TokenNotAccepted { .. } => StatusCode::UNAUTHORIZED,
        Core::NotPermitted { .. } => StatusCode::FORBIDDEN,
        Core::Bitbucket { status, .. } if (400..500).contains(status) => {
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST)
        }
        Core::Bitbucket { .. }
        | Core::BitbucketNoAnswer { .. }
        | Core::BitbucketUnexpectedAnswer { .. } => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Every API error becomes its status and `{"error": …}` here, and nowhere else.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        }
        (
            status,
            Json(ApiError {
                error: self.to_string(),
            }),
        )
            .into_response()
    }
}

/// A kube error as a person reads it: the API server's own message for API errors, the whole
/// cause chain (down to "Connection refused") with a hint for transport errors.
fn describe_kube(error: &kube::Error) -> String {
    if let kube::Error::Api(status) = error {
        return format!("{} ({} {})", status.message, status.code, status.reason);
    }
    let mut text = fluxstrap_core::error::with_causes(error);
    if matches!(error, kube::Error::Service(_) | kube::Error::HyperError(_)) {
        text.push_str(
            " (is the cluster up, and are the kubeconfig's server address and context the right ones?)",
        );
    }
    text
}
