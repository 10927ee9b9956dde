//! `meta.k8s.io/v1` Tables, what `kubectl get` asks for: the built-in printers' columns for the
//! types Flux installs, and a CRD's `additionalPrinterColumns` for custom resources, with ages in
//! the API server's human form (`5m12s`, `3h`, `12d`).

use serde_json::{Value, json};

use super::store::parse_rfc3339;
use super::types::ResourceType;

/// Whether the Accept header asks for a Table.
pub fn wanted(accept: &str) -> bool {
    accept.split(',').any(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io")
    })
}

/// apimachinery's `HumanDuration`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let seconds = seconds.max(0);
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    const YEAR: i64 = 365 * DAY;
    // Its steps: below so many seconds, an age is shown in this unit, and in the next smaller
    // one as well where that is not zero.
    let steps = [
        (2 * MINUTE, (1, 's'), None),
        (10 * MINUTE, (MINUTE, 'm'), Some((1, 's'))),
        (3 * HOUR, (MINUTE, 'm'), None),
        (8 * HOUR, (HOUR, 'h'), Some((MINUTE, 'm'))),
        (48 * HOUR, (HOUR, 'h'), None),
        (8 * DAY, (DAY, 'd'), Some((HOUR, 'h'))),
        (2 * YEAR, (DAY, 'd'), None),
        (8 * YEAR, (YEAR, 'y'), Some((DAY, 'd'))),
        (i64::MAX, (YEAR, 'y'), None),
    ];
    let (_, (unit, name), smaller) = steps
        .into_iter()
        .find(|(below, ..)| seconds < *below)
        .expect("the last step has no bound");
    let mut text = format!("{}{name}", seconds / unit);
    if let Some((smaller, smaller_name)) = smaller {
        let rest = seconds % unit / smaller;
        if rest != 0 {
            text.push_str(&format!("{rest}{smaller_name}"));
        }
    }
    text
}

fn age(object: &Value, now: i64) -> Value {
    object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(parse_rfc3339)
        .map_or(json!("<unknown>"), |created| {
            json!(human_duration(now - created))
        })
}

fn text(object: &Value, pointer: &str) -> String {
    match object.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn count(object: &Value, pointer: &str) -> Value {
    json!(
        object
            .pointer(pointer)
            .and_then(Value::as_object)
            .map_or(0, |m| m.len())
    )
}

fn or_none(text: String) -> Value {
    json!(if text.is_empty() {
        "<none>".to_string()
    } else {
        text
    })
}

/// The JSONPath subset CRDs use in printer columns: dotted fields and `[?(@.k=="v")]` filters.
fn json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = object;
    let mut rest = path.trim_start_matches('.');
    while !rest.is_empty() {
        if let Some(filter) = rest.strip_prefix("[?(@.") {
            let (condition, after) = filter.split_once(")]")?;
            let (key, wanted) = condition.split_once("==")?;
            let wanted = wanted.trim_matches('"').trim_matches('\'');
            node = node
                .as_array()?
                .iter()
                .find(|item| item.get(key).and_then(Value::as_str) == Some(wanted))?;
            rest = after.trim_start_matches('.');
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        node = node.get(&rest[..end])?;
        rest = rest[end..].trim_start_matches('.');
    }
    Some(node)
}

/// A cell from the object and the current time (seconds since the epoch).
type Cell = Box<dyn Fn(&Value, i64) -> Value>;

struct Column {
    name: String,
    kind: &'static str,
    format: &'static str,
    priority: u8,
    cell: Cell,
}

impl Column {
    fn new(
        name: &str,
        kind: &'static str,
        priority: u8,
        cell: impl Fn(&Value, i64) -> Value + 'static,
    ) -> Column {
        Column {
            name: name.to_string(),
            kind,
            format: if name == "Name" { "name" } else { "" },
            priority,
            cell: Box::new(cell),
        }
    }

    fn text(name: &str, cell: impl Fn(&Value, i64) -> Value + 'static) -> Column {
        Column::new(name, "string", 0, cell)
    }

    /// A column `kubectl get -o wide` adds (priority 1).
    fn wide_text(name: &str, cell: impl Fn(&Value, i64) -> Value + 'static) -> Column {
        Column::new(name, "string", 1, cell)
    }

    fn integer(name: &str, cell: impl Fn(&Value, i64) -> Value + 'static) -> Column {
        Column::new(name, "integer", 0, cell)
    }

    fn date(name: &str, cell: impl Fn(&Value, i64) -> Value + 'static) -> Column {
        Column::new(name, "date", 0, cell)
    }
}

/// A cell showing what `read` makes of the object's field at `pointer`.
fn at(read: fn(&Value, &str) -> Value, pointer: &'static str) -> impl Fn(&Value, i64) -> Value {
    move |o, _| read(o, pointer)
}

fn shown(o: &Value, pointer: &str) -> Value {
    json!(text(o, pointer))
}

fn shown_or_none(o: &Value, pointer: &str) -> Value {
    or_none(text(o, pointer))
}

fn name_column() -> Column {
    Column::text("Name", at(shown, "/metadata/name"))
}

fn age_column() -> Column {
    Column::text("Age", age)
}

fn deployment_ready(o: &Value) -> Value {
    let ready = o
        .pointer("/status/readyReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let wanted = o
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    json!(format!("{ready}/{wanted}"))
}

fn number(o: &Value, pointer: &str) -> Value {
    json!(o.pointer(pointer).and_then(Value::as_i64).unwrap_or(0))
}

fn service_ports(o: &Value) -> Value {
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| format!("{}/{}", text(p, "/port"), text(p, "/protocol")))
        .collect();
    or_none(ports.join(","))
}

/// A label map as `k=v,k2=v2`, sorted (how selectors are printed).
pub fn label_text(o: &Value, pointer: &str) -> String {
    let mut pairs: Vec<String> = o
        .pointer(pointer)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// A label map as a selector prints, `<none>` when empty.
fn labels(o: &Value, pointer: &str) -> Value {
    or_none(label_text(o, pointer))
}

fn containers(o: &Value, field: &str) -> Value {
    let values: Vec<String> = o
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| text(c, field))
        .collect();
    json!(values.join(","))
}

/// The columns the API server prints for a type.
fn columns(resource: &ResourceType, version: &str) -> Vec<Column> {
    if resource.custom {
        let mut columns = vec![name_column()];
        let printer: Vec<Value> = resource
            .printer_columns
            .iter()
            .find(|(v, _)| v == version)
            .map(|(_, columns)| columns.clone())
            .unwrap_or_default();
        if printer.is_empty() {
            columns.push(age_column());
        }
        for definition in printer {
            let path = definition["jsonPath"].as_str().unwrap_or("").to_string();
            let kind: &'static str = match definition["type"].as_str() {
                Some("date") => "date",
                Some("integer") => "integer",
                Some("number") => "number",
                Some("boolean") => "boolean",
                _ => "string",
            };
            let priority = definition["priority"].as_u64().unwrap_or(0).min(255) as u8;
            let name = definition["name"].as_str().unwrap_or("").to_string();
            columns.push(Column {
                name,
                kind,
                format: "",
                priority,
                cell: Box::new(move |o, now| match (kind, json_path(o, &path)) {
                    ("date", Some(Value::String(s))) => {
                        parse_rfc3339(s).map_or(json!(s), |t| json!(human_duration(now - t)))
                    }
                    (_, Some(value)) => value.clone(),
                    (_, None) => Value::Null,
                }),
            });
        }
        return columns;
    }
    let mut columns = vec![name_column()];
    match (resource.group.as_str(), resource.kind.as_str()) {
        ("", "Namespace") => columns.push(Column::text("Status", at(shown, "/status/phase"))),
        ("", "ConfigMap") => columns.push(Column::integer("Data", |o, _| {
            json!(
                count(o, "/data").as_u64().unwrap_or(0)
                    + count(o, "/binaryData").as_u64().unwrap_or(0)
            )
        })),
        ("", "Secret") => columns.extend([
            Column::text("Type", at(shown, "/type")),
            Column::integer("Data", at(count, "/data")),
        ]),
        ("", "ServiceAccount") => columns.push(Column::integer("Secrets", |o, _| {
            json!(
                o.pointer("/secrets")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)
            )
        })),
        ("", "Service") => {
            columns.extend([
                Column::text("Type", at(shown, "/spec/type")),
                Column::text("Cluster-IP", at(shown_or_none, "/spec/clusterIP")),
                Column::text("External-IP", |_, _| json!("<none>")),
                Column::text("Port(s)", |o, _| service_ports(o)),
                age_column(),
                Column::wide_text("Selector", at(labels, "/spec/selector")),
            ]);
            return columns;
        }
        ("", "Pod") => {
            columns.extend([
                Column::text("Ready", |o, _| {
                    let statuses = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array);
                    let total = o
                        .pointer("/spec/containers")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    let ready = statuses.map_or(0, |s| {
                        s.iter().filter(|c| c["ready"] == json!(true)).count()
                    });
                    json!(format!("{ready}/{total}"))
                }),
                Column::text("Status", at(shown, "/status/phase")),
                Column::text("Restarts", |_, _| json!("0")),
                age_column(),
                Column::wide_text("IP", at(shown_or_none, "/status/podIP")),
                Column::wide_text("Node", at(shown_or_none, "/spec/nodeName")),
            ]);
            return columns;
        }
        ("apps", "ReplicaSet") => columns.extend([
            Column::integer("Desired", at(number, "/spec/replicas")),
            Column::integer("Current", at(number, "/status/replicas")),
            Column::integer("Ready", at(number, "/status/readyReplicas")),
        ]),
        ("apps", "Deployment") => {
            columns.extend([
                Column::text("Ready", |o, _| deployment_ready(o)),
                Column::text("Up-to-date", at(number, "/status/updatedReplicas")),
                Column::text("Available", at(number, "/status/availableReplicas")),
                age_column(),
                Column::wide_text("Containers", at(containers, "/name")),
                Column::wide_text("Images", at(containers, "/image")),
                Column::wide_text("Selector", at(labels, "/spec/selector/matchLabels")),
            ]);
            return columns;
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition")
        | ("rbac.authorization.k8s.io", "ClusterRole" | "Role") => {
            columns.extend([Column::date(
                "Created At",
                at(shown, "/metadata/creationTimestamp"),
            )]);
            return columns;
        }
        ("rbac.authorization.k8s.io", "ClusterRoleBinding" | "RoleBinding") => {
            columns.push(Column::text("Role", |o, _| {
                json!(format!(
                    "{}/{}",
                    text(o, "/roleRef/kind"),
                    text(o, "/roleRef/name")
                ))
            }));
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            columns.extend([Column::text(
                "Pod-Selector",
                at(labels, "/spec/podSelector/matchLabels"),
            )]);
        }
        _ => {}
    }
    columns.push(age_column());
    columns
}

/// The Table of `objects`; rows carry the objects' metadata, as `includeObject=Metadata` does.
pub fn table(
    resource: &ResourceType,
    version: &str,
    objects: &[Value],
    resource_version: u64,
    with_definitions: bool,
) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let columns = columns(resource, version);
    let definitions: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({"name": c.name, "type": c.kind, "format": c.format, "description": "",
                   "priority": c.priority})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let cells: Vec<Value> = columns.iter().map(|c| (c.cell)(object, now)).collect();
            json!({"cells": cells, "object": {
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": object.get("metadata").cloned().unwrap_or(json!({}))}})
        })
        .collect();
    let mut table = json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "rows": rows,
    });
    if with_definitions {
        table["columnDefinitions"] = Value::Array(definitions);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectls() {
        // Expected values from apimachinery's HumanDuration table.
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(125), "2m5s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 120), "3h2m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86_400 + 3600), "3d1h");
        assert_eq!(human_duration(40 * 86_400), "40d");
        assert_eq!(human_duration(3 * 365 * 86_400 + 86_400), "3y1d");
    }

    #[test]
    fn printer_column_paths_with_filters() {
        let object = json!({"status": {"conditions": [
            {"type": "Reconciling", "status": "True"},
            {"type": "Ready", "status": "False", "message": "boom"}]}});
        assert_eq!(
            json_path(&object, ".status.conditions[?(@.type==\"Ready\")].message"),
            Some(&json!("boom"))
        );
        assert_eq!(json_path(&object, ".spec.url"), None);
    }

    #[test]
    fn accept_headers_asking_for_tables() {
        assert!(wanted(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wanted("application/json"));
    }
}
