//! A throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate
//! (`system:masters`), minted per start so that the kubeconfig can carry them inline.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The CA, the server's certificate and key, and a client identity the CA signed.
pub struct Minted {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub cert_der: Vec<u8>,
    pub key_pkcs8_der: Vec<u8>,
    pub client_cert_pem: String,
    /// The client key in PKCS#8 (`BEGIN PRIVATE KEY`) and SEC1 (`BEGIN EC PRIVATE KEY`) form:
    /// kubeconfigs in the wild carry either.
    pub client_key_pkcs8_pem: String,
    pub client_key_sec1_pem: String,
}

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

pub fn mint() -> std::io::Result<Minted> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "fluxstrap kube emulator CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(other)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(other)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(other)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().map_err(other)?;
    let cert = params.signed_by(&key, &issuer).map_err(other)?;

    // The identity the API server maps to a user and group: CN and O.
    let mut client = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
    client
        .distinguished_name
        .push(DnType::CommonName, "fluxstrap-sandbox-admin");
    client
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_key = KeyPair::generate().map_err(other)?;
    let client_cert = client.signed_by(&client_key, &issuer).map_err(other)?;
    let client_key_sec1_pem = {
        use p256::pkcs8::DecodePrivateKey as _;
        let secret = p256::SecretKey::from_pkcs8_der(&client_key.serialize_der()).map_err(other)?;
        secret
            .to_sec1_pem(p256::pkcs8::LineEnding::LF)
            .map_err(other)?
            .to_string()
    };

    Ok(Minted {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().to_vec(),
        cert_der: cert.der().to_vec(),
        key_pkcs8_der: key.serialize_der(),
        client_cert_pem: client_cert.pem(),
        client_key_pkcs8_pem: client_key.serialize_pem(),
        client_key_sec1_pem,
    })
}

/// The server's TLS settings. With `verify_clients`, a client certificate is verified against
/// the CA when presented; a client without one still connects (and gets 401, as an API server
/// answers anonymous requests it does not authorise).
pub fn server_config(
    minted: &Minted,
    verify_clients: bool,
) -> Result<rustls::ServerConfig, String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let builder = rustls::ServerConfig::builder();
    let builder = if verify_clients {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(minted.ca_der.clone()))
            .map_err(|e| e.to_string())?;
        let verifier = rustls::server::WebPkiClientVerifier::builder(roots.into())
            .allow_unauthenticated()
            .build()
            .map_err(|e| e.to_string())?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(
            vec![CertificateDer::from(minted.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(minted.key_pkcs8_der.clone())),
        )
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
