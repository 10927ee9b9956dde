//! Objects, resource versions and the event log, with the write pipeline every create,
//! update, patch and apply goes through: namespace check, status subresource rules, defaulting,
//! managed fields, no-op detection (no resourceVersion bump), generation, dry-run.

use std::collections::{BTreeMap, VecDeque};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::fields::{ObjectPart, Schema};
use super::patch::{json_patch, merge_patch, strategic_merge_patch};
use super::schema::{self, FieldValidation};
use super::selector::Selector;
use super::ssa::{self, Writer};
use super::status::ApiError;
use super::types::{ResourceType, built_in_types, type_of_crd};

/// How many past events a watch can resume from; older resource versions get 410 Expired.
const EVENT_WINDOW: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    pub group: String,
    pub plural: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Debug, Clone)]
pub struct Event {
    pub resource_version: u64,
    pub event_type: EventType,
    pub group: String,
    pub plural: String,
    pub object: Value,
}

/// Which patch type a PATCH carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Apply,
    Merge,
    Strategic,
    Json,
}

/// Where a write goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Main,
    Status,
}

/// Who writes, how, and whether it is only a dry run.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub manager: String,
    pub version: String,
    pub part: Part,
    pub dry_run: bool,
    /// What to do with fields a custom resource's schema does not declare.
    pub validation: FieldValidation,
}

/// The emulator's whole state.
pub struct Store {
    built_in: Vec<ResourceType>,
    /// Types added by Established CRDs, by CRD name.
    custom: BTreeMap<String, ResourceType>,
    objects: BTreeMap<ObjectKey, Value>,
    resource_version: u64,
    events: VecDeque<Event>,
    /// Bumped whenever the set of types changes (discovery and OpenAPI hashes follow it).
    pub types_revision: u64,
    sender: broadcast::Sender<Event>,
    uid_counter: u64,
    cluster_ips: u32,
    /// How many events are kept for watches that resume.
    window: usize,
}

/// Seconds since the epoch as RFC 3339 UTC (`2026-11-25T06:00:00Z`).
pub fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rem = seconds % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The inverse of [`rfc3339`]: seconds since the epoch of `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let (date, time) = text.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (t.next()??, t.next()??, t.next()??);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

pub fn now() -> String {
    rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
    )
}

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

fn name_of(object: &Value) -> Option<&str> {
    object.pointer("/metadata/name").and_then(Value::as_str)
}

/// Why `name` is not a valid object name: an RFC 1123 label for namespaces, an RFC 1123
/// subdomain for everything else (the API server's messages).
fn name_problem(name: &str, label: bool) -> Option<String> {
    let part_ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !part.starts_with('-')
            && !part.ends_with('-')
    };
    if label {
        if name.len() > 63 {
            return Some("must be no more than 63 characters".into());
        }
        if !part_ok(name) {
            return Some(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters \
                 or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  \
                 or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
                    .into(),
            );
        }
        return None;
    }
    if name.len() > 253 {
        return Some("must be no more than 253 characters".into());
    }
    if !name.split('.').all(part_ok) {
        return Some(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
             '-' or '.', and must start and end with an alphanumeric character (e.g. \
             'example.com', regex used for validation is \
             '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
                .into(),
        );
    }
    None
}

/// A LabelSelector as Go's `%#v` prints it in the API server's immutability message.
fn go_label_selector(selector: &Value) -> String {
    let labels: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            let mut pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{:?}:{:?}", k, v.as_str().unwrap_or("")))
                .collect();
            pairs.sort();
            pairs
        })
        .unwrap_or_default();
    let match_labels = if labels.is_empty() {
        "map[string]string(nil)".to_string()
    } else {
        format!("map[string]string{{{}}}", labels.join(", "))
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{match_labels}, \
         MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}"
    )
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Self {
        Self::with_window(EVENT_WINDOW)
    }

    fn with_window(window: usize) -> Self {
        let (sender, _) = broadcast::channel(window);
        Self {
            built_in: built_in_types(),
            custom: BTreeMap::new(),
            objects: BTreeMap::new(),
            resource_version: 1,
            events: VecDeque::new(),
            types_revision: 1,
            sender,
            uid_counter: 0,
            cluster_ips: 10,
            window,
        }
    }

    /// A store with the namespaces every cluster has (`default` is where kubectl puts objects
    /// without a namespace).
    pub fn with_system_namespaces() -> Self {
        let mut store = Self::new();
        let namespaces = store
            .find_type("", "v1", "namespaces")
            .expect("namespaces are built in");
        let options = WriteOptions {
            manager: "kube-apiserver".into(),
            version: "v1".into(),
            part: Part::Main,
            dry_run: false,
            validation: FieldValidation::Prune,
        };
        for name in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            let namespace =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            store
                .create(&namespaces, "", namespace, &options)
                .expect("a fresh store takes the system namespaces");
        }
        store
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Every served type.
    pub fn types(&self) -> impl Iterator<Item = &ResourceType> {
        self.built_in.iter().chain(self.custom.values())
    }

    pub fn find_type(&self, group: &str, version: &str, plural: &str) -> Option<ResourceType> {
        self.types()
            .find(|t| {
                t.group == group && t.plural == plural && t.versions.iter().any(|v| v == version)
            })
            .cloned()
    }

    pub fn find_kind(&self, group: &str, kind: &str) -> Option<ResourceType> {
        self.types()
            .find(|t| t.group == group && t.kind == kind)
            .cloned()
    }

    fn key(resource: &ResourceType, namespace: &str, name: &str) -> ObjectKey {
        ObjectKey {
            group: resource.group.clone(),
            plural: resource.plural.clone(),
            namespace: if resource.namespaced {
                namespace.to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }

    fn new_uid(&mut self) -> String {
        use std::hash::{BuildHasher, Hasher};
        self.uid_counter += 1;
        let mut parts = [0u64; 2];
        for (i, part) in parts.iter_mut().enumerate() {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(self.uid_counter);
            hasher.write_usize(i);
            *part = hasher.finish();
        }
        let hex = format!("{:016x}{:016x}", parts[0], parts[1]);
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    pub fn get(&self, resource: &ResourceType, namespace: &str, name: &str) -> Option<&Value> {
        self.objects.get(&Self::key(resource, namespace, name))
    }

    pub fn get_or_404(
        &self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        self.get(resource, namespace, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(resource, name))
    }

    /// Objects of a type, in one namespace or all, filtered by selectors.
    pub fn list(
        &self,
        resource: &ResourceType,
        namespace: Option<&str>,
        labels: &Selector,
        fields: &Selector,
    ) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|(key, _)| key.group == resource.group && key.plural == resource.plural)
            .filter(|(key, _)| namespace.is_none_or(|ns| key.namespace == ns))
            .map(|(_, object)| object)
            .filter(|object| labels.matches_labels(object) && fields.matches_fields(object))
            .cloned()
            .collect()
    }

    /// The stored objects of one type, without copying them.
    pub fn objects_of<'a>(&'a self, resource: &'a ResourceType) -> impl Iterator<Item = &'a Value> {
        self.objects
            .iter()
            .filter(move |(key, _)| key.group == resource.group && key.plural == resource.plural)
            .map(|(_, object)| object)
    }

    /// Events after `resource_version`, or `None` when that is older than the window.
    pub fn events_since(&self, resource_version: u64) -> Option<Vec<Event>> {
        if let Some(oldest) = self.events.front()
            && resource_version + 1 < oldest.resource_version
        {
            return None;
        }
        Some(
            self.events
                .iter()
                .filter(|e| e.resource_version > resource_version)
                .cloned()
                .collect(),
        )
    }

    fn record(&mut self, event_type: EventType, resource: &ResourceType, object: Value) {
        let event = Event {
            resource_version: self.resource_version,
            event_type,
            group: resource.group.clone(),
            plural: resource.plural.clone(),
            object,
        };
        if self.events.len() == self.window {
            self.events.pop_front();
        }
        self.events.push_back(event.clone());
        let _ = self.sender.send(event);
    }

    fn check_namespace(&self, resource: &ResourceType, namespace: &str) -> Result<(), ApiError> {
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

    fn part(resource: &ResourceType, part: Part) -> ObjectPart {
        match part {
            Part::Main => ObjectPart::Main {
                status_is_separate: resource.status_subresource,
            },
            Part::Status => ObjectPart::Status,
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
        let given = body
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let current = old
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
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
                let writer = Writer {
                    manager: &options.manager,
                    api_version: &api_version,
                    part: Self::part(resource, options.part),
                    now: &now,
                };
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

    fn unregister_crd(&mut self, crd_name: &str) {
        if let Some(resource) = self.custom.remove(crd_name) {
            let keys: Vec<ObjectKey> = self
                .objects
                .keys()
                .filter(|k| k.group == resource.group && k.plural == resource.plural)
                .cloned()
                .collect();
            for key in keys {
                if let Some(object) = self.objects.remove(&key) {
                    self.resource_version += 1;
                    self.record(EventType::Deleted, &resource, object);
                }
            }
            self.types_revision += 1;
        }
    }

    /// Serves an Established CRD's kinds (what the apiextensions controller does).
    pub fn register_crd(&mut self, crd: &Value) {
        let (Some(name), Some(resource)) = (name_of(crd), type_of_crd(crd)) else {
            return;
        };
        let name = name.to_string();
        let changed = self
            .custom
            .get(&name)
            .is_none_or(|t| t.versions != resource.versions || t.kind != resource.kind);
        self.custom.insert(name, resource);
        if changed {
            self.types_revision += 1;
        }
    }

    /// The server's defaults for the types Flux installs.
    fn apply_defaults(&mut self, resource: &ResourceType, object: &mut Value, old: Option<&Value>) {
        let name = name_of(object).unwrap_or("").to_string();
        match (resource.group.as_str(), resource.kind.as_str()) {
            ("", "Secret") => {
                if let Some(string_data) = object
                    .as_object_mut()
                    .and_then(|m| m.remove("stringData"))
                    .and_then(|v| v.as_object().cloned())
                {
                    for (key, value) in string_data {
                        let encoded = base64::engine::general_purpose::STANDARD
                            .encode(value.as_str().unwrap_or_default());
                        object["data"][key] = json!(encoded);
                    }
                }
                if object.get("type").is_none() {
                    object["type"] = json!("Opaque");
                }
            }
            ("", "Namespace") => {
                object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
                if object.pointer("/spec/finalizers").is_none() {
                    object["spec"]["finalizers"] = json!(["kubernetes"]);
                }
                if object.pointer("/status/phase").is_none() {
                    object["status"] = json!({"phase": "Active"});
                }
            }
            ("", "Service") => {
                let spec = &mut object["spec"];
                if spec.get("type").is_none() {
                    spec["type"] = json!("ClusterIP");
                }
                if spec.get("clusterIP").is_none() {
                    let ip = old
                        .and_then(|o| o.pointer("/spec/clusterIP"))
                        .cloned()
                        .unwrap_or_else(|| {
                            self.cluster_ips += 1;
                            json!(format!(
                                "10.96.{}.{}",
                                self.cluster_ips / 250,
                                self.cluster_ips % 250
                            ))
                        });
                    spec["clusterIPs"] = json!([ip.clone()]);
                    spec["clusterIP"] = ip;
                }
                if spec.get("sessionAffinity").is_none() {
                    spec["sessionAffinity"] = json!("None");
                }
                if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                    for port in ports {
                        if port.get("protocol").is_none() {
                            port["protocol"] = json!("TCP");
                        }
                        if port.get("targetPort").is_none() {
                            port["targetPort"] = port.get("port").cloned().unwrap_or(Value::Null);
                        }
                    }
                }
            }
            ("apps", "Deployment") => {
                if object.pointer("/spec/replicas").is_none() {
                    object["spec"]["replicas"] = json!(1);
                }
                if let Some(containers) = object
                    .pointer_mut("/spec/template/spec/containers")
                    .and_then(Value::as_array_mut)
                {
                    for container in containers {
                        if let Some(ports) =
                            container.get_mut("ports").and_then(Value::as_array_mut)
                        {
                            for port in ports {
                                if port.get("protocol").is_none() {
                                    port["protocol"] = json!("TCP");
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn validate(
        resource: &ResourceType,
        object: &Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        let name = name_of(object).unwrap_or("");
        let kind_and_group = if resource.group.is_empty() {
            resource.kind.clone()
        } else {
            format!("{}.{}", resource.kind, resource.group)
        };
        let mut details = json!({"name": name, "kind": resource.kind});
        if !resource.group.is_empty() {
            details["group"] = json!(resource.group);
        }
        let invalid = |field: &str, message: String| {
            ApiError::invalid(&kind_and_group, name, field, &message, details.clone())
        };
        // RBAC names are only path segments (`system:controller:x` is fine).
        let rbac = resource.group == "rbac.authorization.k8s.io";
        if rbac && (name.contains('/') || name.contains('%') || name == "." || name == "..") {
            return Err(invalid(
                "metadata.name",
                format!("Invalid value: \"{name}\": may not contain '/' or '%'"),
            ));
        }
        if let Some(problem) = (!rbac)
            .then(|| name_problem(name, resource.kind == "Namespace"))
            .flatten()
        {
            return Err(invalid(
                "metadata.name",
                format!("Invalid value: \"{name}\": {problem}"),
            ));
        }
        if resource.group == "apiextensions.k8s.io" && resource.kind == "CustomResourceDefinition" {
            let plural = object
                .pointer("/spec/names/plural")
                .and_then(Value::as_str)
                .unwrap_or("");
            let group = object
                .pointer("/spec/group")
                .and_then(Value::as_str)
                .unwrap_or("");
            if name != format!("{plural}.{group}") {
                return Err(invalid(
                    "metadata.name",
                    format!(
                        "Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"
                    ),
                ));
            }
        }
        // A Deployment's selector cannot change: flux deletes and re-creates on this error
        // when forced.
        if resource.group == "apps"
            && resource.kind == "Deployment"
            && let Some(old) = old
        {
            let selector = object.pointer("/spec/selector");
            if old.pointer("/spec/selector") != selector {
                return Err(invalid(
                    "spec.selector",
                    format!(
                        "Invalid value: {}: field is immutable",
                        go_label_selector(selector.unwrap_or(&Value::Null))
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The shared end of every write. `record_update` is false when apply already wrote the
    /// managed fields.
    #[allow(clippy::too_many_arguments)]
    fn commit(
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
        Self::validate(resource, &candidate, old.as_ref())?;

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
            let writer = Writer {
                manager: &options.manager,
                api_version: &api_version,
                part: Self::part(resource, options.part),
                now: &now,
            };
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
    use super::*;

    fn options(manager: &str) -> WriteOptions {
        WriteOptions {
            manager: manager.into(),
            version: "v1".into(),
            part: Part::Main,
            dry_run: false,
            validation: FieldValidation::Prune,
        }
    }

    fn setup() -> (Store, ResourceType) {
        let mut store = Store::new();
        let ns = store.find_type("", "v1", "namespaces").unwrap();
        store
            .patch(
                &ns,
                "",
                "x",
                PatchKind::Apply,
                &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}),
                true,
                &options("flux"),
            )
            .unwrap();
        let cm = store.find_type("", "v1", "configmaps").unwrap();
        (store, cm)
    }

    #[test]
    fn times_parse_back() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-11-25T06:43:20Z"), Some(1_795_589_000));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
    }

    #[test]
    fn rfc3339_formats_like_go() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // Expected values from GNU date (`date -u -d @N`).
        assert_eq!(rfc3339(1_795_589_000), "2026-11-25T06:43:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn reapply_keeps_the_resource_version_and_dry_run_create_has_none() {
        let (mut store, cm) = setup();
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "y", "namespace": "x"}, "data": {"a": "1"}});
        let mut dry = options("flux");
        dry.dry_run = true;
        let (preview, created) = store
            .patch(&cm, "x", "y", PatchKind::Apply, &body, true, &dry)
            .unwrap();
        assert!(created);
        assert!(preview.pointer("/metadata/resourceVersion").is_none());
        assert!(store.get(&cm, "x", "y").is_none());
        let (first, _) = store
            .patch(
                &cm,
                "x",
                "y",
                PatchKind::Apply,
                &body,
                true,
                &options("flux"),
            )
            .unwrap();
        let (second, created) = store
            .patch(
                &cm,
                "x",
                "y",
                PatchKind::Apply,
                &body,
                true,
                &options("flux"),
            )
            .unwrap();
        assert!(!created);
        assert_eq!(
            first["metadata"]["resourceVersion"],
            second["metadata"]["resourceVersion"]
        );
    }

    #[test]
    fn apply_into_a_missing_namespace_is_not_found() {
        let (mut store, cm) = setup();
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "y", "namespace": "nope"}});
        let error = store
            .patch(
                &cm,
                "nope",
                "y",
                PatchKind::Apply,
                &body,
                true,
                &options("flux"),
            )
            .unwrap_err();
        assert_eq!(error.message, "namespaces \"nope\" not found");
    }

    #[test]
    fn generation_follows_spec_changes_only() {
        let (mut store, _) = setup();
        let deployments = store.find_type("apps", "v1", "deployments").unwrap();
        let body = |replicas: i64, label: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "d", "namespace": "x", "labels": {"l": label}},
                   "spec": {"replicas": replicas}})
        };
        let apply = |store: &mut Store, b: Value| {
            store
                .patch(
                    &deployments,
                    "x",
                    "d",
                    PatchKind::Apply,
                    &b,
                    true,
                    &options("flux"),
                )
                .unwrap()
                .0
        };
        assert_eq!(apply(&mut store, body(1, "a"))["metadata"]["generation"], 1);
        assert_eq!(apply(&mut store, body(1, "b"))["metadata"]["generation"], 1);
        assert_eq!(apply(&mut store, body(2, "b"))["metadata"]["generation"], 2);
    }

    #[test]
    fn the_system_namespaces_exist_from_the_start() {
        let store = Store::with_system_namespaces();
        let namespaces = store.find_type("", "v1", "namespaces").unwrap();
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let namespace = store.get(&namespaces, "", name).unwrap();
            assert_eq!(namespace["status"]["phase"], "Active");
            assert_eq!(
                namespace["metadata"]["labels"]["kubernetes.io/metadata.name"],
                name
            );
        }
    }

    #[test]
    fn invalid_names_and_selector_changes_are_refused_as_the_api_server_does() {
        let (mut store, cm) = setup();
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "Bad_Name", "namespace": "x"}});
        let error = store.create(&cm, "x", body, &options("t")).unwrap_err();
        assert_eq!(error.code, 422);
        assert!(error.message.starts_with(
            "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a \
             lowercase RFC 1123 subdomain"
        ));
        let deployments = store.find_type("apps", "v1", "deployments").unwrap();
        let deployment = |app: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "d", "namespace": "x"},
                   "spec": {"selector": {"matchLabels": {"app": app}}}})
        };
        store
            .patch(
                &deployments,
                "x",
                "d",
                PatchKind::Apply,
                &deployment("a"),
                true,
                &options("flux"),
            )
            .unwrap();
        let error = store
            .patch(
                &deployments,
                "x",
                "d",
                PatchKind::Apply,
                &deployment("b"),
                true,
                &options("flux"),
            )
            .unwrap_err();
        assert_eq!(
            error.message,
            "Deployment.apps \"d\" is invalid: spec.selector: Invalid value: \
             v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"b\"}, \
             MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        );
    }

    #[test]
    fn watches_resume_within_the_window_and_expire_before_it() {
        let mut store = Store::with_window(3);
        let namespaces = store.find_type("", "v1", "namespaces").unwrap();
        let mut versions = Vec::new();
        for name in ["a", "b", "c", "d", "e"] {
            let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            store.create(&namespaces, "", body, &options("t")).unwrap();
            versions.push(store.resource_version());
        }
        // The last three events are kept: resuming from the one before them still works.
        let resumed = store.events_since(versions[1]).unwrap();
        let names: Vec<&str> = resumed
            .iter()
            .map(|e| e.object["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["c", "d", "e"]);
        assert!(
            store.events_since(versions[0]).is_none(),
            "older than the window"
        );
    }

    #[test]
    fn stale_replace_is_a_conflict() {
        let (mut store, cm) = setup();
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "y", "namespace": "x"}, "data": {"a": "1"}});
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
