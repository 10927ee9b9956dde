//! Polling waits with flux's semantics: stage-one definitions, the GitRepository and
//! Kustomization at the pushed revision, and the controllers' Deployments (spec §2.8, §6.4).

use std::time::Duration;

use fluxstrap_core::cluster::{Health, ObjectRef, SyncKind, SyncState, health, sync_state};
use kube::api::{Api, DynamicObject};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Discovery};
use serde_json::Value;
use tokio::time::Instant;

use super::{Cluster, ClusterEvent};
use crate::error::{Error, Result};

/// How often to poll and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitSettings {
    pub interval: Duration,
    pub timeout: Duration,
}

/// How one controller's Deployment stood at the end of the components check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentHealth {
    pub name: String,
    pub found: bool,
    pub ready: bool,
}

fn known_resource(kind: SyncKind) -> ApiResource {
    let (group, version, plural) = match kind {
        SyncKind::GitRepository => ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
        SyncKind::Kustomization => ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind.as_str()),
        plural,
    )
}

fn deployment_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apps", "v1", "Deployment"),
        "deployments",
    )
}

fn to_value(object: &DynamicObject) -> Result<Value> {
    serde_json::to_value(object).map_err(|e| Error::InvalidAnswer(e.to_string()))
}

impl Cluster {
    /// GETs one object; `None` when it (or its whole kind) does not exist.
    async fn get_value(
        &self,
        api: &Api<DynamicObject>,
        name: &str,
        what: &str,
    ) -> Result<Option<Value>> {
        match api.get_opt(name).await {
            Ok(object) => object.as_ref().map(to_value).transpose(),
            // An unknown kind (CRD not installed yet) answers 404 on the collection as well.
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(source) => Err(Error::Kube {
                action: format!("reading {what}"),
                source,
            }),
        }
    }

    /// The Flux object `kind` `namespace/name`, if it exists.
    pub async fn get_sync_object(
        &self,
        kind: SyncKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>> {
        let api = Api::namespaced_with(self.client.clone(), namespace, &known_resource(kind));
        self.get_value(&api, name, &format!("{} {namespace}/{name}", kind.as_str()))
            .await
    }

    /// Polls `objects` until each is healthy by kstatus; a failed object or the timeout ends
    /// the wait with an error naming what is not ready.
    pub(crate) async fn wait_for_objects(
        &self,
        discovery: &Discovery,
        objects: &[ObjectRef],
        settings: &WaitSettings,
    ) -> Result<()> {
        let deadline = Instant::now() + settings.timeout;
        loop {
            let mut pending = Vec::new();
            for object in objects {
                let (api, _) = self.api_for(discovery, object)?;
                let current = self
                    .get_value(&api, &object.name, &object.display())
                    .await?;
                match current.as_ref().map(health) {
                    Some(Health::Current) => {}
                    Some(Health::Failed(reason)) => {
                        return Err(Error::ObjectFailed {
                            object: object.display(),
                            reason,
                        });
                    }
                    Some(Health::InProgress(reason)) => {
                        pending.push(format!("{} ({reason})", object.display()))
                    }
                    Some(Health::Terminating) => {
                        pending.push(format!("{} (terminating)", object.display()))
                    }
                    None => pending.push(format!("{} (not found)", object.display())),
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() + settings.interval > deadline {
                return Err(Error::ObjectsNotReady {
                    timeout: settings.timeout,
                    pending,
                });
            }
            tokio::time::sleep(settings.interval).await;
        }
    }

    /// Waits until the GitRepository or Kustomization `namespace/name` is Ready at
    /// `expected_revision` (flux's `objectReconciled`): fails at once when suspended or
    /// Ready=False, and with flux's message at the timeout.
    pub async fn wait_synced(
        &self,
        kind: SyncKind,
        namespace: &str,
        name: &str,
        expected_revision: &str,
        settings: &WaitSettings,
        on_event: &mut (dyn FnMut(ClusterEvent) + Send),
    ) -> Result<()> {
        on_event(ClusterEvent::WaitingForSync {
            kind: kind.as_str(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        });
        let deadline = Instant::now() + settings.timeout;
        let mut last_message = String::new();
        loop {
            if let Some(object) = self.get_sync_object(kind, namespace, name).await? {
                match sync_state(kind, &object, expected_revision) {
                    SyncState::Reconciled => {
                        on_event(ClusterEvent::Synced {
                            kind: kind.as_str(),
                        });
                        return Ok(());
                    }
                    SyncState::Failed(reason) => {
                        return Err(Error::WaitFailed {
                            kind: kind.as_str(),
                            reason,
                        });
                    }
                    SyncState::Waiting(message) => {
                        if let Some(message) = message {
                            last_message = message;
                        }
                    }
                }
            }
            if Instant::now() + settings.interval > deadline {
                return Err(Error::WaitFailed {
                    kind: kind.as_str(),
                    reason: kind.timeout_reason(namespace, name, &last_message),
                });
            }
            tokio::time::sleep(settings.interval).await;
        }
    }

    /// Polls the controllers' Deployments until all are healthy or the timeout passes, then
    /// reports each, sorted by name, as flux does.
    pub async fn components_health(
        &self,
        namespace: &str,
        components: &[String],
        settings: &WaitSettings,
        on_event: &mut (dyn FnMut(ClusterEvent) + Send),
    ) -> Result<Vec<ComponentHealth>> {
        on_event(ClusterEvent::ConfirmingComponents);
        let api = Api::namespaced_with(self.client.clone(), namespace, &deployment_resource());
        let mut names = components.to_vec();
        names.sort();
        let deadline = Instant::now() + settings.timeout;
        let report = loop {
            let mut report = Vec::with_capacity(names.len());
            for name in &names {
                let deployment = self
                    .get_value(&api, name, &format!("Deployment {namespace}/{name}"))
                    .await?;
                report.push(ComponentHealth {
                    name: name.clone(),
                    found: deployment.is_some(),
                    ready: deployment.as_ref().map(health) == Some(Health::Current),
                });
            }
            if report.iter().all(|c| c.ready) || Instant::now() + settings.interval > deadline {
                break report;
            }
            tokio::time::sleep(settings.interval).await;
        };
        for component in &report {
            on_event(ClusterEvent::Component {
                name: component.name.clone(),
                ready: component.ready,
                found: component.found,
            });
        }
        if report.iter().all(|c| c.ready) {
            on_event(ClusterEvent::ComponentsHealthy);
            Ok(report)
        } else {
            Err(Error::ComponentsNotReady {
                components: report
                    .iter()
                    .filter(|c| !c.ready)
                    .map(|c| c.name.clone())
                    .collect(),
            })
        }
    }
}
