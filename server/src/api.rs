//! The JSON API's handlers: configuration, release files, bootstrap jobs (history, state, live
//! events as SSE), health and metrics. Errors become `{"error": …}` in one place
//! ([`Error`]'s `IntoResponse`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fluxstrap_core::Secret;
use fluxstrap_jobs::{JobFilter, JobRecord, JobState, StoredEvent};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_stream::wrappers::ReceiverStream;

use crate::config::ServeConfig;
use crate::error::{Error, Result};
use crate::jobs::{Accepted, JobRequest, Jobs, rerun_request};
use crate::metrics::Metrics;
use crate::releases::ReleaseLibrary;

/// What every handler shares.
pub struct AppState {
    pub config: Arc<ServeConfig>,
    pub releases: Arc<ReleaseLibrary>,
    pub jobs: Arc<Jobs>,
    pub metrics: Arc<Metrics>,
    pub relays: crate::relay::Relays,
}

pub type Shared = State<Arc<AppState>>;

#[derive(Serialize, Debug, PartialEq, Eq, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// `GET /api/config`: names and public settings only — no CA, no kubeconfig, no path on disk.
pub async fn config(State(state): Shared) -> Json<Value> {
    let config = &state.config;
    let servers: Vec<Value> = config
        .servers
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "url": s.host.base_url(),
                "sshHost": s.ssh_host,
            })
        })
        .collect();
    let clusters: Vec<Value> = config
        .clusters
        .iter()
        .map(|c| {
            let projects = match &c.projects {
                crate::config::AllowedProjects::Any => vec!["*".to_string()],
                crate::config::AllowedProjects::Keys(keys) => keys.clone(),
            };
            json!({"name": c.name, "projects": projects, "defaults": c.defaults})
        })
        .collect();
    let versions: Vec<Value> = state
        .releases
        .offered()
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"name": v.to_string(), "default": i == 0}))
        .collect();
    Json(json!({"servers": servers, "clusters": clusters, "versions": versions}))
}

#[derive(Serialize, Debug, PartialEq, Eq, Deserialize)]
pub struct ReleaseIndex {
    pub version: String,
    pub files: Vec<String>,
}

/// Release manifests are public data; any origin may read them (the wasm tests do).
fn public(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        axum::http::HeaderValue::from_static("*"),
    );
    response
}

/// `GET /api/flux/{version}`: the release's file names.
pub async fn release_index(State(state): Shared, Path(version): Path<String>) -> Response {
    let index = async {
        let version = state.releases.offered_version(&version)?;
        let files = state.releases.files(&version).await?;
        Ok::<_, Error>(Json(ReleaseIndex {
            version: version.to_string(),
            files: files.iter().map(|(name, _)| name.clone()).collect(),
        }))
    };
    public(index.await.into_response())
}

/// `GET /api/flux/{version}/distribution.json`: the release parsed (core's `Distribution`), what
/// the page generates its preview from; gzip-encoded when the client takes it.
pub async fn release_distribution(
    State(state): Shared,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Response {
    let parsed = async {
        let version = state.releases.offered_version(&version)?;
        state.releases.parsed(&version).await
    };
    let release = match parsed.await {
        Ok(release) => release,
        Err(error) => return public(error.into_response()),
    };
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let json = [(header::CONTENT_TYPE, "application/json")];
    let vary = [(header::VARY, "accept-encoding")];
    public(if gzip {
        (
            json,
            vary,
            [(header::CONTENT_ENCODING, "gzip")],
            release.gzip.clone(),
        )
            .into_response()
    } else {
        (json, vary, release.json.clone()).into_response()
    })
}

/// `GET /api/flux/{version}/{file}`: one of the release's files, by exact name only.
pub async fn release_file(
    State(state): Shared,
    Path((version, name)): Path<(String, String)>,
) -> Response {
    public(
        release_content(&state, &version, &name)
            .await
            .into_response(),
    )
}

async fn release_content(state: &AppState, version: &str, name: &str) -> Result<Response> {
    let version = state.releases.offered_version(version)?;
    let files = state.releases.files(&version).await?;
    let content = files
        .iter()
        .find(|(file, _)| file == name)
        .map(|(_, content)| content.clone())
        .ok_or_else(|| Error::NotAReleaseFile {
            name: name.to_string(),
            version: version.to_string(),
        })?;
    Ok((
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        content,
    )
        .into_response())
}

/// The caller's token, from `Authorization: Bearer …`.
fn bearer(headers: &HeaderMap) -> Result<Secret> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or(Error::Unauthenticated)
}

fn accepted(outcome: Accepted) -> Response {
    match outcome {
        Accepted::Job(record) => (
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("/api/bootstraps/{}", record.id))],
            Json(json!({"id": record.id, "state": record.state})),
        )
            .into_response(),
        Accepted::Plan(plan) => (StatusCode::OK, Json(plan)).into_response(),
    }
}

/// `POST /api/bootstraps`.
pub async fn create_bootstrap(
    State(state): Shared,
    headers: HeaderMap,
    body: std::result::Result<Json<JobRequest>, JsonRejection>,
) -> Result<Response> {
    let token = bearer(&headers)?;
    let Json(request) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::BodyTooLarge,
        _ => Error::BadJobRequest(e.body_text()),
    })?;
    Ok(accepted(state.jobs.accept(request, token, None).await?))
}

/// `POST /api/bootstraps/{id}/rerun`: the same request, checked again with the caller's token.
pub async fn rerun_bootstrap(
    State(state): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let token = bearer(&headers)?;
    let record = job(&state, &id)?;
    let request = rerun_request(&record)?;
    Ok(accepted(state.jobs.accept(request, token, Some(id)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    cluster: Option<String>,
    repository: Option<String>,
    state: Option<String>,
    start: Option<u64>,
    limit: Option<u64>,
}

/// `GET /api/bootstraps`: newest first, paged, filtered.
pub async fn list_bootstraps(
    State(state): Shared,
    query: std::result::Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<fluxstrap_jobs::JobPage>> {
    let Query(query) = query.map_err(|e| Error::BadJobRequest(e.body_text()))?;
    let defaults = JobFilter::default();
    let filter = JobFilter {
        cluster: query.cluster,
        repository: query.repository,
        state: query
            .state
            .map(|s| s.parse::<JobState>())
            .transpose()
            .map_err(|e| Error::BadJobRequest(e.to_string()))?,
        start: query.start.unwrap_or(defaults.start),
        limit: query.limit.unwrap_or(defaults.limit),
    };
    Ok(Json(state.jobs.store().list(&filter)?))
}

fn job(state: &AppState, id: &str) -> Result<JobRecord> {
    state
        .jobs
        .store()
        .get(id)?
        .ok_or_else(|| Error::JobNotFound(id.to_string()))
}

/// One step of a job, from its first event to its last.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StepSummary {
    step: String,
    started_at: String,
    finished_at: String,
    seconds: f64,
}

fn steps_of(events: &[StoredEvent]) -> Vec<StepSummary> {
    let mut steps: Vec<StepSummary> = Vec::new();
    for event in events {
        let step = event.event["step"].as_str().unwrap_or_default().to_string();
        match steps.last_mut() {
            Some(last) if last.step == step => last.finished_at = event.at.clone(),
            _ => steps.push(StepSummary {
                step,
                started_at: event.at.clone(),
                finished_at: event.at.clone(),
                seconds: 0.0,
            }),
        }
    }
    // A step lasts until the next one starts (its last event is where the next one begins).
    let starts: Vec<String> = steps.iter().map(|s| s.started_at.clone()).collect();
    for (i, step) in steps.iter_mut().enumerate() {
        let end = starts.get(i + 1).unwrap_or(&step.finished_at).clone();
        step.seconds = seconds_between(&step.started_at, &end);
    }
    steps
}

fn seconds_between(from: &str, to: &str) -> f64 {
    match (
        from.parse::<jiff::Timestamp>(),
        to.parse::<jiff::Timestamp>(),
    ) {
        (Ok(a), Ok(b)) => (b.as_millisecond() - a.as_millisecond()) as f64 / 1000.0,
        _ => 0.0,
    }
}

/// `GET /api/bootstraps/{id}`: the record, its steps with durations, and its event count.
pub async fn get_bootstrap(State(state): Shared, Path(id): Path<String>) -> Result<Json<Value>> {
    let record = job(&state, &id)?;
    let events = state.jobs.store().events_after(&id, 0)?;
    let mut value =
        serde_json::to_value(&record).map_err(|e| Error::InvalidAnswer(e.to_string()))?;
    value["steps"] = serde_json::to_value(steps_of(&events)).unwrap_or_default();
    value["events"] = json!(events.len());
    if let (Some(started), Some(finished)) = (&record.started_at, &record.finished_at) {
        value["seconds"] = json!(seconds_between(started, finished));
    }
    Ok(Json(value))
}

fn sse_event(event: &StoredEvent) -> SseEvent {
    let data = json!({"seq": event.seq, "at": event.at, "event": event.event["event"],
                      "text": event.event["text"], "step": event.event["step"],
                      "level": event.event["level"]});
    SseEvent::default()
        .id(event.seq.to_string())
        .event("progress")
        .data(data.to_string())
}

/// `GET /api/bootstraps/{id}/events`: every event after `Last-Event-ID` (all without it), live
/// until the job ends; then one `end` event (without an id, so it is never skipped) and the
/// stream closes. A finished job's stream replays and closes at once.
pub async fn bootstrap_events(
    State(state): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    job(&state, &id)?;
    let mut after: u64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let (sender, receiver) =
        tokio::sync::mpsc::channel::<std::result::Result<SseEvent, Infallible>>(64);
    tokio::spawn(async move {
        // Subscribe before reading, so an event stored meanwhile still wakes us.
        let mut follower = state.jobs.follow(&id);
        loop {
            let events = match state.jobs.store().events_after(&id, after) {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(job = %id, %error, "cannot read a job's events");
                    return;
                }
            };
            for event in &events {
                if sender.send(Ok(sse_event(event))).await.is_err() {
                    return; // the client left
                }
                after = event.seq;
            }
            if !events.is_empty() {
                continue;
            }
            let ended = match &mut follower {
                None => true,
                Some(follower) => follower.changed().await.is_err(),
            };
            if ended {
                // One last read: the job may have stored events just before it ended.
                if let Ok(rest) = state.jobs.store().events_after(&id, after) {
                    for event in &rest {
                        if sender.send(Ok(sse_event(event))).await.is_err() {
                            return;
                        }
                    }
                }
                let record = state.jobs.store().get(&id).ok().flatten();
                let end = json!({
                    "state": record.as_ref().map(|r| r.state),
                    "error": record.as_ref().and_then(|r| r.error.clone()),
                });
                let _ = sender
                    .send(Ok(SseEvent::default().event("end").data(end.to_string())))
                    .await;
                return;
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(receiver))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// `GET /metrics`.
pub async fn metrics(State(state): Shared) -> Result<Response> {
    let counts = state.jobs.store().counts()?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(&counts),
    )
        .into_response())
}
