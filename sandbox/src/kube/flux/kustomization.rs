//! kustomize-controller's part: a Kustomization builds `spec.path` of its source's artifact,
//! applies the objects and reports Ready with `lastAppliedRevision`/`lastAttemptedRevision` and
//! its inventory — or Ready=False with why the path, the build or the apply failed, and
//! Progressing while its source has no artifact yet.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::types::ResourceType;
use super::super::{NeverReady, Shared, generation, text};
use super::apply::apply_objects;
use super::build::build;
use super::status::{condition, report};
use super::{Artifact, Simulator};

impl Simulator {
    pub(super) fn reconcile_kustomization(
        &mut self,
        shared: &Arc<Shared>,
        resource: &ResourceType,
        kustomization: &Value,
        artifact: Option<Artifact>,
    ) {
        let namespace = text(kustomization, "/metadata/namespace").to_string();
        let name = text(kustomization, "/metadata/name").to_string();
        let generation = generation(kustomization);
        let publish = |status: Value| report(shared, resource, &namespace, &name, status);
        let previous_status = kustomization.get("status").cloned().unwrap_or(json!({}));
        let progressing = |message: &str| {
            let mut status = previous_status.clone();
            status["conditions"] = json!([
                condition("Reconciling", "True", "Progressing", message, generation),
                condition("Ready", "Unknown", "Progressing", message, generation),
            ]);
            status
        };
        if shared.never_ready(NeverReady::Kustomizations) {
            let status = progressing("Reconciliation in progress");
            publish(status);
            return;
        }
        let Some(artifact) = artifact else {
            let status = progressing("Source artifact not found, retrying in 30s");
            publish(status);
            return;
        };
        let failed = |reason: &str, message: &str| {
            let mut status = previous_status.clone();
            status["observedGeneration"] = json!(generation);
            status["lastAttemptedRevision"] = json!(artifact.revision);
            status["conditions"] =
                json!([condition("Ready", "False", reason, message, generation)]);
            status
        };
        let path = text(kustomization, "/spec/path")
            .trim_start_matches("./")
            .to_string();
        let dir = artifact.checkout.join(&path);
        if !dir.is_dir() {
            let message = format!(
                "kustomization path not found: stat {}: no such file or directory",
                dir.display()
            );
            publish(failed("ArtifactFailed", &message));
            return;
        }
        let objects = match build(&dir) {
            Ok(objects) => objects,
            Err(message) => {
                publish(failed("BuildFailed", &message));
                return;
            }
        };
        match apply_objects(shared, kustomization, objects) {
            Ok(Some(inventory)) => {
                let message = format!("Applied revision: {}", artifact.revision);
                let status = json!({
                    "observedGeneration": generation,
                    "lastAppliedRevision": artifact.revision,
                    "lastAttemptedRevision": artifact.revision,
                    "conditions": [condition("Ready", "True", "ReconciliationSucceeded", &message, generation)],
                    "inventory": {"entries": inventory},
                });
                publish(status);
            }
            // Custom kinds not served yet: their CRDs were just applied. Try again shortly.
            Ok(None) => {
                self.attempts.remove(&(
                    "Kustomization".to_string(),
                    namespace.clone(),
                    name.clone(),
                ));
                let status = progressing("Reconciliation in progress");
                publish(status);
            }
            Err(message) => {
                publish(failed("ReconciliationFailed", &message));
            }
        }
    }
}
