//! A throw-away CA and a server certificate for 127.0.0.1/localhost, minted per start so that
//! the kubeconfig can carry the CA inline.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// PEM texts of the CA certificate and the server's certificate and key.
pub struct ServerTls {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn mint() -> std::io::Result<ServerTls> {
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(std::io::Error::other)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "fluxstrap kube emulator CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(std::io::Error::other)?;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(std::io::Error::other)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(std::io::Error::other)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().map_err(std::io::Error::other)?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(std::io::Error::other)?;
    Ok(ServerTls {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}
