//! The answers that are not about objects: `/version`, discovery (aggregated for the clients
//! that ask for it, else the legacy documents) and the OpenAPI v3 documents.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::discovery;
use super::super::status::ApiError;
use super::super::types::ResourceType;
use super::super::{Discovery, Shared};
use super::ok;

/// `GET /api`, `/apis`, `/api/v1`, `/apis/{g}`, `/apis/{g}/{v}`.
pub(super) fn discovery_request(
    shared: &Shared,
    headers: &HeaderMap,
    segments: &[&str],
) -> Response {
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

pub(super) fn openapi_request(shared: &Shared, segments: &[&str]) -> Response {
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
