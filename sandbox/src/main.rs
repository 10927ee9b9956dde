use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Emulators of Bitbucket Server and the Kubernetes API, on loopback.
#[derive(Parser)]
#[command(name = "fluxstrap-sandbox", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the emulators, print their connection settings and `READY`, run until SIGTERM.
    Up {
        /// Where the emulators keep their data (repositories); a temporary directory by default.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Users, tokens, groups and projects to start with (JSON); a built-in seed by default.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Kubernetes objects of this kind never become ready (fault knob; repeatable).
        #[arg(long, value_enum)]
        kube_never_ready: Vec<NeverReadyKind>,
        /// Kubernetes watches end right after their initial events (fault knob).
        #[arg(long)]
        kube_drop_watches: bool,
        /// Answer the NTH Bitbucket request of METHOD (`*` for any) whose path contains
        /// PATH_SUBSTRING with STATUS (fault knob; repeatable), e.g. `POST:/repos:1:500`.
        #[arg(long, value_name = "METHOD:PATH_SUBSTRING:NTH:STATUS", value_parser = fluxstrap_sandbox::bitbucket::Fault::parse)]
        bitbucket_fault: Vec<fluxstrap_sandbox::bitbucket::Fault>,
        /// Append one JSON line per request to either emulator to this file.
        #[arg(long, value_name = "FILE")]
        request_log: Option<PathBuf>,
        /// Serve the Flux releases of this directory (laid out like ../shared/flux/releases) as a
        /// mirror, and print FLUXSTRAP_RELEASES_URL.
        #[arg(long, value_name = "DIR")]
        releases: Option<PathBuf>,
        /// How many Kubernetes emulators to start (`sandbox-1` … `sandbox-N` in FLUXSTRAP_CONFIG;
        /// KUBECONFIG is the first's).
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        clusters: u16,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum NeverReadyKind {
    Deployments,
    Gitrepositories,
    Kustomizations,
}

impl From<NeverReadyKind> for fluxstrap_sandbox::kube::NeverReady {
    fn from(kind: NeverReadyKind) -> Self {
        use fluxstrap_sandbox::kube::NeverReady;
        match kind {
            NeverReadyKind::Deployments => NeverReady::Deployments,
            NeverReadyKind::Gitrepositories => NeverReady::GitRepositories,
            NeverReadyKind::Kustomizations => NeverReady::Kustomizations,
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("✗ {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> fluxstrap_sandbox::Result<()> {
    fluxstrap_runtime::init_logging();
    match Cli::parse().command {
        Command::Up {
            state,
            seed,
            kube_never_ready,
            kube_drop_watches,
            bitbucket_fault,
            request_log,
            releases,
            clusters,
        } => {
            // Without --state, a temporary directory that goes when the sandbox stops.
            let temporary = match state {
                Some(_) => None,
                None => Some(
                    tempfile::Builder::new()
                        .prefix("fluxstrap-sandbox-")
                        .tempdir()
                        .map_err(fluxstrap_sandbox::Error::io("creating a state directory"))?,
                ),
            };
            let state = state.unwrap_or_else(|| {
                temporary
                    .as_ref()
                    .map(|dir| dir.path().to_path_buf())
                    .unwrap_or_default()
            });
            let seed = match seed {
                Some(path) => std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
                    .map_err(|reason| fluxstrap_sandbox::Error::Seed { path, reason })?,
                None => fluxstrap_sandbox::bitbucket::Seed::default(),
            };
            use fluxstrap_sandbox::kube::Fault;
            let mut kube_faults: Vec<Fault> = kube_never_ready
                .into_iter()
                .map(|kind| Fault::NeverReady(kind.into()))
                .collect();
            if kube_drop_watches {
                kube_faults.push(Fault::DropWatches);
            }
            let options = fluxstrap_sandbox::UpOptions {
                state_dir: state,
                seed,
                kube_faults,
                bitbucket_faults: bitbucket_fault,
                request_log,
                releases,
                clusters: clusters.into(),
            };
            fluxstrap_sandbox::up(&mut std::io::stdout(), options).await
        }
    }
}
