//! Command-line surface. Subcommands mirror the real `flux` where they overlap, so scripts can
//! switch between the two.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
    Install(Box<InstallArgs>),
    /// Bootstrap Flux from a Git provider (as `flux bootstrap`).
    #[command(subcommand)]
    Bootstrap(BootstrapCommand),
}

/// The providers `bootstrap` supports.
#[derive(Subcommand, Debug)]
pub enum BootstrapCommand {
    /// Deploy Flux on a cluster connected to a Bitbucket Server repository.
    #[command(disable_help_flag = true)]
    BitbucketServer {
        /// flux's flags (`fluxstrap bootstrap bitbucket-server --help` lists them), read by
        /// fluxstrap-core as pflag reads them.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
}

/// `flux install` flags, kept as text: `fluxstrap-core` validates them with flux's messages.
#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Write the manifests to stdout instead of applying them (required for now).
    #[arg(long)]
    pub export: bool,
    /// A Flux release's manifests: a directory of its files, or its manifests.tar.gz.
    /// Default: the cache (FLUXSTRAP_CACHE_DIR, ~/.cache/fluxstrap), filled from the Flux
    /// releases (FLUXSTRAP_RELEASES_URL) when the version is not there yet.
    #[arg(long, value_name = "DIR|FILE.tar.gz")]
    pub manifests: Option<PathBuf>,
    /// Flux version.
    #[arg(short = 'v', long, default_value = crate::install::DEFAULT_FLUX_VERSION)]
    pub version: String,
    /// The namespace scope for this operation.
    #[arg(short = 'n', long, default_value = "flux-system")]
    pub namespace: String,
    /// List of components to install.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "source-controller,kustomize-controller,helm-controller,notification-controller"
    )]
    pub components: Vec<String>,
    /// List of components in addition to those supplied or defaulted, accepts values such as
    /// 'image-reflector-controller,image-automation-controller,source-watcher'.
    #[arg(long, value_delimiter = ',')]
    pub components_extra: Vec<String>,
    /// Container registry where the toolkit images are published.
    #[arg(long, default_value = "ghcr.io/fluxcd")]
    pub registry: String,
    /// Kubernetes secret name used for pulling the toolkit images from a private registry.
    #[arg(long, default_value = "")]
    pub image_pull_secret: String,
    /// List of toleration keys used to schedule the components pods onto nodes with
    /// matching taints.
    #[arg(long, value_delimiter = ',')]
    pub toleration_keys: Vec<String>,
    /// If true, the toolkit controllers watch for custom resources in all namespaces.
    #[arg(long, default_value = "true", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub watch_all_namespaces: String,
    /// Deny ingress access to the toolkit controllers from other namespaces using network
    /// policies.
    #[arg(long, default_value = "true", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub network_policy: String,
    /// Log level, available options are: (debug, info, error).
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Internal cluster domain.
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
}

impl InstallArgs {
    fn flags(&self) -> fluxstrap_core::install::InstallFlags {
        // pflag reads an empty slice value as no values at all.
        let slice = |values: &[String]| -> Vec<String> {
            values.iter().filter(|v| !v.is_empty()).cloned().collect()
        };
        fluxstrap_core::install::InstallFlags {
            version: self.version.clone(),
            namespace: self.namespace.clone(),
            components: slice(&self.components),
            components_extra: slice(&self.components_extra),
            registry: self.registry.clone(),
            image_pull_secret: self.image_pull_secret.clone(),
            toleration_keys: slice(&self.toleration_keys),
            watch_all_namespaces: self.watch_all_namespaces.clone(),
            network_policy: self.network_policy.clone(),
            log_level: self.log_level.clone(),
            cluster_domain: self.cluster_domain.clone(),
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The configuration file (TOML): Bitbucket servers, clusters, versions, directories,
    /// limits. The flags below win over it.
    #[arg(long, value_name = "FILE", env = "FLUXSTRAP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "FLUXSTRAP_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory of the built web app (the output of `trunk build`) [default: dist].
    #[arg(long, env = "FLUXSTRAP_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// Where the job history is kept [default: ~/.local/share/fluxstrap].
    #[arg(long, env = "FLUXSTRAP_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where Flux release manifests are cached [default: ~/.cache/fluxstrap].
    #[arg(long, env = "FLUXSTRAP_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// The default Flux version's manifest files, read from here instead of the release: a
    /// directory of them or a manifests.tar.gz (offline use).
    #[arg(long, value_name = "DIR|FILE.tar.gz", env = "FLUXSTRAP_MANIFESTS")]
    pub manifests: Option<PathBuf>,
    /// The default Flux version, offered first.
    #[arg(long)]
    pub flux_version: Option<String>,
    /// One more Bitbucket Server, named `bitbucket`, e.g.
    /// https://bitbucket.example.com/bitbucket (for running without a configuration file).
    #[arg(long, env = "FLUXSTRAP_BITBUCKET_URL")]
    pub bitbucket_url: Option<String>,
    /// A PEM CA bundle to trust for that server.
    #[arg(long, env = "FLUXSTRAP_BITBUCKET_CA_FILE")]
    pub bitbucket_ca_file: Option<PathBuf>,
}

impl ServeArgs {
    /// The configuration: the file, with the flags and variables over it.
    fn config(&self) -> Result<crate::config::ServeConfig> {
        let version = match (&self.flux_version, &self.manifests) {
            (Some(version), _) => Some(version.clone()),
            // Local manifests are the default version's.
            (None, Some(_)) => Some(crate::install::DEFAULT_FLUX_VERSION.to_string()),
            (None, None) => None,
        };
        crate::config::load(
            self.config.as_deref(),
            crate::config::Overrides {
                listen: self.listen,
                web_dir: self.web_dir.clone(),
                data_dir: self.data_dir.clone(),
                cache_dir: self.cache_dir.clone(),
                releases_url: std::env::var("FLUXSTRAP_RELEASES_URL")
                    .ok()
                    .filter(|v| !v.is_empty()),
                version,
                bitbucket_url: self.bitbucket_url.clone(),
                bitbucket_ca_file: self.bitbucket_ca_file.clone(),
            },
        )
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(args) => {
            fluxstrap_runtime::init_logging();
            let config = args.config()?;
            serve::run(config, args.manifests).await
        }
        Command::Install(args) => {
            if !args.export {
                return Err(crate::Error::InstallNeedsExport);
            }
            // Downloads and warnings go to stderr, as flux's lines do; like `flux install
            // --export`, nothing is said when the release is at hand.
            let mut progress = |event: fluxstrap_core::bootstrap::Event| {
                use fluxstrap_core::bootstrap::{Event, ReleaseOrigin};
                let quiet = matches!(
                    &event,
                    Event::ReleaseReady {
                        origin: ReleaseOrigin::Local { .. } | ReleaseOrigin::Cache,
                        ..
                    }
                );
                if !quiet {
                    eprintln!("{event}");
                }
            };
            let manifests =
                crate::install::export(args.manifests.as_deref(), &args.flags(), &mut progress)
                    .await?;
            use std::io::Write;
            std::io::stdout()
                .write_all(manifests.as_bytes())
                .map_err(crate::Error::Serve)
        }
        Command::Bootstrap(BootstrapCommand::BitbucketServer { args }) => {
            crate::bootstrap::bitbucket_server(&args).await
        }
    }
}
