//! The SSH host-key scan behind the cluster's `known_hosts` (spec §4.4): one connection to
//! `host[:port]` (port 22 when none is given), key exchange only, and the key the server
//! presented written as flux writes it: `host` or `[host]:port`, then type and base64.
//! (Native, with russh; no `ssh-keyscan` needed.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::keys::{PublicKey, PublicKeyOrCertificate};

use crate::error::{Error, Result};

struct Recorder {
    key: Arc<Mutex<Option<PublicKey>>>,
}

impl russh::client::Handler for Recorder {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        presented: &PublicKeyOrCertificate,
    ) -> std::result::Result<bool, Self::Error> {
        // known_hosts holds the key itself; a host certificate contributes the key it certifies.
        let key = match presented {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(certificate) => {
                PublicKey::from(certificate.public_key().clone())
            }
        };
        if let Ok(mut slot) = self.key.lock() {
            *slot = Some(key);
        }
        // Accept, so the handshake completes; nothing is sent after it.
        Ok(true)
    }
}

/// `known_hosts` host form: the bare host for port 22, `[host]:port` otherwise.
fn normalize(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Scans `target` (`host[:port]`) and returns the `known_hosts` line, within `timeout`.
pub async fn scan_host_key(target: &str, timeout: Duration) -> Result<String> {
    let (host, port) = fluxstrap_core::bootstrap::split_host_port(target);
    let failed = |reason: String| Error::HostKeyScan {
        host: host.clone(),
        port,
        reason,
    };
    let found = Arc::new(Mutex::new(None));
    let config = Arc::new(russh::client::Config::default());
    let recorder = Recorder { key: found.clone() };
    let session = tokio::time::timeout(
        timeout,
        russh::client::connect(config, (host.as_str(), port), recorder),
    )
    .await
    .map_err(|_| failed(format!("no answer within {timeout:?}")))?
    .map_err(|e| failed(e.to_string()))?;
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "host key scan", "en")
        .await;
    let key = found
        .lock()
        .ok()
        .and_then(|slot| slot.clone())
        .ok_or_else(|| failed("the server presented no host key".to_string()))?;
    let line = key.to_openssh().map_err(|e| failed(e.to_string()))?;
    let mut fields = line.split_whitespace();
    Ok(format!(
        "{} {} {}",
        normalize(&host, port),
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports_are_written_as_known_hosts_does() {
        // (Splitting `host[:port]` is core's `split_host_port`, tested there.)
        assert_eq!(
            normalize("bitbucket.example.com", 22),
            "bitbucket.example.com"
        );
        assert_eq!(normalize("127.0.0.1", 7999), "[127.0.0.1]:7999");
    }
}
