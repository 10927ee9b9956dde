//! fluxstrap's pure core: validated options, Flux manifest generation and the Bitbucket Server
//! decisions. Nothing in here touches a socket, a disk or a clock, so the same code runs natively
//! and in the browser (wasm32), and every rule is unit-tested once.

pub mod bitbucket;
pub mod bootstrap;
pub mod cluster;
pub mod duration;
pub mod error;
pub mod install;
pub mod options;
mod redacted;
pub mod secret;
pub mod sync;
pub mod yaml;

pub use error::{Error, Result};
pub use redacted::Secret;
