use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = fluxstrap_server::cli::Cli::parse();
    match fluxstrap_server::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // flux prints every fatal error as one `✗` line on stderr and exits 1.
            eprintln!("✗ {err}");
            ExitCode::FAILURE
        }
    }
}
