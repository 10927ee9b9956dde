//! Watches: a chunked stream of `{"type": ..., "object": ...}` lines. Starts from the current
//! state (no resourceVersion, or "0"), from a resourceVersion in the event window (older ones get
//! an ERROR event with 410 Expired), or as a WatchList (`sendInitialEvents=true`: ADDED events,
//! then a BOOKMARK marked `k8s.io/initial-events-end`) — or 422, so clients fall back to
//! list+watch, when the emulator is told to reject WatchList.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::api::Query;
use super::selector::Selector;
use super::status::ApiError;
use super::store::Event;
use super::types::ResourceType;
use super::{Shared, WatchList};

struct Filter {
    resource: ResourceType,
    version: String,
    namespace: Option<String>,
    labels: Selector,
    fields: Selector,
    /// `kubectl get -w` asks for Tables: each event then carries a one-row Table.
    table: bool,
}

impl Filter {
    fn matches(&self, event: &Event) -> bool {
        event.group == self.resource.group
            && event.plural == self.resource.plural
            && self.namespace.as_deref().is_none_or(|ns| {
                event
                    .object
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    == Some(ns)
            })
            && self.labels.matches_labels(&event.object)
            && self.fields.matches_fields(&event.object)
    }

    fn line(&self, event_type: &str, object: &Value) -> Bytes {
        let mut object = object.clone();
        object["apiVersion"] = json!(self.resource.api_version(&self.version));
        if self.table && event_type != "BOOKMARK" {
            let rv = object
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|rv| rv.parse().ok())
                .unwrap_or(0);
            object = super::table::table(&self.resource, &self.version, &[object], rv, true);
        }
        let mut line =
            serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }
}

struct Stream {
    pending: VecDeque<Bytes>,
    receiver: broadcast::Receiver<Event>,
    after: u64,
    deadline: Instant,
    filter: Filter,
    /// Fault knob: end the stream once the initial events are out.
    drop_after_initial: bool,
}

pub async fn watch(
    shared: Arc<Shared>,
    resource: ResourceType,
    version: String,
    namespace: Option<String>,
    query: &Query,
    table: bool,
) -> Response {
    let labels = match Selector::parse(query.get("labelSelector").unwrap_or("")) {
        Ok(s) => s,
        Err(e) => return ApiError::bad_request(e).into_response(),
    };
    let fields = match Selector::parse(query.get("fieldSelector").unwrap_or("")) {
        Ok(s) => s,
        Err(e) => return ApiError::bad_request(e).into_response(),
    };
    let send_initial = query.get("sendInitialEvents") == Some("true");
    if send_initial && shared.options.watch_list == WatchList::Rejected {
        return ApiError::invalid(
            "ListOptions.meta.k8s.io",
            "",
            "sendInitialEvents",
            "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature \
             gate is enabled",
            json!({"group": "meta.k8s.io", "kind": "ListOptions"}),
        )
        .into_response();
    }
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let requested: Option<u64> = match query.get("resourceVersion") {
        None | Some("") | Some("0") => None,
        Some(rv) => match rv.parse() {
            Ok(rv) => Some(rv),
            Err(_) => {
                return ApiError::bad_request(format!("invalid resource version: {rv}"))
                    .into_response();
            }
        },
    };
    let filter = Filter {
        resource,
        version,
        namespace,
        labels,
        fields,
        table,
    };
    let mut pending = VecDeque::new();
    let (receiver, after) = {
        let store = shared.store.lock().expect("store lock");
        let receiver = store.subscribe();
        let current = store.resource_version();
        match (send_initial, requested) {
            (true, _) | (false, None) => {
                for object in store.list(
                    &filter.resource,
                    filter.namespace.as_deref(),
                    &filter.labels,
                    &filter.fields,
                ) {
                    pending.push_back(filter.line("ADDED", &object));
                }
                if send_initial {
                    let bookmark = json!({
                        "kind": filter.resource.kind,
                        "metadata": {"resourceVersion": current.to_string(),
                                     "annotations": {"k8s.io/initial-events-end": "true"}},
                    });
                    pending.push_back(filter.line("BOOKMARK", &bookmark));
                }
            }
            (false, Some(rv)) => match store.events_since(rv) {
                Some(events) => {
                    for event in events.iter().filter(|e| filter.matches(e)) {
                        pending.push_back(filter.line(event.event_type.as_str(), &event.object));
                    }
                }
                None => {
                    let expired = ApiError::new(
                        410,
                        "Expired",
                        format!("too old resource version: {rv} ({current})"),
                    );
                    let mut line =
                        serde_json::to_vec(&json!({"type": "ERROR", "object": expired.to_json()}))
                            .unwrap_or_default();
                    line.push(b'\n');
                    let body = Body::from(line);
                    return (
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                        .into_response();
                }
            },
        }
        (receiver, current)
    };
    let state = Stream {
        pending,
        receiver,
        after,
        deadline: Instant::now() + Duration::from_secs(timeout),
        filter,
        drop_after_initial: shared.drop_watches(),
    };
    let stream = futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(line) = state.pending.pop_front() {
                return Some((line, state));
            }
            if state.drop_after_initial {
                return None;
            }
            let next = tokio::time::timeout_at(state.deadline, state.receiver.recv()).await;
            match next {
                Ok(Ok(event)) => {
                    if event.resource_version > state.after && state.filter.matches(&event) {
                        state.after = event.resource_version;
                        let line = state.filter.line(event.event_type.as_str(), &event.object);
                        return Some((line, state));
                    }
                }
                // Lagged, closed or timed out: end the watch; clients list and watch again.
                _ => return None,
            }
        }
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream.map(Ok::<_, Infallible>)),
    )
        .into_response()
}
