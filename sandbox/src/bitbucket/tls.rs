//! The sandbox's own certificate authority and a server certificate for `localhost` and
//! `127.0.0.1`, kept in the state directory so clients that trusted the CA keep trusting it
//! after a restart.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::certificates::Authority;

/// PEM files of the CA and the server certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca_file: PathBuf,
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// Loads the certificates from `dir`, creating them on first use.
pub fn ensure_certificates(dir: &Path) -> crate::Result<TlsFiles> {
    let ca_file = dir.join("ca.pem");
    let cert_file = dir.join("server.pem");
    let key_file = dir.join("server-key.pem");
    let write = |path: &Path, contents: String| {
        std::fs::write(path, contents).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    if !(ca_file.is_file() && cert_file.is_file() && key_file.is_file()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let authority = Authority::new("fluxstrap sandbox CA")?;
        let (cert, key) = authority.loopback_server()?;
        write(&ca_file, authority.certificate.pem())?;
        write(&cert_file, cert.pem())?;
        write(&key_file, key.serialize_pem())?;
    }
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| Error::Tls(format!("cannot read {}: {e}", path.display())))
    };
    Ok(TlsFiles {
        cert_pem: read(&cert_file)?,
        key_pem: read(&key_file)?,
        ca_file,
    })
}
