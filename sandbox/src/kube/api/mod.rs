//! The HTTP surface in front of the store: the path grammar (`/api/v1/…`,
//! `/apis/{group}/{version}/…`, namespaces, subresources), query parameters and the dispatch
//! by verb. Its rooms: [`body`] (reading requests), [`meta`] (version, discovery, OpenAPI) and
//! [`objects`] (the verbs on collections and objects).

mod body;
mod meta;
mod objects;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::status::ApiError;
use super::store::Part;
use super::table;
use super::types::ResourceType;
use super::watch;
use meta::{discovery_request, openapi_request, version};
use objects::{create, list, object_request, scale_request};

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
