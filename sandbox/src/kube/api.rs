//! The HTTP surface: path grammar, content negotiation, query parameters and verbs, in front
//! of the store.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::discovery;
use super::schema::FieldValidation;
use super::status::ApiError;
use super::store::{Part, PatchKind, WriteOptions};
use super::table;
use super::types::ResourceType;
use super::watch;
use super::{Discovery, Shared};

/// Query parameters, decoded.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(uri: &Uri) -> Self {
        Self(
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

/// Where under a group-version a request goes.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Collection {
        namespace: Option<String>,
        plural: String,
    },
    Object {
        namespace: Option<String>,
        plural: String,
        name: String,
        subresource: Option<String>,
    },
}

/// The resource part of a path, after `/api/v1` or `/apis/{g}/{v}`. `namespaces/x/status` is
/// the namespace's status, not a resource called `status` in namespace `x`.
fn parse_target(segments: &[&str]) -> Option<Target> {
    let owned = |s: &str| s.to_string();
    match segments {
        [plural] => Some(Target::Collection {
            namespace: None,
            plural: owned(plural),
        }),
        ["namespaces", name, sub @ ("status" | "finalize")] => Some(Target::Object {
            namespace: None,
            plural: "namespaces".into(),
            name: owned(name),
            subresource: Some(owned(sub)),
        }),
        ["namespaces", namespace, plural] => Some(Target::Collection {
            namespace: Some(owned(namespace)),
            plural: owned(plural),
        }),
        [plural, name] => Some(Target::Object {
            namespace: None,
            plural: owned(plural),
            name: owned(name),
            subresource: None,
        }),
        ["namespaces", namespace, plural, name] => Some(Target::Object {
            namespace: Some(owned(namespace)),
            plural: owned(plural),
            name: owned(name),
            subresource: None,
        }),
        [plural, name, sub] => Some(Target::Object {
            namespace: None,
            plural: owned(plural),
            name: owned(name),
            subresource: Some(owned(sub)),
        }),
        ["namespaces", namespace, plural, name, sub] => Some(Target::Object {
            namespace: Some(owned(namespace)),
            plural: owned(plural),
            name: owned(name),
            subresource: Some(owned(sub)),
        }),
        _ => None,
    }
}

fn accept(headers: &HeaderMap) -> &str {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

/// The object as the requested version serves it (no conversion: only apiVersion changes).
fn served(resource: &ResourceType, version: &str, mut object: Value) -> Value {
    object["apiVersion"] = json!(resource.api_version(version));
    object
}

/// Reads a request body of a JSON or YAML media type.
fn decode_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        return Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: \
             application/json, application/yaml (got {content_type})"
        )));
    }
    if content_type.contains("yaml") {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
        return super::yaml::parse_documents(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::bad_request("the request body is empty"));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding JSON: {e}")))
}

fn patch_kind(headers: &HeaderMap) -> Result<PatchKind, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => Ok(PatchKind::Apply),
        "application/merge-patch+json" => Ok(PatchKind::Merge),
        "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
        "application/json-patch+json" => Ok(PatchKind::Json),
        other => Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: \
             application/json-patch+json, application/merge-patch+json, \
             application/apply-patch+yaml (got {other})"
        ))),
    }
}

/// The field manager a non-apply write is recorded under: `fieldManager`, else the
/// User-Agent's program name, as the API server derives it.
fn manager_name(query: &Query, headers: &HeaderMap) -> String {
    if let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) {
        return manager.to_string();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

/// `GET /api`, `/apis`, `/api/v1`, `/apis/{g}`, `/apis/{g}/{v}`.
fn discovery_request(shared: &Shared, headers: &HeaderMap, segments: &[&str]) -> Response {
    let store = shared.store.lock().expect("store lock");
    let types: Vec<&ResourceType> = store.types().collect();
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // The first aggregated version the client accepts: v2, or v2beta1 for kubectl 1.26–1.29.
    let aggregated = (shared.options.discovery == Discovery::Aggregated)
        .then(|| {
            accept.split(',').find_map(|media| {
                let params: Vec<&str> = media.split(';').map(str::trim).collect();
                if !params.contains(&"as=APIGroupDiscoveryList") {
                    return None;
                }
                params
                    .iter()
                    .find_map(|p| p.strip_prefix("v="))
                    .filter(|v| matches!(*v, "v2" | "v2beta1"))
            })
        })
        .flatten();
    if let (["api"] | ["apis"], Some(version)) = (segments, aggregated) {
        {
            let body = discovery::aggregated(&types, segments == ["api"], version);
            return (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    format!(
                        "application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
                    ),
                )],
                serde_json::to_vec(&body).unwrap_or_default(),
            )
                .into_response();
        }
    }
    let answer = match segments {
        ["api"] => Some(discovery::core_versions()),
        ["apis"] => Some(discovery::group_list(&types)),
        ["api", version] => discovery::resource_list(&types, "", version),
        ["apis", group] => discovery::group(&types, group),
        ["apis", group, version] => discovery::resource_list(&types, group, version),
        _ => None,
    };
    match answer {
        Some(body) => ok(&body),
        None => ApiError::unknown_resource().into_response(),
    }
}

fn openapi_request(shared: &Shared, segments: &[&str]) -> Response {
    let store = shared.store.lock().expect("store lock");
    let types: Vec<&ResourceType> = store.types().collect();
    let answer = match segments {
        [] => Some(discovery::openapi_index(&types, store.types_revision)),
        ["api", version] => discovery::openapi_group_version(&types, "", version),
        ["apis", group, version] => discovery::openapi_group_version(&types, group, version),
        _ => None,
    };
    match answer {
        Some(body) => ok(&body),
        None => ApiError::unknown_resource().into_response(),
    }
}

pub fn version() -> Value {
    json!({
        "major": "1", "minor": "32", "emulationMajor": "1", "emulationMinor": "32",
        "gitVersion": "v1.32.0-fluxstrap-emulator", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-11-25T00:00:00Z",
        "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64",
    })
}

/// Every request after authentication.
pub async fn route(
    shared: Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let query = Query::parse(&uri);
    match segments.as_slice() {
        ["version"] => ok(&version()),
        ["healthz" | "readyz" | "livez"] => "ok".into_response(),
        ["openapi", "v3", rest @ ..] => openapi_request(&shared, rest),
        ["api"] | ["apis"] | ["api", _] | ["apis", _] | ["apis", _, _] if method == Method::GET => {
            discovery_request(&shared, &headers, &segments)
        }
        ["api", version, rest @ ..] | ["apis", _, version, rest @ ..] => {
            let group = if segments[0] == "api" {
                ""
            } else {
                segments[1]
            };
            resource_request(
                shared.clone(),
                &method,
                group,
                version,
                rest,
                &query,
                &headers,
                &body,
            )
            .await
        }
        _ => ApiError::unknown_resource().into_response(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn resource_request(
    shared: Arc<Shared>,
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &Query,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let Some(target) = parse_target(rest) else {
        return ApiError::unknown_resource().into_response();
    };
    let (namespace, plural) = match &target {
        Target::Collection { namespace, plural }
        | Target::Object {
            namespace, plural, ..
        } => (namespace.clone(), plural.clone()),
    };
    let resource = {
        let store = shared.store.lock().expect("store lock");
        store.find_type(group, version, &plural)
    };
    let Some(resource) = resource else {
        return ApiError::unknown_resource().into_response();
    };
    if namespace.is_some() && !resource.namespaced {
        return ApiError::unknown_resource().into_response();
    }
    if let Some(fault) = shared.take_fault(method, &resource.plural) {
        return fault.into_response();
    }
    let result = match target {
        Target::Collection { .. } if method == Method::GET && query.flag("watch") => {
            let table = table::wanted(accept(headers));
            return watch::watch(
                shared,
                resource,
                version.to_string(),
                namespace,
                query,
                table,
            )
            .await;
        }
        Target::Collection { .. } if method == Method::GET => list(
            &shared,
            &resource,
            version,
            namespace.as_deref(),
            query,
            headers,
        ),
        Target::Collection { .. } if method == Method::POST => {
            let Some(namespace) = namespace.or_else(|| (!resource.namespaced).then(String::new))
            else {
                return ApiError::unknown_resource().into_response();
            };
            create(
                &shared, &resource, version, &namespace, query, headers, body,
            )
        }
        Target::Collection { .. } => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".to_string(),
        )),
        Target::Object {
            name, subresource, ..
        } => {
            if resource.namespaced && namespace.is_none() {
                return ApiError::unknown_resource().into_response();
            }
            let namespace = namespace.unwrap_or_default();
            let part = match subresource.as_deref() {
                None => Part::Main,
                Some("status") if resource.status_subresource => Part::Status,
                Some("scale") if resource.scale_subresource => {
                    return match scale_request(
                        &shared, method, &resource, &namespace, &name, query, headers, body,
                    ) {
                        Ok((code, value)) => json_response(code, &value),
                        Err(error) => error.into_response(),
                    };
                }
                Some(_) => return ApiError::unknown_resource().into_response(),
            };
            object_request(
                &shared, method, &resource, version, &namespace, &name, part, query, headers, body,
            )
        }
    };
    match result {
        Ok((code, value)) => json_response(code, &value),
        Err(error) => error.into_response(),
    }
}

type Answer = Result<(StatusCode, Value), ApiError>;

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
fn scale_request(
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
                PatchKind::Json => super::patch::json_patch(&current, &patch)
                    .map_err(|e| ApiError::new(422, "Invalid", e.0))?,
                _ => super::patch::merge_patch(&current, &patch),
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

fn selectors(
    query: &Query,
) -> Result<(super::selector::Selector, super::selector::Selector), ApiError> {
    let labels = super::selector::Selector::parse(query.get("labelSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let fields = super::selector::Selector::parse(query.get("fieldSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}

fn list(
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

fn write_options(
    query: &Query,
    headers: &HeaderMap,
    version: &str,
    part: Part,
) -> Result<WriteOptions, ApiError> {
    let dry_run = match query.get("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::new(
                422,
                "Invalid",
                format!("dryRun: Unsupported value: \"{other}\": supported values: \"All\""),
            ));
        }
    };
    Ok(WriteOptions {
        manager: manager_name(query, headers),
        version: version.to_string(),
        part,
        dry_run,
        validation: FieldValidation::from_query(query.get("fieldValidation")),
    })
}

fn create(
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
fn object_request(
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
            if kind == PatchKind::Apply {
                if query.get("fieldManager").unwrap_or("").is_empty() {
                    return Err(ApiError::invalid(
                        "PatchOptions.meta.k8s.io",
                        "",
                        "fieldManager",
                        "Required value: is required for apply patch",
                        json!({"group": "meta.k8s.io", "kind": "PatchOptions"}),
                    ));
                }
            } else if query.get("force").is_some() {
                return Err(ApiError::invalid(
                    "PatchOptions.meta.k8s.io",
                    "",
                    "force",
                    "Forbidden: may not be specified for non-apply patch",
                    json!({"group": "meta.k8s.io", "kind": "PatchOptions"}),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_status_is_a_subresource_not_a_collection() {
        assert_eq!(
            parse_target(&["namespaces", "foo", "status"]),
            Some(Target::Object {
                namespace: None,
                plural: "namespaces".into(),
                name: "foo".into(),
                subresource: Some("status".into())
            })
        );
        assert_eq!(
            parse_target(&["namespaces", "foo", "configmaps"]),
            Some(Target::Collection {
                namespace: Some("foo".into()),
                plural: "configmaps".into()
            })
        );
        assert_eq!(
            parse_target(&["namespaces", "foo", "deployments", "d", "status"]),
            Some(Target::Object {
                namespace: Some("foo".into()),
                plural: "deployments".into(),
                name: "d".into(),
                subresource: Some("status".into())
            })
        );
    }
}
