//! What the deployment and replica-set controllers leave behind: for each available
//! Deployment, a ReplicaSet `<name>-<template hash>` and Running pods, so `kubectl get pods`
//! looks like a cluster's. Older ReplicaSets are scaled to zero; objects whose owner is gone are
//! garbage-collected.

use serde_json::{Value, json};

use super::schema::FieldValidation;
use super::store::{Part, Store, WriteOptions, now};
use super::text;
use super::types::ResourceType;

const MANAGER: &str = "kube-controller-manager";

/// FNV-1a: stable across runs and Rust releases, like Kubernetes' own template hash.
fn fnv(data: &str) -> u64 {
    data.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Kubernetes' "safe" alphabet for generated name suffixes (no vowels, no look-alikes).
fn safe(mut value: u64, length: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..length)
        .map(|_| {
            let c = ALPHABET[(value % ALPHABET.len() as u64) as usize] as char;
            value /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// The `pod-template-hash` of a Deployment's pod template.
pub fn template_hash(deployment: &Value) -> String {
    let template = deployment
        .pointer("/spec/template")
        .map(Value::to_string)
        .unwrap_or_default();
    safe(fnv(&template), 10)
}

fn owner(object: &Value) -> Option<(&str, &str, &str)> {
    let reference = object
        .pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))?;
    Some((
        reference.get("kind")?.as_str()?,
        reference.get("name")?.as_str()?,
        reference.get("uid")?.as_str()?,
    ))
}

fn options() -> WriteOptions {
    WriteOptions {
        manager: MANAGER.into(),
        version: "v1".into(),
        part: Part::Main,
        dry_run: false,
        validation: FieldValidation::Prune,
    }
}

fn owner_reference(kind: &str, object: &Value) -> Value {
    json!([{
        "apiVersion": "apps/v1",
        "kind": kind,
        "name": text(object, "/metadata/name"),
        "uid": text(object, "/metadata/uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

fn labels_with_hash(deployment: &Value, hash: &str) -> Value {
    let mut labels = deployment
        .pointer("/spec/template/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    labels["pod-template-hash"] = json!(hash);
    labels
}

/// Namespace, name, and the controlling owner's name and uid.
type OwnedObject = (String, String, Option<(String, String)>);

struct Types {
    deployment: ResourceType,
    replica_set: ResourceType,
    pod: ResourceType,
}

/// The Running pod for one replica.
fn pod(deployment: &Value, replica_set: &Value, name: &str, hash: &str, index: u64) -> Value {
    let mut spec = deployment
        .pointer("/spec/template/spec")
        .cloned()
        .unwrap_or(json!({}));
    spec["nodeName"] = json!("sandbox-node");
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": text(deployment, "/metadata/namespace"),
            "labels": labels_with_hash(deployment, hash),
            "ownerReferences": owner_reference("ReplicaSet", replica_set),
        },
        "spec": spec,
        "status": running_status(deployment, index),
    })
}

fn running_status(deployment: &Value, index: u64) -> Value {
    let now = now();
    let containers: Vec<Value> = deployment
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            json!({"name": c.get("name"), "image": c.get("image"), "imageID": "",
                   "ready": true, "started": true, "restartCount": 0,
                   "state": {"running": {"startedAt": now}}})
        })
        .collect();
    let condition = |kind: &str| json!({"type": kind, "status": "True", "lastTransitionTime": now});
    json!({
        "phase": "Running",
        "conditions": [condition("PodReadyToStartContainers"), condition("Initialized"),
                       condition("Ready"), condition("ContainersReady"), condition("PodScheduled")],
        "containerStatuses": containers,
        "hostIP": "10.0.0.10",
        "podIP": format!("10.244.0.{}", 10 + index % 240),
        "startTime": now,
        "qosClass": "Burstable",
    })
}

fn ensure_replica_set(store: &mut Store, types: &Types, deployment: &Value) {
    let namespace = text(deployment, "/metadata/namespace").to_string();
    let deployment_name = text(deployment, "/metadata/name").to_string();
    let hash = template_hash(deployment);
    let name = format!("{deployment_name}-{hash}");
    let replicas = deployment
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let body = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": name, "namespace": namespace,
            "labels": labels_with_hash(deployment, &hash),
            "ownerReferences": owner_reference("Deployment", deployment),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels_with_hash(deployment, &hash)},
            "template": deployment.pointer("/spec/template").cloned().unwrap_or(json!({})),
        },
    });
    let replica_set = match store.get(&types.replica_set, &namespace, &name).cloned() {
        Some(existing) if existing.pointer("/spec/replicas") == Some(&json!(replicas)) => existing,
        Some(mut existing) => {
            existing["spec"]["replicas"] = json!(replicas);
            match store.replace(&types.replica_set, &namespace, &name, existing, &options()) {
                Ok(updated) => updated,
                Err(_) => return,
            }
        }
        None => match store.create(&types.replica_set, &namespace, body, &options()) {
            Ok(created) => created,
            Err(_) => return,
        },
    };
    let status = json!({"replicas": replicas, "fullyLabeledReplicas": replicas,
                        "readyReplicas": replicas, "availableReplicas": replicas,
                        "observedGeneration": replica_set.pointer("/metadata/generation")});
    if replica_set.get("status") != Some(&status) {
        let _ = store.set_status(&types.replica_set, &namespace, &name, status, MANAGER);
    }
    // Exactly `replicas` pods, named after the set.
    let wanted: Vec<String> = (0..replicas.max(0) as u64)
        .map(|i| format!("{name}-{}", safe(fnv(&format!("{name}/{i}")), 5)))
        .collect();
    for (index, pod_name) in wanted.iter().enumerate() {
        if store.get(&types.pod, &namespace, pod_name).is_none() {
            let pod = pod(deployment, &replica_set, pod_name, &hash, index as u64);
            let status = pod["status"].clone();
            if store
                .create(&types.pod, &namespace, pod, &options())
                .is_ok()
            {
                let _ = store.set_status(&types.pod, &namespace, pod_name, status, "kubelet");
            }
        }
    }
    let extra: Vec<String> = store
        .objects_of(&types.pod)
        .filter(|p| text(p, "/metadata/namespace") == namespace)
        .filter(|p| owner(p).is_some_and(|(_, owner, _)| owner == name))
        .map(|p| text(p, "/metadata/name").to_string())
        .filter(|n| !wanted.contains(n))
        .collect();
    for pod_name in extra {
        let _ = store.delete(&types.pod, &namespace, &pod_name, false);
    }
}

/// One pass: ReplicaSets and pods for available Deployments, old sets scaled down, orphans
/// deleted.
pub fn reconcile(store: &mut Store) {
    let (Some(deployment), Some(replica_set), Some(pod)) = (
        store.find_kind("apps", "Deployment"),
        store.find_kind("apps", "ReplicaSet"),
        store.find_kind("", "Pod"),
    ) else {
        return;
    };
    let types = Types {
        deployment,
        replica_set,
        pod,
    };
    let available: Vec<Value> = store
        .objects_of(&types.deployment)
        .filter(|d| {
            let generation = d.pointer("/metadata/generation");
            d.pointer("/status/observedGeneration") == generation
                && d.pointer("/status/availableReplicas")
                    .and_then(Value::as_i64)
                    == Some(
                        d.pointer("/spec/replicas")
                            .and_then(Value::as_i64)
                            .unwrap_or(1),
                    )
        })
        .cloned()
        .collect();
    for deployment in &available {
        ensure_replica_set(store, &types, deployment);
    }

    // Sets of a Deployment that are not its current one: scaled to zero. Sets whose
    // Deployment is gone: deleted, as the garbage collector does.
    let sets: Vec<OwnedObject> = store
        .objects_of(&types.replica_set)
        .map(|rs| {
            (
                text(rs, "/metadata/namespace").to_string(),
                text(rs, "/metadata/name").to_string(),
                owner(rs).map(|(_, name, uid)| (name.to_string(), uid.to_string())),
            )
        })
        .collect();
    for (namespace, name, owned_by) in sets {
        let Some((deployment_name, uid)) = owned_by else {
            continue;
        };
        match store.get(&types.deployment, &namespace, &deployment_name) {
            Some(d) if text(d, "/metadata/uid") == uid => {
                let current = format!("{deployment_name}-{}", template_hash(d));
                if name != current
                    && let Some(mut old) = store.get(&types.replica_set, &namespace, &name).cloned()
                    && old.pointer("/spec/replicas") != Some(&json!(0))
                {
                    old["spec"]["replicas"] = json!(0);
                    let _ = store.replace(&types.replica_set, &namespace, &name, old, &options());
                    let status = json!({"replicas": 0, "observedGeneration":
                        store.get(&types.replica_set, &namespace, &name)
                            .and_then(|rs| rs.pointer("/metadata/generation").cloned())});
                    let _ =
                        store.set_status(&types.replica_set, &namespace, &name, status, MANAGER);
                }
            }
            _ => {
                let _ = store.delete(&types.replica_set, &namespace, &name, false);
            }
        }
    }
    let pods: Vec<(String, String, Option<String>)> = store
        .objects_of(&types.pod)
        .map(|p| {
            (
                text(p, "/metadata/namespace").to_string(),
                text(p, "/metadata/name").to_string(),
                owner(p)
                    .filter(|(kind, ..)| *kind == "ReplicaSet")
                    .map(|(_, name, _)| name.to_string()),
            )
        })
        .collect();
    for (namespace, name, set) in pods {
        let Some(set) = set else {
            continue;
        };
        let scaled_down = store
            .get(&types.replica_set, &namespace, &set)
            .is_none_or(|rs| rs.pointer("/spec/replicas") == Some(&json!(0)));
        if scaled_down {
            let _ = store.delete(&types.pod, &namespace, &name, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_use_the_safe_alphabet() {
        let deployment = json!({"spec": {"template": {"metadata": {"labels": {"app": "x"}}}}});
        let hash = template_hash(&deployment);
        assert_eq!(hash.len(), 10);
        assert_eq!(hash, template_hash(&deployment.clone()));
        assert!(
            hash.chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
        );
        let other = json!({"spec": {"template": {"metadata": {"labels": {"app": "y"}}}}});
        assert_ne!(hash, template_hash(&other));
    }
}
