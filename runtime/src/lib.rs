//! Process plumbing that the `fluxstrap` server and the `fluxstrap-sandbox` emulators share, so
//! each is done one way: how a long-running command learns it should stop, and where its logs
//! go.

#![warn(missing_docs)]

/// Resolves on SIGINT (Ctrl-C) or SIGTERM, whichever comes first: the signal to finish what is
/// in flight and stop.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut terminate) => {
                    terminate.recv().await;
                }
                // Without a SIGTERM handler, Ctrl-C still stops the process.
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutdown requested");
}

/// Sends `tracing` output to stderr (stdout carries the `KEY=VALUE` and URL lines scripts read),
/// at `info` unless `RUST_LOG` says otherwise. A second call does nothing.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
}
