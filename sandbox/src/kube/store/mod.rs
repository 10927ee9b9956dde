//! The emulator's state: every object by type, namespace and name, resource versions, the
//! served types (built in, and those of Established CRDs) and the event log.
//!
//! Its rooms: [`time`] (timestamps), [`reads`] (gets, lists and the event log watches
//! resume from), [`write`] (create, replace, patch, apply, delete, status), [`commit`] (the
//! write pipeline's shared end: status subresource rules, schema, [`defaults`],
//! [`validation`], managed fields, no-op detection, generation, dry-run).

mod commit;
mod defaults;
mod reads;
mod time;
mod validation;
mod write;

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::schema::FieldValidation;
use super::types::{ResourceType, built_in_types, type_of_crd};

pub use time::{now, parse_rfc3339};

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

fn name_of(object: &Value) -> Option<&str> {
    object.pointer("/metadata/name").and_then(Value::as_str)
}

/// The string at `pointer`, empty when there is none.
fn text_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
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
}

#[cfg(test)]
mod test_support {
    use super::*;

    pub(super) fn options(manager: &str) -> WriteOptions {
        WriteOptions {
            manager: manager.into(),
            version: "v1".into(),
            part: Part::Main,
            dry_run: false,
            validation: FieldValidation::Prune,
        }
    }

    /// Applies `body` as flux does: forced, field manager `flux`.
    pub(super) fn apply(
        store: &mut Store,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        body: &Value,
    ) -> Result<(Value, bool), super::super::status::ApiError> {
        store.patch(
            resource,
            namespace,
            name,
            PatchKind::Apply,
            body,
            true,
            &options("flux"),
        )
    }

    /// A ConfigMap's body, `data` added when it is not null.
    pub(super) fn config_map(namespace: &str, name: &str, data: Value) -> Value {
        let mut body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": name, "namespace": namespace}});
        if !data.is_null() {
            body["data"] = data;
        }
        body
    }

    pub(super) fn setup() -> (Store, ResourceType) {
        let mut store = Store::new();
        let ns = store.find_type("", "v1", "namespaces").unwrap();
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
        apply(&mut store, &ns, "", "x", &namespace).unwrap();
        let cm = store.find_type("", "v1", "configmaps").unwrap();
        (store, cm)
    }
}
