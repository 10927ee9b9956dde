//! Reading the fields of API objects (JSON values) that the cluster rules look at.

use serde_json::Value;

/// The string at `pointer` (`/metadata/name`), or `""` when it is missing or not a string.
pub(super) fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The integer at `pointer`.
pub(super) fn int_at(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

/// A `status.conditions[]` entry of the given type.
pub(super) fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

/// `(generation, observed)` when the controller has not yet seen the object's latest
/// generation (both are known and differ).
pub(super) fn unobserved_generation(object: &Value) -> Option<(i64, i64)> {
    let generation = int_at(object, "/metadata/generation")?;
    let observed = int_at(object, "/status/observedGeneration")?;
    (generation != observed).then_some((generation, observed))
}
