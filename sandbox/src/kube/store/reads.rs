//! Reads and watches: objects by key, lists filtered by selectors, and the event log a watch
//! resumes from (a bounded window; older resource versions are gone, 410 Expired).

use serde_json::Value;
use tokio::sync::broadcast;

use super::super::selector::Selector;
use super::super::status::ApiError;
use super::super::types::ResourceType;
use super::{Event, EventType, Store};

impl Store {
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    pub fn resource_version(&self) -> u64 {
        self.resource_version
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

    /// Appends a change to the log and tells the watchers.
    pub(super) fn record(&mut self, event_type: EventType, resource: &ResourceType, object: Value) {
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
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::options;
    use super::*;

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
}
