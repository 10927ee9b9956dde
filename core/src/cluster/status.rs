//! Object health by the kstatus rules Flux waits on (spec §6, kubernetes reference §1.4).

use serde_json::Value;

use super::fields::{condition, int_at, str_at, unobserved_generation};

/// kstatus' verdict on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Fully reconciled and ready.
    Current,
    /// Still converging; the text says on what.
    InProgress(String),
    /// Will not become ready without a change; the text says why.
    Failed(String),
    /// Being deleted.
    Terminating,
}

fn condition_status<'a>(object: &'a Value, kind: &str) -> Option<&'a str> {
    condition(object, kind)?.get("status")?.as_str()
}

fn condition_text<'a>(object: &'a Value, kind: &str, field: &str) -> &'a str {
    condition(object, kind)
        .and_then(|c| c.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Health of `object` by kstatus: the generic rules first (deletion, observed generation,
/// `Reconciling`, `Stalled`), then the rule of its kind.
pub fn health(object: &Value) -> Health {
    if object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
    {
        return Health::Terminating;
    }
    if let Some((generation, observed)) = unobserved_generation(object) {
        return Health::InProgress(format!(
            "the controller has not observed generation {generation} yet (observed {observed})"
        ));
    }
    if condition_status(object, "Reconciling") == Some("True") {
        return Health::InProgress(condition_text(object, "Reconciling", "message").to_string());
    }
    if condition_status(object, "Stalled") == Some("True") {
        return Health::Failed(condition_text(object, "Stalled", "message").to_string());
    }
    match str_at(object, "/kind") {
        "CustomResourceDefinition" => crd_health(object),
        "Deployment" => deployment_health(object),
        "Service" => service_health(object),
        // Namespaces, RBAC, ServiceAccounts, Secrets, ConfigMaps…: no status to wait for.
        "Namespace" | "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding"
        | "ServiceAccount" | "Secret" | "ConfigMap" | "ResourceQuota" | "NetworkPolicy" => {
            Health::Current
        }
        _ => ready_condition_health(object),
    }
}

fn crd_health(object: &Value) -> Health {
    if condition_status(object, "NamesAccepted") == Some("False") {
        return Health::Failed(condition_text(object, "NamesAccepted", "message").to_string());
    }
    match condition_status(object, "Established") {
        Some("True") => Health::Current,
        Some("False") if condition_text(object, "Established", "reason") != "Installing" => {
            Health::Failed(condition_text(object, "Established", "message").to_string())
        }
        _ => Health::InProgress("the CustomResourceDefinition is not established yet".into()),
    }
}

fn deployment_health(object: &Value) -> Health {
    let wanted = int_at(object, "/spec/replicas").unwrap_or(1);
    let replicas = int_at(object, "/status/replicas").unwrap_or(0);
    let updated = int_at(object, "/status/updatedReplicas").unwrap_or(0);
    let available = int_at(object, "/status/availableReplicas").unwrap_or(0);
    let ready = int_at(object, "/status/readyReplicas").unwrap_or(0);
    if replicas < wanted {
        return Health::InProgress(format!("replicas: {replicas}/{wanted}"));
    }
    if updated < wanted {
        return Health::InProgress(format!("updated: {updated}/{wanted}"));
    }
    if replicas > wanted {
        return Health::InProgress(format!("pending termination: {}", replicas - wanted));
    }
    if updated > available {
        return Health::InProgress(format!("available: {available}/{updated}"));
    }
    if ready < wanted {
        return Health::InProgress(format!("ready: {ready}/{wanted}"));
    }
    if condition_text(object, "Progressing", "reason") == "ProgressDeadlineExceeded" {
        return Health::Failed("progress deadline exceeded".into());
    }
    if condition_status(object, "Available") != Some("True") {
        return Health::InProgress("the Deployment is not available yet".into());
    }
    Health::Current
}

fn service_health(object: &Value) -> Health {
    let load_balancer = str_at(object, "/spec/type") == "LoadBalancer";
    if load_balancer && str_at(object, "/spec/clusterIP").is_empty() {
        Health::InProgress("the LoadBalancer has no cluster IP yet".into())
    } else {
        Health::Current
    }
}

fn ready_condition_health(object: &Value) -> Health {
    match condition_status(object, "Ready") {
        Some("True") | None => Health::Current,
        Some("False") => Health::Failed(condition_text(object, "Ready", "message").to_string()),
        Some(_) => Health::InProgress(condition_text(object, "Ready", "message").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(status: Value) -> Value {
        json!({ "kind": "Deployment", "metadata": { "generation": 1 }, "spec": { "replicas": 1 }, "status": status })
    }

    #[test]
    fn available_deployment_is_current() {
        let ready = deployment(json!({
            "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1,
            "readyReplicas": 1,
            "conditions": [
                { "type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable" },
                { "type": "Available", "status": "True" }
            ]
        }));
        assert_eq!(health(&ready), Health::Current);
    }

    #[test]
    fn deployment_in_progress_until_each_count_is_reached() {
        let fresh = deployment(json!({}));
        assert!(matches!(health(&fresh), Health::InProgress(m) if m == "replicas: 0/1"));
        let not_ready = deployment(json!({
            "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1, "readyReplicas": 0
        }));
        assert!(matches!(health(&not_ready), Health::InProgress(m) if m == "ready: 0/1"));
        let stale = json!({ "kind": "Deployment", "metadata": { "generation": 2 }, "status": { "observedGeneration": 1 } });
        assert!(matches!(health(&stale), Health::InProgress(_)));
    }

    #[test]
    fn deployment_past_deadline_fails() {
        let stuck = deployment(json!({
            "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1, "readyReplicas": 1,
            "conditions": [{ "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded" }]
        }));
        assert_eq!(
            health(&stuck),
            Health::Failed("progress deadline exceeded".into())
        );
    }

    #[test]
    fn crd_follows_established() {
        let crd = |conditions: Value| json!({ "kind": "CustomResourceDefinition", "status": { "conditions": conditions } });
        assert_eq!(
            health(&crd(json!([{ "type": "Established", "status": "True" }]))),
            Health::Current
        );
        assert!(matches!(
            health(&crd(
                json!([{ "type": "Established", "status": "False", "reason": "Installing" }])
            )),
            Health::InProgress(_)
        ));
        assert_eq!(
            health(&crd(
                json!([{ "type": "NamesAccepted", "status": "False", "message": "taken" }])
            )),
            Health::Failed("taken".into())
        );
    }

    #[test]
    fn plain_objects_are_current_and_deletion_wins() {
        assert_eq!(health(&json!({ "kind": "Namespace" })), Health::Current);
        assert_eq!(
            health(
                &json!({ "kind": "Namespace", "metadata": { "deletionTimestamp": "2026-01-01T00:00:00Z" } })
            ),
            Health::Terminating
        );
    }

    #[test]
    fn custom_resources_use_ready_and_stalled() {
        let not_ready = json!({ "kind": "GitRepository", "status": { "conditions": [
            { "type": "Ready", "status": "False", "message": "auth failed" }
        ] } });
        assert_eq!(health(&not_ready), Health::Failed("auth failed".into()));
        let stalled = json!({ "kind": "Kustomization", "status": { "conditions": [
            { "type": "Stalled", "status": "True", "message": "path not found" }
        ] } });
        assert_eq!(health(&stalled), Health::Failed("path not found".into()));
        assert_eq!(health(&json!({ "kind": "Kustomization" })), Health::Current);
    }
}
