//! Flags whose value is one of a few words (`--log-level`, `--ssh-key-algorithm`,
//! `--ssh-ecdsa-curve`), read with flux's messages.

use crate::error::{Error, Result};

/// The words a flag accepts, and how flux's messages name what they choose.
pub(crate) struct Choices<'a, T> {
    flag: &'a str,
    what: &'a str,
    words: &'a [(&'a str, T)],
    empty_is_missing: bool,
}

impl<'a, T: Copy> Choices<'a, T> {
    /// The `words` of `flag`, each with its value, in the order flux lists them; a word names
    /// `what` (`log level`) in the messages, and an empty value gets flux's `no … given`.
    pub fn new(flag: &'a str, what: &'a str, words: &'a [(&'a str, T)]) -> Self {
        Self {
            flag,
            what,
            words,
            empty_is_missing: true,
        }
    }

    /// An empty value is unsupported like any other word (flux has no `no … given` for it).
    pub fn empty_unsupported(self) -> Self {
        Self {
            empty_is_missing: false,
            ..self
        }
    }

    /// The value `word` stands for, or pflag's `invalid argument` error with flux's reason.
    pub fn parse(&self, word: &str) -> Result<T> {
        if let Some((_, value)) = self.words.iter().find(|(w, _)| *w == word) {
            return Ok(*value);
        }
        let listed: Vec<&str> = self.words.iter().map(|(w, _)| *w).collect();
        let what = self.what;
        let problem = if word.is_empty() && self.empty_is_missing {
            format!("no {what} given")
        } else {
            format!("unsupported {what} '{word}'")
        };
        Err(Error::invalid_flag(
            word,
            self.flag,
            format!("{problem}, must be one of: {}", listed.join(", ")),
        ))
    }
}
