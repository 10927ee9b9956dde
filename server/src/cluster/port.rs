//! The bootstrap engine's cluster port ([`fluxstrap_core::bootstrap::ports::Cluster`]) on
//! kube-rs: reads of any kind (resolved once per kind through discovery of its group-version),
//! the staged apply, and Secrets.

use std::collections::BTreeMap;
use std::time::Duration;

use fluxstrap_core::bootstrap::ports::{
    self, AppliedObject, ApplyProgress, ApplyRequest, PortError, PortResult, SecretAction,
    SecretWrite,
};
use fluxstrap_core::cluster::ObjectRef;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Scope};
use serde_json::Value;

use super::{Cluster, WaitSettings};
use crate::error::Error;

fn port_error(error: Error) -> PortError {
    PortError::of(&error)
}

impl Cluster {
    /// The resource of `object`'s kind, or `None` when the cluster does not serve it.
    async fn resource(&self, object: &ObjectRef) -> Result<Option<(ApiResource, Scope)>, Error> {
        let gvk = GroupVersionKind::gvk(&object.group, &object.version, &object.kind);
        if let Some(found) = self
            .resources
            .lock()
            .ok()
            .and_then(|r| r.get(&gvk).cloned())
        {
            return Ok(Some(found));
        }
        match kube::discovery::pinned_kind(&self.client, &gvk).await {
            Ok((resource, capabilities)) => {
                let found = (resource, capabilities.scope);
                if let Ok(mut cache) = self.resources.lock() {
                    cache.insert(gvk, found.clone());
                }
                Ok(Some(found))
            }
            // The group-version is not served (404), or it is and lacks the kind.
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(kube::Error::Discovery(_)) => Ok(None),
            Err(source) => Err(Error::Kube {
                action: format!("discovering {}", gvk.api_version()),
                source,
            }),
        }
    }
}

impl ports::Cluster for Cluster {
    async fn get(&self, object: &ObjectRef) -> PortResult<Option<Value>> {
        let Some((resource, scope)) = self.resource(object).await.map_err(port_error)? else {
            return Ok(None);
        };
        let api: Api<DynamicObject> = match scope {
            Scope::Cluster => Api::all_with(self.client.clone(), &resource),
            Scope::Namespaced => {
                Api::namespaced_with(self.client.clone(), &object.namespace, &resource)
            }
        };
        match api.get_opt(&object.name).await {
            Ok(None) => Ok(None),
            Ok(Some(found)) => serde_json::to_value(found)
                .map(Some)
                .map_err(|e| port_error(Error::InvalidAnswer(e.to_string()))),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(source) => Err(port_error(Error::Kube {
                action: format!("reading {}", object.display()),
                source,
            })),
        }
    }

    async fn apply(
        &self,
        request: ApplyRequest,
        progress: &mut dyn FnMut(ApplyProgress),
    ) -> PortResult<Vec<AppliedObject>> {
        let wait = WaitSettings {
            interval: Duration::from_millis(250),
            timeout: request.definitions_timeout,
        };
        self.apply_staged_in(request.objects, request.mode, &wait, progress)
            .await
            .map_err(port_error)
    }

    async fn request_reconcile(&self, object: &ObjectRef, token: &str) -> PortResult<()> {
        let Some((resource, _)) = self.resource(object).await.map_err(port_error)? else {
            return Err(PortError(format!(
                "the cluster does not serve {}",
                object.kind
            )));
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &object.namespace, &resource);
        let patch = serde_json::json!({
            "metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}
        });
        api.patch(
            &object.name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .map(|_| ())
        .map_err(|source| {
            port_error(Error::Kube {
                action: format!("annotating {}", object.display()),
                source,
            })
        })
    }

    async fn secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> PortResult<Option<BTreeMap<String, Vec<u8>>>> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        match api.get_opt(name).await {
            Ok(found) => Ok(found.map(|secret| {
                secret
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.0))
                    .collect()
            })),
            Err(source) => Err(port_error(Error::Kube {
                action: format!("reading Secret {namespace}/{name}"),
                source,
            })),
        }
    }

    async fn write_secret(&self, secret: &SecretWrite) -> PortResult<SecretAction> {
        self.reconcile_secret(secret).await.map_err(port_error)
    }
}
