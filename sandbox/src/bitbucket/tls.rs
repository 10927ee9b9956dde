//! The sandbox's own certificate authority and a server certificate for `localhost` and
//! `127.0.0.1`, kept in the state directory so clients that trusted the CA keep trusting it
//! after a restart.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// PEM files of the CA and the server certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca_file: PathBuf,
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("creating the sandbox certificates: {e}"))
}

/// Loads the certificates from `dir`, creating them on first use.
pub fn ensure_certificates(dir: &Path) -> std::io::Result<TlsFiles> {
    let ca_file = dir.join("ca.pem");
    let cert_file = dir.join("server.pem");
    let key_file = dir.join("server-key.pem");
    if !(ca_file.is_file() && cert_file.is_file() && key_file.is_file()) {
        std::fs::create_dir_all(dir)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "fluxstrap sandbox CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().map_err(other)?;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(other)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .map_err(other)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let key = KeyPair::generate().map_err(other)?;
        let cert = params.signed_by(&key, &issuer).map_err(other)?;
        std::fs::write(&ca_file, ca_cert.pem())?;
        std::fs::write(&cert_file, cert.pem())?;
        std::fs::write(&key_file, key.serialize_pem())?;
    }
    Ok(TlsFiles {
        ca_file,
        cert_pem: std::fs::read(&cert_file)?,
        key_pem: std::fs::read(&key_file)?,
    })
}
