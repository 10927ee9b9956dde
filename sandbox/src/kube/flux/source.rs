//! source-controller's part: a GitRepository is cloned at `spec.ref.branch` with the
//! credentials of `spec.secretRef`, and reported Ready with `status.artifact` (revision
//! `<branch>@sha1:<sha>`), or Ready=False with the clone's failure — keeping the last artifact,
//! as source-controller does.

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::super::store::now;
use super::super::types::ResourceType;
use super::super::{NeverReady, Shared, generation, text};
use super::git::{Credentials, clone_branch};
use super::interval::timeout_of;
use super::status::{condition, report};
use super::{Artifact, Simulator};

/// `sha256:<hex>` of `bytes`, as artifact digests are written.
fn sha256_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::from("sha256:"), |hex, b| hex + &format!("{b:02x}"))
}

impl Simulator {
    /// The GitRepository Secret `namespace/name`, decoded; `None` when it does not exist.
    fn secret(shared: &Shared, namespace: &str, name: &str) -> Option<Credentials> {
        let store = shared.store.lock().expect("store lock");
        let secrets = store.find_kind("", "Secret")?;
        let secret = store.get(&secrets, namespace, name)?;
        Some(Credentials::from_secret(secret))
    }

    pub(super) async fn reconcile_source(
        &mut self,
        shared: &Arc<Shared>,
        resource: &ResourceType,
        repository: &Value,
    ) {
        let namespace = text(repository, "/metadata/namespace").to_string();
        let name = text(repository, "/metadata/name").to_string();
        let generation = generation(repository);
        if shared.never_ready(NeverReady::GitRepositories) {
            let status = json!({"conditions": [
                condition("Reconciling", "True", "Progressing", "reconciliation in progress", generation),
                condition("Ready", "Unknown", "Progressing", "reconciliation in progress", generation),
            ]});
            report(shared, resource, &namespace, &name, status);
            return;
        }
        let url = text(repository, "/spec/url").to_string();
        let branch = match text(repository, "/spec/ref/branch") {
            "" => "master".to_string(),
            other => other.to_string(),
        };
        let secret_name = text(repository, "/spec/secretRef/name").to_string();
        let credentials = if secret_name.is_empty() {
            Some(Credentials::default())
        } else {
            Self::secret(shared, &namespace, &secret_name)
        };
        let Some(credentials) = credentials else {
            let message = format!(
                "failed to get secret '{namespace}/{secret_name}': secrets \"{secret_name}\" not found"
            );
            let status = json!({"observedGeneration": generation, "conditions": [
                condition("FetchFailed", "True", "AuthenticationFailed", &message, generation),
                condition("Ready", "False", "AuthenticationFailed", &message, generation),
            ]});
            report(shared, resource, &namespace, &name, status);
            return;
        };
        let job = self.work_dir.join("jobs").join(&namespace).join(&name);
        let checkout_root = self.work_dir.join("artifacts").join(&namespace).join(&name);
        let attempt_dir = checkout_root.join(format!("attempt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&attempt_dir);
        let timeout = timeout_of(repository);
        let (job_for_task, dir_for_task, url_for_task, branch_for_task) = (
            job.clone(),
            attempt_dir.clone(),
            url.clone(),
            branch.clone(),
        );
        let result = tokio::task::spawn_blocking(move || {
            let result = clone_branch(
                &url_for_task,
                &branch_for_task,
                &credentials,
                &job_for_task,
                &dir_for_task,
                timeout,
            );
            // The job directory holds the private key: never leave it behind.
            let _ = std::fs::remove_dir_all(&job_for_task);
            result
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        match result {
            Ok(sha) => {
                let checkout = checkout_root.join(&sha);
                if !checkout.exists() {
                    let _ = std::fs::rename(&attempt_dir, &checkout);
                } else {
                    let _ = std::fs::remove_dir_all(&attempt_dir);
                }
                let revision = format!("{branch}@sha1:{sha}");
                let message = format!("stored artifact for revision '{revision}'");
                let digest = sha256_digest(revision.as_bytes());
                let path = format!("gitrepository/{namespace}/{name}/{sha}.tar.gz");
                let status = json!({
                    "observedGeneration": generation,
                    "conditions": [
                        condition("Ready", "True", "Succeeded", &message, generation),
                        condition("ArtifactInStorage", "True", "Succeeded", &message, generation),
                    ],
                    "artifact": {
                        "path": path,
                        "url": format!("http://source-controller.{namespace}.svc.cluster.local./{path}"),
                        "revision": revision, "digest": digest, "lastUpdateTime": now(),
                    },
                });
                self.artifacts.insert(
                    (namespace.clone(), name.clone()),
                    Artifact { revision, checkout },
                );
                report(shared, resource, &namespace, &name, status);
            }
            Err(reason) => {
                let _ = std::fs::remove_dir_all(&attempt_dir);
                let message = format!(
                    "failed to checkout and determine revision: unable to clone '{url}': {reason}"
                );
                let mut status = json!({"observedGeneration": generation, "conditions": [
                    condition("FetchFailed", "True", "GitOperationFailed", &message, generation),
                    condition("Ready", "False", "GitOperationFailed", &message, generation),
                ]});
                // A failed fetch keeps the last artifact, as source-controller does.
                if let Some(artifact) = self
                    .artifacts
                    .get(&(namespace.clone(), name.clone()))
                    .and_then(|_| repository.pointer("/status/artifact"))
                {
                    status["artifact"] = artifact.clone();
                }
                report(shared, resource, &namespace, &name, status);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_in_lower_case_hex() {
        // The SHA-256 of the empty string and of `abc` (FIPS 180-2's example).
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_digest(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
