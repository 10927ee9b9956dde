//! The one type for a secret in memory (a Bitbucket token, a private key, a passphrase): it
//! prints as `***` in `Debug` and `Display`, is wiped when dropped (secrecy/zeroize), and gives
//! its text only through [`Secret::expose`], so every place that uses the value is greppable.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A secret string: never printed, wiped on drop.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps `value`; the caller should drop its own copy.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The secret's text, for the one request, file or process environment that needs it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the secret is empty (or only white space), e.g. an unset token.
    pub fn is_blank(&self) -> bool {
        self.expose().trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_but_can_be_used() {
        let secret = Secret::new("s3cret-token");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.to_string(), "***");
        assert!(!format!("{:?}", Some(secret.clone())).contains("s3cret"));
        assert_eq!(secret.expose(), "s3cret-token");
        assert!(!secret.is_blank());
        assert!(Secret::new("  \n").is_blank());
    }
}
