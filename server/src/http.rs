//! The one way the server builds an HTTP client: rustls with the system's roots plus an optional
//! CA file, connect and request timeouts, the standard proxy variables honoured (`HTTPS_PROXY`,
//! `NO_PROXY`, …). Bitbucket clients never follow redirects — a redirect could carry a caller's
//! token to another host, and Bitbucket's REST API does not redirect; release downloads do
//! (GitHub serves release assets from another host), and carry no credentials.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// How long to wait for a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take in all.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether a client follows redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// Up to 10, for downloads without credentials.
    Follow,
    /// Never: a 3xx is the answer.
    Never,
}

/// A client for a Bitbucket Server, trusting `ca_file` in addition to the system's roots.
pub fn bitbucket_client(ca_file: Option<&Path>) -> Result<reqwest::Client> {
    client(ca_file, Redirects::Never)
}

/// A client trusting `ca_file` in addition to the system's roots.
pub fn client(ca_file: Option<&Path>, redirects: Redirects) -> Result<reqwest::Client> {
    // reqwest is built without a default provider; ring is the one the workspace compiles.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(match redirects {
            Redirects::Follow => reqwest::redirect::Policy::limited(10),
            Redirects::Never => reqwest::redirect::Policy::none(),
        })
        .user_agent(concat!("fluxstrap/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| Error::ReadCaFile {
            path: path.to_path_buf(),
            source,
        })?;
        let certificates =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::InvalidCaFile {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if certificates.is_empty() {
            return Err(Error::InvalidCaFile {
                path: path.to_path_buf(),
                reason: "it holds no PEM certificate".to_string(),
            });
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(Error::HttpClient)
}

/// A reqwest error as a person reads it: its message and every cause below it (reqwest's own
/// message is often only "error sending request"), without the URL (the caller names it).
pub fn describe(error: reqwest::Error) -> String {
    fluxstrap_core::error::with_causes(&error.without_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error = bitbucket_client(Some(&empty)).unwrap_err();
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
        let missing = dir.path().join("missing.pem");
        let error = bitbucket_client(Some(&missing)).unwrap_err();
        assert!(
            error.to_string().contains("unable to read TLS CA file"),
            "{error}"
        );
        assert!(bitbucket_client(None).is_ok());
    }
}
