//! Apply order and stages, as Flux's `ssa` package orders objects (spec §6.2–6.3).

use serde_json::Value;

/// Identity of an API object as the apply order sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// The API group, empty for the core group (`v1`).
    pub group: String,
    /// The API version within the group.
    pub version: String,
    /// The kind, e.g. `Deployment`.
    pub kind: String,
    /// The namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl ObjectRef {
    /// Reads `apiVersion`, `kind`, `metadata.namespace` and `metadata.name`; `None` when the
    /// object lacks a kind, an apiVersion or a name.
    pub fn of(object: &Value) -> Option<Self> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        let metadata = object.get("metadata")?;
        Some(Self {
            group: group.to_string(),
            version: version.to_string(),
            kind: object.get("kind")?.as_str()?.to_string(),
            namespace: metadata
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            name: metadata.get("name")?.as_str()?.to_string(),
        })
    }

    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects, as flux prints them.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The two stages of flux's CLI apply: cluster definitions first (then wait for them), then the
/// rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApplyStage {
    /// CustomResourceDefinitions, Namespaces and ClusterRoles.
    ClusterDefinitions,
    /// Everything else, applied once the definitions are established.
    Resources,
}

/// Which stage an object belongs to (flux's `IsClusterDefinition`).
pub fn apply_stage(object: &ObjectRef) -> ApplyStage {
    let definition = matches!(
        (object.group.as_str(), object.kind.as_str()),
        ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("", "Namespace")
            | ("rbac.authorization.k8s.io", "ClusterRole")
    );
    if definition {
        ApplyStage::ClusterDefinitions
    } else {
        ApplyStage::Resources
    }
}

/// Kinds applied first, in this order; unknown kinds follow, webhooks come last.
const FIRST_KINDS: [&str; 23] = [
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

const LAST_KINDS: [&str; 2] = [
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn kind_rank(kind: &str) -> usize {
    if let Some(i) = FIRST_KINDS.iter().position(|k| *k == kind) {
        i
    } else if let Some(i) = LAST_KINDS.iter().position(|k| *k == kind) {
        FIRST_KINDS.len() + 1 + i
    } else {
        FIRST_KINDS.len()
    }
}

/// The apply order of two objects: by kind rank, then (for kinds outside the known list) group
/// and kind, then namespace and name.
pub fn compare_for_apply(a: &ObjectRef, b: &ObjectRef) -> std::cmp::Ordering {
    kind_rank(&a.kind)
        .cmp(&kind_rank(&b.kind))
        .then_with(|| a.group.cmp(&b.group))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.namespace.cmp(&b.namespace))
        .then_with(|| a.name.cmp(&b.name))
}

/// Sorts objects into apply order (see [`compare_for_apply`]).
pub fn sort_for_apply(objects: &mut [ObjectRef]) {
    objects.sort_by(compare_for_apply);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An object's `apiVersion` and `kind`.
    type Type = (&'static str, &'static str);
    const CRD: Type = ("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    const NAMESPACE: Type = ("v1", "Namespace");
    const CLUSTER_ROLE: Type = ("rbac.authorization.k8s.io/v1", "ClusterRole");
    const CLUSTER_ROLE_BINDING: Type = ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding");
    const SERVICE_ACCOUNT: Type = ("v1", "ServiceAccount");
    const SECRET: Type = ("v1", "Secret");
    const DEPLOYMENT: Type = ("apps/v1", "Deployment");
    const NETWORK_POLICY: Type = ("networking.k8s.io/v1", "NetworkPolicy");
    const GIT_REPOSITORY: Type = ("source.toolkit.fluxcd.io/v1", "GitRepository");
    const KUSTOMIZATION: Type = ("kustomize.toolkit.fluxcd.io/v1", "Kustomization");
    const WEBHOOK: Type = (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    );

    fn object((api_version, kind): Type, namespace: &str, name: &str) -> ObjectRef {
        let mut metadata = json!({ "name": name });
        if !namespace.is_empty() {
            metadata["namespace"] = json!(namespace);
        }
        ObjectRef::of(&json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata }))
            .unwrap()
    }

    #[test]
    fn reads_group_and_version() {
        let crd = object(CRD, "", "x");
        assert_eq!(
            (crd.group.as_str(), crd.version.as_str()),
            ("apiextensions.k8s.io", "v1")
        );
        let ns = object(NAMESPACE, "", "flux-system");
        assert_eq!((ns.group.as_str(), ns.version.as_str()), ("", "v1"));
        assert_eq!(ns.display(), "Namespace/flux-system");
        assert_eq!(
            object(SECRET, "flux-system", "s").display(),
            "Secret/flux-system/s"
        );
        assert_eq!(ObjectRef::of(&json!({ "kind": "Namespace" })), None);
    }

    #[test]
    fn stages_split_cluster_definitions() {
        for (kind, namespace, stage) in [
            (CRD, "", ApplyStage::ClusterDefinitions),
            (NAMESPACE, "", ApplyStage::ClusterDefinitions),
            (CLUSTER_ROLE, "", ApplyStage::ClusterDefinitions),
            // A ClusterRoleBinding refers to roles but defines nothing; it waits for stage two.
            (CLUSTER_ROLE_BINDING, "", ApplyStage::Resources),
            (DEPLOYMENT, "ns", ApplyStage::Resources),
        ] {
            assert_eq!(
                apply_stage(&object(kind, namespace, "a")),
                stage,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn sorts_like_flux_reconcile_order() {
        let mut objects = vec![
            object(WEBHOOK, "", "w"),
            object(NETWORK_POLICY, "flux-system", "allow-egress"),
            object(DEPLOYMENT, "flux-system", "source-controller"),
            object(DEPLOYMENT, "flux-system", "helm-controller"),
            object(GIT_REPOSITORY, "flux-system", "flux-system"),
            object(SERVICE_ACCOUNT, "flux-system", "sa"),
            object(NAMESPACE, "", "flux-system"),
            object(CRD, "", "b"),
            object(CRD, "", "a"),
            object(KUSTOMIZATION, "flux-system", "flux-system"),
        ];
        sort_for_apply(&mut objects);
        let order: Vec<String> = objects.iter().map(ObjectRef::display).collect();
        assert_eq!(
            order,
            [
                "CustomResourceDefinition/a",
                "CustomResourceDefinition/b",
                "Namespace/flux-system",
                "ServiceAccount/flux-system/sa",
                "Deployment/flux-system/helm-controller",
                "Deployment/flux-system/source-controller",
                // Unknown kinds: by group, then kind.
                "Kustomization/flux-system/flux-system",
                "NetworkPolicy/flux-system/allow-egress",
                "GitRepository/flux-system/flux-system",
                "ValidatingWebhookConfiguration/w",
            ]
        );
    }
}
