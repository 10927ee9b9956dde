//! Status reports as Flux's controllers write them: conditions with `observedGeneration` and a
//! transition time that only moves when the condition's status does, and no write at all when
//! nothing but timestamps would change (so watchers see real changes only).

use serde_json::{Value, json};

use super::super::Shared;
use super::super::store::now;
use super::super::types::ResourceType;

/// One condition, stamped now.
pub(super) fn condition(
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    generation: i64,
) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message,
           "observedGeneration": generation, "lastTransitionTime": now()})
}

/// Status without timestamps, to tell a real change from a repeated report.
fn without_times(status: &Value) -> Value {
    let mut status = status.clone();
    if let Some(conditions) = status.get_mut("conditions").and_then(Value::as_array_mut) {
        for condition in conditions {
            if let Some(map) = condition.as_object_mut() {
                map.remove("lastTransitionTime");
            }
        }
    }
    if let Some(artifact) = status.get_mut("artifact").and_then(Value::as_object_mut) {
        artifact.remove("lastUpdateTime");
    }
    status
}

/// `new` with the transition times of `old`'s conditions whose status did not change.
fn keep_transition_times(old: &Value, mut new: Value) -> Value {
    if let (Some(old), Some(conditions)) = (
        old.get("conditions").and_then(Value::as_array),
        new.get_mut("conditions").and_then(Value::as_array_mut),
    ) {
        for condition in conditions.iter_mut() {
            if let Some(previous) = old.iter().find(|c| {
                c.get("type") == condition.get("type") && c.get("status") == condition.get("status")
            }) && let Some(time) = previous.get("lastTransitionTime")
            {
                condition["lastTransitionTime"] = time.clone();
            }
        }
    }
    new
}

/// Writes a status unless only its timestamps would change.
pub(super) fn report(
    shared: &Shared,
    resource: &ResourceType,
    namespace: &str,
    name: &str,
    status: Value,
) {
    let mut store = shared.store.lock().expect("store lock");
    let Some(current) = store.get(resource, namespace, name) else {
        return;
    };
    let old = current.get("status").cloned().unwrap_or(Value::Null);
    // Flux's controllers record the reconcile request they handled (`flux reconcile` waits
    // for it).
    let mut status = status;
    if let (Some(requested), Some(map)) = (
        current
            .pointer("/metadata/annotations/reconcile.fluxcd.io~1requestedAt")
            .cloned(),
        status.as_object_mut(),
    ) {
        map.insert("lastHandledReconcileAt".to_string(), requested);
    }
    if without_times(&old) == without_times(&status) {
        return;
    }
    let status = keep_transition_times(&old, status);
    let _ = store.set_status(resource, namespace, name, status, "flux-simulator");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(status: &str, time: &str) -> Value {
        json!({"type": "Ready", "status": status, "reason": "Succeeded", "message": "m",
               "observedGeneration": 1, "lastTransitionTime": time})
    }

    #[test]
    fn only_timestamps_differing_is_no_change() {
        let earlier = json!({"conditions": [ready("True", "2026-01-01T00:00:00Z")],
                             "artifact": {"revision": "main@sha1:1", "lastUpdateTime": "a"}});
        let later = json!({"conditions": [ready("True", "2026-01-01T00:05:00Z")],
                           "artifact": {"revision": "main@sha1:1", "lastUpdateTime": "b"}});
        assert_eq!(without_times(&earlier), without_times(&later));
        let new_revision = json!({"conditions": [ready("True", "2026-01-01T00:05:00Z")],
                                  "artifact": {"revision": "main@sha1:2", "lastUpdateTime": "b"}});
        assert_ne!(without_times(&earlier), without_times(&new_revision));
    }

    #[test]
    fn a_transition_time_moves_only_with_the_conditions_status() {
        let old = json!({"conditions": [ready("True", "2026-01-01T00:00:00Z")]});
        // The transition time kept when Ready, written at 00:05, has `status`.
        let transition_with = |status: &str| {
            let new = json!({"conditions": [ready(status, "2026-01-01T00:05:00Z")]});
            keep_transition_times(&old, new)["conditions"][0]["lastTransitionTime"].clone()
        };
        assert_eq!(transition_with("True"), "2026-01-01T00:00:00Z");
        assert_eq!(transition_with("False"), "2026-01-01T00:05:00Z");
    }
}
