//! What kustomize does in flux's install pipeline (spec §5.2–5.3), done directly on documents:
//! namespaces, the roles' name suffix and name references, labels, the node-selector patch,
//! the per-component argument patches and the image names.

use crate::yaml::{Mapping, Value};

/// Kinds without a namespace among those flux installs.
fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "CustomResourceDefinition"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "PriorityClass"
            | "StorageClass"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
    )
}

pub(super) fn kind(doc: &Value) -> &str {
    doc.pointer(&["kind"])
        .and_then(Value::as_str)
        .unwrap_or_default()
}

pub(super) fn name(doc: &Value) -> &str {
    doc.pointer(&["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn metadata(doc: &mut Value) -> Option<&mut Mapping> {
    doc.as_map_mut()?.entry_map("metadata").as_map_mut()
}

/// kustomize's namespace transformer: namespaced objects get `metadata.namespace`.
pub(super) fn set_namespace(doc: &mut Value, namespace: &str) {
    if is_cluster_scoped(kind(doc)) {
        return;
    }
    if let Some(meta) = metadata(doc) {
        meta.insert("namespace", Value::from(namespace));
    }
}

/// kustomize's `nameSuffix`.
pub(super) fn add_name_suffix(doc: &mut Value, suffix: &str) {
    if let Some(meta) = metadata(doc) {
        let name = meta.get("name").and_then(Value::as_str).unwrap_or_default();
        let renamed = format!("{name}{suffix}");
        meta.insert("name", Value::from(renamed));
    }
}

/// kustomize's name-reference fix-up for role bindings: a `roleRef` to a role renamed in the
/// same build follows the new name.
pub(super) fn update_role_refs(doc: &mut Value, renamed: &[(String, String, String)]) {
    if !matches!(kind(doc), "RoleBinding" | "ClusterRoleBinding") {
        return;
    }
    let Some(role_ref) = doc
        .as_map_mut()
        .and_then(|m| m.get_mut("roleRef"))
        .and_then(Value::as_map_mut)
    else {
        return;
    };
    let ref_kind = role_ref
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let ref_name = role_ref
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if let Some((_, _, new)) = renamed
        .iter()
        .find(|(k, old, _)| *k == ref_kind && *old == ref_name)
    {
        role_ref.insert("name", Value::from(new.as_str()));
    }
}

fn mapping_at<'a>(doc: &'a mut Value, path: &[&str]) -> Option<&'a mut Mapping> {
    let mut current = doc;
    for key in path {
        current = current.as_map_mut()?.entry_map(key);
    }
    current.as_map_mut()
}

/// flux's LabelTransformer: labels on every object's metadata and, in newer templates, on
/// Deployment pod templates.
pub(super) fn add_labels(doc: &mut Value, labels: &[(&str, &str)], pod_templates: bool) {
    let is_deployment = kind(doc) == "Deployment";
    let mut targets: Vec<&[&str]> = vec![&["metadata", "labels"]];
    if is_deployment && pod_templates {
        targets.push(&["spec", "template", "metadata", "labels"]);
    }
    for path in targets {
        if let Some(map) = mapping_at(doc, path) {
            for (key, value) in labels {
                map.insert(*key, Value::from(*value));
            }
        }
    }
}

fn pod_spec(doc: &mut Value) -> Option<&mut Mapping> {
    mapping_at(doc, &["spec", "template", "spec"])
}

/// The node-selector patch flux applies to every Deployment: Linux nodes, and the image pull
/// secret and tolerations when asked for.
pub(super) fn patch_pod_placement(
    doc: &mut Value,
    image_pull_secret: Option<&str>,
    toleration_keys: &[String],
) {
    let Some(spec) = pod_spec(doc) else { return };
    if let Some(selector) = spec.entry_map("nodeSelector").as_map_mut() {
        selector.insert("kubernetes.io/os", Value::from("linux"));
    }
    if let Some(secret) = image_pull_secret {
        let entry: Mapping = [("name".to_string(), Value::from(secret))]
            .into_iter()
            .collect();
        // Strategic merge on `name`: add unless already listed.
        let list = match spec.get_mut("imagePullSecrets") {
            Some(Value::Seq(list)) => list,
            _ => {
                spec.insert("imagePullSecrets", Value::Seq(Vec::new()));
                spec.get_mut("imagePullSecrets")
                    .and_then(Value::as_seq_mut)
                    .expect("just inserted")
            }
        };
        if !list
            .iter()
            .any(|v| v.pointer(&["name"]).and_then(Value::as_str) == Some(secret))
        {
            list.push(Value::Map(entry));
        }
    }
    if !toleration_keys.is_empty() {
        let tolerations = toleration_keys
            .iter()
            .map(|key| {
                Value::Map(
                    [
                        ("key".to_string(), Value::from(key.as_str())),
                        ("operator".to_string(), Value::from("Exists")),
                    ]
                    .into_iter()
                    .collect(),
                )
            })
            .collect();
        spec.insert("tolerations", Value::Seq(tolerations));
    }
}

fn first_container_args(doc: &mut Value) -> Option<&mut Vec<Value>> {
    let containers = pod_spec(doc)?.get_mut("containers")?.as_seq_mut()?;
    containers
        .first_mut()?
        .as_map_mut()?
        .get_mut("args")?
        .as_seq_mut()
}

/// A JSON6902 `replace` of `args/<index>` on the first container. kustomize fails the build
/// when the index does not exist; that is reported as the manifest not matching the release.
pub(super) fn replace_arg(doc: &mut Value, index: usize, value: String) -> bool {
    match first_container_args(doc).and_then(|args| args.get_mut(index)) {
        Some(slot) => {
            *slot = Value::Str(value);
            true
        }
        None => false,
    }
}

/// A JSON6902 `add` of `args/-` on the first container.
pub(super) fn append_arg(doc: &mut Value, value: String) -> bool {
    match first_container_args(doc) {
        Some(args) => {
            args.push(Value::Str(value));
            true
        }
        None => false,
    }
}

/// kustomize's images transformer: `fluxcd/<c>[:tag]` becomes `<registry>/<c>[:tag]`.
pub(super) fn rewrite_images(doc: &mut Value, renames: &[(String, String)]) {
    let Some(spec) = pod_spec(doc) else { return };
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_seq_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_map_mut) {
            let Some(image) = container.get("image").and_then(Value::as_str) else {
                continue;
            };
            // The image name ends at the tag (`:` after the last `/`) or the digest (`@`).
            let name_end = image
                .find('@')
                .or_else(|| {
                    let slash = image.rfind('/').map_or(0, |i| i + 1);
                    image[slash..].find(':').map(|i| slash + i)
                })
                .unwrap_or(image.len());
            let (image_name, rest) = image.split_at(name_end);
            if let Some((_, new_name)) = renames.iter().find(|(old, _)| old == image_name) {
                let renamed = format!("{new_name}{rest}");
                container.insert("image", Value::Str(renamed));
            }
        }
    }
}
