//! The verbs on collections and objects: list (JSON or kubectl's Table), create, get,
//! replace, patch (apply included), delete, and the `/scale` subresource.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use super::super::Shared;
use super::super::patch::{json_patch, merge_patch};
use super::super::selector::Selector;
use super::super::status::ApiError;
use super::super::store::{Part, PatchKind};
use super::super::table;
use super::super::types::ResourceType;
use super::body::{decode_body, patch_kind, write_options};
use super::{Answer, Query, accept, served};

/// `autoscaling/v1` Scale of a Deployment or ReplicaSet.
fn scale_of(object: &Value) -> Value {
    let selector = table::label_text(object, "/spec/selector/matchLabels");
    let metadata = &object["metadata"];
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": metadata["name"], "namespace": metadata["namespace"],
                     "uid": metadata["uid"], "resourceVersion": metadata["resourceVersion"],
                     "creationTimestamp": metadata["creationTimestamp"]},
        "spec": {"replicas": object.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": object.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
                   "selector": selector},
    })
}

/// The `/scale` subresource (what `kubectl scale` uses): read, or change `spec.replicas`.
#[allow(clippy::too_many_arguments)]
pub(super) fn scale_request(
    shared: &Shared,
    method: &Method,
    resource: &ResourceType,
    namespace: &str,
    name: &str,
    query: &Query,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    let mut store = shared.store.lock().expect("store lock");
    let object = store.get_or_404(resource, namespace, name)?;
    let current = scale_of(&object);
    let wanted = match *method {
        Method::GET => return Ok((StatusCode::OK, current)),
        Method::PUT => decode_body(headers, body)?,
        Method::PATCH => {
            let patch: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            match patch_kind(headers)? {
                PatchKind::Json => {
                    json_patch(&current, &patch).map_err(|e| ApiError::new(422, "Invalid", e.0))?
                }
                _ => merge_patch(&current, &patch),
            }
        }
        _ => {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    let Some(replicas) = wanted.pointer("/spec/replicas").and_then(Value::as_i64) else {
        return Err(ApiError::invalid(
            "Scale.autoscaling",
            name,
            "spec.replicas",
            "Required value",
            json!({"name": name, "group": "autoscaling", "kind": "Scale"}),
        ));
    };
    let options = write_options(query, headers, resource.storage_version(), Part::Main)?;
    let (updated, _) = store.patch(
        resource,
        namespace,
        name,
        PatchKind::Merge,
        &json!({"spec": {"replicas": replicas}}),
        false,
        &options,
    )?;
    drop(store);
    shared.wake.notify_one();
    Ok((StatusCode::OK, scale_of(&updated)))
}

fn selectors(query: &Query) -> Result<(Selector, Selector), ApiError> {
    let labels =
        Selector::parse(query.get("labelSelector").unwrap_or("")).map_err(ApiError::bad_request)?;
    let fields =
        Selector::parse(query.get("fieldSelector").unwrap_or("")).map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}

pub(super) fn list(
    shared: &Shared,
    resource: &ResourceType,
    version: &str,
    namespace: Option<&str>,
    query: &Query,
    headers: &HeaderMap,
) -> Answer {
    let (labels, fields) = selectors(query)?;
    let store = shared.store.lock().expect("store lock");
    if table::wanted(accept(headers)) {
        let objects = store.list(resource, namespace, &labels, &fields);
        let rv = store.resource_version();
        return Ok((
            StatusCode::OK,
            table::table(resource, version, &objects, rv, true),
        ));
    }
    let items: Vec<Value> = store
        .list(resource, namespace, &labels, &fields)
        .into_iter()
        .map(|object| {
            let mut object = served(resource, version, object);
            // Typed lists carry the type once, on the list.
            if !resource.custom
                && let Some(map) = object.as_object_mut()
            {
                map.remove("apiVersion");
                map.remove("kind");
            }
            object
        })
        .collect();
    Ok((
        StatusCode::OK,
        json!({
            "kind": resource.list_kind,
            "apiVersion": resource.api_version(version),
            "metadata": {"resourceVersion": store.resource_version().to_string()},
            "items": items,
        }),
    ))
}

pub(super) fn create(
    shared: &Shared,
    resource: &ResourceType,
    version: &str,
    namespace: &str,
    query: &Query,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    let value = decode_body(headers, body)?;
    let options = write_options(query, headers, version, Part::Main)?;
    let mut store = shared.store.lock().expect("store lock");
    let object = store.create(resource, namespace, value, &options)?;
    drop(store);
    shared.wake.notify_one();
    Ok((StatusCode::CREATED, served(resource, version, object)))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn object_request(
    shared: &Shared,
    method: &Method,
    resource: &ResourceType,
    version: &str,
    namespace: &str,
    name: &str,
    part: Part,
    query: &Query,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    let answer = match *method {
        Method::GET => {
            let store = shared.store.lock().expect("store lock");
            let object = store.get_or_404(resource, namespace, name)?;
            if table::wanted(accept(headers)) {
                let rv = store.resource_version();
                let table = table::table(resource, version, &[object], rv, true);
                return Ok((StatusCode::OK, table));
            }
            return Ok((StatusCode::OK, served(resource, version, object)));
        }
        Method::PUT => {
            let value = decode_body(headers, body)?;
            let options = write_options(query, headers, version, part)?;
            let mut store = shared.store.lock().expect("store lock");
            let object = store.replace(resource, namespace, name, value, &options)?;
            (StatusCode::OK, object)
        }
        Method::PATCH => {
            let kind = patch_kind(headers)?;
            if kind == PatchKind::Strategic && resource.custom {
                return Err(ApiError::unsupported_media_type(
                    "the body of the request was in an unknown format - accepted media types \
                     include: application/json-patch+json, application/merge-patch+json, \
                     application/apply-patch+yaml",
                ));
            }
            let force = query.flag("force");
            // The API server's validation of the PatchOptions the query gives.
            let invalid_option = |field: &str, message: &str| {
                let details = json!({"group": "meta.k8s.io", "kind": "PatchOptions"});
                ApiError::invalid("PatchOptions.meta.k8s.io", "", field, message, details)
            };
            if kind == PatchKind::Apply {
                if query.get("fieldManager").unwrap_or("").is_empty() {
                    return Err(invalid_option(
                        "fieldManager",
                        "Required value: is required for apply patch",
                    ));
                }
            } else if query.get("force").is_some() {
                return Err(invalid_option(
                    "force",
                    "Forbidden: may not be specified for non-apply patch",
                ));
            }
            let patch = match kind {
                PatchKind::Apply => decode_body(headers, body)?,
                _ => serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?,
            };
            let options = write_options(query, headers, version, part)?;
            let mut store = shared.store.lock().expect("store lock");
            let (object, created) =
                store.patch(resource, namespace, name, kind, &patch, force, &options)?;
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (code, object)
        }
        Method::DELETE => {
            // The DeleteOptions body was read with the request; its propagation policy does
            // not matter without garbage collection.
            let dry_run = query.get("dryRun") == Some("All");
            let mut store = shared.store.lock().expect("store lock");
            let object = store.delete(resource, namespace, name, dry_run)?;
            (StatusCode::OK, object)
        }
        _ => {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    shared.wake.notify_one();
    let (code, object) = answer;
    Ok((code, served(resource, version, object)))
}
