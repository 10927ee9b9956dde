//! Simulated controllers: the apiextensions controller (CRDs get NamesAccepted and Established,
//! then their kinds are served) and the deployment controller (Deployments become Available
//! after a delay). Namespaces get their phase synchronously when written, as admission does.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::selector::Selector;
use super::store::now;
use super::{NeverReady, Shared};

/// When each object generation was first seen, to delay its readiness.
#[derive(Default)]
pub struct Timers {
    first_seen: HashMap<(String, String, String, i64), Instant>,
}

impl Timers {
    fn elapsed(&mut self, key: (String, String, String, i64)) -> std::time::Duration {
        self.first_seen
            .entry(key)
            .or_insert_with(Instant::now)
            .elapsed()
    }
}

fn condition_true(object: &Value, condition: &str) -> bool {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some(condition)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// One pass over CRDs and Deployments.
pub fn reconcile(shared: &Arc<Shared>, timers: &mut Timers) {
    let all = Selector::default();
    let mut store = shared.store.lock().expect("store lock");
    let crd_type = store
        .find_kind("apiextensions.k8s.io", "CustomResourceDefinition")
        .expect("CRDs are built in");
    for crd in store.list(&crd_type, None, &all, &all) {
        let name = text(&crd, "/metadata/name").to_string();
        if condition_true(&crd, "Established") {
            // Spec changes (new versions) are served at once once established.
            store.register_crd(&crd);
            continue;
        }
        let generation = crd
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let waited = timers.elapsed(("crd".into(), String::new(), name.clone(), generation));
        if waited < shared.options.crd_established_after {
            continue;
        }
        let now = now();
        let storage = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|versions| {
                versions
                    .iter()
                    .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            })
            .and_then(|v| v.get("name"))
            .cloned()
            .unwrap_or(Value::Null);
        let status = json!({
            "acceptedNames": crd.pointer("/spec/names").cloned().unwrap_or(json!({})),
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now,
                 "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "True", "lastTransitionTime": now,
                 "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted"},
            ],
            "storedVersions": [storage],
        });
        if let Ok(updated) = store.set_status(&crd_type, "", &name, status, "kube-apiserver") {
            store.register_crd(&updated);
        }
    }

    if shared.never_ready(NeverReady::Deployments) {
        return;
    }
    let deployment_type = store
        .find_kind("apps", "Deployment")
        .expect("Deployments are built in");
    for deployment in store.list(&deployment_type, None, &all, &all) {
        let generation = deployment
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let replicas = deployment
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let observed = deployment
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64);
        let available = deployment
            .pointer("/status/availableReplicas")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if observed == Some(generation) && available == replicas {
            continue;
        }
        let namespace = text(&deployment, "/metadata/namespace").to_string();
        let name = text(&deployment, "/metadata/name").to_string();
        let waited = timers.elapsed((
            "deployment".into(),
            namespace.clone(),
            name.clone(),
            generation,
        ));
        if waited < shared.options.deployment_available_after {
            continue;
        }
        let now = now();
        let status = json!({
            "observedGeneration": generation,
            "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "lastUpdateTime": now,
                 "lastTransitionTime": now, "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "lastUpdateTime": now,
                 "lastTransitionTime": now, "reason": "NewReplicaSetAvailable",
                 "message": format!("ReplicaSet \"{name}-5d4f8c7b9\" has successfully progressed.")},
            ],
        });
        let _ = store.set_status(
            &deployment_type,
            &namespace,
            &name,
            status,
            "kube-controller-manager",
        );
    }
}
