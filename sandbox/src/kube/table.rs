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
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let years = days / 365;
    match () {
        _ if seconds < 120 => format!("{seconds}s"),
        _ if minutes < 10 && seconds % 60 == 0 => format!("{minutes}m"),
        _ if minutes < 10 => format!("{minutes}m{}s", seconds % 60),
        _ if minutes < 180 => format!("{minutes}m"),
        _ if hours < 8 && minutes % 60 == 0 => format!("{hours}h"),
        _ if hours < 8 => format!("{hours}h{}m", minutes % 60),
        _ if hours < 48 => format!("{hours}h"),
        _ if hours < 192 && hours % 24 == 0 => format!("{days}d"),
        _ if hours < 192 => format!("{days}d{}h", hours % 24),
        _ if years < 2 => format!("{days}d"),
        _ if years < 8 && days % 365 == 0 => format!("{years}y"),
        _ if years < 8 => format!("{years}y{}d", days % 365),
        _ => format!("{years}y"),
    }
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

fn column(
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

fn name_column() -> Column {
    column("Name", "string", 0, |o, _| json!(text(o, "/metadata/name")))
}

fn age_column() -> Column {
    column("Age", "string", 0, age)
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

fn selector(o: &Value, pointer: &str) -> Value {
    or_none(label_text(o, pointer))
}

fn containers(o: &Value, field: &'static str) -> Value {
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
        ("", "Namespace") => {
            columns.push(column("Status", "string", 0, |o, _| {
                json!(text(o, "/status/phase"))
            }));
        }
        ("", "ConfigMap") => columns.push(column("Data", "integer", 0, |o, _| {
            json!(
                count(o, "/data").as_u64().unwrap_or(0)
                    + count(o, "/binaryData").as_u64().unwrap_or(0)
            )
        })),
        ("", "Secret") => {
            columns.push(column("Type", "string", 0, |o, _| json!(text(o, "/type"))));
            columns.push(column("Data", "integer", 0, |o, _| count(o, "/data")));
        }
        ("", "ServiceAccount") => {
            columns.push(column("Secrets", "integer", 0, |o, _| {
                json!(
                    o.pointer("/secrets")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                )
            }));
        }
        ("", "Service") => {
            columns.push(column("Type", "string", 0, |o, _| {
                json!(text(o, "/spec/type"))
            }));
            columns.push(column("Cluster-IP", "string", 0, |o, _| {
                or_none(text(o, "/spec/clusterIP"))
            }));
            columns.push(column("External-IP", "string", 0, |_, _| json!("<none>")));
            columns.push(column("Port(s)", "string", 0, |o, _| service_ports(o)));
            columns.push(age_column());
            columns.push(column("Selector", "string", 1, |o, _| {
                selector(o, "/spec/selector")
            }));
            return columns;
        }
        ("", "Pod") => {
            columns.push(column("Ready", "string", 0, |o, _| {
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
            }));
            columns.push(column("Status", "string", 0, |o, _| {
                json!(text(o, "/status/phase"))
            }));
            columns.push(column("Restarts", "string", 0, |_, _| json!("0")));
            columns.push(age_column());
            columns.push(column("IP", "string", 1, |o, _| {
                or_none(text(o, "/status/podIP"))
            }));
            columns.push(column("Node", "string", 1, |o, _| {
                or_none(text(o, "/spec/nodeName"))
            }));
            return columns;
        }
        ("apps", "ReplicaSet") => {
            columns.push(column("Desired", "integer", 0, |o, _| {
                number(o, "/spec/replicas")
            }));
            columns.push(column("Current", "integer", 0, |o, _| {
                number(o, "/status/replicas")
            }));
            columns.push(column("Ready", "integer", 0, |o, _| {
                number(o, "/status/readyReplicas")
            }));
        }
        ("apps", "Deployment") => {
            columns.push(column("Ready", "string", 0, |o, _| deployment_ready(o)));
            columns.push(column("Up-to-date", "string", 0, |o, _| {
                number(o, "/status/updatedReplicas")
            }));
            columns.push(column("Available", "string", 0, |o, _| {
                number(o, "/status/availableReplicas")
            }));
            columns.push(age_column());
            columns.push(column("Containers", "string", 1, |o, _| {
                containers(o, "/name")
            }));
            columns.push(column("Images", "string", 1, |o, _| {
                containers(o, "/image")
            }));
            columns.push(column("Selector", "string", 1, |o, _| {
                selector(o, "/spec/selector/matchLabels")
            }));
            return columns;
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition")
        | ("rbac.authorization.k8s.io", "ClusterRole" | "Role") => {
            columns.push(column("Created At", "date", 0, |o, _| {
                json!(text(o, "/metadata/creationTimestamp"))
            }));
            return columns;
        }
        ("rbac.authorization.k8s.io", "ClusterRoleBinding" | "RoleBinding") => {
            columns.push(column("Role", "string", 0, |o, _| {
                json!(format!(
                    "{}/{}",
                    text(o, "/roleRef/kind"),
                    text(o, "/roleRef/name")
                ))
            }));
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            columns.push(column("Pod-Selector", "string", 0, |o, _| {
                selector(o, "/spec/podSelector/matchLabels")
            }));
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
