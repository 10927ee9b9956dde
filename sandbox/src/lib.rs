//! Emulators that real clients (git, curl, kubectl, fluxstrap) talk to on loopback. Each emulator
//! lives in its own module and is started by [`up`].

use std::io::Write;

/// Starts every emulator, prints their `KEY=VALUE` connection lines followed by `READY`, and
/// returns when the process is asked to stop (SIGINT or SIGTERM).
pub async fn up(out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "READY")?;
    out.flush()?;
    shutdown_signal().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler cannot fail on Unix");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
