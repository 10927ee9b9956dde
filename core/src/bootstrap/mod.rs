//! The bootstrap engine: what `flux bootstrap bitbucket-server` does, once, for the CLI, the
//! server's jobs and the page's preview.
//!
//! - [`flags`]: every flag in one table, read from arguments, JSON bodies and forms;
//! - [`options`]: the flags validated in flux's order into [`BootstrapOptions`];
//! - [`event`]: the typed event stream, rendered in flux's words in one place;
//! - [`files`]: the files written to git, listed once;
//! - [`ports`]: git, the cluster, host-key scans and time, implemented at the edges;
//! - [`run`]: the steps in flux's order (repository, components, source secret, sync, health),
//!   or with `--dry-run` the [`Plan`] of every change.

mod commits;
mod components;
mod engine;
pub mod event;
pub mod files;
pub mod flags;
mod health;
pub mod options;
pub mod plan;
pub mod ports;
mod repository;
mod source_secret;
mod sync_step;

pub use commits::PUSH_ATTEMPTS;
pub use components::DEFINITIONS_TIMEOUT;
pub use engine::{CommitRecord, Inputs, Outcome, Ports, run};
pub use event::{ComponentState, Event, FileChange, Level, ReleaseOrigin, Step, Subject};
pub use files::{GeneratedFile, WriteMode, file_path, files_with_components, generated_files};
pub use flags::{Audience, BootstrapFlags, FLAGS, FlagKind, FlagSpec, NamespaceEnvironment};
pub use options::{
    BootstrapOptions, KeySource, Mode, Reconcile, RegistryCredentials, SigningRequest,
    SshSigningKey, SyncTransport, Takeover, VersionRequest,
};
pub use plan::{Plan, PlannedFile, PlannedObject, PlannedWrite, unified_diff};
pub use repository::{RepositoryTarget, describe_write, ssh_host, target};
pub use source_secret::split_host_port;
