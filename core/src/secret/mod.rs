//! The credentials fluxstrap hands to the cluster (spec §4.4, §2.4 step 5): the deploy key pair
//! and the source Secret's data, and the image pull secret's `.dockerconfigjson`.
//!
//! Making key pairs is in `keygen.rs`, behind the `keygen` feature: the flag parsers and the Secret
//! data here need no cryptography, so the web page builds without it. Key generation takes the
//! random number generator as an argument: `core` touches no OS facility, so the server passes
//! the system RNG (and a browser would pass `crypto.getRandomValues`).

#[cfg(feature = "keygen")]
mod keygen;

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;

use crate::error::{Error, Result};
use crate::go_quote::json_string;
use crate::options::Choices;

/// `--ssh-key-algorithm` (default `ecdsa`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SshKeyAlgorithm {
    /// `rsa`, with `--ssh-rsa-bits` bits.
    Rsa,
    /// `ecdsa` (the default), on the `--ssh-ecdsa-curve` curve.
    #[default]
    Ecdsa,
    /// `ed25519`.
    Ed25519,
}

impl SshKeyAlgorithm {
    /// Reads `--ssh-key-algorithm` with flux's messages.
    pub fn parse(value: &str) -> Result<Self> {
        Choices::new(
            "--ssh-key-algorithm",
            "public key algorithm",
            &ALGORITHM_WORDS,
        )
        .parse(value)
    }
}

/// `--ssh-ecdsa-curve` (default `p384`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EcdsaCurve {
    /// NIST P-256.
    P256,
    /// NIST P-384, the default.
    #[default]
    P384,
    /// NIST P-521.
    P521,
}

impl EcdsaCurve {
    /// Reads `--ssh-ecdsa-curve` with flux's messages; flux has no message of its own for an
    /// empty curve.
    pub fn parse(value: &str) -> Result<Self> {
        Choices::new("--ssh-ecdsa-curve", "curve", &CURVE_WORDS)
            .empty_unsupported()
            .parse(value)
    }
}

/// The words of `--ssh-key-algorithm`, in the order flux lists them.
const ALGORITHM_WORDS: [(&str, SshKeyAlgorithm); 3] = [
    ("rsa", SshKeyAlgorithm::Rsa),
    ("ecdsa", SshKeyAlgorithm::Ecdsa),
    ("ed25519", SshKeyAlgorithm::Ed25519),
];

/// The words of `--ssh-ecdsa-curve`, in the order flux lists them.
const CURVE_WORDS: [(&str, EcdsaCurve); 3] = [
    ("p256", EcdsaCurve::P256),
    ("p384", EcdsaCurve::P384),
    ("p521", EcdsaCurve::P521),
];

/// `--ssh-rsa-bits` (default 2048): at least 1024 and a multiple of 8, as flux checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsaBits(usize);

impl RsaBits {
    /// `--ssh-rsa-bits`' default.
    pub const DEFAULT: usize = 2048;

    /// Reads `--ssh-rsa-bits`; empty means the default.
    pub fn parse(value: &str) -> Result<Self> {
        if value.is_empty() {
            return Ok(Self::default());
        }
        let invalid = |reason: &str| Error::invalid_flag(value, "--ssh-rsa-bits", reason);
        let bits: usize = value.parse().map_err(|_| {
            invalid(&format!(
                "strconv.Atoi: parsing \"{value}\": invalid syntax"
            ))
        })?;
        if bits < 1024 {
            return Err(invalid("RSA key bit size must be at least 1024"));
        }
        if !bits.is_multiple_of(8) {
            return Err(invalid("RSA key bit size must be a multiples of 8"));
        }
        Ok(Self(bits))
    }

    /// The number of bits.
    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for RsaBits {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

/// What kind of key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    /// An RSA key of that size.
    Rsa(RsaBits),
    /// An ECDSA key on that curve.
    Ecdsa(EcdsaCurve),
    /// An Ed25519 key.
    Ed25519,
}

impl KeySpec {
    /// The key the three `--ssh-*` flags describe; the size and the curve count only for their
    /// algorithm.
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
/// verbatim) and the public key in `authorized_keys` form with a trailing newline. Made by
/// `KeyPair::generate` and `KeyPair::from_private_key_file` (feature `keygen`).
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    private_pem: crate::Secret,
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

impl KeyPair {
    /// The private key (PEM); it goes into the cluster Secret and nowhere else.
    pub fn private_pem(&self) -> &str {
        self.private_pem.expose()
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
        /// The deploy key pair (`identity`, `identity.pub`).
        key_pair: KeyPair,
        /// The Bitbucket host's SSH keys in `known_hosts` form (`known_hosts`).
        known_hosts: String,
    },
    /// In-cluster sync over HTTPS with a username and token (`--token-auth`).
    Token {
        /// The git user: `--owner` with `--personal`, else `--username`.
        username: String,
        /// The Bitbucket token (`BITBUCKET_TOKEN`).
        password: String,
        /// The CA bundle that signs the Bitbucket server's certificate, PEM (`--ca-file`).
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
        json_string(registry),
        json_string(username),
        json_string(password),
        json_string(&auth)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_refusals;

    #[test]
    fn flag_messages_match_flux() {
        assert_refusals(
            SshKeyAlgorithm::parse,
            &[
                (
                    "dsa",
                    "invalid argument \"dsa\" for \"--ssh-key-algorithm\" flag: unsupported public key algorithm 'dsa', must be one of: rsa, ecdsa, ed25519",
                ),
                (
                    "",
                    "invalid argument \"\" for \"--ssh-key-algorithm\" flag: no public key algorithm given, must be one of: rsa, ecdsa, ed25519",
                ),
            ],
        );
        assert_refusals(
            EcdsaCurve::parse,
            &[
                (
                    "p224",
                    "invalid argument \"p224\" for \"--ssh-ecdsa-curve\" flag: unsupported curve 'p224', must be one of: p256, p384, p521",
                ),
                // flux has no message of its own for an empty curve.
                (
                    "",
                    "invalid argument \"\" for \"--ssh-ecdsa-curve\" flag: unsupported curve '', must be one of: p256, p384, p521",
                ),
            ],
        );
        assert_refusals(
            RsaBits::parse,
            &[
                (
                    "512",
                    "invalid argument \"512\" for \"--ssh-rsa-bits\" flag: RSA key bit size must be at least 1024",
                ),
                (
                    "2049",
                    "invalid argument \"2049\" for \"--ssh-rsa-bits\" flag: RSA key bit size must be a multiples of 8",
                ),
            ],
        );
        assert_eq!(RsaBits::parse("").unwrap().get(), 2048);
        assert_eq!(RsaBits::parse("4096").unwrap().get(), 4096);
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
            json_string("a<b>&\"\\\n\u{1}"),
            r#""a\u003cb\u003e\u0026\"\\\n\u0001""#
        );
    }
}
