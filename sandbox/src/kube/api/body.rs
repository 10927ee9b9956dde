//! Reading a request: its body (JSON, or YAML as kubectl and Flux send apply patches), the
//! PATCH type from the media type, and the write options from the query (`dryRun`,
//! `fieldManager`, `fieldValidation`) and the User-Agent.

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use serde_json::Value;

use super::super::schema::FieldValidation;
use super::super::status::ApiError;
use super::super::store::{Part, PatchKind, WriteOptions};
use super::super::yaml::parse_documents;
use super::Query;

/// Reads a request body of a JSON or YAML media type.
pub(super) fn decode_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
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
        return parse_documents(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::bad_request("the request body is empty"));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding JSON: {e}")))
}

pub(super) fn patch_kind(headers: &HeaderMap) -> Result<PatchKind, ApiError> {
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

pub(super) fn write_options(
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
