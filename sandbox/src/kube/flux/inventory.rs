//! A Kustomization's inventory (`status.inventory.entries`): what it applied, by Flux's object
//! ids, and pruning what left it since the last reconcile.

use serde_json::Value;

use super::super::store::Store;
use super::super::text;

/// `<namespace>_<name>_<group>_<Kind>`, as Flux's inventory spells object ids (cluster-scoped
/// objects have an empty namespace, the core group an empty group).
pub(super) fn inventory_id(object: &Value) -> String {
    let api_version = text(object, "/apiVersion");
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    format!(
        "{}_{}_{}_{}",
        text(object, "/metadata/namespace"),
        text(object, "/metadata/name"),
        group,
        text(object, "/kind")
    )
}

/// An object id's parts: namespace, name, group, kind. Names, groups and kinds cannot hold
/// `_`, so the first three underscores separate them.
fn parse_inventory_id(id: &str) -> Option<[&str; 4]> {
    let mut parts = id.splitn(4, '_');
    Some([parts.next()?, parts.next()?, parts.next()?, parts.next()?])
}

/// Deletes what `previous` (the last inventory) lists and `current` does not.
pub(super) fn prune(store: &mut Store, previous: &[Value], current: &[Value]) {
    let id_of = |entry: &Value| entry.get("id").and_then(Value::as_str).map(str::to_string);
    let kept: Vec<String> = current.iter().filter_map(id_of).collect();
    for id in previous.iter().filter_map(id_of) {
        if kept.contains(&id) {
            continue;
        }
        if let Some([namespace, name, group, kind]) = parse_inventory_id(&id)
            && let Some(resource) = store.find_kind(group, kind)
        {
            let _ = store.delete(&resource, namespace, name, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::super::schema::FieldValidation;
    use super::super::super::store::{Part, WriteOptions};
    use super::*;

    #[test]
    fn ids_are_namespace_name_group_kind() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                                "metadata": {"name": "source-controller", "namespace": "flux-system"}});
        assert_eq!(
            inventory_id(&deployment),
            "flux-system_source-controller_apps_Deployment"
        );
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}});
        assert_eq!(inventory_id(&namespace), "_flux-system__Namespace");
        assert_eq!(
            parse_inventory_id("_flux-system__Namespace"),
            Some(["", "flux-system", "", "Namespace"])
        );
        assert_eq!(
            parse_inventory_id("flux-system_source-controller_apps_Deployment"),
            Some(["flux-system", "source-controller", "apps", "Deployment"])
        );
        assert_eq!(parse_inventory_id("no-underscores"), None);
    }

    #[test]
    fn what_left_the_inventory_is_deleted_and_the_rest_kept() {
        let mut store = Store::with_system_namespaces();
        let config_maps = store.find_kind("", "ConfigMap").unwrap();
        let options = WriteOptions {
            manager: "kustomize-controller".into(),
            version: "v1".into(),
            part: Part::Main,
            dry_run: false,
            validation: FieldValidation::Prune,
        };
        for name in ["stays", "goes"] {
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": name, "namespace": "default"}});
            store
                .create(&config_maps, "default", body, &options)
                .unwrap();
        }
        let entry = |name: &str| json!({"id": format!("default_{name}__ConfigMap"), "v": "v1"});
        prune(
            &mut store,
            &[entry("stays"), entry("goes"), entry("never-existed")],
            &[entry("stays")],
        );
        assert!(store.get(&config_maps, "default", "stays").is_some());
        assert!(store.get(&config_maps, "default", "goes").is_none());
    }
}
