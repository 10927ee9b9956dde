//! The one harness of fluxstrap's integration tests (a dev-dependency of every crate):
//!
//! - [`paths`]: the workspace, `../shared` (Flux releases, goldens, real files, recorded
//!   Bitbucket answers), the target directory, the built binaries and web app;
//! - [`temp`]: temporary directories, removed when dropped (kept when a test fails);
//! - [`seed`]: the users, tokens, project and group the Bitbucket emulator starts with;
//! - [`emulators`]: the sandbox's Bitbucket and Kubernetes emulators on loopback, each with
//!   its own temporary directory;
//! - [`process`]: `fluxstrap serve` and `fluxstrap-sandbox up` as child processes that are
//!   killed when dropped;
//! - [`cut`]: a TCP forwarder whose connections a test drops on demand;
//! - [`commands`]: the real clients the tests drive: git, curl, kubectl, ssh-keygen;
//! - `browser` (feature `browser`): chromedriver and headless Chromium.
//!
//! Every helper panics with what it ran and what came back, so a failing test says why.

pub mod commands;
pub mod cut;
pub mod emulators;
pub mod paths;
pub mod process;
pub mod seed;
pub mod temp;

#[cfg(feature = "browser")]
pub mod browser;

pub use commands::{Curl, CurlAnswer, Git, Kubectl, KubectlOutput, ssh_keygen};
pub use cut::CuttableLink;
pub use emulators::{Bitbucket, Kube, blocking};
pub use temp::TempDir;
