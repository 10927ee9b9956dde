//! The one error type of `fluxstrap-core`. Messages follow the real `flux` CLI where it has one
//! (spec §1.5), so scripts and users see the wording they know.

use thiserror::Error;

use crate::bitbucket::TransportError;

/// `Result` with core's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in core: invalid input (named as the flag or field it came
/// from), unusable release manifests, key material, and Bitbucket's answers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A flag value that failed its type's parser; rendered exactly like pflag does.
    #[error("invalid argument \"{value}\" for \"{flag}\" flag: {reason}")]
    InvalidFlag {
        /// The value given.
        value: String,
        /// The flag, e.g. `--interval`.
        flag: String,
        /// What is wrong with it.
        reason: String,
    },

    /// `--namespace` is not an RFC 1123 DNS label (the value given).
    #[error("namespace must be a valid DNS label: \"{0}\"")]
    InvalidNamespace(String),

    /// `--branch` is not a name git accepts.
    #[error("invalid branch name \"{name}\": {reason}")]
    InvalidBranch {
        /// The name given.
        name: String,
        /// The rule it breaks.
        reason: String,
    },

    /// `--path` holds characters git, YAML or Bitbucket labels do not survive.
    #[error("invalid path \"{path}\": {reason}")]
    InvalidPath {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// `--components` lacks source-controller or kustomize-controller (the one missing).
    #[error("component {0} is required")]
    ComponentRequired(String),

    /// `--components` or `--components-extra` names no Flux controller (the name given).
    #[error("component {0} is not available")]
    ComponentNotAvailable(String),

    /// The cluster's Kustomization syncs another path than `--path`: flux refuses to overwrite it.
    #[error(
        "sync path configuration (\"{new}\") would overwrite path (\"{old}\") of existing Kustomization"
    )]
    SyncPathConflict {
        /// The `--path` of this bootstrap.
        new: String,
        /// The path of the Kustomization in the cluster.
        old: String,
    },

    /// Generating or encoding a key pair failed.
    #[error("{step}: {reason}")]
    Key {
        /// What was being done, e.g. `generating the RSA key`.
        step: &'static str,
        /// The cryptography library's message.
        reason: String,
    },

    /// `--private-key-file` is not an OpenSSH private key (the parser's message).
    #[error(
        "failed to open private key file: {0} (an unencrypted OpenSSH private key is expected)"
    )]
    PrivateKeyFile(String),

    /// `--private-key-file` is encrypted; fluxstrap, like flux here, needs it unencrypted.
    #[error("ssh: this private key is passphrase protected")]
    PrivateKeyEncrypted,

    /// The public key to register is not an OpenSSH `type base64` line.
    #[error("the deploy key is not an OpenSSH public key")]
    NotAnOpenSshPublicKey,

    /// YAML that does not parse.
    #[error("line {line}, column {column}: {message}")]
    Yaml {
        /// The 1-based line.
        line: usize,
        /// The 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },

    /// A release manifest file that is not usable: not UTF-8, invalid YAML, or a document
    /// without kind or name; or a `manifests.tar.gz` that does not unpack.
    #[error("{file}:{line}: {message}")]
    Distribution {
        /// The file, e.g. `rbac.yaml`.
        file: String,
        /// The line of the problem, 0 when it is the whole file.
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// A release file the install needs is missing (its name).
    #[error(
        "the Flux release manifests have no {0}: pass the directory or manifests.tar.gz of a Flux release"
    )]
    MissingManifest(String),

    /// The release files parse but lack what flux's kustomization patches (what is missing).
    #[error("the Flux release manifests do not have the expected shape: {0}")]
    ManifestMismatch(String),

    /// `--version` is not a release version `vMAJOR.MINOR.PATCH` (flux's message).
    #[error("{0}")]
    InvalidVersion(String),

    /// A flag the command does not have (as given).
    #[error("unknown flag: {0}")]
    UnknownFlag(String),

    /// A flag given without its value (the flag's name).
    #[error("flag needs an argument: --{0}")]
    FlagNeedsArgument(String),

    /// A git URL without a usable scheme, host or path.
    #[error("invalid URL \"{url}\": {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A Bitbucket project key, repository name or slug that breaks Bitbucket's rules.
    #[error("invalid {what} \"{value}\": {reason}")]
    InvalidName {
        /// What the name is for, e.g. `project key`.
        what: &'static str,
        /// The name given.
        value: String,
        /// Bitbucket's rule, in its words where it has them.
        reason: String,
    },

    /// `--hostname` is not a host, `host:port` or Bitbucket base URL.
    #[error("invalid hostname \"{value}\": {reason}")]
    InvalidHost {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A `--group` entry that names no group or no known permission (what is wrong).
    #[error("{0}")]
    InvalidGroup(String),

    /// Bitbucket answered a call with an error status (or a missing object where one must be).
    #[error("Bitbucket at {host} answered {status}: {message}")]
    Bitbucket {
        /// The server, `host[:port]`.
        host: String,
        /// The HTTP status; 401 also means "authenticated but not permitted" on Bitbucket.
        status: u16,
        /// The call and Bitbucket's own message, with a hint where one helps.
        message: String,
    },

    /// A call that got no complete answer, after the retries of an idempotent one.
    #[error("Bitbucket at {host} gave no answer to {method} {path}: {cause}")]
    BitbucketNoAnswer {
        /// The server, `host[:port]`.
        host: String,
        /// The HTTP method of the call.
        method: &'static str,
        /// The call's path from the API root.
        path: String,
        /// Why there was no answer.
        cause: TransportError,
    },

    /// A successful answer whose body is not what the call returns (not Bitbucket Server, or a
    /// proxy's page).
    #[error(
        "Bitbucket at {host} answered {status}: unexpected answer to {method} {path}: {reason}"
    )]
    BitbucketUnexpectedAnswer {
        /// The server, `host[:port]`.
        host: String,
        /// The (successful) HTTP status.
        status: u16,
        /// The HTTP method of the call.
        method: &'static str,
        /// The call's path from the API root.
        path: String,
        /// Why the body does not read as the call's answer.
        reason: String,
    },

    /// Bitbucket answered without naming the token's user (`X-AUSERNAME`): the token was not
    /// accepted, or a proxy dropped the header.
    #[error("Bitbucket at {host} did not accept the token: it did not say whose it is")]
    TokenNotAccepted {
        /// The server, `host[:port]`.
        host: String,
    },
}
