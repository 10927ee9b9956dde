//! The order kustomize-controller applies in (reference, kubernetes-api-surface §1.3): its
//! staged apply runs cluster definitions first, then classes, then everything else, and each
//! stage is sorted by fluxcd/pkg's `ReconcileOrder` — a fixed list of kinds, then kinds not in
//! it by group and kind, webhooks last, ties by namespace and name.

use std::cmp::Ordering;

use serde_json::Value;

/// Who an object is, as the apply order and error messages see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ObjectId {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectId {
    /// `None` when the object lacks an apiVersion, a kind or a name.
    pub fn of(object: &Value) -> Option<Self> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
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

    /// `Kind/namespace/name`, or `Kind/name` without a namespace, as Flux prints objects.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The stages of `ApplyAllStaged` (its custom stage is empty: the controller passes no kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Stage {
    /// CustomResourceDefinitions, Namespaces and ClusterRoles.
    Definitions,
    /// Kinds ending in `Class`.
    Classes,
    Resources,
}

pub(super) fn stage_of(object: &ObjectId) -> Stage {
    match (object.group.as_str(), object.kind.as_str()) {
        ("apiextensions.k8s.io", "CustomResourceDefinition")
        | ("", "Namespace")
        | ("rbac.authorization.k8s.io", "ClusterRole") => Stage::Definitions,
        (_, kind) if kind.ends_with("Class") => Stage::Classes,
        _ => Stage::Resources,
    }
}

/// `ReconcileOrder.First`, in its order.
const FIRST: [&str; 23] = [
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

/// `ReconcileOrder.Last`.
const LAST: [&str; 2] = [
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Where a kind sorts: its place in `FIRST`, then every other kind, then `LAST`.
fn rank(kind: &str) -> usize {
    if let Some(i) = FIRST.iter().position(|k| *k == kind) {
        i
    } else if let Some(i) = LAST.iter().position(|k| *k == kind) {
        FIRST.len() + 1 + i
    } else {
        FIRST.len()
    }
}

/// The apply order of two objects: stage, kind rank, group and kind (which only separates
/// kinds outside the list), namespace, name.
pub(super) fn apply_order(a: &ObjectId, b: &ObjectId) -> Ordering {
    stage_of(a)
        .cmp(&stage_of(b))
        .then_with(|| rank(&a.kind).cmp(&rank(&b.kind)))
        .then_with(|| a.group.cmp(&b.group))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.namespace.cmp(&b.namespace))
        .then_with(|| a.name.cmp(&b.name))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn id(api_version: &str, kind: &str, namespace: &str, name: &str) -> ObjectId {
        let mut metadata = json!({"name": name});
        if !namespace.is_empty() {
            metadata["namespace"] = json!(namespace);
        }
        ObjectId::of(&json!({"apiVersion": api_version, "kind": kind, "metadata": metadata}))
            .unwrap()
    }

    #[test]
    fn ids_read_group_version_and_print_as_flux_does() {
        let crd = id(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "",
            "x",
        );
        assert_eq!(
            (crd.group.as_str(), crd.version.as_str()),
            ("apiextensions.k8s.io", "v1")
        );
        let secret = id("v1", "Secret", "flux-system", "s");
        assert_eq!((secret.group.as_str(), secret.version.as_str()), ("", "v1"));
        assert_eq!(secret.display(), "Secret/flux-system/s");
        assert_eq!(crd.display(), "CustomResourceDefinition/x");
        assert_eq!(ObjectId::of(&json!({"kind": "Namespace"})), None);
    }

    #[test]
    fn stages_are_definitions_then_classes_then_the_rest() {
        assert_eq!(
            stage_of(&id(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "",
                "a"
            )),
            Stage::Definitions
        );
        assert_eq!(
            stage_of(&id("v1", "Namespace", "", "a")),
            Stage::Definitions
        );
        assert_eq!(
            stage_of(&id("rbac.authorization.k8s.io/v1", "ClusterRole", "", "a")),
            Stage::Definitions
        );
        assert_eq!(
            stage_of(&id("networking.k8s.io/v1", "IngressClass", "", "a")),
            Stage::Classes
        );
        assert_eq!(
            stage_of(&id("gateway.networking.k8s.io/v1", "GatewayClass", "", "a")),
            Stage::Classes
        );
        // A binding refers to roles but defines nothing.
        assert_eq!(
            stage_of(&id(
                "rbac.authorization.k8s.io/v1",
                "ClusterRoleBinding",
                "",
                "a"
            )),
            Stage::Resources
        );
        assert_eq!(
            stage_of(&id("apps/v1", "Deployment", "ns", "a")),
            Stage::Resources
        );
    }

    #[test]
    fn objects_sort_by_stage_then_reconcile_order() {
        let mut objects = vec![
            id(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "",
                "w",
            ),
            id(
                "networking.k8s.io/v1",
                "NetworkPolicy",
                "flux-system",
                "allow-egress",
            ),
            id("apps/v1", "Deployment", "flux-system", "source-controller"),
            id("apps/v1", "Deployment", "flux-system", "helm-controller"),
            id(
                "source.toolkit.fluxcd.io/v1",
                "GitRepository",
                "flux-system",
                "flux-system",
            ),
            id("v1", "Service", "flux-system", "webhook-receiver"),
            id("v1", "ServiceAccount", "flux-system", "sa"),
            id(
                "rbac.authorization.k8s.io/v1",
                "ClusterRoleBinding",
                "",
                "crb",
            ),
            id("example.com/v1", "WidgetClass", "", "fancy"),
            id("v1", "Namespace", "", "flux-system"),
            id(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                "",
                "reconciler",
            ),
            id(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "",
                "b",
            ),
            id(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "",
                "a",
            ),
            id(
                "kustomize.toolkit.fluxcd.io/v1",
                "Kustomization",
                "flux-system",
                "flux-system",
            ),
        ];
        objects.sort_by(apply_order);
        let order: Vec<String> = objects.iter().map(ObjectId::display).collect();
        assert_eq!(
            order,
            [
                // Definitions, in the list's order, then by name.
                "CustomResourceDefinition/a",
                "CustomResourceDefinition/b",
                "Namespace/flux-system",
                "ClusterRole/reconciler",
                // Classes: a custom one is not in the list, but is still a class.
                "WidgetClass/fancy",
                // The rest: the list's kinds in its order …
                "ClusterRoleBinding/crb",
                "ServiceAccount/flux-system/sa",
                "Service/flux-system/webhook-receiver",
                "Deployment/flux-system/helm-controller",
                "Deployment/flux-system/source-controller",
                // … then other kinds by group, then kind …
                "Kustomization/flux-system/flux-system",
                "NetworkPolicy/flux-system/allow-egress",
                "GitRepository/flux-system/flux-system",
                // … and webhooks last.
                "ValidatingWebhookConfiguration/w",
            ]
        );
    }
}
