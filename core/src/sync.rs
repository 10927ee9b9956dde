//! `gotk-sync.yaml` (the GitRepository and Kustomization that make Flux sync itself) and the
//! `kustomization.yaml` next to it, as flux writes them (spec §4.1–4.2).

use crate::install::FluxVersion;
use crate::options::{BranchName, Interval, Namespace};
use crate::yaml::{Mapping, Value, parse_documents, to_yaml};

/// The file of the sync objects flux writes in `<path>/<namespace>/`.
pub const SYNC_FILE: &str = "gotk-sync.yaml";
/// The kustomization flux writes beside it, listing the directory's manifests.
pub const KUSTOMIZATION_FILE: &str = "kustomization.yaml";

/// The secret name flux uses unless `--secret-name` says otherwise: the literal default
/// namespace, whatever `--namespace` is.
pub const DEFAULT_SECRET_NAME: &str = "flux-system";

/// Whether source-controller checks out submodules (`--recurse-submodules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Submodules {
    /// Submodules are not checked out (the default).
    #[default]
    Ignore,
    /// Submodules are checked out (`--recurse-submodules`).
    Recurse,
}

/// What `gotk-sync.yaml` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// The Flux release, which decides the API versions written.
    pub version: FluxVersion,
    /// Name and namespace of both objects.
    pub namespace: Namespace,
    /// The URL the cluster clones (ssh or https form, spec §2.6).
    pub url: String,
    /// The branch the GitRepository follows (`--branch`).
    pub branch: BranchName,
    /// How often the GitRepository fetches (`--interval`).
    pub interval: Interval,
    /// The source Secret the GitRepository authenticates with (`--secret-name`).
    pub secret_name: String,
    /// The repository path as flux's `--path` gives it (`./clusters/prod`), or `""` when unset.
    pub target_path: String,
    /// Whether submodules are checked out (`--recurse-submodules`).
    pub submodules: Submodules,
    /// The only directories the GitRepository checks out (`--sparse-checkout`); empty for all.
    pub sparse_checkout: Vec<String>,
}

/// The API versions flux writes, by release (history of flux's `sync.go`).
pub fn api_versions(version: &FluxVersion) -> (&'static str, &'static str) {
    if *version >= FluxVersion::new(2, 0, 0) {
        (
            "source.toolkit.fluxcd.io/v1",
            "kustomize.toolkit.fluxcd.io/v1",
        )
    } else if *version >= FluxVersion::new(0, 28, 0) {
        (
            "source.toolkit.fluxcd.io/v1beta2",
            "kustomize.toolkit.fluxcd.io/v1beta2",
        )
    } else if *version >= FluxVersion::new(0, 18, 0) {
        (
            "source.toolkit.fluxcd.io/v1beta1",
            "kustomize.toolkit.fluxcd.io/v1beta2",
        )
    } else {
        (
            "source.toolkit.fluxcd.io/v1beta1",
            "kustomize.toolkit.fluxcd.io/v1beta1",
        )
    }
}

fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Mapping>(),
    )
}

fn metadata(namespace: &str) -> Value {
    map([("name", namespace.into()), ("namespace", namespace.into())])
}

/// The Kustomization's `spec.path`: `./` followed by the target path without its `./`.
pub fn kustomization_path(target_path: &str) -> String {
    crate::options::spec_path(target_path)
}

/// The content of `gotk-sync.yaml`.
pub fn generate_sync(options: &SyncOptions) -> String {
    let (source_api, kustomize_api) = api_versions(&options.version);
    let namespace = options.namespace.as_str();
    let mut spec = Mapping::new();
    spec.insert("interval", Value::from(options.interval.to_string()));
    if options.submodules == Submodules::Recurse {
        spec.insert("recurseSubmodules", Value::Bool(true));
    }
    spec.insert("ref", map([("branch", options.branch.as_str().into())]));
    spec.insert(
        "secretRef",
        map([("name", options.secret_name.as_str().into())]),
    );
    if !options.sparse_checkout.is_empty() {
        spec.insert(
            "sparseCheckout",
            Value::Seq(
                options
                    .sparse_checkout
                    .iter()
                    .map(|p| Value::from(p.as_str()))
                    .collect(),
            ),
        );
    }
    spec.insert("url", Value::from(options.url.as_str()));
    let git_repository = map([
        ("apiVersion", source_api.into()),
        ("kind", "GitRepository".into()),
        ("metadata", metadata(namespace)),
        ("spec", Value::Map(spec)),
    ]);
    let kustomization = map([
        ("apiVersion", kustomize_api.into()),
        ("kind", "Kustomization".into()),
        ("metadata", metadata(namespace)),
        (
            "spec",
            map([
                ("interval", "10m0s".into()),
                ("path", kustomization_path(&options.target_path).into()),
                ("prune", Value::Bool(true)),
                (
                    "sourceRef",
                    map([("kind", "GitRepository".into()), ("name", namespace.into())]),
                ),
            ]),
        ),
    ]);
    format!(
        "# This manifest was generated by flux. DO NOT EDIT.\n---\n{}---\n{}",
        to_yaml(&git_repository),
        to_yaml(&kustomization)
    )
}

/// One entry of the directory a `kustomization.yaml` is generated for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryEntry {
    /// A file, with its path relative to the directory and its content.
    File {
        /// The path relative to the directory.
        path: String,
        /// The file's bytes.
        content: Vec<u8>,
    },
    /// A sub-directory that holds a kustomization file of its own.
    KustomizationDirectory {
        /// The path relative to the directory.
        path: String,
    },
}

/// Whether a file is Kubernetes YAML: it parses and its documents have `apiVersion` and `kind`.
fn is_kubernetes_yaml(path: &str, content: &[u8]) -> bool {
    if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
        return false;
    }
    let Ok(text) = std::str::from_utf8(content) else {
        return false;
    };
    match parse_documents(text) {
        Ok(docs) => {
            !docs.is_empty()
                && docs.iter().all(|d| {
                    d.pointer(&["apiVersion"]).and_then(Value::as_str).is_some()
                        && d.pointer(&["kind"]).and_then(Value::as_str).is_some()
                })
        }
        Err(_) => false,
    }
}

/// The content of a new `kustomization.yaml` listing the directory's resources in lexical
/// order: Kubernetes YAML files, and sub-directories with a kustomization of their own. (flux
/// keeps an existing `kustomization.yaml` as it is; callers only call this when there is none.)
pub fn generate_kustomization(entries: &[DirectoryEntry]) -> String {
    let resources: Vec<&str> = entries
        .iter()
        .filter_map(|entry| match entry {
            DirectoryEntry::File { path, content } => (path != KUSTOMIZATION_FILE
                && is_kubernetes_yaml(path, content))
            .then_some(path.as_str()),
            DirectoryEntry::KustomizationDirectory { path } => Some(path.as_str()),
        })
        .collect();
    kustomization_of(&resources)
}

/// A new `kustomization.yaml` listing `resources` (Kubernetes YAML files and kustomization
/// directories) in lexical order.
pub fn kustomization_of(resources: &[&str]) -> String {
    let mut resources = resources.to_vec();
    resources.sort_unstable();
    to_yaml(&map([
        ("apiVersion", "kustomize.config.k8s.io/v1beta1".into()),
        ("kind", "Kustomization".into()),
        (
            "resources",
            Value::Seq(resources.into_iter().map(Value::from).collect()),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> SyncOptions {
        SyncOptions {
            version: FluxVersion::new(2, 9, 4),
            namespace: Namespace::default(),
            url: "ssh://git@bitbucket.example.com:7999/PRJ/fleet-infra".into(),
            branch: BranchName::default(),
            interval: Interval::default(),
            secret_name: DEFAULT_SECRET_NAME.into(),
            target_path: "./clusters/my-cluster".into(),
            submodules: Submodules::Ignore,
            sparse_checkout: Vec::new(),
        }
    }

    #[test]
    fn matches_the_spec_example() {
        // spec §4.1, verbatim.
        let expected = "# This manifest was generated by flux. DO NOT EDIT.
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  secretRef:
    name: flux-system
  url: ssh://git@bitbucket.example.com:7999/PRJ/fleet-infra
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/my-cluster
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";
        assert_eq!(generate_sync(&options()), expected);
    }

    #[test]
    fn optional_fields_sit_where_go_yaml_sorts_them() {
        let mut o = options();
        o.submodules = Submodules::Recurse;
        o.sparse_checkout = vec!["clusters".into(), "apps".into()];
        let text = generate_sync(&o);
        assert!(
            text.contains("  interval: 1m0s\n  recurseSubmodules: true\n  ref:\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "    name: flux-system\n  sparseCheckout:\n  - clusters\n  - apps\n  url: "
            ),
            "{text}"
        );
    }

    #[test]
    fn unset_path_means_the_repository_root() {
        let mut o = options();
        o.target_path = String::new();
        assert!(generate_sync(&o).contains("  path: ./\n"));
        assert_eq!(kustomization_path("clusters/a"), "./clusters/a");
    }

    #[test]
    fn kustomization_lists_kubernetes_files_and_kustomization_dirs() {
        let file = |path: &str, content: &str| DirectoryEntry::File {
            path: path.into(),
            content: content.as_bytes().to_vec(),
        };
        let entries = [
            file("gotk-sync.yaml", "apiVersion: v1\nkind: ConfigMap\n"),
            file(
                "gotk-components.yaml",
                "---\n# header\napiVersion: v1\nkind: Namespace\n",
            ),
            file("notes.txt", "hello"),
            file("values.yaml", "replicas: 2\n"),
            DirectoryEntry::KustomizationDirectory {
                path: "addons".into(),
            },
        ];
        // spec §4.2's usual content, plus the sub-directory.
        assert_eq!(
            generate_kustomization(&entries),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- addons\n- gotk-components.yaml\n- gotk-sync.yaml\n"
        );
    }
}
