//! Staged server-side apply, as flux's CLI does it (spec §6.2–6.3).

use std::time::Duration;

use fluxstrap_core::cluster::{
    ApplyAction, ApplyStage, ObjectRef, apply_stage, classify_apply, compare_for_apply,
};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Discovery, Scope};
use serde_json::Value;

use fluxstrap_core::bootstrap::Mode;
use fluxstrap_core::bootstrap::ports::ApplyProgress;

use super::{Cluster, WaitSettings};
use crate::error::{Error, Result};

/// flux applies as this field manager, so ownership matches objects the real CLI applied.
pub(crate) const FIELD_MANAGER: &str = "flux";

pub use fluxstrap_core::bootstrap::ports::AppliedObject;

/// An object ready to apply, with where it lives.
struct Prepared {
    object: ObjectRef,
    body: Value,
}

/// What the API server does not accept in an apply body, or flux drops before applying:
/// `status` (except on CRDs, whose status the server owns anyway) and `creationTimestamp`.
fn normalise(mut body: Value, object: &ObjectRef) -> Value {
    if let Some(map) = body.as_object_mut() {
        if object.kind != "CustomResourceDefinition" {
            map.remove("status");
        }
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("creationTimestamp");
        }
    }
    body
}

impl Cluster {
    /// Runs discovery, falling back to the legacy endpoints when the aggregated answer is empty
    /// (kube-rs reads a non-aggregated server's answer as an empty list, without an error).
    async fn discover(&self) -> Result<Discovery> {
        let aggregated = Discovery::new(self.client.clone())
            .run_aggregated()
            .await
            .map_err(|source| Error::Kube {
                action: "discovering the cluster's API".into(),
                source,
            })?;
        if aggregated.groups().count() > 0 {
            return Ok(aggregated);
        }
        Discovery::new(self.client.clone())
            .run()
            .await
            .map_err(|source| Error::Kube {
                action: "discovering the cluster's API".into(),
                source,
            })
    }

    pub(crate) fn api_for(
        &self,
        discovery: &Discovery,
        object: &ObjectRef,
    ) -> Result<(Api<DynamicObject>, ApiResource)> {
        let gvk = GroupVersionKind::gvk(&object.group, &object.version, &object.kind);
        let (resource, capabilities) =
            discovery
                .resolve_gvk(&gvk)
                .ok_or_else(|| Error::UnknownKind {
                    kind: object.kind.clone(),
                    api_version: gvk.api_version(),
                })?;
        let api = match capabilities.scope {
            Scope::Cluster => Api::all_with(self.client.clone(), &resource),
            Scope::Namespaced => {
                let namespace = if object.namespace.is_empty() {
                    "default"
                } else {
                    &object.namespace
                };
                Api::namespaced_with(self.client.clone(), namespace, &resource)
            }
        };
        Ok((api, resource))
    }

    /// Dry-run, compare with the live object, and apply only when something changed (in
    /// [`Mode::DryRun`], only the dry run).
    async fn apply_one(
        &self,
        discovery: &Discovery,
        prepared: &Prepared,
        mode: Mode,
    ) -> Result<ApplyAction> {
        let (api, _) = match self.api_for(discovery, &prepared.object) {
            Ok(found) => found,
            // A dry run that did not create the definitions before: the kind is new.
            Err(Error::UnknownKind { .. }) if mode == Mode::DryRun => {
                return Ok(ApplyAction::Created);
            }
            Err(error) => return Err(error),
        };
        let name = &prepared.object.name;
        let failed = |verb: &'static str| {
            let what = prepared.object.display();
            move |source| Error::Kube {
                action: format!("{verb} {what}"),
                source,
            }
        };
        let live = api.get_opt(name).await.map_err(failed("reading"))?;
        let dry_run = match api
            .patch(
                name,
                &PatchParams::apply(FIELD_MANAGER).force().dry_run(),
                &Patch::Apply(&prepared.body),
            )
            .await
        {
            Ok(object) => object,
            // A dry run into a namespace a dry run did not create: the object would be new.
            Err(kube::Error::Api(status)) if mode == Mode::DryRun && status.code == 404 => {
                return Ok(ApplyAction::Created);
            }
            Err(source) => return Err(failed("dry-run applying")(source)),
        };
        let to_value = |o: &DynamicObject| {
            serde_json::to_value(o).map_err(|e| Error::InvalidAnswer(e.to_string()))
        };
        let live = live.as_ref().map(to_value).transpose()?;
        let action = classify_apply(live.as_ref(), &to_value(&dry_run)?);
        if action != ApplyAction::Unchanged && mode == Mode::Apply {
            api.patch(
                name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&prepared.body),
            )
            .await
            .map_err(failed("applying"))?;
        }
        Ok(action)
    }

    /// Applies `objects` in flux's two stages: CRDs, Namespaces and ClusterRoles first, then a
    /// wait for them to be established and a fresh discovery (so new custom kinds resolve), then
    /// everything else in flux's kind order.
    pub async fn apply_staged(
        &self,
        objects: Vec<Value>,
        definitions_wait: &WaitSettings,
        on_event: &mut (dyn FnMut(ApplyProgress) + Send),
    ) -> Result<Vec<AppliedObject>> {
        self.apply_staged_in(objects, Mode::Apply, definitions_wait, &mut |event| {
            on_event(event)
        })
        .await
    }

    /// [`Cluster::apply_staged`], or in [`Mode::DryRun`] a server-side dry run of each object.
    pub async fn apply_staged_in(
        &self,
        objects: Vec<Value>,
        mode: Mode,
        definitions_wait: &WaitSettings,
        on_event: &mut dyn FnMut(ApplyProgress),
    ) -> Result<Vec<AppliedObject>> {
        let mut stages: [Vec<Prepared>; 2] = [Vec::new(), Vec::new()];
        for body in objects {
            let object = ObjectRef::of(&body).ok_or(Error::UnnamedObject)?;
            let body = normalise(body, &object);
            let stage = match apply_stage(&object) {
                ApplyStage::ClusterDefinitions => 0,
                ApplyStage::Resources => 1,
            };
            stages[stage].push(Prepared { object, body });
        }
        if stages.iter().all(Vec::is_empty) {
            return Err(Error::NothingToApply);
        }
        let mut applied = Vec::new();
        for (index, stage) in stages.iter_mut().enumerate() {
            if stage.is_empty() {
                continue;
            }
            stage.sort_by(|a, b| compare_for_apply(&a.object, &b.object));
            // Discover afresh for each stage: the first one may have added custom kinds.
            let discovery = self.discover().await?;
            let mut changed = Vec::new();
            for prepared in stage.iter() {
                let action = self.apply_one(&discovery, prepared, mode).await?;
                on_event(ApplyProgress::Applied {
                    object: prepared.object.display(),
                    action,
                });
                if action != ApplyAction::Unchanged {
                    changed.push(prepared.object.clone());
                }
                applied.push(AppliedObject {
                    object: prepared.object.clone(),
                    action,
                });
            }
            if index == 0 && !changed.is_empty() && mode == Mode::Apply {
                on_event(ApplyProgress::WaitingForDefinitions {
                    count: changed.len(),
                });
                self.wait_for_objects(&discovery, &changed, definitions_wait)
                    .await?;
            }
        }
        Ok(applied)
    }
}

/// flux's stage-one wait: poll every 2 s for up to a minute.
impl Default for WaitSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalise_drops_status_except_on_crds() {
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "x", "creationTimestamp": null }, "status": {}
        });
        let object = ObjectRef::of(&deployment).unwrap();
        let normalised = normalise(deployment, &object);
        assert_eq!(normalised.get("status"), None);
        assert_eq!(normalised.pointer("/metadata/creationTimestamp"), None);

        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": { "name": "x" }, "status": { "storedVersions": [] }
        });
        let object = ObjectRef::of(&crd).unwrap();
        assert!(normalise(crd, &object).get("status").is_some());
    }
}
