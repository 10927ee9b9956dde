//! Step 3 (spec §2.5, §4.4): the source Secret and the deploy key, fixed where flux is wrong.
//!
//! flux keeps an existing Secret in SSH mode without looking further, so a deploy key deleted
//! in Bitbucket is never registered again and Flux stops syncing for good. fluxstrap keeps the
//! Secret too, and checks its public key against the repository's access keys: a missing key
//! is registered again. A Secret whose data already equals what would be written is not
//! rewritten (flux rewrites it in token mode on every run).

use std::collections::BTreeMap;

use crate::bitbucket::{
    AccessKeyDecision, DeployKey, ProjectKey, RepoSlug, Request, Transport, Writes,
    reconcile_access_key,
};
use crate::error::{Error, Result};
use crate::options::deploy_key_label;
use crate::secret::{KeyPair, SourceSecretData};

use super::engine::Engine;
use super::event::{Event, Step};
use super::options::{KeySource, SyncTransport};
use super::ports::{Cluster, Git, SecretWrite, System};
use super::repository::RepositoryTarget;

/// `host` and port of `host[:port]` (IPv6 in brackets), 22 when no port is given (spec §4.4).
pub fn split_host_port(target: &str) -> (String, u16) {
    if let Some(rest) = target.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        let port = after
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(22);
        return (host.to_string(), port);
    }
    match target.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host.to_string(), port.parse().unwrap_or(22)),
        _ => (target.to_string(), 22),
    }
}

fn as_text(data: &BTreeMap<String, Vec<u8>>, key: &str) -> Option<String> {
    data.get(key)
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
}

impl<T: Transport, G: Git, C: Cluster, S: System, R: rand_core::CryptoRng>
    Engine<'_, T, G, C, S, R>
{
    /// Registers (or checks) the deploy key; returns whether it was (or would be) registered.
    async fn reconcile_deploy_key(
        &mut self,
        target: &RepositoryTarget,
        public_key: &str,
        label: &str,
    ) -> Result<()> {
        let options = self.options;
        let key = ProjectKey::parse(&target.project_key)?;
        let slug = RepoSlug::parse(&target.slug)?;
        let mut planned = Vec::new();
        let mut writes = self.writes(&mut planned);
        let deploy_key = DeployKey {
            public_key,
            label,
            permission: options.key_permission,
        };
        let decision = if target.created && !self.applies() {
            // A repository a dry run would create has no keys to read.
            if let Writes::Record(list) = &mut writes
                && let Some(text) = crate::bitbucket::access_key_text(public_key, label)
            {
                list.push(Request::add_access_key(
                    &key,
                    &slug,
                    &text,
                    label,
                    options.key_permission,
                ));
            }
            AccessKeyDecision::Add
        } else {
            reconcile_access_key(
                self.bitbucket,
                &options.host,
                &key,
                &slug,
                &deploy_key,
                &mut writes,
            )
            .await?
        };
        let would_write = !planned.is_empty();
        self.record_planned(Step::SourceSecret, planned);
        if would_write {
            self.plan.deploy_key = Some(label.to_string());
        }
        match decision {
            AccessKeyDecision::UpToDate { .. } => self.emit(Event::DeployKeyUpToDate {
                label: label.to_string(),
                url: target.reference.clone(),
            }),
            _ if self.applies() => {
                self.source_changed = true;
                self.emit(Event::DeployKeyConfigured {
                    label: label.to_string(),
                    url: target.reference.clone(),
                })
            }
            _ => {}
        }
        Ok(())
    }

    /// Step 3. Returns the deploy key's label (SSH sync).
    pub(super) async fn source_secret(
        &mut self,
        target: &RepositoryTarget,
    ) -> Result<Option<String>> {
        let options = self.options;
        let namespace = options.namespace().as_str().to_string();
        let name = options.secret_name.clone();
        self.emit(Event::DeterminingSecret {
            namespace: namespace.clone(),
            name: name.clone(),
        });
        let existing = self
            .cluster
            .secret(&namespace, &name)
            .await
            .map_err(|e| Error::port("cannot read the source secret", e))?;
        let label = deploy_key_label(
            options.namespace(),
            &options.branch,
            &options.secret_name,
            options.path.as_ref(),
        );
        let data = match options.sync_transport {
            SyncTransport::Https => SourceSecretData::Token {
                username: self.git_user(),
                password: self.inputs.token.expose().to_string(),
                ca_crt: self.inputs.ca_bundle.clone(),
            },
            SyncTransport::Ssh => {
                let kept_public_key = existing
                    .as_ref()
                    .filter(|_| matches!(options.key, KeySource::Generate(_)))
                    .filter(|data| data.contains_key("identity"))
                    .and_then(|data| as_text(data, "identity.pub"));
                if let Some(public_key) = kept_public_key {
                    // flux's early exit, plus the deploy-key check flux leaves out.
                    self.emit(Event::SecretUpToDate);
                    self.reconcile_deploy_key(target, &public_key, &label)
                        .await?;
                    return Ok(Some(label));
                }
                self.emit(Event::GeneratingSecret);
                if !self.applies() {
                    // No key is generated and no host scanned for a plan.
                    self.plan_new_deploy_key(target, &label);
                    self.plan_secret(Step::SourceSecret, &namespace, &name);
                    return Ok(Some(label));
                }
                let key_pair = self.key_pair()?;
                let (host, port) = split_host_port(&target.ssh_host);
                let known_hosts = self.system.scan_host_key(&host, port).await.map_err(|e| {
                    Error::HostKeyScan {
                        target: format!("{host}:{port}"),
                        reason: e.to_string(),
                    }
                })?;
                self.emit(Event::PublicKey {
                    key: key_pair.public_authorized().to_string(),
                });
                self.reconcile_deploy_key(target, key_pair.public_authorized(), &label)
                    .await?;
                SourceSecretData::Ssh {
                    key_pair,
                    known_hosts,
                }
            }
        };
        let string_data = data.string_data();
        let unchanged = existing.as_ref().is_some_and(|current| {
            string_data
                .iter()
                .all(|(k, v)| current.get(k).map(Vec::as_slice) == Some(v.as_bytes()))
        });
        if unchanged {
            self.emit(Event::SecretUpToDate);
        } else if self.applies() {
            if options.sync_transport == SyncTransport::Https {
                self.emit(Event::GeneratingSecret);
            }
            self.emit(Event::ApplyingSecret {
                namespace: namespace.clone(),
                name: name.clone(),
            });
            let secret = SecretWrite {
                namespace: namespace.clone(),
                name: name.clone(),
                secret_type: None,
                string_data,
            };
            self.cluster
                .write_secret(&secret)
                .await
                .map_err(|e| Error::port("failed to apply the source secret", e))?;
            self.source_changed = true;
            self.emit(Event::SecretReconciled);
        } else {
            self.plan_secret(Step::SourceSecret, &namespace, &name);
        }
        Ok(match options.sync_transport {
            SyncTransport::Ssh => Some(label),
            SyncTransport::Https => None,
        })
    }

    /// The deploy key: the `--private-key-file` read by the edge, or a new one.
    #[cfg(feature = "keygen")]
    fn key_pair(&mut self) -> Result<KeyPair> {
        match (&self.options.key, &self.inputs.private_key) {
            (KeySource::File(_), Some(content)) => KeyPair::from_private_key_file(content.expose()),
            (KeySource::File(path), None) => {
                Err(Error::PrivateKeyFile(format!("{path} was not read")))
            }
            (KeySource::Generate(spec), _) => KeyPair::generate(*spec, self.rng),
        }
    }

    /// Builds without key support (the web page) only plan: they never reach this.
    #[cfg(not(feature = "keygen"))]
    fn key_pair(&mut self) -> Result<KeyPair> {
        Err(Error::KeysUnavailable)
    }

    fn plan_new_deploy_key(&mut self, target: &RepositoryTarget, label: &str) {
        let path = format!(
            "/rest/keys/1.0/projects/{}/repos/{}/ssh",
            target.project_key, target.slug
        );
        self.emit(Event::PlannedBitbucketWrite {
            step: Step::SourceSecret,
            method: "POST".into(),
            path: path.clone(),
            what: "register a new deploy key".into(),
        });
        self.plan.bitbucket.push(super::plan::PlannedWrite {
            step: Step::SourceSecret,
            method: "POST".into(),
            path,
            what: "register a new deploy key".into(),
        });
        self.plan.deploy_key = Some(label.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_default_to_port_22() {
        assert_eq!(
            split_host_port("bitbucket.example.com"),
            ("bitbucket.example.com".into(), 22)
        );
        assert_eq!(
            split_host_port("bitbucket.example.com:7999"),
            ("bitbucket.example.com".into(), 7999)
        );
        assert_eq!(split_host_port("[::1]:2222"), ("::1".into(), 2222));
        assert_eq!(split_host_port("[::1]"), ("::1".into(), 22));
    }
}
