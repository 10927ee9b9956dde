//! Discovery documents (aggregated `apidiscovery.k8s.io/v2` and the legacy lists) and the
//! OpenAPI v3 stub kubectl needs for `--validate=strict`, all generated from the live types so
//! a new CRD shows up at once.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::types::{ResourceType, compare_versions};

pub const VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

/// Groups and their versions (highest priority first), core group excluded.
fn groups(types: &[&ResourceType]) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for resource in types.iter().filter(|t| !t.group.is_empty()) {
        let versions = groups.entry(resource.group.clone()).or_default();
        for version in &resource.versions {
            if !versions.contains(version) {
                versions.push(version.clone());
            }
        }
    }
    for versions in groups.values_mut() {
        versions.sort_by(|a, b| compare_versions(a, b));
    }
    groups
}

/// Built-in groups first in Kubernetes' order, then the custom ones alphabetically.
fn group_order(name: &str) -> (usize, String) {
    const ORDER: &[&str] = &[
        "apps",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
        "apiextensions.k8s.io",
    ];
    (
        ORDER.iter().position(|g| *g == name).unwrap_or(ORDER.len()),
        name.to_string(),
    )
}

fn sorted_groups(types: &[&ResourceType]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = groups(types).into_iter().collect();
    groups.sort_by_key(|(name, _)| group_order(name));
    groups
}

fn aggregated_resource(resource: &ResourceType, version: &str) -> Value {
    let kind = json!({"group": resource.group, "version": version, "kind": resource.kind});
    let mut entry = json!({
        "resource": resource.plural,
        "responseKind": kind,
        "scope": if resource.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": resource.singular,
        "verbs": VERBS,
    });
    if !resource.short_names.is_empty() {
        entry["shortNames"] = json!(resource.short_names);
    }
    if !resource.categories.is_empty() {
        entry["categories"] = json!(resource.categories);
    }
    let mut subresources = Vec::new();
    if resource.status_subresource {
        subresources
            .push(json!({"subresource": "status", "responseKind": kind, "verbs": STATUS_VERBS}));
    }
    if resource.scale_subresource {
        subresources.push(json!({"subresource": "scale",
            "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": STATUS_VERBS}));
    }
    if !subresources.is_empty() {
        entry["subresources"] = Value::Array(subresources);
    }
    entry
}

fn aggregated_versions(types: &[&ResourceType], group: &str, versions: &[String]) -> Value {
    Value::Array(
        versions
            .iter()
            .map(|version| {
                let resources: Vec<Value> = types
                    .iter()
                    .filter(|t| t.group == group && t.versions.contains(version))
                    .map(|t| aggregated_resource(t, version))
                    .collect();
                json!({"version": version, "resources": resources, "freshness": "Current"})
            })
            .collect(),
    )
}

/// `GET /api` or `GET /apis` with an aggregated Accept type (`v2` or `v2beta1`, same shape).
pub fn aggregated(types: &[&ResourceType], core: bool, version: &str) -> Value {
    let items: Vec<Value> = if core {
        vec![json!({"metadata": {"creationTimestamp": null},
                    "versions": aggregated_versions(types, "", &["v1".to_string()])})]
    } else {
        sorted_groups(types)
            .into_iter()
            .map(|(group, versions)| {
                json!({"metadata": {"name": group, "creationTimestamp": null},
                       "versions": aggregated_versions(types, &group, &versions)})
            })
            .collect()
    };
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": format!("apidiscovery.k8s.io/{version}"),
           "metadata": {}, "items": items})
}

pub fn core_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]})
}

fn api_group(group: &str, versions: &[String]) -> Value {
    let version_entries: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({"name": group, "versions": version_entries,
           "preferredVersion": version_entries.first().cloned().unwrap_or(Value::Null)})
}

/// `GET /apis` without aggregation.
pub fn group_list(types: &[&ResourceType]) -> Value {
    let groups: Vec<Value> = sorted_groups(types)
        .into_iter()
        .map(|(group, versions)| api_group(&group, &versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/{group}`.
pub fn group(types: &[&ResourceType], group: &str) -> Option<Value> {
    let groups = groups(types);
    let versions = groups.get(group)?;
    let mut doc = api_group(group, versions);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// The types a group-version serves; `None` when it serves none (an unknown path).
fn serving<'a>(
    types: &[&'a ResourceType],
    group: &str,
    version: &str,
) -> Option<Vec<&'a ResourceType>> {
    let matching: Vec<&ResourceType> = types
        .iter()
        .copied()
        .filter(|t| t.group == group && t.versions.iter().any(|v| v == version))
        .collect();
    (!matching.is_empty()).then_some(matching)
}

/// `GET /api/v1` or `GET /apis/{group}/{version}`.
pub fn resource_list(types: &[&ResourceType], group: &str, version: &str) -> Option<Value> {
    let matching = serving(types, group, version)?;
    let mut resources = Vec::new();
    for resource in matching {
        let mut entry = json!({
            "name": resource.plural, "singularName": resource.singular,
            "namespaced": resource.namespaced, "kind": resource.kind, "verbs": VERBS,
        });
        if !resource.short_names.is_empty() {
            entry["shortNames"] = json!(resource.short_names);
        }
        if !resource.categories.is_empty() {
            entry["categories"] = json!(resource.categories);
        }
        resources.push(entry);
        if resource.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", resource.plural), "singularName": "",
                "namespaced": resource.namespaced, "kind": resource.kind, "verbs": STATUS_VERBS,
            }));
        }
        if resource.scale_subresource {
            resources.push(json!({
                "name": format!("{}/scale", resource.plural), "singularName": "",
                "namespaced": resource.namespaced, "group": "autoscaling", "version": "v1",
                "kind": "Scale", "verbs": STATUS_VERBS,
            }));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": group_version, "resources": resources}))
}

/// `GET /openapi/v3`: one entry per group-version, its hash following the types.
pub fn openapi_index(types: &[&ResourceType], revision: u64) -> Value {
    let mut paths = serde_json::Map::new();
    paths.insert(
        "api/v1".into(),
        json!({"serverRelativeURL": format!("/openapi/v3/api/v1?hash={revision:016X}")}),
    );
    for (group, versions) in sorted_groups(types) {
        for version in versions {
            let key = format!("apis/{group}/{version}");
            paths.insert(
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={revision:016X}")}),
            );
        }
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/{api/v1 | apis/g/v}`: for each kind, the PATCH operation with its
/// group-version-kind and the `fieldValidation` parameter, which is what kubectl reads to
/// decide that the server validates fields itself. Schemas are open objects.
pub fn openapi_group_version(types: &[&ResourceType], group: &str, version: &str) -> Option<Value> {
    let matching = serving(types, group, version)?;
    let prefix = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for resource in matching {
        let gvk = json!({"group": resource.group, "version": version, "kind": resource.kind});
        let schema_name = format!(
            "{}.{version}.{}",
            if group.is_empty() {
                "io.k8s.api.core"
            } else {
                group
            },
            resource.kind
        );
        let operation = |action: &str| {
            json!({
                "operationId": format!("{action}{}", resource.kind),
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{schema_name}")}}}}},
            })
        };
        let item_path = if resource.namespaced {
            format!(
                "{prefix}/namespaces/{{namespace}}/{}/{{name}}",
                resource.plural
            )
        } else {
            format!("{prefix}/{}/{{name}}", resource.plural)
        };
        let collection_path = item_path.trim_end_matches("/{name}").to_string();
        paths.insert(
            item_path,
            json!({"get": operation("get"), "put": operation("put"),
                   "patch": operation("patch"), "delete": operation("delete")}),
        );
        paths.insert(
            collection_path,
            json!({"get": operation("list"), "post": operation("post")}),
        );
        schemas.insert(
            schema_name,
            json!({"type": "object", "x-kubernetes-group-version-kind": [gvk],
                   "x-kubernetes-preserve-unknown-fields": true}),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}
