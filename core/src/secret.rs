//! The credentials fluxstrap hands to the cluster (spec §4.4, §2.4 step 5): the deploy key pair
//! and the source Secret's data, and the image pull secret's `.dockerconfigjson`.
//!
//! Key generation takes the random number generator as an argument: `core` touches no OS
//! facility, so the server passes the system RNG and the browser `crypto.getRandomValues`.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use rand_core::CryptoRng;

use crate::error::{Error, Result};

/// `--ssh-key-algorithm` (default `ecdsa`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SshKeyAlgorithm {
    Rsa,
    #[default]
    Ecdsa,
    Ed25519,
}

impl SshKeyAlgorithm {
    pub fn parse(value: &str) -> Result<Self> {
        let reason = match value {
            "rsa" => return Ok(Self::Rsa),
            "ecdsa" => return Ok(Self::Ecdsa),
            "ed25519" => return Ok(Self::Ed25519),
            "" => "no public key algorithm given, must be one of: rsa, ecdsa, ed25519".to_string(),
            other => format!(
                "unsupported public key algorithm '{other}', must be one of: rsa, ecdsa, ed25519"
            ),
        };
        Err(invalid_flag(value, "--ssh-key-algorithm", reason))
    }
}

/// `--ssh-ecdsa-curve` (default `p384`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EcdsaCurve {
    P256,
    #[default]
    P384,
    P521,
}

impl EcdsaCurve {
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "p256" => Ok(Self::P256),
            "p384" => Ok(Self::P384),
            "p521" => Ok(Self::P521),
            other => Err(invalid_flag(
                value,
                "--ssh-ecdsa-curve",
                format!("unsupported curve '{other}', must be one of: p256, p384, p521"),
            )),
        }
    }
}

/// `--ssh-rsa-bits` (default 2048): at least 1024 and a multiple of 8, as flux checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsaBits(usize);

impl RsaBits {
    pub const DEFAULT: usize = 2048;

    pub fn parse(value: &str) -> Result<Self> {
        if value.is_empty() {
            return Ok(Self::default());
        }
        let bits: usize = value.parse().map_err(|_| {
            invalid_flag(
                value,
                "--ssh-rsa-bits",
                format!("strconv.Atoi: parsing \"{value}\": invalid syntax"),
            )
        })?;
        if bits < 1024 {
            return Err(invalid_flag(
                value,
                "--ssh-rsa-bits",
                "RSA key bit size must be at least 1024".into(),
            ));
        }
        if !bits.is_multiple_of(8) {
            return Err(invalid_flag(
                value,
                "--ssh-rsa-bits",
                "RSA key bit size must be a multiples of 8".into(),
            ));
        }
        Ok(Self(bits))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for RsaBits {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

fn invalid_flag(value: &str, flag: &str, reason: String) -> Error {
    Error::InvalidFlag {
        value: value.to_string(),
        flag: flag.to_string(),
        reason,
    }
}

/// What kind of key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    Rsa(RsaBits),
    Ecdsa(EcdsaCurve),
    Ed25519,
}

impl KeySpec {
    pub fn new(algorithm: SshKeyAlgorithm, rsa_bits: RsaBits, curve: EcdsaCurve) -> Self {
        match algorithm {
            SshKeyAlgorithm::Rsa => Self::Rsa(rsa_bits),
            SshKeyAlgorithm::Ecdsa => Self::Ecdsa(curve),
            SshKeyAlgorithm::Ed25519 => Self::Ed25519,
        }
    }
}

impl Default for KeySpec {
    fn default() -> Self {
        Self::Ecdsa(EcdsaCurve::default())
    }
}

/// A deploy key pair as flux stores it: the private key as PKCS#8 PEM (or the user's file
/// verbatim) and the public key in `authorized_keys` form with a trailing newline.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    private_pem: String,
    public_authorized: String,
}

/// Never prints the private key.
impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public_authorized.trim_end())
            .finish_non_exhaustive()
    }
}

fn crypto_error(what: &str, err: impl fmt::Display) -> Error {
    Error::Key(format!("{what}: {err}"))
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
            private_pem,
            public_authorized: authorized(key_data)?,
        })
    }

    /// Uses the user's `--private-key-file`: kept verbatim as `identity`, the public key derived
    /// from it. Only unencrypted OpenSSH keys are accepted, as with flux for this provider.
    pub fn from_private_key_file(content: &str) -> Result<Self> {
        let key = ssh_key::PrivateKey::from_openssh(content).map_err(|e| {
            Error::Key(format!(
                "failed to open private key file: {e} (an unencrypted OpenSSH private key is expected)"
            ))
        })?;
        if key.is_encrypted() {
            return Err(Error::Key(
                "ssh: this private key is passphrase protected".to_string(),
            ));
        }
        Ok(Self {
            private_pem: content.to_string(),
            public_authorized: authorized(key.public_key().key_data().clone())?,
        })
    }

    /// The private key (PEM); it goes into the cluster Secret and nowhere else.
    pub fn private_pem(&self) -> &str {
        &self.private_pem
    }

    /// `<type> <base64>\n`, as flux's `identity.pub`.
    pub fn public_authorized(&self) -> &str {
        &self.public_authorized
    }
}

/// The data of the source Secret (`flux-system/flux-system` by default).
#[derive(Clone, PartialEq, Eq)]
pub enum SourceSecretData {
    /// In-cluster sync over SSH with a deploy key.
    Ssh {
        key_pair: KeyPair,
        known_hosts: String,
    },
    /// In-cluster sync over HTTPS with a username and token (`--token-auth`).
    Token {
        username: String,
        password: String,
        ca_crt: Option<String>,
    },
}

/// Never prints the token or the private key.
impl fmt::Debug for SourceSecretData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ssh { key_pair, .. } => f
                .debug_struct("Ssh")
                .field("key_pair", key_pair)
                .finish_non_exhaustive(),
            Self::Token { username, .. } => f
                .debug_struct("Token")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

impl SourceSecretData {
    /// The Secret's `stringData`, with flux's keys: `identity`, `identity.pub`, `known_hosts`
    /// (trimmed) for SSH; `username`, `password` and optionally `ca.crt` for tokens.
    pub fn string_data(&self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        match self {
            Self::Ssh {
                key_pair,
                known_hosts,
            } => {
                data.insert("identity".into(), key_pair.private_pem().to_string());
                data.insert(
                    "identity.pub".into(),
                    key_pair.public_authorized().to_string(),
                );
                data.insert("known_hosts".into(), known_hosts.trim().to_string());
            }
            Self::Token {
                username,
                password,
                ca_crt,
            } => {
                data.insert("username".into(), username.clone());
                data.insert("password".into(), password.clone());
                if let Some(ca) = ca_crt {
                    data.insert("ca.crt".into(), ca.clone());
                }
            }
        }
        data
    }
}

/// The `.dockerconfigjson` of the image pull secret, byte for byte as flux's Go
/// `json.Marshal` writes it (field order username, password, auth; HTML characters escaped).
pub fn docker_config_json(registry: &str, username: &str, password: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!(
        "{{\"auths\":{{{}:{{\"username\":{},\"password\":{},\"auth\":{}}}}}}}",
        go_json_string(registry),
        go_json_string(username),
        go_json_string(password),
        go_json_string(&auth)
    )
}

/// A JSON string as Go's `encoding/json` writes it: like any JSON encoder, plus `<`, `>`, `&`,
/// U+2028 and U+2029 escaped as `\u00XX`/`\u20XX`.
fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn flag_messages_match_flux() {
        assert_eq!(
            SshKeyAlgorithm::parse("dsa").unwrap_err().to_string(),
            "invalid argument \"dsa\" for \"--ssh-key-algorithm\" flag: unsupported public key algorithm 'dsa', must be one of: rsa, ecdsa, ed25519"
        );
        assert_eq!(
            EcdsaCurve::parse("p224").unwrap_err().to_string(),
            "invalid argument \"p224\" for \"--ssh-ecdsa-curve\" flag: unsupported curve 'p224', must be one of: p256, p384, p521"
        );
        assert_eq!(
            RsaBits::parse("512").unwrap_err().to_string(),
            "invalid argument \"512\" for \"--ssh-rsa-bits\" flag: RSA key bit size must be at least 1024"
        );
        assert_eq!(
            RsaBits::parse("2049").unwrap_err().to_string(),
            "invalid argument \"2049\" for \"--ssh-rsa-bits\" flag: RSA key bit size must be a multiples of 8"
        );
        assert_eq!(RsaBits::parse("").unwrap().get(), 2048);
        assert_eq!(RsaBits::parse("4096").unwrap().get(), 4096);
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

    #[test]
    fn docker_config_json_matches_go_marshal() {
        // base64("u:p") = "dTpw"; Go's json.Marshal keeps struct field order.
        assert_eq!(
            docker_config_json("ghcr.io/fluxcd", "u", "p"),
            r#"{"auths":{"ghcr.io/fluxcd":{"username":"u","password":"p","auth":"dTpw"}}}"#
        );
        // Go escapes HTML characters and control characters.
        assert_eq!(
            go_json_string("a<b>&\"\\\n\u{1}"),
            r#""a\u003cb\u003e\u0026\"\\\n\u0001""#
        );
    }
}
