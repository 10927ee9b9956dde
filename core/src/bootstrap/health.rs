//! Steps 5–7 (spec §2.8): the GitRepository and the Kustomization at the pushed revision, then
//! the controllers' Deployments. Failures are collected and reported together, as flux does.
//! flux polls every 2 s (sources) and 5 s (components); fluxstrap polls from 100 ms up, so a
//! bootstrap ends as soon as the cluster is ready.

use std::time::Duration;

use crate::bitbucket::Transport;
use crate::cluster::{Health, ObjectRef, SyncKind, SyncState, health, sync_state};
use crate::error::{Error, Result};

use super::components::sync_object;
use super::engine::Engine;
use super::event::{ComponentState, Event};
use super::ports::{Cluster, Git, System};

const FIRST_POLL: Duration = Duration::from_millis(100);
const LONGEST_POLL: Duration = Duration::from_secs(2);

fn next_poll(current: Duration) -> Duration {
    (current * 3 / 2).min(LONGEST_POLL)
}

impl<T: Transport, G: Git, C: Cluster, S: System, R: rand_core::CryptoRng>
    Engine<'_, T, G, C, S, R>
{
    /// When the run changed the source, asks the GitRepository to fetch again; returns the
    /// request's token.
    pub(super) async fn request_source_reconcile(&mut self) -> Result<Option<String>> {
        if !self.source_changed {
            return Ok(None);
        }
        let object = sync_object(SyncKind::GitRepository, self.options);
        let token = self.system.timestamp();
        self.cluster
            .request_reconcile(&object, &token)
            .await
            .map_err(|e| {
                Error::port(&format!("cannot ask {} to reconcile", object.display()), e)
            })?;
        Ok(Some(token))
    }

    async fn wait_synced(
        &mut self,
        kind: SyncKind,
        revision: &str,
        requested: Option<&str>,
    ) -> Result<Option<String>> {
        let object = sync_object(kind, self.options);
        self.emit(Event::WaitingFor {
            kind: kind.as_str().to_string(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
        });
        let mut poll = FIRST_POLL;
        let mut last_message = String::new();
        loop {
            let current = self
                .cluster
                .get(&object)
                .await
                .map_err(|e| Error::port(&format!("cannot read {}", object.display()), e))?;
            // A result from before the requested reconcile does not count.
            let handled = |o: &serde_json::Value| {
                requested.is_none_or(|token| {
                    o.pointer("/status/lastHandledReconcileAt")
                        .and_then(|v| v.as_str())
                        == Some(token)
                })
            };
            let state = current.as_ref().map(|o| {
                let suspended = o.pointer("/spec/suspend").and_then(|v| v.as_bool()) == Some(true);
                if handled(o) || suspended {
                    sync_state(kind, o, revision)
                } else {
                    SyncState::Waiting(None)
                }
            });
            let reason = match state {
                Some(SyncState::Reconciled) => {
                    self.emit(Event::Reconciled {
                        kind: kind.as_str().to_string(),
                    });
                    return Ok(None);
                }
                Some(SyncState::Failed(reason)) => Some(reason),
                Some(SyncState::Waiting(message)) => {
                    if let Some(message) = message {
                        last_message = message;
                    }
                    None
                }
                None => None,
            };
            let reason = reason.or_else(|| {
                (self.remaining() <= poll)
                    .then(|| kind.timeout_reason(&object.namespace, &object.name, &last_message))
            });
            if let Some(reason) = reason {
                self.emit(Event::HealthCheckFailed {
                    message: reason.clone(),
                });
                return Ok(Some(format!(
                    "error while waiting for {} to be ready: '{reason}'",
                    kind.as_str()
                )));
            }
            self.system.sleep(poll).await;
            poll = next_poll(poll);
        }
    }

    async fn components_health(&mut self) -> Result<Option<String>> {
        self.emit(Event::ConfirmingComponents);
        let namespace = self.options.namespace().as_str().to_string();
        let mut names: Vec<String> = self
            .options
            .install
            .components
            .as_slice()
            .iter()
            .map(|c| c.as_str().to_string())
            .collect();
        names.sort();
        let mut poll = FIRST_POLL;
        let report = loop {
            let mut report = Vec::with_capacity(names.len());
            for name in &names {
                let deployment = ObjectRef {
                    group: "apps".into(),
                    version: "v1".into(),
                    kind: "Deployment".into(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                };
                let current = self.cluster.get(&deployment).await.map_err(|e| {
                    Error::port(&format!("cannot read {}", deployment.display()), e)
                })?;
                report.push(match current.as_ref().map(health) {
                    None => ComponentState::NotFound,
                    Some(Health::Current) => ComponentState::Ready,
                    Some(_) => ComponentState::NotReady,
                });
            }
            if report.iter().all(|s| *s == ComponentState::Ready) || self.remaining() <= poll {
                break report;
            }
            self.system.sleep(poll).await;
            poll = next_poll(poll);
        };
        for (name, state) in names.iter().zip(&report) {
            self.emit(Event::Component {
                name: name.clone(),
                state: *state,
            });
        }
        if report.iter().all(|s| *s == ComponentState::Ready) {
            self.emit(Event::ComponentsHealthy);
            Ok(None)
        } else {
            Ok(Some(
                "timed out waiting for all resources to be ready".to_string(),
            ))
        }
    }

    /// Steps 5–7: every check runs; their failures end the run together.
    pub(super) async fn health(&mut self, revision: &str, requested: Option<&str>) -> Result<()> {
        let mut failures = Vec::new();
        failures.extend(
            self.wait_synced(SyncKind::GitRepository, revision, requested)
                .await?,
        );
        failures.extend(
            self.wait_synced(SyncKind::Kustomization, revision, None)
                .await?,
        );
        failures.extend(self.components_health().await?);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::HealthChecks(failures))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_grow_to_two_seconds() {
        let mut poll = FIRST_POLL;
        let mut waited = Duration::ZERO;
        for _ in 0..20 {
            waited += poll;
            poll = next_poll(poll);
        }
        assert_eq!(poll, LONGEST_POLL);
        // Within the first second there are several polls: a ready cluster is seen at once.
        assert_eq!(next_poll(FIRST_POLL), Duration::from_millis(150));
        assert!(waited > Duration::from_secs(20));
    }

    #[test]
    fn failures_are_aggregated_as_flux_does() {
        let one = Error::HealthChecks(vec!["a".into()]);
        assert_eq!(
            one.to_string(),
            "bootstrap failed with 1 health check failure(s): a"
        );
        let two = Error::HealthChecks(vec!["a".into(), "b".into()]);
        assert_eq!(
            two.to_string(),
            "bootstrap failed with 2 health check failure(s): [a, b]"
        );
    }
}
