//! A small Flux: what source-controller and kustomize-controller do for a bootstrap.
//!
//! - GitRepository ([`source`], with [`git`]): clone `spec.url` at `spec.ref.branch` with the
//!   credentials of its Secret (SSH `identity` + `known_hosts`, or `username`/`password`/
//!   `bearerToken` + `ca.crt`) using the real `git` and `ssh`, then report
//!   `status.artifact.revision` = `<branch>@sha1:<sha>` and Ready, or Ready=False with git's
//!   own error, as Flux would.
//! - Kustomization ([`kustomization`]): build `spec.path` of the source's checkout ([`build`]:
//!   `kustomization.yaml` `resources`, else every YAML file below it), server-side apply the
//!   objects as `kustomize-controller` with its owner labels in its staged order ([`apply`],
//!   [`order`]), prune what left the inventory ([`inventory`]), then report Ready with
//!   `lastAppliedRevision`/`lastAttemptedRevision`.
//! - This file: the controller loop — which objects are due (a change of generation, of the
//!   `reconcile.fluxcd.io/requestedAt` annotation or of the source's revision, or the interval
//!   elapsed) and in which order the two kinds are reconciled.
//!
//! Not simulated: kustomize patches, generators and transformers other than `resources`,
//! SOPS, variable substitution, health checks of applied objects, dependsOn.

mod apply;
mod build;
mod git;
mod interval;
mod inventory;
mod kustomization;
mod order;
mod source;
mod status;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::selector::Selector;
use super::{Shared, generation, text};
use interval::interval_of;

/// Whether the emulator plays Flux's controllers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FluxSimulation {
    /// Reconcile on every change, and again after `spec.interval` or `requeue`, whichever is
    /// shorter (tests should not wait a minute for a new commit); a Ready Kustomization after
    /// its `spec.interval` only (see `requeue_after`).
    Enabled { requeue: Duration },
    /// Flux objects are stored but nothing acts on them (tests play the controllers).
    Disabled,
}

impl Default for FluxSimulation {
    fn default() -> Self {
        FluxSimulation::Enabled {
            requeue: Duration::from_secs(2),
        }
    }
}

const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";
const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";

/// How long after its last reconcile `object` is due again. Sources are fetched at least every
/// `requeue`, so tests see new commits quickly. A Ready Kustomization waits for its own
/// `spec.interval` (kustomize-controller's 10m for flux-system), as the real one does: it acts
/// on a new artifact at once anyway. Requeued sooner, it would race a bootstrap that re-points
/// the GitRepository: applying the old artifact's `gotk-sync.yaml` puts the old URL back
/// before the source fetched the new one. A failed Kustomization is retried every `requeue`.
fn requeue_after(kind: &str, object: &Value, requeue: Duration) -> Duration {
    let interval = interval_of(object);
    let ready = object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
    if kind == "Kustomization" && ready {
        interval
    } else {
        interval.min(requeue)
    }
}

/// What was last done for one object.
struct Attempt {
    at: Instant,
    generation: i64,
    requested_at: String,
    source_revision: String,
}

/// A GitRepository's last good checkout.
#[derive(Clone)]
struct Artifact {
    revision: String,
    checkout: PathBuf,
}

pub struct Simulator {
    mode: FluxSimulation,
    work_dir: PathBuf,
    attempts: HashMap<(String, String, String), Attempt>,
    artifacts: HashMap<(String, String), Artifact>,
}

impl Simulator {
    pub fn new(mode: FluxSimulation, work_dir: PathBuf) -> Self {
        Self {
            mode,
            work_dir,
            attempts: HashMap::new(),
            artifacts: HashMap::new(),
        }
    }

    /// Whether `object` needs a reconcile now.
    fn due(&self, kind: &str, object: &Value, source_revision: &str, requeue: Duration) -> bool {
        let key = (
            kind.to_string(),
            text(object, "/metadata/namespace").to_string(),
            text(object, "/metadata/name").to_string(),
        );
        if object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
            return false;
        }
        let Some(attempt) = self.attempts.get(&key) else {
            return true;
        };
        attempt.generation != generation(object)
            || attempt.requested_at
                != text(
                    object,
                    "/metadata/annotations/reconcile.fluxcd.io~1requestedAt",
                )
            || attempt.source_revision != source_revision
            || attempt.at.elapsed() >= requeue_after(kind, object, requeue)
    }

    fn attempted(&mut self, kind: &str, object: &Value, source_revision: &str) {
        self.attempts.insert(
            (
                kind.to_string(),
                text(object, "/metadata/namespace").to_string(),
                text(object, "/metadata/name").to_string(),
            ),
            Attempt {
                at: Instant::now(),
                generation: generation(object),
                requested_at: text(
                    object,
                    "/metadata/annotations/reconcile.fluxcd.io~1requestedAt",
                )
                .to_string(),
                source_revision: source_revision.to_string(),
            },
        );
    }

    pub async fn reconcile(&mut self, shared: &Arc<Shared>) {
        let FluxSimulation::Enabled { requeue } = self.mode else {
            return;
        };
        let all = Selector::default();
        let (git_type, kustomization_type) = {
            let store = shared.store.lock().expect("store lock");
            (
                store.find_kind(SOURCE_GROUP, "GitRepository"),
                store.find_kind(KUSTOMIZE_GROUP, "Kustomization"),
            )
        };
        if let Some(git_type) = git_type {
            let repositories = shared
                .store
                .lock()
                .expect("store lock")
                .list(&git_type, None, &all, &all);
            for repository in repositories {
                if self.due("GitRepository", &repository, "", requeue) {
                    self.attempted("GitRepository", &repository, "");
                    self.reconcile_source(shared, &git_type, &repository).await;
                }
            }
        }
        if let Some(kustomization_type) = kustomization_type {
            let kustomizations = shared.store.lock().expect("store lock").list(
                &kustomization_type,
                None,
                &all,
                &all,
            );
            for kustomization in kustomizations {
                let namespace = text(&kustomization, "/metadata/namespace").to_string();
                let source_namespace = match text(&kustomization, "/spec/sourceRef/namespace") {
                    "" => namespace.clone(),
                    other => other.to_string(),
                };
                let source_name = text(&kustomization, "/spec/sourceRef/name").to_string();
                let artifact = self
                    .artifacts
                    .get(&(source_namespace, source_name))
                    .cloned();
                let revision = artifact
                    .as_ref()
                    .map(|a| a.revision.clone())
                    .unwrap_or_default();
                if self.due("Kustomization", &kustomization, &revision, requeue) {
                    self.attempted("Kustomization", &kustomization, &revision);
                    self.reconcile_kustomization(
                        shared,
                        &kustomization_type,
                        &kustomization,
                        artifact,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn with_ready(kind: &str, status: &str) -> Value {
        json!({"kind": kind, "spec": {"interval": "10m0s"},
               "status": {"conditions": [{"type": "Ready", "status": status}]}})
    }

    #[test]
    fn only_a_ready_kustomization_waits_for_its_own_interval() {
        let requeue = Duration::from_secs(2);
        let ten_minutes = Duration::from_secs(600);
        let ready = with_ready("Kustomization", "True");
        assert_eq!(requeue_after("Kustomization", &ready, requeue), ten_minutes);
        let failed = with_ready("Kustomization", "False");
        assert_eq!(requeue_after("Kustomization", &failed, requeue), requeue);
        let source = with_ready("GitRepository", "True");
        assert_eq!(requeue_after("GitRepository", &source, requeue), requeue);
    }
}
