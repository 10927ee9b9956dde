//! The resource types the emulator serves: the built-in ones Flux and kubectl need, and the
//! ones CustomResourceDefinitions add once they are Established.

use std::cmp::Ordering;

use serde_json::Value;

use super::fields::Schema;

/// One resource type, as discovery describes it.
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub group: String,
    /// Served versions, highest priority first.
    pub versions: Vec<String>,
    pub kind: String,
    pub list_kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub namespaced: bool,
    pub status_subresource: bool,
    /// Deployments and ReplicaSets answer `/scale` (what `kubectl scale` uses).
    pub scale_subresource: bool,
    /// Types with a spec count `metadata.generation`.
    pub has_generation: bool,
    /// Custom resources: strategic merge patches are refused (415).
    pub custom: bool,
    pub schema: Schema,
    /// A CRD's `additionalPrinterColumns`, by version.
    pub printer_columns: Vec<(String, Vec<Value>)>,
}

impl ResourceType {
    /// `deployments.apps`, or `configmaps` for the core group, as error messages name it.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    pub fn storage_version(&self) -> &str {
        &self.versions[0]
    }
}

/// The built-in types: under each apiVersion, a line per kind with its plural, short names and
/// categories (comma-separated, `-` for none), then what holds of it: `namespaced`, `status` (a
/// status subresource), `generation` (a spec, which `metadata.generation` counts).
const BUILT_INS: &str = "
v1
    Namespace namespaces ns - status
    ConfigMap configmaps cm - namespaced
    Secret secrets - - namespaced
    Service services svc all namespaced status
    ServiceAccount serviceaccounts sa - namespaced
    ResourceQuota resourcequotas quota - namespaced status
    Pod pods po all namespaced status generation
apps/v1
    Deployment deployments deploy all namespaced status generation
    ReplicaSet replicasets rs all namespaced status generation
rbac.authorization.k8s.io/v1
    ClusterRole clusterroles - -
    ClusterRoleBinding clusterrolebindings - -
    Role roles - - namespaced
    RoleBinding rolebindings - - namespaced
networking.k8s.io/v1
    NetworkPolicy networkpolicies netpol - namespaced generation
apiextensions.k8s.io/v1
    CustomResourceDefinition customresourcedefinitions crd,crds api-extensions status generation
";

pub fn built_in_types() -> Vec<ResourceType> {
    let list = |words: &str| -> Vec<String> {
        words
            .split(',')
            .filter(|w| *w != "-")
            .map(str::to_string)
            .collect()
    };
    let mut api_version = "";
    let mut types = Vec::new();
    for line in BUILT_INS.lines().filter(|l| !l.trim().is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [kind, plural, short_names, categories, ref traits @ ..] = words[..] else {
            // A line of one word: the apiVersion of the kinds below it.
            api_version = line.trim();
            continue;
        };
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        assert!(
            traits
                .iter()
                .all(|t| ["namespaced", "status", "generation"].contains(t)),
            "a built-in type's traits are namespaced, status and generation: {line}"
        );
        let has = |wanted: &str| traits.contains(&wanted);
        types.push(ResourceType {
            group: group.to_string(),
            versions: vec![version.to_string()],
            kind: kind.to_string(),
            list_kind: format!("{kind}List"),
            plural: plural.to_string(),
            singular: kind.to_lowercase(),
            short_names: list(short_names),
            categories: list(categories),
            namespaced: has("namespaced"),
            status_subresource: has("status"),
            scale_subresource: group == "apps",
            has_generation: has("generation"),
            custom: false,
            schema: Schema::BuiltIn,
            printer_columns: Vec::new(),
        });
    }
    types
}

/// Kubernetes' version priority: GA before beta before alpha, higher numbers first, and
/// versions that do not look like Kubernetes versions last, alphabetically.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn rank(version: &str) -> Option<(u8, u64, u64)> {
        let rest = version.strip_prefix('v')?;
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let major: u64 = rest[..digits_end].parse().ok()?;
        let tail = &rest[digits_end..];
        if tail.is_empty() {
            return Some((3, major, 0));
        }
        for (prefix, level) in [("beta", 2u8), ("alpha", 1u8)] {
            if let Some(minor) = tail.strip_prefix(prefix) {
                let minor = minor.parse().ok()?;
                return Some((level, major, minor));
            }
        }
        None
    }
    match (rank(a), rank(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// The resource type a CRD defines, with its served versions in priority order (the storage
/// version first, since the emulator stores and converts nothing).
pub fn type_of_crd(crd: &Value) -> Option<ResourceType> {
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let list = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let kind = text(names.get("kind"))?;
    let versions = spec.get("versions")?.as_array()?;
    let mut served: Vec<&Value> = versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) != Some(false))
        .collect();
    served.sort_by(|a, b| {
        compare_versions(
            a.get("name").and_then(Value::as_str).unwrap_or(""),
            b.get("name").and_then(Value::as_str).unwrap_or(""),
        )
    });
    let storage = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .or(served.first().copied())?;
    Some(ResourceType {
        group: text(spec.get("group"))?,
        versions: served.iter().filter_map(|v| text(v.get("name"))).collect(),
        list_kind: text(names.get("listKind")).unwrap_or_else(|| format!("{kind}List")),
        plural: text(names.get("plural"))?,
        singular: text(names.get("singular")).unwrap_or_else(|| kind.to_lowercase()),
        kind,
        short_names: list(names.get("shortNames")),
        categories: list(names.get("categories")),
        namespaced: text(spec.get("scope")).as_deref() != Some("Cluster"),
        status_subresource: storage.pointer("/subresources/status").is_some(),
        scale_subresource: false,
        has_generation: true,
        custom: true,
        schema: Schema::Custom(
            storage
                .pointer("/schema/openAPIV3Schema")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        printer_columns: served
            .iter()
            .filter_map(|v| {
                let columns = v
                    .get("additionalPrinterColumns")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                Some((text(v.get("name"))?, columns))
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_sort_by_kubernetes_priority() {
        let mut versions = vec!["v1alpha1", "v1beta2", "v2", "v1", "foo", "v1beta1", "v10"];
        versions.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            versions,
            ["v10", "v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]
        );
    }

    #[test]
    fn crd_type_lists_served_versions_in_priority_order() {
        let crd = json!({"spec": {"group": "source.toolkit.fluxcd.io", "scope": "Namespaced",
        "names": {"kind": "GitRepository", "plural": "gitrepositories",
                  "singular": "gitrepository", "shortNames": ["gitrepo"]},
        "versions": [
            {"name": "v1beta2", "served": true, "storage": false},
            {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}},
            {"name": "v1beta1", "served": false, "storage": false}
        ]}});
        let resource = type_of_crd(&crd).unwrap();
        assert_eq!(resource.versions, ["v1", "v1beta2"]);
        assert!(resource.namespaced);
        assert!(resource.status_subresource);
        assert_eq!(resource.short_names, ["gitrepo"]);
    }
}
