//! kustomize-controller's server-side apply of a build: its owner labels on every object,
//! `spec.targetNamespace`, the staged order, field manager `kustomize-controller`, then pruning
//! against the previous inventory.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::Shared;
use super::super::schema::FieldValidation;
use super::super::store::{Part, PatchKind, WriteOptions};
use super::super::text;
use super::inventory::{inventory_id, prune};
use super::order::{ObjectId, Stage, apply_order, stage_of};

/// Applies `objects` for `kustomization` and returns the new inventory entries; `Ok(None)` when
/// some kinds are not served yet (their CRDs were applied moments ago: try again shortly).
pub(super) fn apply_objects(
    shared: &Arc<Shared>,
    kustomization: &Value,
    objects: Vec<Value>,
) -> Result<Option<Vec<Value>>, String> {
    let owner_name = text(kustomization, "/metadata/name").to_string();
    let owner_namespace = text(kustomization, "/metadata/namespace").to_string();
    let target_namespace = text(kustomization, "/spec/targetNamespace").to_string();
    let mut prepared: Vec<(ObjectId, Value)> = Vec::new();
    for mut object in objects {
        let labels = &mut object["metadata"]["labels"];
        if !labels.is_object() {
            *labels = json!({});
        }
        labels["kustomize.toolkit.fluxcd.io/name"] = json!(owner_name);
        labels["kustomize.toolkit.fluxcd.io/namespace"] = json!(owner_namespace);
        if !target_namespace.is_empty() {
            object["metadata"]["namespace"] = json!(target_namespace);
        }
        let id =
            ObjectId::of(&object).ok_or("every object needs apiVersion, kind and metadata.name")?;
        prepared.push((id, object));
    }
    prepared.sort_by(|a, b| apply_order(&a.0, &b.0));
    let options = WriteOptions {
        manager: "kustomize-controller".into(),
        version: String::new(),
        part: Part::Main,
        dry_run: false,
        validation: FieldValidation::Prune,
    };
    let mut inventory = Vec::new();
    let mut store = shared.store.lock().expect("store lock");
    for (id, mut object) in prepared {
        let Some(resource) = store.find_kind(&id.group, &id.kind) else {
            if stage_of(&id) != Stage::Definitions {
                return Ok(None);
            }
            return Err(format!(
                "{} dry-run failed: no matches for kind \"{}\" in version \"{}\"",
                id.display(),
                id.kind,
                text(&object, "/apiVersion")
            ));
        };
        if !resource.versions.contains(&id.version) {
            return Ok(None);
        }
        let namespace = if resource.namespaced {
            match id.namespace.as_str() {
                "" => "default".to_string(),
                ns => ns.to_string(),
            }
        } else {
            String::new()
        };
        if resource.namespaced {
            object["metadata"]["namespace"] = json!(namespace);
        }
        let options = WriteOptions {
            version: id.version.clone(),
            ..options.clone()
        };
        store
            .patch(
                &resource,
                &namespace,
                &id.name,
                PatchKind::Apply,
                &object,
                true,
                &options,
            )
            .map_err(|e| {
                format!(
                    "{} dry-run failed ({}): {}",
                    id.display(),
                    e.reason,
                    e.message
                )
            })?;
        inventory.push(json!({"id": inventory_id(&object), "v": id.version}));
    }
    if kustomization
        .pointer("/spec/prune")
        .and_then(Value::as_bool)
        == Some(true)
    {
        let previous = kustomization
            .pointer("/status/inventory/entries")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        prune(&mut store, &previous, &inventory);
    }
    drop(store);
    shared.wake.notify_one();
    Ok(Some(inventory))
}
