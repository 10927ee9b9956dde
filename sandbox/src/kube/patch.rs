//! The three non-apply patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
//! Kubernetes' strategic merge patch (built-in types only; list-maps merge by key).

use serde_json::Value;

use super::fields::{ListType, Schema, item_key};

/// RFC 7386: objects merge, `null` deletes, anything else replaces.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(patch_map) => {
            let mut out = target.as_object().cloned().unwrap_or_default();
            for (key, value) in patch_map {
                if value.is_null() {
                    out.remove(key);
                } else {
                    let merged = merge_patch(out.get(key).unwrap_or(&Value::Null), value);
                    out.insert(key.clone(), merged);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Strategic merge: like a merge patch, but lists that merge by key merge item by item, and
/// an item `{"$patch": "delete", <keys>}` removes the matching one.
pub fn strategic_merge_patch(
    target: &Value,
    patch: &Value,
    schema: &Schema,
    path: &mut Vec<String>,
) -> Value {
    match (target, patch) {
        (_, Value::Object(patch_map)) => {
            let mut out = target.as_object().cloned().unwrap_or_default();
            for (key, value) in patch_map {
                if key.starts_with("$setElementOrder/") || key == "$retainKeys" {
                    continue;
                }
                if value.is_null() {
                    out.remove(key);
                    continue;
                }
                path.push(key.clone());
                let merged = strategic_merge_patch(
                    out.get(key).unwrap_or(&Value::Null),
                    value,
                    schema,
                    path,
                );
                path.pop();
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(live), Value::Array(items)) => {
            let fields: Vec<&str> = path.iter().map(String::as_str).collect();
            match schema.list_type(&fields) {
                ListType::Map(keys) => {
                    let mut out = live.clone();
                    for item in items {
                        let key = item_key(item, &keys);
                        let position = out.iter().position(|e| item_key(e, &keys) == key);
                        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                        match (position, delete) {
                            (Some(position), true) => {
                                out.remove(position);
                            }
                            (None, true) => {}
                            (Some(position), false) => {
                                out[position] =
                                    strategic_merge_patch(&out[position], item, schema, path)
                            }
                            (None, false) => out.push(item.clone()),
                        }
                    }
                    Value::Array(out)
                }
                _ => patch.clone(),
            }
        }
        _ => patch.clone(),
    }
}

/// Why a JSON patch could not be applied, in the API server's words.
#[derive(Debug, PartialEq, Eq)]
pub struct JsonPatchError(pub String);

fn pointer_parts(pointer: &str) -> Result<Vec<String>, JsonPatchError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(JsonPatchError(format!("invalid path {pointer:?}")));
    };
    Ok(rest
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent_and_last<'a>(
    doc: &'a mut Value,
    parts: &[String],
    path: &str,
) -> Result<(&'a mut Value, String), JsonPatchError> {
    let Some((last, parents)) = parts.split_last() else {
        return Err(JsonPatchError(format!("invalid path {path:?}")));
    };
    let mut node = doc;
    for part in parents {
        node = match node {
            Value::Object(map) => map.get_mut(part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| JsonPatchError(format!("doc is missing path: {path:?}")))?;
    }
    Ok((node, last.clone()))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), JsonPatchError> {
    let parts = pointer_parts(path)?;
    if parts.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = parent_and_last(doc, &parts, path)?;
    match parent {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| JsonPatchError(format!("invalid index in {path:?}")))?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(JsonPatchError(format!("doc is missing path: {path:?}"))),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, JsonPatchError> {
    let parts = pointer_parts(path)?;
    let (parent, last) = parent_and_last(doc, &parts, path)?;
    let missing = || JsonPatchError(format!("doc is missing path: {path:?}"));
    match parent {
        Value::Object(map) => map.remove(&last).ok_or_else(missing),
        Value::Array(items) => {
            let index = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(missing)?;
            Ok(items.remove(index))
        }
        _ => Err(missing()),
    }
}

/// RFC 6902: add, remove, replace, move, copy, test.
pub fn json_patch(target: &Value, operations: &Value) -> Result<Value, JsonPatchError> {
    let operations = operations
        .as_array()
        .ok_or_else(|| JsonPatchError("a JSON patch must be a list of operations".into()))?;
    let mut doc = target.clone();
    for operation in operations {
        let op = operation.get("op").and_then(Value::as_str).unwrap_or("");
        let path = operation.get("path").and_then(Value::as_str).unwrap_or("");
        let value = || {
            operation
                .get("value")
                .cloned()
                .ok_or_else(|| JsonPatchError(format!("missing value for {op} {path:?}")))
        };
        let from = || {
            operation
                .get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| JsonPatchError(format!("missing from for {op} {path:?}")))
        };
        match op {
            "add" => add(&mut doc, path, value()?)?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "replace" => {
                remove(&mut doc, path)?;
                add(&mut doc, path, value()?)?;
            }
            "move" => {
                let moved = remove(&mut doc, from()?)?;
                add(&mut doc, path, moved)?;
            }
            "copy" => {
                let copied = doc
                    .pointer(from()?)
                    .cloned()
                    .ok_or_else(|| JsonPatchError(format!("doc is missing path: {path:?}")))?;
                add(&mut doc, path, copied)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(JsonPatchError(format!(
                        "testing value {path:?} failed: test failed"
                    )));
                }
            }
            other => return Err(JsonPatchError(format!("unexpected kind: {other:?}"))),
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        let patch = json!({"a": "z", "c": {"f": null}});
        assert_eq!(
            merge_patch(&target, &patch),
            json!({"a": "z", "c": {"d": "e"}})
        );
        assert_eq!(
            merge_patch(&json!({"a": [1]}), &json!({"a": [2]})),
            json!({"a": [2]})
        );
    }

    #[test]
    fn json_patch_follows_rfc_6902() {
        let target = json!({"data": {"a": "1"}, "list": [1, 2]});
        let ops = json!([
            {"op": "add", "path": "/data/b", "value": "2"},
            {"op": "replace", "path": "/data/a", "value": "3"},
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "remove", "path": "/list/0"},
            {"op": "test", "path": "/data/b", "value": "2"}
        ]);
        assert_eq!(
            json_patch(&target, &ops).unwrap(),
            json!({"data": {"a": "3", "b": "2"}, "list": [2, 3]})
        );
        assert!(json_patch(&target, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }

    #[test]
    fn strategic_patch_merges_containers_by_name() {
        let target = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "b", "image": "b:2"}, {"name": "a", "$patch": "delete"}]}}}});
        let patched = strategic_merge_patch(&target, &patch, &Schema::BuiltIn, &mut Vec::new());
        assert_eq!(
            patched["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b", "image": "b:2"}])
        );
    }
}
