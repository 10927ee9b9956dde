//! Flux's bootstrap-time cluster rules: install-or-skip, the sync-path guard, drift
//! classification of a server-side apply, and "has Flux reconciled the pushed commit?"
//! (spec §2.4 step 4, §2.7 step 1, §2.8, §6.3).

use serde_json::Value;

use super::fields::{condition, str_at, unobserved_generation};
use crate::error::{Error, Result};

/// What a server-side apply did (or would do) to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyAction {
    /// The object did not exist.
    Created,
    /// The object existed and the apply changed it.
    Configured,
    /// The object existed as applied; nothing changed.
    Unchanged,
}

impl ApplyAction {
    /// The word flux prints after the object (`Namespace/flux-system created`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyAction::Created => "created",
            ApplyAction::Configured => "configured",
            ApplyAction::Unchanged => "unchanged",
        }
    }
}

/// Classifies the result of a dry-run apply against the live object, as flux's `ssa` does:
/// no live object (or no resourceVersion in the dry run) means created; a difference in labels,
/// annotations or anything outside `metadata`/`status` means configured; otherwise unchanged,
/// and the real apply is skipped.
pub fn classify_apply(live: Option<&Value>, dry_run: &Value) -> ApplyAction {
    let dry_run_version = str_at(dry_run, "/metadata/resourceVersion");
    let Some(live) = live else {
        return ApplyAction::Created;
    };
    if dry_run_version.is_empty() {
        return ApplyAction::Created;
    }
    let same_meta = |field: &str| {
        let pointer = format!("/metadata/{field}");
        let empty = Value::Object(Default::default());
        let a = live.pointer(&pointer).unwrap_or(&empty);
        let b = dry_run.pointer(&pointer).unwrap_or(&empty);
        a == b
    };
    let without_meta_and_status = |object: &Value| -> Value {
        let mut object = object.clone();
        if let Some(map) = object.as_object_mut() {
            map.remove("metadata");
            map.remove("status");
        }
        object
    };
    if same_meta("labels")
        && same_meta("annotations")
        && without_meta_and_status(live) == without_meta_and_status(dry_run)
    {
        ApplyAction::Unchanged
    } else {
        ApplyAction::Configured
    }
}

/// flux installs the components itself only on a cluster where its own Kustomization does not
/// exist yet or has never applied anything; otherwise kustomize-controller upgrades from git.
pub fn must_install_components(kustomization: Option<&Value>) -> bool {
    kustomization.is_none_or(|k| str_at(k, "/status/lastAppliedRevision").is_empty())
}

/// `./x` with a trailing `/` removed (but `./` kept), as flux compares Kustomization paths.
fn normalise_sync_path(path: &str) -> String {
    let mut path = crate::options::spec_path(path);
    if path.len() > 2 && path.ends_with('/') {
        path.pop();
    }
    path
}

/// Refuses to point an existing Kustomization at another path: that would make Flux prune
/// everything the old path deployed.
pub fn check_sync_path(existing_kustomization: Option<&Value>, target_path: &str) -> Result<()> {
    let Some(existing) = existing_kustomization else {
        return Ok(());
    };
    let old = str_at(existing, "/spec/path");
    let (old, new) = (normalise_sync_path(old), normalise_sync_path(target_path));
    if old == new {
        Ok(())
    } else {
        Err(Error::SyncPathConflict { new, old })
    }
}

/// The revision Flux reports once it has the pushed commit: `<branch>@sha1:<commit>`.
pub fn expected_revision(branch: &str, commit_sha: &str) -> String {
    format!("{branch}@sha1:{commit_sha}")
}

/// Converts Flux's legacy revision forms (`main/<sha>`, `<sha>`) to `main@sha1:<sha>`.
pub fn normalize_revision(revision: &str) -> String {
    let is_sha = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if revision.contains('@') || revision.contains(':') {
        return revision.to_string();
    }
    match revision.rsplit_once('/') {
        Some((branch, sha)) if is_sha(sha) => format!("{branch}@sha1:{sha}"),
        None if is_sha(revision) => format!("sha1:{revision}"),
        _ => revision.to_string(),
    }
}

/// The two Flux objects bootstrap waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// The `GitRepository` that fetches the repository.
    GitRepository,
    /// The `Kustomization` that applies the cluster's path.
    Kustomization,
}

impl SyncKind {
    /// The kind's name, as in the API and flux's messages.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::GitRepository => "GitRepository",
            SyncKind::Kustomization => "Kustomization",
        }
    }

    /// Where the object reports the revision it reconciled. For a Kustomization flux compares
    /// the last *attempted* revision, so a failing apply of the new commit is reported as such
    /// instead of waiting for ever.
    fn revision_pointer(self) -> &'static str {
        match self {
            SyncKind::GitRepository => "/status/artifact/revision",
            SyncKind::Kustomization => "/status/lastAttemptedRevision",
        }
    }

    /// flux's text when the wait times out (`gitrepository 'ns/name' not ready: '<msg>'`).
    pub fn timeout_reason(self, namespace: &str, name: &str, last_message: &str) -> String {
        format!(
            "{} '{namespace}/{name}' not ready: '{last_message}'",
            self.as_str().to_lowercase()
        )
    }
}

/// Where a GitRepository or Kustomization stands relative to the pushed commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    /// Ready at the expected revision.
    Reconciled,
    /// Not there yet; carries the Ready condition's message, if any, for the timeout error.
    Waiting(Option<String>),
    /// Will not get there: suspended, or Ready=False.
    Failed(String),
}

/// One poll of flux's `objectReconciled`: suspended fails, a stale observed generation waits,
/// Ready=True at the expected revision succeeds, Ready=False fails with its message.
pub fn sync_state(kind: SyncKind, object: &Value, expected_revision: &str) -> SyncState {
    let namespace = str_at(object, "/metadata/namespace");
    let name = str_at(object, "/metadata/name");
    if object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return SyncState::Failed(format!(
            "{} '{namespace}/{name}' is suspended",
            kind.as_str()
        ));
    }
    if unobserved_generation(object).is_some() {
        return SyncState::Waiting(None);
    }
    let Some(ready) = condition(object, "Ready") else {
        return SyncState::Waiting(None);
    };
    let message = str_at(ready, "/message").to_string();
    match str_at(ready, "/status") {
        "True" => {
            let revision = normalize_revision(str_at(object, kind.revision_pointer()));
            if revision == expected_revision {
                SyncState::Reconciled
            } else {
                SyncState::Waiting(Some(message))
            }
        }
        "False" => SyncState::Failed(message),
        _ => SyncState::Waiting(Some(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn git_repository(status: Value) -> Value {
        json!({
            "kind": "GitRepository",
            "metadata": { "name": "flux-system", "namespace": "flux-system", "generation": 1 },
            "spec": { "interval": "1m0s" },
            "status": status
        })
    }

    #[test]
    fn classify_apply_follows_flux_drift_rules() {
        let live = json!({ "metadata": { "resourceVersion": "5", "labels": { "a": "1" } }, "spec": { "x": 1 }, "status": { "s": 1 } });
        let same = json!({ "metadata": { "resourceVersion": "5", "labels": { "a": "1" }, "managedFields": [] }, "spec": { "x": 1 }, "status": { "s": 2 } });
        assert_eq!(classify_apply(Some(&live), &same), ApplyAction::Unchanged);
        let relabelled = json!({ "metadata": { "resourceVersion": "5", "labels": { "a": "2" } }, "spec": { "x": 1 } });
        assert_eq!(
            classify_apply(Some(&live), &relabelled),
            ApplyAction::Configured
        );
        let respecced = json!({ "metadata": { "resourceVersion": "5", "labels": { "a": "1" } }, "spec": { "x": 2 } });
        assert_eq!(
            classify_apply(Some(&live), &respecced),
            ApplyAction::Configured
        );
        assert_eq!(classify_apply(None, &same), ApplyAction::Created);
        assert_eq!(
            classify_apply(Some(&live), &json!({ "metadata": {} })),
            ApplyAction::Created
        );
    }

    #[test]
    fn components_are_installed_only_before_flux_applied_anything() {
        assert!(must_install_components(None));
        assert!(must_install_components(Some(&json!({ "status": {} }))));
        assert!(must_install_components(Some(
            &json!({ "status": { "lastAppliedRevision": "" } })
        )));
        assert!(!must_install_components(Some(
            &json!({ "status": { "lastAppliedRevision": format!("main@sha1:{SHA}") } })
        )));
    }

    #[test]
    fn sync_path_guard_uses_flux_normalisation_and_message() {
        let existing = json!({ "spec": { "path": "./clusters/prod/" } });
        assert!(check_sync_path(Some(&existing), "./clusters/prod").is_ok());
        assert!(check_sync_path(Some(&existing), "clusters/prod").is_ok());
        assert!(check_sync_path(None, "./anything").is_ok());
        assert_eq!(
            check_sync_path(Some(&existing), "./clusters/dev")
                .unwrap_err()
                .to_string(),
            "sync path configuration (\"./clusters/dev\") would overwrite path (\"./clusters/prod\") of existing Kustomization"
        );
        let root = json!({ "spec": { "path": "./" } });
        assert!(check_sync_path(Some(&root), "").is_ok());
    }

    #[test]
    fn revisions_are_normalised() {
        assert_eq!(expected_revision("main", SHA), format!("main@sha1:{SHA}"));
        assert_eq!(
            normalize_revision(&format!("main/{SHA}")),
            format!("main@sha1:{SHA}")
        );
        assert_eq!(
            normalize_revision(&format!("feature/x/{SHA}")),
            format!("feature/x@sha1:{SHA}")
        );
        assert_eq!(normalize_revision(SHA), format!("sha1:{SHA}"));
        assert_eq!(
            normalize_revision(&format!("main@sha1:{SHA}")),
            format!("main@sha1:{SHA}")
        );
    }

    #[test]
    fn git_repository_reconciled_only_at_the_pushed_revision() {
        let expected = expected_revision("main", SHA);
        let ready_at = |revision: &str| {
            git_repository(json!({
                "observedGeneration": 1,
                "artifact": { "revision": revision },
                "conditions": [{ "type": "Ready", "status": "True", "message": "stored artifact" }]
            }))
        };
        assert_eq!(
            sync_state(SyncKind::GitRepository, &ready_at(&expected), &expected),
            SyncState::Reconciled
        );
        // The legacy `branch/sha` form counts as the same revision.
        assert_eq!(
            sync_state(
                SyncKind::GitRepository,
                &ready_at(&format!("main/{SHA}")),
                &expected
            ),
            SyncState::Reconciled
        );
        assert_eq!(
            sync_state(
                SyncKind::GitRepository,
                &ready_at("main@sha1:old"),
                &expected
            ),
            SyncState::Waiting(Some("stored artifact".into()))
        );
    }

    #[test]
    fn waits_and_failures_follow_flux() {
        let expected = expected_revision("main", SHA);
        let stale = git_repository(json!({ "observedGeneration": 0 }));
        assert_eq!(
            sync_state(SyncKind::GitRepository, &stale, &expected),
            SyncState::Waiting(None)
        );
        let no_ready = git_repository(json!({ "observedGeneration": 1, "conditions": [] }));
        assert_eq!(
            sync_state(SyncKind::GitRepository, &no_ready, &expected),
            SyncState::Waiting(None)
        );
        let failing = git_repository(json!({ "observedGeneration": 1, "conditions": [
            { "type": "Ready", "status": "False", "message": "ssh: handshake failed: knownhosts: key mismatch" }
        ] }));
        assert_eq!(
            sync_state(SyncKind::GitRepository, &failing, &expected),
            SyncState::Failed("ssh: handshake failed: knownhosts: key mismatch".into())
        );
        let mut suspended = git_repository(json!({}));
        suspended["spec"]["suspend"] = json!(true);
        assert_eq!(
            sync_state(SyncKind::GitRepository, &suspended, &expected),
            SyncState::Failed("GitRepository 'flux-system/flux-system' is suspended".into())
        );
    }

    #[test]
    fn kustomization_compares_last_attempted_revision() {
        let expected = expected_revision("main", SHA);
        let kustomization = json!({
            "kind": "Kustomization",
            "metadata": { "name": "flux-system", "namespace": "flux-system", "generation": 1 },
            "status": {
                "observedGeneration": 1,
                "lastAttemptedRevision": expected,
                "lastAppliedRevision": "main@sha1:older",
                "conditions": [{ "type": "Ready", "status": "True", "message": "Applied revision" }]
            }
        });
        assert_eq!(
            sync_state(SyncKind::Kustomization, &kustomization, &expected),
            SyncState::Reconciled
        );
        assert_eq!(
            SyncKind::Kustomization.timeout_reason("flux-system", "flux-system", "building"),
            "kustomization 'flux-system/flux-system' not ready: 'building'"
        );
    }
}
