//! Making deploy key pairs (feature `keygen`): generating one as flux does
//! (`--ssh-key-algorithm`, `--ssh-rsa-bits`, `--ssh-ecdsa-curve`) or deriving it from the user's
//! `--private-key-file`. The RSA, ECDSA and Ed25519 code lives here so that builds without the
//! feature (the web page) carry none of it.

use std::fmt;

use rand_core::CryptoRng;

use super::{EcdsaCurve, KeyPair, KeySpec};
use crate::error::{Error, Result};

fn crypto_error(step: &'static str, err: impl fmt::Display) -> Error {
    Error::Key {
        step,
        reason: err.to_string(),
    }
}

fn authorized(key_data: ssh_key::public::KeyData) -> Result<String> {
    let line = ssh_key::PublicKey::new(key_data, "")
        .to_openssh()
        .map_err(|e| crypto_error("encoding the public key", e))?;
    Ok(format!("{}\n", line.trim_end()))
}

impl KeyPair {
    /// Generates a new key pair.
    pub fn generate<R: CryptoRng + ?Sized>(spec: KeySpec, rng: &mut R) -> Result<Self> {
        use p256::elliptic_curve::Generate;
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        let pem = |doc: std::result::Result<p256::pkcs8::der::zeroize::Zeroizing<String>, _>| {
            doc.map(|s: p256::pkcs8::der::zeroize::Zeroizing<String>| s.to_string())
                .map_err(|e: p256::pkcs8::Error| crypto_error("encoding the private key", e))
        };
        let (private_pem, key_data) = match spec {
            KeySpec::Ecdsa(EcdsaCurve::P256) => {
                let secret = p256::SecretKey::generate_from_rng(rng);
                let public = p256::ecdsa::VerifyingKey::from(secret.public_key());
                (
                    pem(secret.to_pkcs8_pem(LineEnding::LF))?,
                    ssh_key::public::EcdsaPublicKey::from(&public).into(),
                )
            }
            KeySpec::Ecdsa(EcdsaCurve::P384) => {
                let secret = p384::SecretKey::generate_from_rng(rng);
                let public = p384::ecdsa::VerifyingKey::from(secret.public_key());
                (
                    pem(secret.to_pkcs8_pem(LineEnding::LF))?,
                    ssh_key::public::EcdsaPublicKey::from(&public).into(),
                )
            }
            KeySpec::Ecdsa(EcdsaCurve::P521) => {
                let secret = p521::SecretKey::generate_from_rng(rng);
                let public =
                    p521::ecdsa::VerifyingKey::from_affine(*secret.public_key().as_affine())
                        .map_err(|e| crypto_error("deriving the public key", e))?;
                (
                    pem(secret.to_pkcs8_pem(LineEnding::LF))?,
                    ssh_key::public::EcdsaPublicKey::from(&public).into(),
                )
            }
            KeySpec::Ed25519 => {
                let signing = ed25519_dalek::SigningKey::generate(rng);
                (
                    pem(signing.to_pkcs8_pem(LineEnding::LF))?,
                    ssh_key::public::Ed25519PublicKey::from(&signing.verifying_key()).into(),
                )
            }
            KeySpec::Rsa(bits) => {
                let private = rsa::PrivateKey::new(rng, bits.get())
                    .map_err(|e| crypto_error("generating the RSA key", e))?;
                let public = ssh_key::public::RsaPublicKey::try_from(private.to_public_key())
                    .map_err(|e| crypto_error("encoding the public key", e))?;
                (pem(private.to_pkcs8_pem(LineEnding::LF))?, public.into())
            }
        };
        Ok(Self {
            private_pem: crate::Secret::new(private_pem),
            public_authorized: authorized(key_data)?,
        })
    }

    /// Uses the user's `--private-key-file`: kept verbatim as `identity`, the public key derived
    /// from it. Only unencrypted OpenSSH keys are accepted, as with flux for this provider.
    pub fn from_private_key_file(content: &str) -> Result<Self> {
        let key = ssh_key::PrivateKey::from_openssh(content)
            .map_err(|e| Error::PrivateKeyFile(e.to_string()))?;
        if key.is_encrypted() {
            return Err(Error::PrivateKeyEncrypted);
        }
        Ok(Self {
            private_pem: crate::Secret::new(content),
            public_authorized: authorized(key.public_key().key_data().clone())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{RsaBits, SourceSecretData};

    fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn default_key_is_ecdsa_p384_in_pkcs8() {
        let pair = KeyPair::generate(KeySpec::default(), &mut rng()).unwrap();
        assert!(
            pair.private_pem()
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(
            pair.public_authorized()
                .starts_with("ecdsa-sha2-nistp384 AAAA")
        );
        assert!(pair.public_authorized().ends_with('\n'));
        assert_eq!(
            pair.public_authorized().matches(' ').count(),
            1,
            "no comment"
        );
        assert!(!format!("{pair:?}").contains("PRIVATE"));
    }

    #[test]
    fn every_algorithm_generates_its_ssh_type() {
        let cases = [
            (KeySpec::Ecdsa(EcdsaCurve::P256), "ecdsa-sha2-nistp256 "),
            (KeySpec::Ecdsa(EcdsaCurve::P521), "ecdsa-sha2-nistp521 "),
            (KeySpec::Ed25519, "ssh-ed25519 "),
            (KeySpec::Rsa(RsaBits::parse("1024").unwrap()), "ssh-rsa "),
        ];
        for (spec, prefix) in cases {
            let pair = KeyPair::generate(spec, &mut rng()).unwrap();
            assert!(pair.public_authorized().starts_with(prefix), "{spec:?}");
            assert!(
                pair.private_pem()
                    .starts_with("-----BEGIN PRIVATE KEY-----\n")
            );
            // The public line parses back as an OpenSSH public key of that type.
            let parsed = ssh_key::PublicKey::from_openssh(pair.public_authorized().trim()).unwrap();
            assert_eq!(format!("{} ", parsed.algorithm().as_str()), prefix);
        }
    }

    #[test]
    fn private_key_file_is_kept_verbatim() {
        // An unencrypted OpenSSH ed25519 key, encoded here from a fixed seed.
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let keypair = ssh_key::private::Ed25519Keypair::from(&signing);
        let private = ssh_key::PrivateKey::from(keypair);
        let text = private
            .to_openssh(ssh_key::LineEnding::LF)
            .unwrap()
            .to_string();
        let pair = KeyPair::from_private_key_file(&text).unwrap();
        assert_eq!(pair.private_pem(), text);
        assert_eq!(
            pair.public_authorized().trim(),
            private.public_key().to_openssh().unwrap()
        );
        let err = KeyPair::from_private_key_file("not a key")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("failed to open private key file: "),
            "{err}"
        );
    }

    #[test]
    fn source_secret_keys_follow_flux() {
        let pair = KeyPair::generate(KeySpec::Ed25519, &mut rng()).unwrap();
        let ssh = SourceSecretData::Ssh {
            key_pair: pair.clone(),
            known_hosts: "[localhost]:7999 ssh-ed25519 AAAA\n".into(),
        };
        let data = ssh.string_data();
        assert_eq!(
            data.keys().map(String::as_str).collect::<Vec<_>>(),
            ["identity", "identity.pub", "known_hosts"]
        );
        assert_eq!(data["known_hosts"], "[localhost]:7999 ssh-ed25519 AAAA");
        let token = SourceSecretData::Token {
            username: "git".into(),
            password: "s3cret".into(),
            ca_crt: Some("PEM".into()),
        };
        assert_eq!(
            token
                .string_data()
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["ca.crt", "password", "username"]
        );
        assert!(!format!("{token:?}").contains("s3cret"));
    }
}
