//! The native side of fluxstrap: the HTTP server for the web app and the CLI. It does what a
//! browser cannot (git push, cluster apply, long-running jobs); the decisions live in
//! `fluxstrap-core`.

pub mod api;
pub mod bitbucket_http;
pub mod bootstrap;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod error;
pub mod git;
pub mod http;
pub mod install;
pub mod jobs;
pub mod metrics;
pub mod relay;
pub mod releases;
pub mod security;
pub mod serve;
pub mod ssh_scan;

pub use error::{Error, Result};
