//! A job's page (`/runs/{id}`): its state, its steps live from the server's event stream, and
//! on failure the error with "Run again", on success links to the repository.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::api::{
    JobRecord, get_json, human_seconds, job_seconds, local_time, parse_time, post_json,
};
use crate::{Link, session};

/// One `progress` event of the stream.
#[derive(Deserialize, Clone, PartialEq, Debug)]
struct Line {
    seq: u64,
    #[serde(default)]
    at: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    level: String,
}

/// The `end` event.
#[derive(Deserialize, Clone, PartialEq, Debug, Default)]
struct End {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

fn symbol(level: &str) -> &'static str {
    match level {
        "action" => "►",
        "generate" => "✚",
        "waiting" => "◎",
        "success" => "✔",
        "warning" => "⚠️",
        "failure" => "✗",
        _ => "•",
    }
}

fn step_title(step: &str) -> &'static str {
    match step {
        "release" => "Flux release",
        "repository" => "Repository",
        "components" => "Components",
        "source-secret" => "Source secret",
        "sync" => "Sync",
        "health" => "Health",
        _ => "Other",
    }
}

const STEPS: [&str; 6] = [
    "release",
    "repository",
    "components",
    "source-secret",
    "sync",
    "health",
];

fn finished(state: &str) -> bool {
    matches!(state, "succeeded" | "failed" | "interrupted")
}

/// How long the browser waits before opening a stream again that it gave up on.
const REOPEN_MS: i32 = 3_000;
/// A run that sent nothing for this long has its state fetched again (a stream can stall
/// without an error, behind a proxy that keeps the connection open).
const QUIET_MS: f64 = 15_000.0;

/// The event stream of one job, kept open until the job ends or the page is left.
#[derive(Clone)]
struct Follower {
    id: String,
    lines: RwSignal<Vec<Line>>,
    state: RwSignal<String>,
    reconnecting: RwSignal<bool>,
    /// When the stream last said something (or opened), for the quiet-run check.
    heard_at: RwSignal<f64>,
    on_end: std::rc::Rc<dyn Fn(End)>,
    /// The stream now open, closed when the page is left.
    source: std::rc::Rc<std::cell::RefCell<Option<web_sys::EventSource>>>,
    left: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Follower {
    /// Opens `/api/bootstraps/{id}/events` in an EventSource, which resumes with
    /// `Last-Event-ID` by itself after a drop. An event whose seq was already seen is dropped,
    /// so neither a resume nor a fresh stream (after the browser gave up on one: it replays
    /// from the start) ever shows a step twice.
    fn open(&self) {
        if self.left.get() {
            return;
        }
        let Ok(source) = web_sys::EventSource::new(&format!("/api/bootstraps/{}/events", self.id))
        else {
            self.reconnecting.set(true);
            return;
        };
        let this = self.clone();
        let progress =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                this.reconnecting.set(false);
                this.heard_at.set(js_sys::Date::now());
                let Some(line) = ev
                    .data()
                    .as_string()
                    .and_then(|data| serde_json::from_str::<Line>(&data).ok())
                else {
                    return;
                };
                let seen = this
                    .lines
                    .with_untracked(|lines| lines.last().is_some_and(|last| line.seq <= last.seq));
                if seen {
                    return;
                }
                if this.state.get_untracked() == "queued" {
                    this.state.set("running".into());
                }
                this.lines.update(|lines| lines.push(line));
            });
        let this = self.clone();
        let end =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                this.close();
                this.reconnecting.set(false);
                let end = ev
                    .data()
                    .as_string()
                    .and_then(|d| serde_json::from_str::<End>(&d).ok())
                    .unwrap_or_default();
                (this.on_end)(end);
            });
        // The browser retries by itself (with Last-Event-ID) and the page says so meanwhile;
        // when it gives up (the stream is closed), the page opens a new one after a pause.
        let this = self.clone();
        let error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            let ended = finished(&this.state.get_untracked());
            this.reconnecting.set(!ended);
            let closed = this.source.borrow().as_ref().map(|s| s.ready_state())
                == Some(web_sys::EventSource::CLOSED);
            if closed && !ended {
                let again = this.clone();
                set_timeout(
                    move || again.open(),
                    std::time::Duration::from_millis(REOPEN_MS as u64),
                );
            }
        });
        let this = self.clone();
        let open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            this.reconnecting.set(false);
            this.heard_at.set(js_sys::Date::now());
        });
        let _ =
            source.add_event_listener_with_callback("progress", progress.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("end", end.as_ref().unchecked_ref());
        source.set_onerror(Some(error.as_ref().unchecked_ref()));
        source.set_onopen(Some(open.as_ref().unchecked_ref()));
        // The handlers live as long as the page: a handful per stream opened.
        progress.forget();
        end.forget();
        error.forget();
        open.forget();
        if let Some(previous) = self.source.replace(Some(source)) {
            previous.close();
        }
    }

    fn close(&self) {
        if let Some(source) = self.source.borrow_mut().take() {
            source.close();
        }
    }
}

#[component]
pub fn RunPage(id: String) -> impl IntoView {
    let s = session();
    let job = RwSignal::new(None::<Result<JobRecord, String>>);
    let lines = RwSignal::new(Vec::<Line>::new());
    let state = RwSignal::new("queued".to_string());
    let reconnecting = RwSignal::new(false);
    let end_error = RwSignal::new(None::<String>);

    let load = {
        let id = id.clone();
        move || {
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let record = get_json::<JobRecord>(&format!("/api/bootstraps/{id}")).await;
                if let Ok(record) = &record
                    && (finished(record.state.as_str()) || !finished(&state.get_untracked()))
                {
                    state.set(record.state.as_str().to_string());
                }
                job.set(Some(record));
            });
        }
    };
    load();
    let heard_at = RwSignal::new(js_sys::Date::now());
    let follower = Follower {
        id: id.clone(),
        lines,
        state,
        reconnecting,
        heard_at,
        on_end: std::rc::Rc::new({
            let load = load.clone();
            move |end: End| {
                if let Some(final_state) = end.state {
                    state.set(final_state);
                }
                end_error.set(end.error);
                load();
            }
        }),
        source: Default::default(),
        left: Default::default(),
    };
    follower.open();
    {
        let kept = SendWrapper::new(follower);
        on_cleanup(move || {
            kept.left.set(true);
            kept.close();
        });
    }
    // A run that went quiet has its state fetched again, so it never looks "running" forever.
    Effect::new({
        let load = load.clone();
        move |_| {
            let now = s.now.get();
            if !finished(&state.get_untracked()) && now - heard_at.get_untracked() > QUIET_MS {
                heard_at.set(now);
                load();
            }
        }
    });

    let rerun_error = RwSignal::new(None::<String>);
    let rerunning = RwSignal::new(false);
    let rerun = {
        let id = id.clone();
        move |_| {
            if rerunning.get_untracked() {
                return;
            }
            let token = s.token.get_untracked();
            if token.is_empty() || s.identity.get_untracked().is_none() {
                rerun_error.set(Some("Connect with your token on the New bootstrap page first: a re-run is authorised again with it.".into()));
                return;
            }
            rerunning.set(true);
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let answer =
                    post_json(&format!("/api/bootstraps/{id}/rerun"), &token, &Value::Null).await;
                rerunning.set(false);
                match answer.map(|a| a["id"].as_str().map(str::to_string)) {
                    Ok(Some(new)) => session().navigate(&format!("/runs/{new}")),
                    Ok(None) => rerun_error.set(Some("unexpected answer from the server".into())),
                    Err(error) => rerun_error.set(Some(error)),
                }
            });
        }
    };

    // Each step's duration: from its first event to the next step's first (live while it runs).
    let phases = move || {
        let now = s.now.get();
        let current_state = state.get();
        lines.with(|lines| {
            let mut starts: Vec<(&str, f64, &str)> = Vec::new();
            for line in lines {
                let at = parse_time(&line.at).unwrap_or(now);
                match starts.iter_mut().find(|(step, _, _)| *step == line.step) {
                    Some(entry) => entry.2 = line.level.as_str(),
                    None => starts.push((
                        STEPS
                            .iter()
                            .find(|s| **s == line.step)
                            .copied()
                            .unwrap_or("other"),
                        at,
                        line.level.as_str(),
                    )),
                }
            }
            let end_ms = job.with(|j| {
                j.as_ref()
                    .and_then(|j| j.as_ref().ok())
                    .and_then(|j| j.finished_at.as_deref())
                    .and_then(parse_time)
            });
            STEPS
                .iter()
                .map(|step| {
                    let index = starts.iter().position(|(s, _, _)| s == step);
                    let (status, seconds) = match index {
                        None if finished(&current_state) => ("skipped", None),
                        None => ("pending", None),
                        Some(i) => {
                            let (_, start, level) = starts[i];
                            let last = i + 1 == starts.len();
                            let stop = match starts.get(i + 1) {
                                Some((_, next, _)) => *next,
                                None if finished(&current_state) => end_ms.unwrap_or(now),
                                None => now,
                            };
                            let status = if level == "failure" {
                                "failed"
                            } else if last && !finished(&current_state) {
                                "active"
                            } else if last && current_state != "succeeded" {
                                "failed"
                            } else {
                                "done"
                            };
                            (status, Some(((stop - start) / 1000.0).max(0.0)))
                        }
                    };
                    (*step, status, seconds)
                })
                .collect::<Vec<_>>()
        })
    };

    let started_ms = move || lines.with(|l| l.first().and_then(|l| parse_time(&l.at)));
    let record = move || job.get().and_then(|j| j.ok());
    let links = move || {
        let record = record()?;
        let result = record.result.as_ref()?;
        let server = s.config.with(|c| {
            c.as_ref().and_then(|c| c.as_ref().ok()).and_then(|c| {
                c.servers
                    .iter()
                    .find(|srv| srv.name == record.server)
                    .cloned()
            })
        })?;
        let key = result["repository"]["projectKey"].as_str()?.to_string();
        let slug = result["repository"]["slug"].as_str()?.to_string();
        let base = format!(
            "{}/projects/{key}/repos/{slug}",
            server.url.trim_end_matches('/')
        );
        let commits: Vec<String> = result["commits"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|c| c["commit"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Some((
            base,
            commits,
            result["revision"].as_str().map(str::to_string),
        ))
    };

    view! {
        <section class="card run" data-testid="job" data-state=move || state.get() aria-labelledby="run-title">
            <div class="run-head">
                <h1 id="run-title">"Bootstrap " <code>{id.clone()}</code></h1>
                <span class=move || format!("badge state {}", state.get()) data-testid="job-state">{move || state.get()}</span>
            </div>
            <div class=move || format!("progress {}", state.get()) aria-hidden="true"><span></span></div>
            {move || record().map(|r| view! {
                <dl class="facts">
                    <div><dt>"Cluster"</dt><dd>{r.cluster.clone()}</dd></div>
                    <div><dt>"Repository"</dt><dd><code>{r.repository.clone()}</code></dd></div>
                    <div><dt>"Branch"</dt><dd><code>{r.branch.clone()}</code></dd></div>
                    <div><dt>"Path"</dt><dd><code>{if r.path.is_empty() { ".".to_string() } else { r.path.clone() }}</code></dd></div>
                    <div><dt>"Started by"</dt><dd>{r.started_by.clone()}</dd></div>
                    <div><dt>"Created"</dt><dd>{local_time(&r.created_at)}</dd></div>
                    <div><dt>"Duration"</dt><dd data-testid="job-duration">{move || job_seconds(&r, s.now.get()).map(human_seconds).unwrap_or_else(|| "—".into())}</dd></div>
                </dl>
            })}
            {move || match job.get() {
                Some(Err(error)) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                _ => ().into_any(),
            }}
            {move || reconnecting.get().then(|| view! { <p class="reconnecting" role="status" data-testid="reconnecting">"Reconnecting…"</p> })}
            <ol class="phases" aria-label="Steps">
                {move || phases().into_iter().map(|(step, status, seconds)| view! {
                    <li class=format!("phase {status}") data-step=step data-status=status>
                        <span class="icon" aria-hidden="true">{match status { "done" => "✔", "failed" => "✗", "active" => "◎", "skipped" => "–", _ => "○" }}</span>
                        <span class="title">{step_title(step)}</span>
                        <span class="time">{seconds.map(human_seconds).unwrap_or_default()}</span>
                    </li>
                }).collect_view()}
            </ol>
            {move || {
                let failed = matches!(state.get().as_str(), "failed" | "interrupted");
                failed.then(|| {
                    let message = end_error.get().or_else(|| record().and_then(|r| r.error)).unwrap_or_default();
                    view! {
                        <div class="error-panel" role="alert" data-testid="job-error">
                            <h2>{if state.get() == "interrupted" { "Interrupted" } else { "The bootstrap failed" }}</h2>
                            <p>{message}</p>
                            <p class="hint">"Every step is safe to repeat: fix the cause, then run it again."</p>
                            <button type="button" class="primary" data-testid="rerun" disabled=move || rerunning.get() on:click=rerun.clone()>
                                {move || if rerunning.get() { "Starting…" } else { "Run again" }}
                            </button>
                            {move || rerun_error.get().map(|e| view! { <p class="error">{e}</p> })}
                        </div>
                    }
                })
            }}
            {move || (state.get() == "succeeded").then(|| links().map(|(base, commits, revision)| view! {
                <div class="success-panel" data-testid="job-links">
                    <h2>"✔ Flux is running on the cluster"</h2>
                    {revision.map(|r| view! { <p>"Synced revision " <code>{r}</code></p> })}
                    <ul>
                        <li><a href=format!("{base}/browse") target="_blank" rel="noopener">"Open the repository in Bitbucket"</a></li>
                        {commits.into_iter().map(|c| view! {
                            <li><a href=format!("{base}/commits/{c}") target="_blank" rel="noopener">"Commit " <code>{c.chars().take(12).collect::<String>()}</code></a></li>
                        }).collect_view()}
                    </ul>
                </div>
            }))}
            <h2 class="log-title">"Log"</h2>
            <ol class="log" aria-live="polite" aria-label="Events">
                {move || {
                    let start = started_ms();
                    lines.get().into_iter().map(|line| {
                        let offset = match (start, parse_time(&line.at)) {
                            (Some(a), Some(b)) => format!("+{}", human_seconds(((b - a) / 1000.0).max(0.0))),
                            _ => String::new(),
                        };
                        view! {
                            <li data-testid="step" data-level=line.level.clone() data-step=line.step.clone() data-seq=line.seq.to_string()
                                class=format!("line {}", line.level)>
                                <span class="symbol" aria-hidden="true">{symbol(&line.level)}</span>
                                <span class="text">{line.text.strip_prefix(symbol(&line.level)).unwrap_or(&line.text).trim_start().to_string()}</span>
                                <time class="offset">{offset}</time>
                            </li>
                        }
                    }).collect_view()
                }}
                {move || (lines.with(Vec::is_empty) && !finished(&state.get())).then(|| view! { <li class="hint">"Waiting for the job to start…"</li> })}
            </ol>
            <p class="nav-links"><Link href="/history".into()>"All bootstraps"</Link> " · " <Link href="/".into()>"New bootstrap"</Link></p>
        </section>
    }
}
