//! The one way the server builds an HTTP client for a Bitbucket Server: rustls with the system's
//! roots plus an optional CA file, connect and request timeouts, the standard proxy variables
//! honoured (`HTTPS_PROXY`, `NO_PROXY`, …), and redirects never followed — a redirect could carry
//! a caller's token to another host, and Bitbucket's REST API does not redirect.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// How long to wait for a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take in all.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A client for the Bitbucket Server at one URL, trusting `ca_file` in addition to the system's
/// roots.
pub fn bitbucket_client(ca_file: Option<&Path>) -> Result<reqwest::Client> {
    // reqwest is built without a default provider; ring is the one the workspace compiles.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
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
