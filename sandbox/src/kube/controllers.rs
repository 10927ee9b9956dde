//! Simulated controllers: the apiextensions controller (CRDs get NamesAccepted and Established,
//! then their kinds are served) and the deployment controller (Deployments become Available
//! after a delay). Namespaces get their phase synchronously when written, as admission does.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::store::now;
use super::{NeverReady, Shared, generation, text};

/// The controllers' memory between passes.
#[derive(Default)]
pub struct Timers {
    /// When each object generation was first seen, to delay its readiness.
    first_seen: HashMap<(String, String, String, i64), Instant>,
    /// The CRD (uid, generation) whose kinds are served, by CRD name.
    registered: HashMap<String, (String, i64)>,
    /// The store's resourceVersion after the last pass, and whether anything was left waiting:
    /// an unchanged store with nothing waiting needs no pass.
    seen_version: u64,
    waiting: bool,
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

fn number(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

/// One pass over CRDs and Deployments, when the store changed or a delay is running.
pub fn reconcile(shared: &Arc<Shared>, timers: &mut Timers) {
    let mut store = shared.store.lock().expect("store lock");
    if store.resource_version() == timers.seen_version && !timers.waiting {
        return;
    }
    let mut waiting = false;
    let crd_type = store
        .find_kind("apiextensions.k8s.io", "CustomResourceDefinition")
        .expect("CRDs are built in");
    // Small work items first: the objects themselves are large (CRD schemas).
    let crds: Vec<(String, String, i64, bool)> = store
        .objects_of(&crd_type)
        .map(|crd| {
            (
                text(crd, "/metadata/name").to_string(),
                text(crd, "/metadata/uid").to_string(),
                generation(crd),
                condition_true(crd, "Established"),
            )
        })
        .collect();
    timers
        .registered
        .retain(|name, _| crds.iter().any(|(n, ..)| n == name));
    for (name, uid, generation, established) in crds {
        if established {
            // Spec changes (new versions) are served as soon as they are stored.
            if timers.registered.get(&name) != Some(&(uid.clone(), generation))
                && let Some(crd) = store.get(&crd_type, "", &name).cloned()
            {
                store.register_crd(&crd);
                timers.registered.insert(name, (uid, generation));
            }
            continue;
        }
        let waited = timers.elapsed(("crd".into(), String::new(), name.clone(), generation));
        if waited < shared.options.crd_established_after {
            waiting = true;
            continue;
        }
        let Some(crd) = store.get(&crd_type, "", &name).cloned() else {
            continue;
        };
        let now = now();
        let storage = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|versions| versions.iter().find(|v| v["storage"] == true))
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
            timers.registered.insert(name, (uid, generation));
        }
    }

    if !shared.never_ready(NeverReady::Deployments) {
        let deployment_type = store
            .find_kind("apps", "Deployment")
            .expect("Deployments are built in");
        let pending: Vec<(String, String, i64, i64, String)> = store
            .objects_of(&deployment_type)
            .filter_map(|deployment| {
                let generation = generation(deployment);
                let replicas = number(deployment, "/spec/replicas").unwrap_or(1);
                let observed = number(deployment, "/status/observedGeneration");
                let available = number(deployment, "/status/availableReplicas").unwrap_or(0);
                (observed != Some(generation) || available != replicas).then(|| {
                    (
                        text(deployment, "/metadata/namespace").to_string(),
                        text(deployment, "/metadata/name").to_string(),
                        generation,
                        replicas,
                        super::workloads::template_hash(deployment),
                    )
                })
            })
            .collect();
        for (namespace, name, generation, replicas, hash) in pending {
            let waited = timers.elapsed((
                "deployment".into(),
                namespace.clone(),
                name.clone(),
                generation,
            ));
            if waited < shared.options.deployment_available_after {
                waiting = true;
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
                     "message": format!("ReplicaSet \"{name}-{hash}\" has successfully progressed.")},
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
    } else {
        // Faults can be cleared: look again later.
        waiting = true;
    }
    super::workloads::reconcile(&mut store);
    timers.seen_version = store.resource_version();
    timers.waiting = waiting;
}
