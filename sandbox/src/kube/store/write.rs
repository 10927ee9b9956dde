//! The writes — create, replace (with its stale-version check), the four PATCH types
//! (server-side apply through the field manager, merge, strategic merge, JSON patch), delete
//! (cascading to a namespace's objects and a CRD's kind) and a controller's status write —
//! each checked, then handed to [`Store::commit`].

use serde_json::{Value, json};

use super::super::fields::{ObjectPart, Schema};
use super::super::patch::{json_patch, merge_patch, strategic_merge_patch};
use super::super::schema::{self, FieldValidation};
use super::super::ssa::{self, Writer};
use super::super::status::ApiError;
use super::super::types::ResourceType;
use super::time::now;
use super::{EventType, Part, PatchKind, Store, WriteOptions, name_of, text_at};

impl Store {
    pub(super) fn check_namespace(
        &self,
        resource: &ResourceType,
        namespace: &str,
    ) -> Result<(), ApiError> {
        if !resource.namespaced {
            return Ok(());
        }
        let namespaces = self
            .find_type("", "v1", "namespaces")
            .expect("namespaces are built in");
        if self.get(&namespaces, "", namespace).is_none() {
            return Err(ApiError::namespace_not_found(namespace));
        }
        Ok(())
    }

    /// The field manager's view of a write; `api_version` and `now` belong to the caller.
    pub(super) fn writer<'a>(
        resource: &ResourceType,
        options: &'a WriteOptions,
        api_version: &'a str,
        now: &'a str,
    ) -> Writer<'a> {
        let part = match options.part {
            Part::Main => ObjectPart::Main {
                status_is_separate: resource.status_subresource,
            },
            Part::Status => ObjectPart::Status,
        };
        Writer {
            manager: &options.manager,
            api_version,
            part,
            now,
        }
    }

    /// Checks apiVersion and kind of a body against the URL's type.
    fn check_type(
        resource: &ResourceType,
        version: &str,
        body: &Value,
        apply: bool,
    ) -> Result<(), ApiError> {
        let api_version = body.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
        if apply && (api_version.is_empty() || kind.is_empty()) {
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            return Err(ApiError::bad_request(format!(
                "invalid object type: {group}/{version}, Kind={kind}"
            )));
        }
        if (!kind.is_empty() && kind != resource.kind)
            || (!api_version.is_empty() && api_version != resource.api_version(version))
        {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({api_version}) does not match the expected API \
                 version ({})",
                resource.api_version(version)
            )));
        }
        Ok(())
    }

    pub fn create(
        &mut self,
        resource: &ResourceType,
        namespace: &str,
        body: Value,
        options: &WriteOptions,
    ) -> Result<Value, ApiError> {
        Self::check_type(resource, &options.version, &body, false)?;
        let Some(name) = name_of(&body).map(str::to_string) else {
            return Err(ApiError::invalid(
                &resource.kind,
                "",
                "metadata.name",
                "Required value: name or generateName is required",
                json!({"kind": resource.plural}),
            ));
        };
        if let Some(body_ns) = body.pointer("/metadata/namespace").and_then(Value::as_str)
            && resource.namespaced
            && body_ns != namespace
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the \
                 request",
            ));
        }
        if self.get(resource, namespace, &name).is_some() {
            return Err(ApiError::already_exists(resource, &name));
        }
        self.commit(resource, namespace, &name, None, body, true, options)
            .map(|(object, _)| object)
    }

    pub fn replace(
        &mut self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        body: Value,
        options: &WriteOptions,
    ) -> Result<Value, ApiError> {
        Self::check_type(resource, &options.version, &body, false)?;
        let old = self.get_or_404(resource, namespace, name)?;
        if name_of(&body).is_some_and(|n| n != name) {
            return Err(ApiError::bad_request(
                "the name of the object does not match the name on the URL",
            ));
        }
        let given = text_at(&body, "/metadata/resourceVersion");
        let current = text_at(&old, "/metadata/resourceVersion");
        if !given.is_empty() && given != current {
            return Err(ApiError::stale(resource, name));
        }
        self.commit(resource, namespace, name, Some(old), body, true, options)
            .map(|(object, _)| object)
    }

    /// A PATCH of any type; returns the object and whether it was created (apply only).
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        kind: PatchKind,
        patch: &Value,
        force: bool,
        options: &WriteOptions,
    ) -> Result<(Value, bool), ApiError> {
        let old = self.get(resource, namespace, name).cloned();
        match kind {
            PatchKind::Apply => {
                Self::check_type(resource, &options.version, patch, true)?;
                if patch.pointer("/metadata/managedFields").is_some() {
                    return Err(ApiError::bad_request("metadata.managedFields must be nil"));
                }
                if name_of(patch).is_some_and(|n| n != name) {
                    return Err(ApiError::bad_request(
                        "the name of the object does not match the name on the URL",
                    ));
                }
                if old.is_none() {
                    self.check_namespace(resource, namespace)?;
                }
                // Fields the CRD's schema does not declare: dropped, or refused when Strict.
                let mut pruned = patch.clone();
                if let (Schema::Custom(schema), Part::Main) = (&resource.schema, options.part) {
                    let findings = schema::check(schema, &mut pruned, !resource.status_subresource);
                    if let Some(field) = findings.unknown.first()
                        && options.validation == FieldValidation::Strict
                    {
                        return Err(ApiError::bad_request(format!(
                            "failed to create typed patch object ({namespace}/{name}; {}, \
                             Kind={}): .{field}: field not declared in schema",
                            resource.api_version(&options.version),
                            resource.kind
                        )));
                    }
                }
                let patch = &pruned;
                let now = now();
                let api_version = resource.api_version(&options.version);
                let writer = Self::writer(resource, options, &api_version, &now);
                let merged = ssa::apply(old.as_ref(), patch, &writer, force, &resource.schema)
                    .map_err(|conflicts| {
                        let mut error =
                            ApiError::new(409, "Conflict", ssa::conflict_message(&conflicts))
                                .with_details(resource, name);
                        error.details["causes"] = Value::Array(
                            conflicts
                                .iter()
                                .map(|c| {
                                    json!({"reason": "FieldManagerConflict",
                                       "message": format!("conflict with \"{}\" using {}", c.manager, c.api_version),
                                       "field": c.path})
                                })
                                .collect(),
                        );
                        error
                    })?;
                self.commit(resource, namespace, name, old, merged, false, options)
            }
            _ => {
                let Some(old) = old else {
                    return Err(ApiError::not_found(resource, name));
                };
                let mut served = old.clone();
                served["apiVersion"] = json!(resource.api_version(&options.version));
                let patched = match kind {
                    PatchKind::Merge => merge_patch(&served, patch),
                    PatchKind::Strategic => {
                        strategic_merge_patch(&served, patch, &resource.schema, &mut Vec::new())
                    }
                    _ => json_patch(&served, patch).map_err(|e| {
                        ApiError::new(422, "Invalid", e.0).with_details(resource, name)
                    })?,
                };
                self.commit(resource, namespace, name, Some(old), patched, true, options)
            }
        }
    }

    pub fn delete(
        &mut self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let old = self.get_or_404(resource, namespace, name)?;
        if dry_run {
            return Ok(old);
        }
        self.resource_version += 1;
        self.objects.remove(&Self::key(resource, namespace, name));
        let mut deleted = old.clone();
        deleted["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        self.record(EventType::Deleted, resource, deleted.clone());
        match (resource.group.as_str(), resource.plural.as_str()) {
            // Deleting a namespace deletes what is in it (no finalisation phase here).
            ("", "namespaces") => {
                let inside: Vec<(ResourceType, String)> = self
                    .objects
                    .iter()
                    .filter(|(k, _)| k.namespace == name)
                    .filter_map(|(k, v)| {
                        let t = self
                            .types()
                            .find(|t| t.group == k.group && t.plural == k.plural)?;
                        Some((t.clone(), name_of(v)?.to_string()))
                    })
                    .collect();
                for (t, object_name) in inside {
                    let _ = self.delete(&t, name, &object_name, false);
                }
            }
            // Deleting a CRD removes its type and every object of it.
            ("apiextensions.k8s.io", "customresourcedefinitions") => {
                self.unregister_crd(name);
            }
            _ => {}
        }
        Ok(deleted)
    }

    /// A status write by a simulated controller.
    pub fn set_status(
        &mut self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        status: Value,
        manager: &str,
    ) -> Result<Value, ApiError> {
        let mut object = self.get_or_404(resource, namespace, name)?;
        object["status"] = status;
        let options = WriteOptions {
            manager: manager.to_string(),
            version: resource.storage_version().to_string(),
            part: if resource.status_subresource {
                Part::Status
            } else {
                Part::Main
            },
            dry_run: false,
            validation: FieldValidation::Prune,
        };
        let old = self.get(resource, namespace, name).cloned();
        self.commit(resource, namespace, name, old, object, true, &options)
            .map(|(object, _)| object)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{apply, config_map, options, setup};
    use super::*;

    #[test]
    fn reapply_keeps_the_resource_version_and_dry_run_create_has_none() {
        let (mut store, cm) = setup();
        let body = config_map("x", "y", json!({"a": "1"}));
        let mut dry = options("flux");
        dry.dry_run = true;
        let (preview, created) = store
            .patch(&cm, "x", "y", PatchKind::Apply, &body, true, &dry)
            .unwrap();
        assert!(created);
        assert!(preview.pointer("/metadata/resourceVersion").is_none());
        assert!(store.get(&cm, "x", "y").is_none());
        let (first, _) = apply(&mut store, &cm, "x", "y", &body).unwrap();
        let (second, created) = apply(&mut store, &cm, "x", "y", &body).unwrap();
        assert!(!created);
        assert_eq!(
            first["metadata"]["resourceVersion"],
            second["metadata"]["resourceVersion"]
        );
    }

    #[test]
    fn apply_into_a_missing_namespace_is_not_found() {
        let (mut store, cm) = setup();
        let body = config_map("nope", "y", Value::Null);
        let error = apply(&mut store, &cm, "nope", "y", &body).unwrap_err();
        assert_eq!(error.message, "namespaces \"nope\" not found");
    }

    #[test]
    fn stale_replace_is_a_conflict() {
        let (mut store, cm) = setup();
        let body = config_map("x", "y", json!({"a": "1"}));
        store.create(&cm, "x", body.clone(), &options("t")).unwrap();
        let mut stale = body;
        stale["metadata"]["resourceVersion"] = json!("1");
        let error = store
            .replace(&cm, "x", "y", stale, &options("t"))
            .unwrap_err();
        assert_eq!(error.code, 409);
        assert!(error.message.contains("the object has been modified"));
    }
}
