//! fluxstrap's pure core: validated options, Flux manifest generation, the Bitbucket Server steps
//! and the cluster rules of a bootstrap. Nothing in here touches a socket, a disk or a clock, so
//! the same code runs natively and in the browser (wasm32), and every rule is unit-tested once.
//!
//! Two features add what only the server needs: `keygen` (making deploy key pairs, with the RSA,
//! ECDSA and Ed25519 code) and `release-archive` (reading a release's `manifests.tar.gz`).

#![warn(missing_docs)]

pub mod bitbucket;
pub mod bootstrap;
pub mod cluster;
pub mod duration;
pub mod error;
mod go_quote;
pub mod install;
mod newtype;
pub mod options;
mod redacted;
pub mod secret;
pub mod sync;
#[cfg(test)]
mod testing;
pub mod yaml;

pub use error::{Error, Result};
pub use redacted::Secret;
