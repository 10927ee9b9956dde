//! The bootstrap engine: what `flux bootstrap bitbucket-server` does, once, for the CLI, the
//! server's jobs and the page's preview.
//!
//! - [`flags`]: every flag in one table, read from arguments, JSON bodies and forms;
//! - [`options`]: the flags validated in flux's order into [`BootstrapOptions`].

pub mod flags;
pub mod options;

pub use flags::{Audience, BootstrapFlags, FLAGS, FlagKind, FlagSpec, NamespaceEnvironment};
pub use options::{
    BootstrapOptions, KeySource, Mode, Reconcile, RegistryCredentials, SigningRequest,
    SshSigningKey, SyncTransport, Takeover, VersionRequest,
};
