//! Field sets as server-side apply tracks them: which paths of an object a manager owns,
//! in the `fieldsV1` encoding (`f:<field>`, `k:{<keys>}`, `v:<value>`, `i:<index>`, `.`).
//!
//! How a list merges decides how its items are addressed, so every path walk is guided by
//! [`Schema`]: a table for the built-in types Flux uses, the CRD's `openAPIV3Schema` for
//! custom resources.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// How the items of one list are identified and merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value: replaced whole, owned whole.
    Atomic,
    /// Items are scalars identified by value.
    Set,
    /// Items are objects identified by these key fields.
    Map(Vec<String>),
}

/// Where list and map merge rules come from.
#[derive(Debug, Clone)]
pub enum Schema {
    /// Built-in types: the list-map keys of the fields in Flux's manifests.
    BuiltIn,
    /// A custom resource: its version's `openAPIV3Schema` (`x-kubernetes-list-type` and
    /// friends); lists without a declaration are atomic, as in the real server.
    Custom(Value),
}

/// Built-in lists that merge by key, by dotted path without list items.
const BUILT_IN_LIST_MAPS: &[(&str, &[&str])] = &[
    ("metadata.ownerReferences", &["uid"]),
    ("spec.template.spec.containers", &["name"]),
    ("spec.template.spec.initContainers", &["name"]),
    (
        "spec.template.spec.containers.ports",
        &["containerPort", "protocol"],
    ),
    (
        "spec.template.spec.initContainers.ports",
        &["containerPort", "protocol"],
    ),
    ("spec.template.spec.containers.env", &["name"]),
    ("spec.template.spec.initContainers.env", &["name"]),
    ("spec.template.spec.containers.volumeMounts", &["mountPath"]),
    (
        "spec.template.spec.initContainers.volumeMounts",
        &["mountPath"],
    ),
    ("spec.template.spec.volumes", &["name"]),
    ("spec.template.spec.imagePullSecrets", &["name"]),
    ("spec.containers", &["name"]),
    ("spec.volumes", &["name"]),
    ("spec.ports", &["port", "protocol"]),
    ("spec.versions", &["name"]),
    ("status.conditions", &["type"]),
    ("secrets", &["name"]),
    ("imagePullSecrets", &["name"]),
];

const BUILT_IN_SETS: &[&str] = &["metadata.finalizers", "spec.finalizers"];

/// Built-in maps that are owned whole (label selectors are atomic structs).
const BUILT_IN_ATOMIC_MAPS: &[&str] = &["spec.selector", "spec.template.spec.nodeSelector"];

impl Schema {
    /// The schema node at `path` (dotted fields, list items skipped) of a custom resource.
    fn custom_node<'a>(root: &'a Value, path: &[&str]) -> Option<&'a Value> {
        let mut node = root;
        for field in path {
            // Step through list items first: paths skip them.
            while node.get("type").and_then(Value::as_str) == Some("array") {
                node = node.get("items")?;
            }
            node = match node.get("properties").and_then(|p| p.get(*field)) {
                Some(next) => next,
                None => node.get("additionalProperties")?,
            };
        }
        Some(node)
    }

    pub fn list_type(&self, path: &[&str]) -> ListType {
        let dotted = path.join(".");
        if let Some((_, keys)) = BUILT_IN_LIST_MAPS.iter().find(|(p, _)| *p == dotted) {
            // Object metadata is the same for every type; the rest only for built-ins.
            if path.first() == Some(&"metadata") || matches!(self, Schema::BuiltIn) {
                return ListType::Map(keys.iter().map(|k| k.to_string()).collect());
            }
        }
        if BUILT_IN_SETS.contains(&dotted.as_str())
            && (path.first() == Some(&"metadata") || matches!(self, Schema::BuiltIn))
        {
            return ListType::Set;
        }
        let Schema::Custom(root) = self else {
            return ListType::Atomic;
        };
        let Some(node) = Self::custom_node(root, path) else {
            return ListType::Atomic;
        };
        match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => ListType::Set,
            Some("map") => ListType::Map(
                node.get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|keys| {
                        keys.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => ListType::Atomic,
        }
    }

    pub fn map_is_atomic(&self, path: &[&str]) -> bool {
        let dotted = path.join(".");
        match self {
            Schema::BuiltIn => BUILT_IN_ATOMIC_MAPS.contains(&dotted.as_str()),
            Schema::Custom(root) => {
                Self::custom_node(root, path)
                    .and_then(|node| node.get("x-kubernetes-map-type"))
                    .and_then(Value::as_str)
                    == Some("atomic")
            }
        }
    }
}

/// One step of a path in `fieldsV1` spelling.
pub type PathElement = String;

/// `k:{...}`: the key fields of a list-map item, sorted, as compact JSON.
pub fn item_key(item: &Value, keys: &[String]) -> PathElement {
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    let parts: Vec<String> = sorted
        .into_iter()
        .filter_map(|key| {
            item.get(key)
                .map(|v| format!("{}:{}", Value::String(key.clone()), v))
        })
        .collect();
    format!("k:{{{}}}", parts.join(","))
}

/// A set of owned paths: a trie whose nodes are members (owned) or only on the way to one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    member: bool,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    /// The fields of `value` at `path`: leaves, atomic values and list-map items.
    pub fn of_value(value: &Value, schema: &Schema, path: &mut Vec<String>) -> FieldSet {
        let mut set = FieldSet::default();
        let fields: Vec<&str> = path.iter().map(String::as_str).collect();
        match value {
            Value::Object(map) if !map.is_empty() && !schema.map_is_atomic(&fields) => {
                for (key, child) in map {
                    path.push(key.clone());
                    let child_set = Self::of_value(child, schema, path);
                    path.pop();
                    set.children.insert(format!("f:{key}"), child_set);
                }
            }
            Value::Array(items) if !items.is_empty() => match schema.list_type(&fields) {
                ListType::Atomic => set.member = true,
                ListType::Set => {
                    for item in items {
                        set.children.insert(
                            format!("v:{item}"),
                            FieldSet {
                                member: true,
                                children: BTreeMap::new(),
                            },
                        );
                    }
                }
                ListType::Map(keys) => {
                    for item in items {
                        let mut item_set = Self::of_value(item, schema, path);
                        item_set.member = true;
                        set.children.insert(item_key(item, &keys), item_set);
                    }
                }
            },
            _ => set.member = true,
        }
        set
    }

    /// The fields a manager can own in `object`: everything but identity, bookkeeping and
    /// (when the type has a status subresource and this is not a status write) `status`.
    pub fn of_object(object: &Value, schema: &Schema, part: ObjectPart) -> FieldSet {
        let mut set = FieldSet::default();
        let Some(map) = object.as_object() else {
            return set;
        };
        for (key, value) in map {
            let keep = match (part, key.as_str()) {
                (_, "apiVersion" | "kind") => false,
                (ObjectPart::Status, field) => field == "status",
                (ObjectPart::Main { status_is_separate }, "status") => !status_is_separate,
                (ObjectPart::Main { .. }, _) => true,
            };
            if !keep {
                continue;
            }
            let child = if key == "metadata" {
                let mut metadata = FieldSet::default();
                for field in ["labels", "annotations", "finalizers", "ownerReferences"] {
                    if let Some(value) = value.get(field) {
                        let mut path = vec!["metadata".to_string(), field.to_string()];
                        metadata.children.insert(
                            format!("f:{field}"),
                            Self::of_value(value, schema, &mut path),
                        );
                    }
                }
                metadata
            } else {
                Self::of_value(value, schema, &mut vec![key.clone()])
            };
            if !child.is_empty() {
                set.children.insert(format!("f:{key}"), child);
            }
        }
        set
    }

    /// Every member path.
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (key, child) in &self.children {
            prefix.push(key.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    pub fn contains(&self, path: &[PathElement]) -> bool {
        match path.split_first() {
            None => self.member,
            Some((head, rest)) => self.children.get(head).is_some_and(|c| c.contains(rest)),
        }
    }

    /// Whether the set holds `path` itself or anything below it.
    pub fn reaches(&self, path: &[PathElement]) -> bool {
        match path.split_first() {
            None => true,
            Some((head, rest)) => self.children.get(head).is_some_and(|c| c.reaches(rest)),
        }
    }

    pub fn insert(&mut self, path: &[PathElement]) {
        match path.split_first() {
            None => self.member = true,
            Some((head, rest)) => self.children.entry(head.clone()).or_default().insert(rest),
        }
    }

    pub fn remove(&mut self, path: &[PathElement]) {
        match path.split_first() {
            None => self.member = false,
            Some((head, rest)) => {
                if let Some(child) = self.children.get_mut(head) {
                    child.remove(rest);
                    if child.is_empty() {
                        self.children.remove(head);
                    }
                }
            }
        }
    }

    /// The `fieldsV1` JSON form.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".to_string(), Value::Object(Map::new()));
        }
        for (key, child) in &self.children {
            map.insert(key.clone(), child.to_json());
        }
        Value::Object(map)
    }

    pub fn from_json(value: &Value) -> FieldSet {
        let mut set = FieldSet::default();
        let Some(map) = value.as_object() else {
            return set;
        };
        if map.is_empty() {
            set.member = true;
        }
        for (key, child) in map {
            if key == "." {
                set.member = true;
            } else {
                set.children.insert(key.clone(), Self::from_json(child));
            }
        }
        set
    }
}

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectPart {
    /// The main resource; `status` belongs to it only when the type has no status subresource.
    Main { status_is_separate: bool },
    /// The `/status` subresource.
    Status,
}

/// The value at a `fieldsV1` path.
pub fn value_at<'a>(value: &'a Value, path: &[PathElement]) -> Option<&'a Value> {
    let Some((head, rest)) = path.split_first() else {
        return Some(value);
    };
    let next = if let Some(field) = head.strip_prefix("f:") {
        value.get(field)?
    } else if let Some(key) = head.strip_prefix("k:") {
        let wanted: Map<String, Value> = serde_json::from_str(key).ok()?;
        value
            .as_array()?
            .iter()
            .find(|item| wanted.iter().all(|(k, v)| item.get(k) == Some(v)))?
    } else if let Some(literal) = head.strip_prefix("v:") {
        let wanted: Value = serde_json::from_str(literal).ok()?;
        value.as_array()?.iter().find(|item| **item == wanted)?
    } else if let Some(index) = head.strip_prefix("i:") {
        value.as_array()?.get(index.parse::<usize>().ok()?)?
    } else {
        return None;
    };
    value_at(next, rest)
}

/// Removes the value at a `fieldsV1` path, if it is there.
pub fn remove_at(value: &mut Value, path: &[PathElement]) {
    let Some((head, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        if let Some(field) = head.strip_prefix("f:") {
            if let Some(map) = value.as_object_mut() {
                map.remove(field);
            }
        } else if let Some(items) = value.as_array_mut() {
            let position = items.iter().position(|item| {
                value_at(
                    &Value::Array(vec![item.clone()]),
                    std::slice::from_ref(head),
                )
                .is_some()
            });
            if let Some(position) = position {
                items.remove(position);
            }
        }
        return;
    }
    let next = if let Some(field) = head.strip_prefix("f:") {
        value.get_mut(field)
    } else if let Some(items) = value.as_array_mut() {
        items.iter_mut().find(|item| {
            value_at(
                &Value::Array(vec![(*item).clone()]),
                std::slice::from_ref(head),
            )
            .is_some()
        })
    } else {
        None
    };
    if let Some(next) = next {
        remove_at(next, rest);
    }
}

/// Merges an applied configuration into the live object: maps merge deeply, list-maps by key,
/// sets by value, everything else is replaced.
pub fn merge(live: &Value, applied: &Value, schema: &Schema, path: &mut Vec<String>) -> Value {
    let fields: Vec<&str> = path.iter().map(String::as_str).collect();
    match (live, applied) {
        (Value::Object(live_map), Value::Object(applied_map)) if !schema.map_is_atomic(&fields) => {
            let mut out = live_map.clone();
            for (key, value) in applied_map {
                path.push(key.clone());
                let merged = match live_map.get(key) {
                    Some(existing) => merge(existing, value, schema, path),
                    None => value.clone(),
                };
                path.pop();
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(live_items), Value::Array(applied_items)) => {
            match schema.list_type(&fields) {
                ListType::Atomic => applied.clone(),
                ListType::Set => {
                    let mut out = live_items.clone();
                    for item in applied_items {
                        if !out.contains(item) {
                            out.push(item.clone());
                        }
                    }
                    Value::Array(out)
                }
                ListType::Map(keys) => {
                    let mut out = live_items.clone();
                    for item in applied_items {
                        let key = item_key(item, &keys);
                        match out
                            .iter()
                            .position(|existing| item_key(existing, &keys) == key)
                        {
                            Some(position) => {
                                out[position] = merge(&out[position], item, schema, path)
                            }
                            None => out.push(item.clone()),
                        }
                    }
                    Value::Array(out)
                }
            }
        }
        _ => applied.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "labels": {"app": "x"}, "resourceVersion": "3"},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "manager", "image": "a:1",
                 "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http"}]}
            ]}}},
            "status": {"replicas": 1}
        })
    }

    #[test]
    fn fields_of_a_deployment_key_containers_by_name_and_skip_status() {
        let set = FieldSet::of_object(
            &deployment(),
            &Schema::BuiltIn,
            ObjectPart::Main {
                status_is_separate: true,
            },
        );
        let json = set.to_json();
        assert_eq!(json["f:metadata"], json!({"f:labels": {"f:app": {}}}));
        let container =
            &json["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"manager\"}"];
        assert_eq!(container["."], json!({}));
        assert_eq!(container["f:image"], json!({}));
        assert!(
            container["f:ports"]
                .get("k:{\"containerPort\":8080,\"protocol\":\"TCP\"}")
                .is_some()
        );
        assert!(json.get("f:status").is_none());
        assert!(json.get("f:apiVersion").is_none());
    }

    #[test]
    fn fields_v1_round_trips() {
        let set = FieldSet::of_object(
            &deployment(),
            &Schema::BuiltIn,
            ObjectPart::Main {
                status_is_separate: true,
            },
        );
        assert_eq!(FieldSet::from_json(&set.to_json()), set);
    }

    #[test]
    fn value_at_finds_list_map_items_and_remove_at_removes_them() {
        let mut object = deployment();
        let path: Vec<String> = [
            "f:spec",
            "f:template",
            "f:spec",
            "f:containers",
            "k:{\"name\":\"manager\"}",
            "f:image",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(value_at(&object, &path), Some(&json!("a:1")));
        remove_at(&mut object, &path[..5]);
        assert_eq!(object["spec"]["template"]["spec"]["containers"], json!([]));
    }

    #[test]
    fn merge_keeps_live_items_and_merges_matching_keys() {
        let live = json!({"spec": {"ports": [
            {"port": 80, "protocol": "TCP", "targetPort": 8080},
            {"port": 443, "protocol": "TCP"}
        ]}});
        let applied = json!({"spec": {"ports": [{"port": 80, "protocol": "TCP", "name": "http"}]}});
        let merged = merge(&live, &applied, &Schema::BuiltIn, &mut Vec::new());
        assert_eq!(
            merged["spec"]["ports"],
            json!([
                {"port": 80, "protocol": "TCP", "targetPort": 8080, "name": "http"},
                {"port": 443, "protocol": "TCP"}
            ])
        );
    }

    #[test]
    fn custom_schema_lists_are_atomic_unless_declared() {
        let schema = Schema::Custom(json!({"type": "object", "properties": {"spec": {
        "type": "object", "properties": {
            "plain": {"type": "array", "items": {"type": "string"}},
            "keyed": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["id"],
                "items": {"type": "object"}}
        }}}}));
        assert_eq!(schema.list_type(&["spec", "plain"]), ListType::Atomic);
        assert_eq!(
            schema.list_type(&["spec", "keyed"]),
            ListType::Map(vec!["id".to_string()])
        );
    }
}
