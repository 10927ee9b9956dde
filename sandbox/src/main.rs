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
    Up,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Up => fluxstrap_sandbox::up(&mut std::io::stdout()).await,
    }
}
