//! The one error type of `fluxstrap-core`. Messages follow the real `flux` CLI where it has one
//! (spec §1.5), so scripts and users see the wording they know.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `k8s.io/apimachinery`'s aggregate: the one message, or `[m1, m2]`.
fn aggregate(messages: &[String]) -> String {
    match messages {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

impl Error {
    /// A port's failure during `action`.
    pub fn port(action: &str, cause: crate::bootstrap::ports::PortError) -> Self {
        Error::Port {
            action: action.to_string(),
            cause: cause.0,
        }
    }
}

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

    #[error("{0}")]
    Key(String),

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

    /// pflag's message for a flag given without its value: `--owner` or `'u' in -u`.
    #[error("flag needs an argument: {0}")]
    FlagNeedsValue(String),

    #[error("unknown shorthand flag: '{shorthand}' in {argument}")]
    UnknownShorthand { shorthand: char, argument: String },

    #[error("unexpected argument \"{0}\": bootstrap bitbucket-server takes flags only")]
    UnexpectedArgument(String),

    #[error("invalid hostname \"\"")]
    MissingHostname,

    /// A port (git, the cluster, a scan) failed; `cause` carries its whole message.
    #[error("{action}: {cause}")]
    Port { action: String, cause: String },

    #[error("the branch \"{branch}\" kept moving while pushing ({attempts} attempts): {report}")]
    BranchKeptMoving {
        branch: String,
        attempts: usize,
        report: String,
    },

    #[error("bootstrap failed with {} health check failure(s): {}", .0.len(), aggregate(.0))]
    HealthChecks(Vec<String>),

    #[error(
        "Flux {version} has been installed on this cluster with {manager}: pass --force to take it over"
    )]
    ManagedByOtherTool { version: String, manager: String },

    #[error("the bootstrap did not finish within {0} (--timeout)")]
    Timeout(String),

    #[error("--version=latest must be resolved to a release before the bootstrap runs")]
    UnresolvedVersion,

    #[error("SSH key scan for host {target} failed, error: {reason}")]
    HostKeyScan { target: String, reason: String },

    #[error("--registry-creds requires --image-pull-secret to be set")]
    RegistryCredsNeedPullSecret,

    #[error("invalid --registry-creds format, expected 'user:password'")]
    RegistryCredsFormat,

    /// One of flux's commit-signing flag checks.
    #[error("{0}")]
    Signing(&'static str),

    #[error(
        "--owner is required: the Bitbucket project's name (or your user name with --personal)"
    )]
    MissingOwner,

    #[error("--repository is required: the name of the repository to create or use")]
    MissingRepository,

    #[error(
        "--repository \"{0}\" names a sub-organization, which Bitbucket Server does not have: give the repository name only"
    )]
    RepositoryWithSlash(String),

    #[error("--{0} cannot be set here: the server's configuration supplies it")]
    FlagNotAllowed(String),

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
}
