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
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        let api_version = text("/apiVersion")?;
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        Some(Self {
            group: group.into(),
            version: version.into(),
            kind: text("/kind")?.into(),
            namespace: text("/metadata/namespace").unwrap_or_default().into(),
            name: text("/metadata/name")?.into(),
        })
    }

    /// `Kind/namespace/name`, or `Kind/name` without a namespace, as Flux prints objects.
    pub fn display(&self) -> String {
        let namespace = match self.namespace.as_str() {
            "" => String::new(),
            namespace => format!("{namespace}/"),
        };
        format!("{}/{namespace}{}", self.kind, self.name)
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

/// `ReconcileOrder.First`, in its order, a line per group of the reference's list: what
/// defines, the classes, access and configuration, the workloads.
const FIRST: &str = "
    CustomResourceDefinition Namespace ClusterRole
    ClusterClass RuntimeClass PriorityClass StorageClass VolumeSnapshotClass IngressClass
        GatewayClass
    ClusterRoleBinding ResourceQuota ServiceAccount Role RoleBinding ConfigMap Secret Service
        LimitRange
    Deployment StatefulSet CronJob PodDisruptionBudget";

/// `ReconcileOrder.Last`, in its order.
const LAST: &str = "MutatingWebhookConfiguration ValidatingWebhookConfiguration";

/// Where a kind sorts: its place in `FIRST`, then every other kind, then `LAST`.
fn rank(kind: &str) -> usize {
    let place = |kinds: &str| kinds.split_whitespace().position(|k| k == kind);
    let first = FIRST.split_whitespace().count();
    match (place(FIRST), place(LAST)) {
        (Some(i), _) => i,
        (None, Some(i)) => first + 1 + i,
        (None, None) => first,
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

    /// An object from `apiVersion Kind [namespace/]name`.
    fn id(spec: &str) -> ObjectId {
        let [api_version, kind, path] = spec.split_whitespace().collect::<Vec<_>>()[..] else {
            panic!("not `apiVersion Kind [namespace/]name`: {spec}");
        };
        let metadata = match path.split_once('/') {
            Some((namespace, name)) => json!({"namespace": namespace, "name": name}),
            None => json!({"name": path}),
        };
        ObjectId::of(&json!({"apiVersion": api_version, "kind": kind, "metadata": metadata}))
            .unwrap()
    }

    #[test]
    fn ids_read_group_version_and_print_as_flux_does() {
        let crd = id("apiextensions.k8s.io/v1 CustomResourceDefinition x");
        let expected = |group: &str, version: &str, kind: &str, namespace: &str, name: &str| {
            let text = |s: &str| s.to_string();
            ObjectId {
                group: text(group),
                version: text(version),
                kind: text(kind),
                namespace: text(namespace),
                name: text(name),
            }
        };
        assert_eq!(
            crd,
            expected(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
                "",
                "x"
            )
        );
        let secret = id("v1 Secret flux-system/s");
        assert_eq!(secret, expected("", "v1", "Secret", "flux-system", "s"));
        assert_eq!(secret.display(), "Secret/flux-system/s");
        assert_eq!(crd.display(), "CustomResourceDefinition/x");
        assert_eq!(ObjectId::of(&json!({"kind": "Namespace"})), None);
    }

    #[test]
    fn stages_are_definitions_then_classes_then_the_rest() {
        let stage = |spec: &str| stage_of(&id(spec));
        assert_eq!(
            stage("apiextensions.k8s.io/v1 CustomResourceDefinition a"),
            Stage::Definitions
        );
        assert_eq!(stage("v1 Namespace a"), Stage::Definitions);
        assert_eq!(
            stage("rbac.authorization.k8s.io/v1 ClusterRole a"),
            Stage::Definitions
        );
        assert_eq!(stage("networking.k8s.io/v1 IngressClass a"), Stage::Classes);
        assert_eq!(
            stage("gateway.networking.k8s.io/v1 GatewayClass a"),
            Stage::Classes
        );
        // A binding refers to roles but defines nothing.
        assert_eq!(
            stage("rbac.authorization.k8s.io/v1 ClusterRoleBinding a"),
            Stage::Resources
        );
        assert_eq!(stage("apps/v1 Deployment ns/a"), Stage::Resources);
    }

    #[test]
    fn kinds_rank_by_the_references_23_then_the_rest_then_webhooks() {
        assert_eq!(rank("CustomResourceDefinition"), 0);
        assert_eq!(rank("GatewayClass"), 9);
        assert_eq!(rank("LimitRange"), 18);
        assert_eq!(rank("PodDisruptionBudget"), 22);
        assert_eq!(rank("NetworkPolicy"), 23);
        assert_eq!(rank("MutatingWebhookConfiguration"), 24);
        assert_eq!(rank("ValidatingWebhookConfiguration"), 25);
    }

    #[test]
    fn objects_sort_by_stage_then_reconcile_order() {
        let mut objects: Vec<ObjectId> = [
            "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration w",
            "networking.k8s.io/v1 NetworkPolicy flux-system/allow-egress",
            "apps/v1 Deployment flux-system/source-controller",
            "apps/v1 Deployment flux-system/helm-controller",
            "source.toolkit.fluxcd.io/v1 GitRepository flux-system/flux-system",
            "v1 Service flux-system/webhook-receiver",
            "v1 ServiceAccount flux-system/sa",
            "rbac.authorization.k8s.io/v1 ClusterRoleBinding crb",
            "example.com/v1 WidgetClass fancy",
            "v1 Namespace flux-system",
            "rbac.authorization.k8s.io/v1 ClusterRole reconciler",
            "apiextensions.k8s.io/v1 CustomResourceDefinition b",
            "apiextensions.k8s.io/v1 CustomResourceDefinition a",
            "kustomize.toolkit.fluxcd.io/v1 Kustomization flux-system/flux-system",
        ]
        .into_iter()
        .map(id)
        .collect();
        objects.sort_by(apply_order);
        let expected: Vec<ObjectId> = [
            // Definitions, in the list's order, then by name.
            "apiextensions.k8s.io/v1 CustomResourceDefinition a",
            "apiextensions.k8s.io/v1 CustomResourceDefinition b",
            "v1 Namespace flux-system",
            "rbac.authorization.k8s.io/v1 ClusterRole reconciler",
            // Classes: a custom one is not in the list, but is still a class.
            "example.com/v1 WidgetClass fancy",
            // The rest: the list's kinds in its order …
            "rbac.authorization.k8s.io/v1 ClusterRoleBinding crb",
            "v1 ServiceAccount flux-system/sa",
            "v1 Service flux-system/webhook-receiver",
            "apps/v1 Deployment flux-system/helm-controller",
            "apps/v1 Deployment flux-system/source-controller",
            // … then other kinds by group, then kind …
            "kustomize.toolkit.fluxcd.io/v1 Kustomization flux-system/flux-system",
            "networking.k8s.io/v1 NetworkPolicy flux-system/allow-egress",
            "source.toolkit.fluxcd.io/v1 GitRepository flux-system/flux-system",
            // … and webhooks last.
            "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration w",
        ]
        .into_iter()
        .map(id)
        .collect();
        assert_eq!(objects, expected);
    }
}
