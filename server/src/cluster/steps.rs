//! The cluster steps of a bootstrap as flux runs them (spec §2.4, §2.7): install the components
//! unless Flux already manages itself, and apply the sync objects unless that would move an
//! existing Kustomization to another path.

use fluxstrap_core::cluster::{SyncKind, check_sync_path, must_install_components};
use serde_json::Value;

use super::{AppliedObject, Cluster, ClusterEvent, WaitSettings};
use crate::error::Result;

/// What the components step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentsStep {
    /// Applied (created, configured or found unchanged), object by object.
    Installed(Vec<AppliedObject>),
    /// Flux's own Kustomization has applied a revision: kustomize-controller upgrades the
    /// components from git, so the CLI leaves them alone.
    ManagedByFlux,
}

impl Cluster {
    /// flux's `ReconcileComponents` cluster half: `Kustomization <ns>/<ns>` decides whether the
    /// components are applied here.
    pub async fn install_components(
        &self,
        namespace: &str,
        objects: Vec<Value>,
        definitions_wait: &WaitSettings,
        on_event: &mut (dyn FnMut(ClusterEvent) + Send),
    ) -> Result<ComponentsStep> {
        let kustomization = self
            .get_sync_object(SyncKind::Kustomization, namespace, namespace)
            .await?;
        if !must_install_components(kustomization.as_ref()) {
            on_event(ClusterEvent::ComponentsReconciled);
            return Ok(ComponentsStep::ManagedByFlux);
        }
        on_event(ClusterEvent::InstallingComponents {
            namespace: namespace.to_string(),
        });
        let applied = self
            .apply_staged(objects, definitions_wait, on_event)
            .await?;
        on_event(ClusterEvent::ComponentsInstalled);
        on_event(ClusterEvent::ComponentsReconciled);
        Ok(ComponentsStep::Installed(applied))
    }

    /// flux's `ReconcileSyncConfig` cluster half: the path guard, then the apply.
    pub async fn apply_sync(
        &self,
        namespace: &str,
        target_path: &str,
        objects: Vec<Value>,
        definitions_wait: &WaitSettings,
        on_event: &mut (dyn FnMut(ClusterEvent) + Send),
    ) -> Result<Vec<AppliedObject>> {
        let existing = self
            .get_sync_object(SyncKind::Kustomization, namespace, namespace)
            .await?;
        check_sync_path(existing.as_ref(), target_path)?;
        on_event(ClusterEvent::ApplyingSync);
        let applied = self
            .apply_staged(objects, definitions_wait, on_event)
            .await?;
        on_event(ClusterEvent::SyncReconciled);
        Ok(applied)
    }
}
