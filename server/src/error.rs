//! The one error type of the server crate; every message says what to do about it.

use std::net::SocketAddr;
use std::path::PathBuf;

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

    #[error("`fluxstrap {0}` is not available in this version yet")]
    NotYetAvailable(&'static str),

    #[error("cannot load the kubeconfig: {0} (pass --kubeconfig/--context, or set KUBECONFIG)")]
    Kubeconfig(String),

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

    #[error("invalid Kubernetes object: {0}")]
    InvalidObject(String),

    #[error("{0}")]
    NotReady(String),

    #[error("error while waiting for {kind} to be ready: '{reason}'")]
    WaitFailed { kind: &'static str, reason: String },

    #[error("cannot read the Flux release manifests at {path}: {source}")]
    ReadManifests {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("no Flux {version} release manifests found{}: download manifests.tar.gz from https://github.com/fluxcd/flux2/releases/download/{version}/manifests.tar.gz and pass it with --manifests (a directory of its files works too), or unpack it into that directory", cache.as_ref().map(|c| format!(" in {}", c.display())).unwrap_or_default())]
    NoManifests {
        version: String,
        cache: Option<PathBuf>,
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
    HttpClient(String),

    #[error("{0}")]
    Git(String),
}

/// A kube error as a person reads it: the API server's own message for API errors, the whole
/// cause chain (down to "Connection refused") with a hint for transport errors.
fn describe_kube(error: &kube::Error) -> String {
    if let kube::Error::Api(status) = error {
        return format!("{} ({} {})", status.message, status.code, status.reason);
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = inner.source();
    }
    if matches!(error, kube::Error::Service(_) | kube::Error::HyperError(_)) {
        text.push_str(
            " (is the cluster up, and are the kubeconfig's server address and context the right ones?)",
        );
    }
    text
}
