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
}
