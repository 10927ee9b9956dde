//! Server-side apply and managed fields: who owns which field, conflicts between managers,
//! removal of fields an applier stopped applying, and ownership moves on updates. Written from
//! the Kubernetes documentation of server-side apply.

use serde_json::{Map, Value, json};

use super::fields::{FieldSet, ObjectPart, PathElement, Schema, merge, remove_at, value_at};

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl ManagedEntry {
    fn from_json(value: &Value) -> Option<Self> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        Some(Self {
            manager: text("manager")?,
            operation: text("operation")?,
            api_version: text("apiVersion").unwrap_or_default(),
            time: text("time").unwrap_or_default(),
            subresource: text("subresource"),
            fields: FieldSet::from_json(value.get("fieldsV1").unwrap_or(&Value::Null)),
        })
    }

    fn to_json(&self) -> Value {
        let mut entry = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": self.fields.to_json(),
        });
        if let Some(subresource) = &self.subresource {
            entry["subresource"] = Value::String(subresource.clone());
        }
        entry
    }

    fn is(&self, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }
}

pub fn read_entries(object: &Value) -> Vec<ManagedEntry> {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| entries.iter().filter_map(ManagedEntry::from_json).collect())
        .unwrap_or_default()
}

pub fn write_entries(object: &mut Value, entries: &[ManagedEntry]) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if entries.is_empty() {
            metadata.remove("managedFields");
        } else {
            metadata.insert(
                "managedFields".to_string(),
                Value::Array(entries.iter().map(ManagedEntry::to_json).collect()),
            );
        }
    }
}

/// Who is writing, and where.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    pub part: ObjectPart,
    pub now: &'a str,
}

impl Writer<'_> {
    fn subresource(&self) -> Option<&'static str> {
        match self.part {
            ObjectPart::Status => Some("status"),
            ObjectPart::Main { .. } => None,
        }
    }
}

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    pub api_version: String,
    pub path: String,
}

/// `.spec.template.spec.containers[name="manager"].image`, as the API server prints paths.
pub fn display_path(path: &[PathElement]) -> String {
    let mut out = String::new();
    for element in path {
        if let Some(field) = element.strip_prefix("f:") {
            out.push('.');
            out.push_str(field);
        } else if let Some(key) = element.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
            let parts: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(literal) = element.strip_prefix("v:") {
            out.push_str(&format!("[={literal}]"));
        } else if let Some(index) = element.strip_prefix("i:") {
            out.push_str(&format!("[{index}]"));
        }
    }
    out
}

/// The API server's message for apply conflicts.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let count = conflicts.len();
    if count == 1 {
        let c = &conflicts[0];
        return format!(
            "Apply failed with 1 conflict: conflict with \"{}\" using {}: {}",
            c.manager, c.api_version, c.path
        );
    }
    let mut text = format!("Apply failed with {count} conflicts: ");
    let mut managers: Vec<(&str, &str)> = Vec::new();
    for c in conflicts {
        if !managers.contains(&(c.manager.as_str(), c.api_version.as_str())) {
            managers.push((c.manager.as_str(), c.api_version.as_str()));
        }
    }
    let blocks: Vec<String> = managers
        .iter()
        .map(|(manager, api_version)| {
            let paths: Vec<String> = conflicts
                .iter()
                .filter(|c| c.manager == *manager && c.api_version == *api_version)
                .map(|c| format!("- {}", c.path))
                .collect();
            format!(
                "conflicts with \"{manager}\" using {api_version}:\n{}",
                paths.join("\n")
            )
        })
        .collect();
    text.push_str(&blocks.join("\n"));
    text
}

/// Leaf paths of a set: owned values, not the list items that only hold owned fields.
fn leaf_paths(set: &FieldSet) -> Vec<Vec<PathElement>> {
    set.paths()
        .into_iter()
        .filter(|path| !path.last().is_some_and(|e| e.starts_with("k:")))
        .collect()
}

/// The part of `object` a write may touch: `status` alone for the status subresource, the
/// object without `status` for a main write on a type with a status subresource.
fn writable_part(object: &Value, part: ObjectPart) -> Value {
    let mut out = object.clone();
    if let Some(map) = out.as_object_mut() {
        match part {
            ObjectPart::Status => map.retain(|k, _| k == "status"),
            ObjectPart::Main {
                status_is_separate: true,
            } => {
                map.remove("status");
            }
            ObjectPart::Main { .. } => {}
        }
    }
    out
}

/// Applies `applied` over `live` (or a new object) for `writer.manager`. Returns the merged
/// object with its managedFields, or the conflicts when `force` is off.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    writer: &Writer<'_>,
    force: bool,
    schema: &Schema,
) -> Result<Value, Vec<Conflict>> {
    let subresource = writer.subresource();
    let applied_part = writable_part(applied, writer.part);
    let applied_set = FieldSet::of_object(&applied_part, schema, writer.part);
    let mut entries = live.map(read_entries).unwrap_or_default();
    let base = match live {
        Some(live) => live.clone(),
        None => {
            let mut base = json!({"metadata": {}});
            for key in ["apiVersion", "kind"] {
                if let Some(v) = applied.get(key) {
                    base[key] = v.clone();
                }
            }
            base
        }
    };

    // Take applied metadata fields one by one; identity and bookkeeping stay the server's.
    let mut merged = merge(&base, &applied_part, schema, &mut Vec::new());
    if let (Some(merged_meta), Some(applied_meta)) = (
        merged.get_mut("metadata").and_then(Value::as_object_mut),
        applied.get("metadata").and_then(Value::as_object),
    ) {
        for key in ["name", "namespace"] {
            if let Some(v) = applied_meta.get(key) {
                merged_meta.entry(key.to_string()).or_insert(v.clone());
            }
        }
    }

    // A conflict is a field another manager owns that this apply would change (an applied
    // empty map merges, so it changes nothing by itself).
    let mut conflicts = Vec::new();
    let mut conflicting_paths: Vec<(usize, Vec<PathElement>)> = Vec::new();
    for path in leaf_paths(&applied_set) {
        if value_at(&base, &path) == value_at(&merged, &path) {
            continue;
        }
        for (index, entry) in entries.iter().enumerate() {
            if entry.is(writer.manager, "Apply", subresource) || !entry.fields.contains(&path) {
                continue;
            }
            conflicts.push(Conflict {
                manager: entry.manager.clone(),
                api_version: entry.api_version.clone(),
                path: display_path(&path),
            });
            conflicting_paths.push((index, path.clone()));
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }

    // Ownership moves to the applier for the conflicting fields (force).
    for (index, path) in &conflicting_paths {
        entries[*index].fields.remove(path);
    }

    // Fields this manager applied before and dropped now go away unless someone else owns them.
    let previous = entries
        .iter()
        .find(|e| e.is(writer.manager, "Apply", subresource))
        .map(|e| e.fields.clone());
    if let Some(previous) = previous {
        let mut dropped: Vec<Vec<PathElement>> = previous
            .paths()
            .into_iter()
            // Still applied, or applied below (an empty map that now has keys): kept.
            .filter(|path| !applied_set.reaches(path))
            .filter(|path| {
                !entries
                    .iter()
                    .any(|e| !e.is(writer.manager, "Apply", subresource) && e.fields.contains(path))
            })
            .collect();
        // Deepest first, so removing an item does not hide its fields.
        dropped.sort_by_key(|path| std::cmp::Reverse(path.len()));
        for path in dropped {
            remove_at(&mut merged, &path);
        }
    }

    let own = ManagedEntry {
        manager: writer.manager.to_string(),
        operation: "Apply".to_string(),
        api_version: writer.api_version.to_string(),
        time: writer.now.to_string(),
        subresource: subresource.map(str::to_string),
        fields: applied_set,
    };
    match entries
        .iter_mut()
        .find(|e| e.is(writer.manager, "Apply", subresource))
    {
        Some(existing) => *existing = own,
        None => entries.push(own),
    }
    entries.retain(|e| !e.fields.is_empty());
    write_entries(&mut merged, &entries);
    Ok(merged)
}

/// Managed fields after a create, update or non-apply patch: the writer's `Update` entry gains
/// what changed, and every other manager loses it.
pub fn record_update(old: Option<&Value>, new: &mut Value, writer: &Writer<'_>, schema: &Schema) {
    let subresource = writer.subresource();
    let empty = json!({});
    let old_part = writable_part(old.unwrap_or(&empty), writer.part);
    let new_part = writable_part(new, writer.part);
    let old_set = FieldSet::of_object(&old_part, schema, writer.part);
    let new_set = FieldSet::of_object(&new_part, schema, writer.part);
    let changed: Vec<Vec<PathElement>> = leaf_paths(&new_set)
        .into_iter()
        .filter(|path| value_at(&old_part, path) != value_at(&new_part, path))
        .collect();
    let removed: Vec<Vec<PathElement>> = old_set
        .paths()
        .into_iter()
        .filter(|path| !new_set.reaches(path))
        .collect();
    let mut entries = old.map(read_entries).unwrap_or_default();
    if changed.is_empty() && removed.is_empty() {
        write_entries(new, &entries);
        return;
    }
    for entry in entries.iter_mut() {
        for path in changed.iter().chain(removed.iter()) {
            entry.fields.remove(path);
        }
    }
    let position = entries
        .iter()
        .position(|e| e.is(writer.manager, "Update", subresource));
    let index = match position {
        Some(index) => index,
        None => {
            entries.push(ManagedEntry {
                manager: writer.manager.to_string(),
                operation: "Update".to_string(),
                api_version: writer.api_version.to_string(),
                time: String::new(),
                subresource: subresource.map(str::to_string),
                fields: FieldSet::default(),
            });
            entries.len() - 1
        }
    };
    for path in &changed {
        // Own the list items on the way as well, as the server records them.
        for depth in 1..=path.len() {
            if path[depth - 1].starts_with("k:") || depth == path.len() {
                entries[index].fields.insert(&path[..depth]);
            }
        }
    }
    entries[index].time = writer.now.to_string();
    entries[index].api_version = writer.api_version.to_string();
    entries.retain(|e| !e.fields.is_empty());
    write_entries(new, &entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            api_version: "v1",
            part: ObjectPart::Main {
                status_is_separate: false,
            },
            now: "2026-11-25T00:00:00Z",
        }
    }

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "y", "namespace": "x"}, "data": data})
    }

    /// `manager` applies ConfigMap `x/y` with `data` onto `live`.
    fn apply_cm(
        live: Option<&Value>,
        data: Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, Vec<Conflict>> {
        apply(live, &cm(data), &writer(manager), force, &Schema::BuiltIn)
    }

    #[test]
    fn apply_twice_gives_the_same_object() {
        let first = apply_cm(None, json!({"a": "1"}), "kubectl", false).unwrap();
        let second = apply_cm(Some(&first), json!({"a": "1"}), "kubectl", false).unwrap();
        assert_eq!(first, second);
        assert_eq!(
            first["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:data": {"f:a": {}}})
        );
    }

    #[test]
    fn a_different_value_from_another_manager_conflicts_unless_forced() {
        let live = apply_cm(None, json!({"a": "1"}), "kubectl", false).unwrap();
        let conflicts = apply_cm(Some(&live), json!({"a": "2"}), "other", false).unwrap_err();
        assert_eq!(
            conflict_message(&conflicts),
            "Apply failed with 1 conflict: conflict with \"kubectl\" using v1: .data.a"
        );
        let forced = apply_cm(Some(&live), json!({"a": "2"}), "other", true).unwrap();
        assert_eq!(forced["data"]["a"], "2");
        let entries = read_entries(&forced);
        assert_eq!(entries.len(), 1, "kubectl lost its only field");
        assert_eq!(entries[0].manager, "other");
    }

    #[test]
    fn the_same_value_is_shared_and_dropped_fields_are_removed() {
        let live = apply_cm(None, json!({"a": "1", "b": "2"}), "kubectl", false).unwrap();
        let shared = apply_cm(Some(&live), json!({"a": "1"}), "third", false).unwrap();
        assert_eq!(read_entries(&shared).len(), 2);
        let dropped = apply_cm(Some(&shared), json!({"a": "1"}), "kubectl", false).unwrap();
        assert_eq!(dropped["data"], json!({"a": "1"}));
    }

    mod properties {
        use super::*;
        use crate::kube::fields::{FieldSet, ObjectPart};
        use proptest::collection::{btree_map, vec};
        use proptest::prelude::*;

        fn data() -> impl Strategy<Value = Value> {
            btree_map("[a-e]", "[a-z0-9]{0,3}", 0..5)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, json!(v))).collect()))
        }

        /// Nested JSON with lists under the built-in list-map paths as well.
        fn object() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                any::<bool>().prop_map(Value::Bool),
                any::<i32>().prop_map(|n| json!(n)),
                "[a-z]{0,4}".prop_map(Value::String),
            ];
            let tree = leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    btree_map("[a-c]", inner.clone(), 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                    vec(inner, 0..3).prop_map(Value::Array),
                ]
            });
            (tree, vec("[a-c]", 0..3)).prop_map(|(spec, names)| {
                let containers: Vec<Value> = names
                    .iter()
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .map(|n| json!({"name": n, "image": format!("{n}:1")}))
                    .collect();
                json!({"spec": {"x": spec, "template": {"spec": {"containers": containers}}}})
            })
        }

        proptest! {
            #[test]
            fn applying_twice_is_idempotent(a in data()) {
                let first = apply_cm(None, a.clone(), "m", false).unwrap();
                let second = apply_cm(Some(&first), a, "m", false).unwrap();
                prop_assert_eq!(first, second);
            }

            #[test]
            fn a_sole_applier_gets_exactly_what_it_applies(a in data(), b in data()) {
                let first = apply_cm(None, a, "m", false).unwrap();
                let second = apply_cm(Some(&first), b.clone(), "m", false).unwrap();
                let expected = if b.as_object().is_some_and(|m| m.is_empty()) { json!({}) } else { b };
                prop_assert_eq!(second.get("data").cloned().unwrap_or(json!({})), expected);
            }

            #[test]
            fn another_manager_with_equal_values_never_conflicts(a in data()) {
                let first = apply_cm(None, a.clone(), "m", false).unwrap();
                prop_assert!(apply_cm(Some(&first), a, "n", false).is_ok());
            }

            #[test]
            fn dropping_fields_never_touches_another_managers(mine in data(), theirs in data()) {
                let prefixed = |value: &Value, prefix: &str| -> Value {
                    Value::Object(value.as_object().unwrap().iter()
                        .map(|(k, v)| (format!("{prefix}{k}"), v.clone())).collect())
                };
                let (mine, theirs) = (prefixed(&mine, "m"), prefixed(&theirs, "n"));
                let first = apply_cm(None, mine, "m", false).unwrap();
                let both = apply_cm(Some(&first), theirs.clone(), "n", false).unwrap();
                let dropped = apply_cm(Some(&both), json!({}), "m", false).unwrap();
                let data = dropped.get("data").cloned().unwrap_or(json!({}));
                for (key, value) in theirs.as_object().unwrap() {
                    prop_assert_eq!(data.get(key), Some(value));
                }
                prop_assert!(data.as_object().unwrap().keys().all(|k| k.starts_with('n')));
            }

            #[test]
            fn fields_v1_round_trips(object in object()) {
                let set = FieldSet::of_object(
                    &object,
                    &Schema::BuiltIn,
                    ObjectPart::Main { status_is_separate: true },
                );
                prop_assert_eq!(FieldSet::from_json(&set.to_json()), set);
            }
        }
    }

    #[test]
    fn updates_take_changed_fields_from_appliers() {
        let live = apply_cm(None, json!({"a": "1"}), "kubectl", false).unwrap();
        let mut patched = live.clone();
        patched["data"]["a"] = json!("3");
        record_update(
            Some(&live),
            &mut patched,
            &writer("kubectl-patch"),
            &Schema::BuiltIn,
        );
        let entries = read_entries(&patched);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].manager, "kubectl-patch");
        assert_eq!(entries[0].operation, "Update");
    }
}
