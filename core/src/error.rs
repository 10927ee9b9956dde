//! The one error type of `fluxstrap-core`. Messages follow the real `flux` CLI where it has one
//! (spec §1.5), so scripts and users see the wording they know.

use thiserror::Error;

use crate::bitbucket::TransportError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A flag value that failed its type's parser; rendered exactly like pflag does.
    #[error("invalid argument \"{value}\" for \"{flag}\" flag: {reason}")]
    InvalidFlag {
        value: String,
        flag: String,
        reason: String,
    },

    #[error("namespace must be a valid DNS label: \"{0}\"")]
    InvalidNamespace(String),

    #[error("invalid branch name \"{name}\": {reason}")]
    InvalidBranch { name: String, reason: String },

    #[error("invalid path \"{path}\": {reason}")]
    InvalidPath { path: String, reason: String },

    #[error("component {0} is required")]
    ComponentRequired(String),

    #[error("component {0} is not available")]
    ComponentNotAvailable(String),

    #[error("invalid duration \"{value}\": {reason}")]
    InvalidDuration { value: String, reason: String },

    #[error(
        "sync path configuration (\"{new}\") would overwrite path (\"{old}\") of existing Kustomization"
    )]
    SyncPathConflict { new: String, old: String },

    #[error("{step}: {reason}")]
    Key { step: &'static str, reason: String },

    #[error(
        "failed to open private key file: {0} (an unencrypted OpenSSH private key is expected)"
    )]
    PrivateKeyFile(String),

    #[error("ssh: this private key is passphrase protected")]
    PrivateKeyEncrypted,

    #[error("the deploy key is not an OpenSSH public key")]
    NotAnOpenSshPublicKey,

    #[error("line {line}, column {column}: {message}")]
    Yaml {
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{file}:{line}: {message}")]
    Distribution {
        file: String,
        line: usize,
        message: String,
    },

    #[error(
        "the Flux release manifests have no {0}: pass the directory or manifests.tar.gz of a Flux release"
    )]
    MissingManifest(String),

    #[error("the Flux release manifests do not have the expected shape: {0}")]
    ManifestMismatch(String),

    #[error("{0}")]
    InvalidVersion(String),

    #[error("unknown flag: {0}")]
    UnknownFlag(String),

    #[error("flag needs an argument: --{0}")]
    FlagNeedsArgument(String),

    #[error("invalid URL \"{url}\": {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("invalid {what} \"{value}\": {reason}")]
    InvalidName {
        what: &'static str,
        value: String,
        reason: String,
    },

    #[error("invalid hostname \"{value}\": {reason}")]
    InvalidHost { value: String, reason: String },

    #[error("{0}")]
    InvalidGroup(String),

    #[error("Bitbucket at {host} answered {status}: {message}")]
    Bitbucket {
        host: String,
        status: u16,
        message: String,
    },

    #[error("Bitbucket at {host} gave no answer to {method} {path}: {cause}")]
    BitbucketNoAnswer {
        host: String,
        method: &'static str,
        path: String,
        cause: TransportError,
    },

    #[error(
        "Bitbucket at {host} answered {status}: unexpected answer to {method} {path}: {reason}"
    )]
    BitbucketUnexpectedAnswer {
        host: String,
        status: u16,
        method: &'static str,
        path: String,
        reason: String,
    },

    #[error("Bitbucket at {host} did not accept the token: it did not say whose it is")]
    TokenNotAccepted { host: String },
}
