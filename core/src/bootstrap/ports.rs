//! What the engine cannot do purely, as traits the edges implement: git, the cluster, the SSH
//! host-key scan and time. (Bitbucket is [`crate::bitbucket::Transport`]; randomness is any
//! [`rand_core::CryptoRng`].) The server implements them natively; tests implement them with
//! fakes. Every decision stays in the engine: the ports only read and write.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::cluster::{ApplyAction, ObjectRef};
use crate::sync::DirectoryEntry;

use super::options::Mode;

/// A port's failure, with its whole cause chain as text (ports live in other crates; the engine
/// only reports their failures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortError(pub String);

impl std::fmt::Display for PortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PortError {
    /// From any error: its message and every cause below it.
    pub fn of(error: &(dyn std::error::Error + 'static)) -> Self {
        Self(crate::error::with_causes(error))
    }
}

/// What a port call gives.
pub type PortResult<T> = std::result::Result<T, PortError>;

/// A commit to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRequest {
    /// The whole message (flux's subject line, then the appendix after a blank line).
    pub message: String,
    /// `--author-name`.
    pub author_name: String,
    /// `--author-email`.
    pub author_email: String,
}

/// How a push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushResult {
    /// The branch now points at the commit.
    Pushed,
    /// The branch moved meanwhile (non-fast-forward): start again from a fresh clone.
    Rejected {
        /// git's report.
        report: String,
    },
}

/// Git for one repository, over HTTPS with the job's credentials (and signing key).
#[allow(async_fn_in_trait)] // used by one task at a time, natively and in the browser
pub trait Git {
    /// A clone of one branch.
    type Checkout: Checkout;

    /// Clones `branch` of `url`; an empty repository gives a checkout with no commit, whose
    /// first push creates the branch. A missing branch in a non-empty repository is an error.
    async fn clone(&self, url: &str, branch: &str) -> PortResult<Self::Checkout>;
}

/// A working copy of one branch.
#[allow(async_fn_in_trait)]
pub trait Checkout {
    /// The commit checked out; `None` in an empty repository.
    fn head(&self) -> Option<String>;

    /// The content of `path` (relative to the repository root), if it is a file.
    async fn read(&self, path: &str) -> PortResult<Option<Vec<u8>>>;

    /// The files of directory `dir` (with their content) and its sub-directories holding a
    /// kustomization file: what `kustomization.yaml` is generated from.
    async fn list(&self, dir: &str) -> PortResult<Vec<DirectoryEntry>>;

    /// Writes `content` to `path`, never through a symbolic link of the repository.
    async fn write(&mut self, path: &str, content: &[u8]) -> PortResult<()>;

    /// Commits every change; `None` when nothing changed (no commit is made).
    async fn commit(&mut self, commit: &CommitRequest) -> PortResult<Option<String>>;

    /// Pushes the branch, without force.
    async fn push(&mut self) -> PortResult<PushResult>;
}

/// Objects to apply, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyRequest {
    /// The objects, in any order (the port stages and sorts them).
    pub objects: Vec<Value>,
    /// Apply, or a server-side dry run.
    pub mode: Mode,
    /// How long to wait for the first stage's definitions.
    pub definitions_timeout: Duration,
}

/// What a staged apply reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyProgress {
    /// One object applied, or found unchanged (or, in a dry run, what would happen).
    Applied {
        /// `Kind/name` or `Kind/namespace/name`.
        object: String,
        /// What it did.
        action: ApplyAction,
    },
    /// Waiting for the cluster definitions of the first stage.
    WaitingForDefinitions {
        /// How many.
        count: usize,
    },
}

/// One object and what applying it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedObject {
    /// Which object.
    pub object: ObjectRef,
    /// What was (or would be) done.
    pub action: ApplyAction,
}

/// A Secret to create or update. Its values are secrets: never logged, never in an error.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretWrite {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// `type`, when not `Opaque` (`kubernetes.io/dockerconfigjson`).
    pub secret_type: Option<String>,
    /// `stringData`.
    pub string_data: BTreeMap<String, String>,
}

impl std::fmt::Debug for SecretWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretWrite")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("keys", &self.string_data.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Whether a Secret was created or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretAction {
    /// It did not exist.
    Created,
    /// It existed; `stringData` replaced the keys it names, other keys stayed.
    Updated,
}

/// The cluster: reads, flux's staged server-side apply, Secrets.
#[allow(async_fn_in_trait)]
pub trait Cluster {
    /// The object, if it exists (an unknown kind is `None` too).
    async fn get(&self, object: &ObjectRef) -> PortResult<Option<Value>>;

    /// Applies `objects` as flux does (field manager `flux`; CRDs, Namespaces and ClusterRoles
    /// first, waiting up to `definitions_timeout` for them; unchanged objects untouched); in
    /// [`Mode::DryRun`] a server-side dry run of each, nothing written.
    async fn apply(
        &self,
        request: ApplyRequest,
        progress: &mut dyn FnMut(ApplyProgress),
    ) -> PortResult<Vec<AppliedObject>>;

    /// Asks Flux's controller to reconcile `object` now (`flux reconcile`'s
    /// `reconcile.fluxcd.io/requestedAt: <token>` annotation).
    async fn request_reconcile(&self, object: &ObjectRef, token: &str) -> PortResult<()>;

    /// The data of Secret `namespace/name`, decoded, if it exists.
    async fn secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> PortResult<Option<BTreeMap<String, Vec<u8>>>>;

    /// Creates the Secret, or sets its `stringData` on the existing one (plain create/update,
    /// as flux: other keys stay).
    async fn write_secret(&self, secret: &SecretWrite) -> PortResult<SecretAction>;
}

/// The rest of the world: the SSH host-key scan and time.
#[allow(async_fn_in_trait)]
pub trait System {
    /// The `known_hosts` line of `host:port`'s SSH host key (`[host]:port type base64` unless
    /// the port is 22), from one handshake.
    async fn scan_host_key(&self, host: &str, port: u16) -> PortResult<String>;

    /// The current time as RFC 3339, a unique token for reconcile requests.
    fn timestamp(&self) -> String;

    /// Time since some fixed point (monotonic), for deadlines.
    fn elapsed(&self) -> Duration;

    /// Waits `duration`.
    async fn sleep(&self, duration: Duration);
}
