//! The shared end of every write: the status subresource rules, schema pruning and
//! validation, defaults, server-owned metadata, managed fields, `metadata.generation`, no-op
//! detection (an unchanged object keeps its resourceVersion), dry-run, then the store and the
//! event log.

use serde_json::{Value, json};

use super::super::fields::Schema;
use super::super::schema::{self, FieldValidation};
use super::super::ssa;
use super::super::status::ApiError;
use super::super::types::ResourceType;
use super::time::now;
use super::validation::validate;
use super::{EventType, Part, Store, WriteOptions};

/// What a no-op check compares: the object without its resourceVersion and managedFields times.
fn comparable(object: &Value) -> Value {
    let mut out = object.clone();
    if let Some(metadata) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
        if let Some(entries) = metadata
            .get_mut("managedFields")
            .and_then(Value::as_array_mut)
        {
            for entry in entries {
                if let Some(entry) = entry.as_object_mut() {
                    entry.remove("time");
                }
            }
        }
    }
    out
}

/// The parts of an object that count for `metadata.generation`.
fn spec_content(object: &Value) -> Value {
    let mut out = object.clone();
    if let Some(map) = out.as_object_mut() {
        for key in ["metadata", "status", "apiVersion", "kind"] {
            map.remove(key);
        }
    }
    out
}

impl Store {
    /// The shared end of every write. `record_update` is false when apply already wrote the
    /// managed fields.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn commit(
        &mut self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        old: Option<Value>,
        mut candidate: Value,
        record_update: bool,
        options: &WriteOptions,
    ) -> Result<(Value, bool), ApiError> {
        if !candidate.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request must be an object",
            ));
        }
        self.check_namespace(resource, namespace)?;
        candidate["apiVersion"] = json!(resource.api_version(resource.storage_version()));
        candidate["kind"] = json!(resource.kind);
        if !candidate.get("metadata").is_some_and(Value::is_object) {
            candidate["metadata"] = json!({});
        }
        candidate["metadata"]["name"] = json!(name);
        if resource.namespaced {
            candidate["metadata"]["namespace"] = json!(namespace);
        } else if let Some(m) = candidate["metadata"].as_object_mut() {
            m.remove("namespace");
        }

        // The status subresource: main writes keep the stored status, status writes change
        // nothing else.
        match (options.part, resource.status_subresource, &old) {
            (Part::Main, true, Some(old)) => match old.get("status") {
                Some(status) => candidate["status"] = status.clone(),
                None => {
                    candidate.as_object_mut().map(|m| m.remove("status"));
                }
            },
            (Part::Main, true, None) => {
                candidate.as_object_mut().map(|m| m.remove("status"));
            }
            (Part::Status, _, Some(old)) => {
                let status = candidate.get("status").cloned();
                let managed = candidate.pointer("/metadata/managedFields").cloned();
                candidate = old.clone();
                match status {
                    Some(status) => candidate["status"] = status,
                    None => {
                        candidate.as_object_mut().map(|m| m.remove("status"));
                    }
                }
                if !record_update {
                    match managed {
                        Some(managed) => candidate["metadata"]["managedFields"] = managed,
                        None => {
                            candidate["metadata"]
                                .as_object_mut()
                                .map(|m| m.remove("managedFields"));
                        }
                    }
                }
            }
            (Part::Status, _, None) => return Err(ApiError::not_found(resource, name)),
            (Part::Main, false, _) => {}
        }

        if let (Schema::Custom(schema), Part::Main) = (&resource.schema, options.part) {
            let findings = schema::check(schema, &mut candidate, !resource.status_subresource);
            if let Some(field) = findings.unknown.first()
                && options.validation == FieldValidation::Strict
                && record_update
            {
                return Err(ApiError::bad_request(format!(
                    "{kind} in version \"{}\" cannot be handled as a {kind}: strict decoding \
                     error: unknown field \"{field}\"",
                    options.version,
                    kind = resource.kind
                )));
            }
            if !findings.invalid.is_empty() {
                return Err(ApiError::invalid_all(
                    &format!("{}.{}", resource.kind, resource.group),
                    name,
                    &findings.invalid,
                    json!({"name": name, "group": resource.group, "kind": resource.kind}),
                ));
            }
        }
        if options.part == Part::Main {
            self.apply_defaults(resource, &mut candidate, old.as_ref());
        }
        validate(resource, &candidate, old.as_ref())?;

        // Server-owned metadata.
        let metadata = candidate["metadata"]
            .as_object_mut()
            .expect("metadata is an object");
        for key in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
        ] {
            metadata.remove(key);
        }
        match &old {
            Some(old) => {
                for key in ["uid", "creationTimestamp", "resourceVersion"] {
                    if let Some(v) = old.pointer(&format!("/metadata/{key}")) {
                        metadata.insert(key.to_string(), v.clone());
                    }
                }
            }
            None => {
                metadata.insert("creationTimestamp".into(), json!(now()));
            }
        }
        if old.is_none() {
            let uid = self.new_uid();
            candidate["metadata"]["uid"] = json!(uid);
        }

        if record_update {
            let now = now();
            let api_version = resource.api_version(&options.version);
            let writer = Self::writer(resource, options, &api_version, &now);
            // The client's managedFields are not taken; the stored ones are the base.
            if let Some(m) = candidate["metadata"].as_object_mut() {
                m.remove("managedFields");
            }
            ssa::record_update(old.as_ref(), &mut candidate, &writer, &resource.schema);
        }

        if resource.has_generation {
            let generation = match &old {
                None => 1,
                Some(old) => {
                    let previous = old
                        .pointer("/metadata/generation")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    if spec_content(old) == spec_content(&candidate) {
                        previous
                    } else {
                        previous + 1
                    }
                }
            };
            candidate["metadata"]["generation"] = json!(generation);
        }

        if let Some(old) = &old
            && comparable(old) == comparable(&candidate)
        {
            return Ok((old.clone(), false));
        }
        if options.dry_run {
            if old.is_none()
                && let Some(m) = candidate["metadata"].as_object_mut()
            {
                m.remove("resourceVersion");
            }
            return Ok((candidate, old.is_none()));
        }
        self.resource_version += 1;
        candidate["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        let created = old.is_none();
        self.objects
            .insert(Self::key(resource, namespace, name), candidate.clone());
        self.record(
            if created {
                EventType::Added
            } else {
                EventType::Modified
            },
            resource,
            candidate.clone(),
        );
        Ok((candidate, created))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{apply, setup};
    use super::*;

    #[test]
    fn generation_follows_spec_changes_only() {
        let (mut store, _) = setup();
        let deployments = store.find_type("apps", "v1", "deployments").unwrap();
        let body = |replicas: i64, label: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "d", "namespace": "x", "labels": {"l": label}},
                   "spec": {"replicas": replicas}})
        };
        let generation_after =
            |store: &mut Store, b: Value| apply(store, &deployments, "x", "d", &b).unwrap().0;
        assert_eq!(
            generation_after(&mut store, body(1, "a"))["metadata"]["generation"],
            1
        );
        assert_eq!(
            generation_after(&mut store, body(1, "b"))["metadata"]["generation"],
            1
        );
        assert_eq!(
            generation_after(&mut store, body(2, "b"))["metadata"]["generation"],
            2
        );
    }
}
