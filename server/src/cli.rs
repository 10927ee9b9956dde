//! Command-line surface. Subcommands mirror the real `flux` where they overlap, so scripts can
//! switch between the two.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::error::Result;
use crate::serve;

#[derive(Parser, Debug)]
#[command(
    name = "fluxstrap",
    version,
    about = "Bootstrap Flux on a cluster from a Bitbucket Server / Data Center repository",
    long_about = "fluxstrap does what `flux bootstrap bitbucket-server` does, from a web page or \
                  from the command line: it creates or adopts the repository, commits the Flux \
                  manifests, installs Flux on the cluster and registers the deploy key."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web app and its API.
    Serve(ServeArgs),
    /// Generate Flux's install manifests (as `flux install --export`).
    Install,
    /// Bootstrap Flux from a Git provider (as `flux bootstrap`).
    Bootstrap,
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "FLUXSTRAP_LISTEN")]
    pub listen: SocketAddr,
    /// Directory of the built web app (the output of `trunk build`).
    #[arg(long, default_value = "dist", env = "FLUXSTRAP_WEB_DIR")]
    pub web_dir: PathBuf,
}

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => {
            init_logging();
            serve::run(serve::Config {
                listen: args.listen,
                web_dir: args.web_dir,
            })
            .await
        }
        Command::Install => Err(crate::Error::NotYetAvailable("install")),
        Command::Bootstrap => Err(crate::Error::NotYetAvailable("bootstrap")),
    }
}

/// Logs go to stderr; `RUST_LOG` overrides the default `info` level.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
}
