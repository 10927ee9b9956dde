//! The one error type of `fluxstrap-core`. Messages follow the real `flux` CLI where it has one
//! (spec §1.5), so scripts and users see the wording they know.

use thiserror::Error;

use crate::bitbucket::TransportError;

/// `Result` with core's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and every cause below it, each once (`error sending request: … Connection
/// refused`): what a person needs, since the top message often leaves out what went wrong.
/// The one way errors of other crates (reqwest, kube, io) are put into words.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = inner.source();
    }
    text
}

/// `k8s.io/apimachinery`'s aggregate: the one message, or `[m1, m2]`.
fn aggregate(messages: &[String]) -> String {
    match messages {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

impl Error {
    /// `value` of `flag` failed its type's parser for `reason` (see [`Error::InvalidFlag`]).
    pub fn invalid_flag(value: &str, flag: &str, reason: impl Into<String>) -> Self {
        Error::InvalidFlag {
            value: value.to_string(),
            flag: flag.to_string(),
            reason: reason.into(),
        }
    }

    /// A port's failure during `action`.
    pub fn port(action: &str, cause: crate::bootstrap::ports::PortError) -> Self {
        Error::Port {
            action: action.to_string(),
            cause: cause.0,
        }
    }
}

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

    /// pflag's message for a flag given without its value: `--owner` or `'u' in -u`.
    #[error("flag needs an argument: {0}")]
    FlagNeedsValue(String),

    /// pflag's message for an unknown one-letter flag.
    #[error("unknown shorthand flag: '{shorthand}' in {argument}")]
    UnknownShorthand {
        /// The letter.
        shorthand: char,
        /// The argument it was in (`-x`).
        argument: String,
    },

    /// A positional argument where only flags go.
    #[error("unexpected argument \"{0}\": bootstrap bitbucket-server takes flags only")]
    UnexpectedArgument(String),

    /// `--hostname` not given: flux's message.
    #[error("invalid hostname \"\"")]
    MissingHostname,

    /// A port (git, the cluster, a scan) failed; `cause` carries its whole message.
    #[error("{action}: {cause}")]
    Port {
        /// What the engine was doing, in flux's words where it has them.
        action: String,
        /// The port's message with its causes.
        cause: String,
    },

    /// Every push was rejected because the branch moved meanwhile.
    #[error("the branch \"{branch}\" kept moving while pushing ({attempts} attempts): {report}")]
    BranchKeptMoving {
        /// The branch.
        branch: String,
        /// How many clone-commit-push rounds were made.
        attempts: usize,
        /// git's last report.
        report: String,
    },

    /// Flux did not report the pushed commit, or its controllers, ready (flux's aggregate).
    #[error("bootstrap failed with {} health check failure(s): {}", .0.len(), aggregate(.0))]
    HealthChecks(Vec<String>),

    /// Another tool (Helm, an operator) manages the installed Flux; `--force` takes it over.
    #[error(
        "Flux {version} has been installed on this cluster with {manager}: pass --force to take it over"
    )]
    ManagedByOtherTool {
        /// The installed Flux version (its CRD's label).
        version: String,
        /// The tool named by `app.kubernetes.io/managed-by`.
        manager: String,
    },

    /// `--timeout` passed.
    #[error("the bootstrap did not finish within {0} (--timeout)")]
    Timeout(String),

    /// This build has no key support (the `keygen` feature): it can plan, not bootstrap.
    #[error("this build of fluxstrap cannot create deploy keys: use the fluxstrap CLI or server")]
    KeysUnavailable,

    /// The edge did not resolve `--version=latest` before the run.
    #[error("--version=latest must be resolved to a release before the bootstrap runs")]
    UnresolvedVersion,

    /// flux's message for a failed host-key scan.
    #[error("SSH key scan for host {target} failed, error: {reason}")]
    HostKeyScan {
        /// `host:port`.
        target: String,
        /// Why.
        reason: String,
    },

    /// flux's check of `--registry-creds`.
    #[error("--registry-creds requires --image-pull-secret to be set")]
    RegistryCredsNeedPullSecret,

    /// flux's check of `--registry-creds`.
    #[error("invalid --registry-creds format, expected 'user:password'")]
    RegistryCredsFormat,

    /// One of flux's commit-signing flag checks.
    #[error("{0}")]
    Signing(&'static str),

    /// No `--owner` (flux fails late, in go-git-providers).
    #[error(
        "--owner is required: the Bitbucket project's name (or your user name with --personal)"
    )]
    MissingOwner,

    /// No `--repository`.
    #[error("--repository is required: the name of the repository to create or use")]
    MissingRepository,

    #[error(
        "--repository \"{0}\" names a sub-organization, which Bitbucket Server does not have: give the repository name only"
    )]
    /// `--repository team/fleet`: flux's "stash doesn't support sub-organizations".
    RepositoryWithSlash(String),

    /// An operator-only flag (files, cluster, host) from a caller of the server.
    #[error("--{0} cannot be set here: the server's configuration supplies it")]
    FlagNotAllowed(String),

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

    /// The token's user may not bootstrap the repository.
    #[error("{user} may not bootstrap {target}: {rule}")]
    NotPermitted {
        /// The token's user.
        user: String,
        /// `PROJECT/slug`.
        target: String,
        /// The rule that refused.
        rule: String,
    },

    /// Bitbucket answered without naming the token's user (`X-AUSERNAME`): the token was not
    /// accepted, or a proxy dropped the header.
    #[error("Bitbucket at {host} did not accept the token: it did not say whose it is")]
    TokenNotAccepted {
        /// The server, `host[:port]`.
        host: String,
    },
}
