//! Structural-schema checks for custom resources, as the API server applies a CRD's
//! `openAPIV3Schema`: unknown fields are pruned (or refused under `fieldValidation=Strict`), and
//! types, required fields, enums and patterns are validated with the server's messages.

use serde_json::{Map, Value};

/// How the request asked unknown fields to be treated (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse the request.
    Strict,
    /// Drop them (the server's default; it would also send a Warning header).
    Prune,
}

impl FieldValidation {
    pub fn from_query(value: Option<&str>) -> Self {
        match value {
            Some("Strict") => FieldValidation::Strict,
            _ => FieldValidation::Prune,
        }
    }
}

/// What checking one object found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Dotted paths of fields the schema does not declare (already removed from the object).
    pub unknown: Vec<String>,
    /// `field: message` validation errors.
    pub invalid: Vec<(String, String)>,
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(expected: &str, value: &Value) -> bool {
    match (expected, value) {
        ("number", Value::Number(_)) => true,
        (expected, value) => expected == type_of(value),
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// The node's `required` list.
fn required_fields(schema: &Value) -> impl Iterator<Item = &str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Checks (and prunes) `value` at `path` against the schema node.
fn walk(schema: &Value, value: &mut Value, path: &str, findings: &mut Findings) {
    if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(expected) = schema.get("type").and_then(Value::as_str)
        && !type_matches(expected, value)
        && schema.get("x-kubernetes-int-or-string").is_none()
    {
        let actual = type_of(value);
        findings.invalid.push((
            path.to_string(),
            format!("Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""),
        ));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
        findings.invalid.push((
            path.to_string(),
            format!(
                "Unsupported value: {value}: supported values: {}",
                list.join(", ")
            ),
        ));
    }
    if let (Some(pattern), Value::String(text)) =
        (schema.get("pattern").and_then(Value::as_str), &*value)
        && let Ok(regex) = regex::Regex::new(pattern)
        && !regex.is_match(text)
    {
        findings.invalid.push((
            path.to_string(),
            format!("Invalid value: \"{text}\": {path} in body should match '{pattern}'"),
        ));
    }
    match value {
        Value::Object(map) => walk_object(schema, map, path, findings),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter_mut().enumerate() {
                    walk(item_schema, item, &format!("{path}[{index}]"), findings);
                }
            }
        }
        _ => {}
    }
}

fn walk_object(schema: &Value, map: &mut Map<String, Value>, path: &str, findings: &mut Findings) {
    if schema
        .get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return;
    }
    for required in required_fields(schema) {
        if !map.contains_key(required) {
            findings
                .invalid
                .push((join(path, required), "Required value".to_string()));
        }
    }
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let child_path = join(path, &key);
        let child_schema = properties.and_then(|p| p.get(&key)).or(match additional {
            Some(Value::Bool(true)) => None,
            Some(other) if other.is_object() => Some(other),
            _ => None,
        });
        match child_schema {
            Some(child_schema) => {
                if let Some(child) = map.get_mut(&key) {
                    walk(child_schema, child, &child_path, findings);
                }
            }
            None if preserve || matches!(additional, Some(Value::Bool(true))) => {}
            // Without properties the schema says nothing about this object's keys.
            None if properties.is_none() && additional.is_none() => {}
            None => {
                map.remove(&key);
                findings.unknown.push(child_path);
            }
        }
    }
}

/// Checks a custom resource against its version's `openAPIV3Schema`. `apiVersion`, `kind`
/// and `metadata` are the server's, as in a real API server.
pub fn check(schema: &Value, object: &mut Value, with_status: bool) -> Findings {
    let mut findings = check_unsorted(schema, object, with_status);
    findings.invalid.sort();
    findings
}

fn check_unsorted(schema: &Value, object: &mut Value, with_status: bool) -> Findings {
    let mut findings = Findings::default();
    let Some(map) = object.as_object_mut() else {
        return findings;
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        if matches!(key.as_str(), "apiVersion" | "kind" | "metadata")
            || (key == "status" && !with_status)
        {
            continue;
        }
        match properties.and_then(|p| p.get(&key)) {
            Some(child_schema) => {
                if let Some(child) = map.get_mut(&key) {
                    walk(child_schema, child, &key, &mut findings);
                }
            }
            None if schema
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                == Some(true) => {}
            None => {
                map.remove(&key);
                findings.unknown.push(key);
            }
        }
    }
    for required in required_fields(schema) {
        if !matches!(required, "apiVersion" | "kind" | "metadata") && !map.contains_key(required) {
            findings
                .invalid
                .push((required.to_string(), "Required value".to_string()));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["url", "interval"], "properties": {
                "url": {"type": "string", "pattern": "^(http|https|ssh)://.*$"},
                "interval": {"type": "string"},
                "provider": {"type": "string", "enum": ["generic", "azure"]},
                "ref": {"type": "object", "properties": {"branch": {"type": "string"}}},
                "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }})
    }

    #[test]
    fn unknown_fields_are_pruned_and_reported() {
        let mut object = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n"},
            "spec": {"url": "ssh://h/r", "interval": "1m", "bogus": 1,
                     "ref": {"branch": "main", "tag": "v1"}, "values": {"free": true}},
            "extra": {}});
        let findings = check(&schema(), &mut object, true);
        let mut unknown = findings.unknown.clone();
        unknown.sort();
        assert_eq!(unknown, ["extra", "spec.bogus", "spec.ref.tag"]);
        assert!(findings.invalid.is_empty());
        assert_eq!(object["spec"]["values"], json!({"free": true}));
        assert!(object["spec"].get("bogus").is_none());
    }

    #[test]
    fn types_required_enums_and_patterns_use_the_servers_words() {
        let mut object = json!({"spec": {"url": "ftp://h", "interval": 5, "provider": "gcp"}});
        let findings = check(&schema(), &mut object, true);
        assert_eq!(
            findings.invalid,
            [
                (
                    "spec.interval".to_string(),
                    "Invalid value: \"integer\": spec.interval in body must be of type string: \"integer\""
                        .to_string()
                ),
                (
                    "spec.provider".to_string(),
                    "Unsupported value: \"gcp\": supported values: \"generic\", \"azure\"".to_string()
                ),
                (
                    "spec.url".to_string(),
                    "Invalid value: \"ftp://h\": spec.url in body should match '^(http|https|ssh)://.*$'"
                        .to_string()
                ),
            ]
        );
        let mut missing = json!({"spec": {"interval": "1m"}});
        assert_eq!(
            check(&schema(), &mut missing, true).invalid,
            [("spec.url".to_string(), "Required value".to_string())]
        );
    }
}
