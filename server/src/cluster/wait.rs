//! The stage-one wait of the staged apply: the cluster definitions (CRDs, Namespaces,
//! ClusterRoles) polled until kstatus calls them current (spec §6.2). The bootstrap's own waits
//! (the GitRepository and Kustomization at the pushed revision, the controllers) are the
//! engine's, in `fluxstrap_core::bootstrap`.

use std::time::Duration;

use fluxstrap_core::cluster::{Health, ObjectRef, health};
use kube::api::{Api, DynamicObject};
use kube::discovery::Discovery;
use serde_json::Value;
use tokio::time::Instant;

use super::Cluster;
use crate::error::{Error, Result};

/// How often to poll and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitSettings {
    /// Between two polls.
    pub interval: Duration,
    /// In all.
    pub timeout: Duration,
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
}
