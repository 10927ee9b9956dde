//! A throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate
//! (`system:masters`), minted per start so that the kubeconfig can carry them inline.

use crate::certificates::Authority;

/// The CA, the server's certificate and key, and a client identity the CA signed.
pub struct Minted {
    /// The CA's certificate: PEM for the kubeconfig, DER to verify clients with.
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub server: ServerIdentity,
    pub client: ClientIdentity,
}

/// What the server presents: its certificate and PKCS#8 key, DER.
pub struct ServerIdentity {
    pub cert_der: Vec<u8>,
    pub key_pkcs8_der: Vec<u8>,
}

/// What a kubeconfig carries for a client, PEM: the certificate, and its key in PKCS#8
/// (`BEGIN PRIVATE KEY`) and SEC1 (`BEGIN EC PRIVATE KEY`) form, since kubeconfigs in the wild
/// carry either.
pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pkcs8_pem: String,
    pub key_sec1_pem: String,
}

pub fn mint() -> crate::Result<Minted> {
    let authority = Authority::new("fluxstrap kube emulator CA")?;
    let (cert, key) = authority.loopback_server()?;
    // The identity the API server maps to a user and group: CN and O.
    let (client_cert, client_key) =
        authority.client("fluxstrap-sandbox-admin", "system:masters")?;
    let key_sec1_pem = {
        use p256::pkcs8::DecodePrivateKey as _;
        let sec1 = |e: &dyn std::fmt::Display| {
            crate::Error::Tls(format!("encoding the client key as SEC1: {e}"))
        };
        p256::SecretKey::from_pkcs8_der(&client_key.serialize_der())
            .map_err(|e| sec1(&e))?
            .to_sec1_pem(p256::pkcs8::LineEnding::LF)
            .map_err(|e| sec1(&e))?
            .to_string()
    };
    Ok(Minted {
        ca_pem: authority.certificate.pem(),
        ca_der: authority.certificate.der().to_vec(),
        server: ServerIdentity {
            cert_der: cert.der().to_vec(),
            key_pkcs8_der: key.serialize_der(),
        },
        client: ClientIdentity {
            cert_pem: client_cert.pem(),
            key_pkcs8_pem: client_key.serialize_pem(),
            key_sec1_pem,
        },
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
            vec![CertificateDer::from(minted.server.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                minted.server.key_pkcs8_der.clone(),
            )),
        )
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
