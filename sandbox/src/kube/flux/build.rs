//! kustomize-controller's build of `spec.path`, reduced to what a bootstrap repository needs:
//! a `kustomization.yaml`'s `resources` (files and directories), or — when there is none —
//! every YAML file below the path, as the controller generates a kustomization for it. The
//! documents become the objects to apply: `List`s unrolled, kustomize's own config objects and
//! empty documents left out.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::super::yaml::parse_documents;

/// The names kustomize looks for, in its order.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The objects `dir` builds to, in file order.
pub(super) fn build(dir: &Path) -> Result<Vec<Value>, String> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
        let documents = parse_documents(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        for document in documents {
            push_object(document, &mut objects);
        }
    }
    Ok(objects)
}

/// The YAML files a Kustomization builds from `dir`: its kustomization file's `resources`, or
/// every YAML file below it (sorted, hidden entries skipped).
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let kustomization = KUSTOMIZATION_FILES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file());
    if let Some(path) = kustomization {
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let config = parse_documents(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .into_iter()
            .next()
            .unwrap_or(Value::Null);
        for resource in config
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let target = dir.join(resource);
            if target.is_dir() {
                collect_files(&target, out)?;
            } else if target.is_file() {
                out.push(target);
            } else {
                return Err(format!(
                    "accumulating resources: accumulation err='accumulating resources from \
                     '{resource}': open {}: no such file or directory'",
                    target.display()
                ));
            }
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_files(&entry, out)?;
        } else if entry.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(entry);
        }
    }
    Ok(())
}

/// kustomize's own `Kustomization` (config, not an API object).
fn is_kustomize_config(object: &Value) -> bool {
    let text = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    text("kind") == "Kustomization" && text("apiVersion").starts_with("kustomize.config.k8s.io/")
}

/// Adds one document's objects: a `List` (or `…List`) with `items` gives its items.
fn push_object(object: Value, out: &mut Vec<Value>) {
    if object.is_null() || object.as_object().is_some_and(|m| m.is_empty()) {
        return;
    }
    let is_list = object
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.ends_with("List"));
    if is_list && let Some(Value::Array(items)) = object.get("items") {
        for item in items {
            push_object(item.clone(), out);
        }
        return;
    }
    if !is_kustomize_config(&object) {
        out.push(object);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "fluxstrap-flux-build-{name}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.0.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }

        fn names(&self, files: &[PathBuf]) -> Vec<String> {
            files
                .iter()
                .map(|f| f.strip_prefix(&self.0).unwrap().display().to_string())
                .collect()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn namespace(name: &str) -> String {
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
    }

    #[test]
    fn without_a_kustomization_every_yaml_file_below_counts_in_path_order() {
        let dir = TempDir::new("all");
        dir.write("b.yaml", &namespace("b"));
        dir.write("a/z.yml", &namespace("z"));
        dir.write("README.md", "not yaml");
        dir.write(".hidden/x.yaml", &namespace("x"));
        dir.write("c.json", "{}");
        let mut files = Vec::new();
        collect_files(&dir.0, &mut files).unwrap();
        assert_eq!(dir.names(&files), ["a/z.yml", "b.yaml"]);
    }

    #[test]
    fn a_kustomization_lists_its_resources_in_its_order() {
        let dir = TempDir::new("resources");
        dir.write(
            "kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             resources:\n- gotk-sync.yaml\n- flux-system\n",
        );
        dir.write("gotk-sync.yaml", &namespace("sync"));
        dir.write("ignored.yaml", &namespace("ignored"));
        dir.write(
            "flux-system/kustomization.yaml",
            "resources:\n- gotk-components.yaml\n",
        );
        dir.write(
            "flux-system/gotk-components.yaml",
            &namespace("flux-system"),
        );
        let mut files = Vec::new();
        collect_files(&dir.0, &mut files).unwrap();
        assert_eq!(
            dir.names(&files),
            ["gotk-sync.yaml", "flux-system/gotk-components.yaml"]
        );
    }

    #[test]
    fn a_missing_resource_fails_as_kustomize_says() {
        let dir = TempDir::new("missing");
        dir.write("kustomization.yaml", "resources:\n- nope.yaml\n");
        let error = collect_files(&dir.0, &mut Vec::new()).unwrap_err();
        assert_eq!(
            error,
            format!(
                "accumulating resources: accumulation err='accumulating resources from \
                 'nope.yaml': open {}: no such file or directory'",
                dir.0.join("nope.yaml").display()
            )
        );
    }

    #[test]
    fn lists_are_unrolled_and_kustomize_config_and_empty_documents_dropped() {
        let dir = TempDir::new("objects");
        dir.write(
            "all.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  \
             metadata: {name: a}\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: b}\n\
             ---\n---\n{}\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             ---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n\
             metadata: {name: flux-system}\n",
        );
        let objects = build(&dir.0).unwrap();
        let found: Vec<(&str, &str)> = objects
            .iter()
            .map(|o| {
                (
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("Namespace", "a"),
                ("Namespace", "b"),
                ("Kustomization", "flux-system")
            ]
        );
    }
}
