//! What can stop an emulator from starting, in words that say what to do about it.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "cannot listen on {address}: {source} (is another process using it? pass another address, or port 0 for any)"
    )]
    Listen {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source} (check that the state directory is writable)")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error(
        "cannot load or create the SSH host key in {dir}: {reason} (delete the file to get a new key)"
    )]
    HostKey { dir: PathBuf, reason: String },
    #[error("cannot read the seed {path}: {reason}")]
    Seed { path: PathBuf, reason: String },
    #[error("cannot write the fluxstrap configuration: {0}")]
    Config(String),
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O failure with what was being done.
    pub fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> Self {
        move |source| Error::Io { context, source }
    }
}
