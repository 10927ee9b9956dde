//! The sandbox's certificates: a certificate authority, server certificates for `localhost` and
//! `127.0.0.1`, and client certificates, all minted with rcgen. Both emulators use it; what they
//! keep (files on disk, or memory only) is theirs to decide.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::Error;

fn tls(e: impl std::fmt::Display) -> Error {
    Error::Tls(format!("creating the sandbox certificates: {e}"))
}

/// A certificate authority that can sign.
pub struct Authority {
    pub certificate: Certificate,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    pub fn new(common_name: &str) -> crate::Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().map_err(tls)?;
        let certificate = params.self_signed(&key).map_err(tls)?;
        Ok(Self {
            certificate,
            issuer: Issuer::new(params, key),
        })
    }

    /// A server certificate for `localhost` and `127.0.0.1`, and its key.
    pub fn loopback_server(&self) -> crate::Result<(Certificate, KeyPair)> {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .map_err(tls)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let key = KeyPair::generate().map_err(tls)?;
        let certificate = params.signed_by(&key, &self.issuer).map_err(tls)?;
        Ok((certificate, key))
    }

    /// A client certificate with this CN and O (user and group, as an API server reads them).
    pub fn client(&self, user: &str, group: &str) -> crate::Result<(Certificate, KeyPair)> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls)?;
        params.distinguished_name.push(DnType::CommonName, user);
        params
            .distinguished_name
            .push(DnType::OrganizationName, group);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().map_err(tls)?;
        let certificate = params.signed_by(&key, &self.issuer).map_err(tls)?;
        Ok((certificate, key))
    }
}
