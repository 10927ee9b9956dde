//! The fluxstrap server's JSON API, from the page: its configuration, bootstrap jobs and their
//! history. Errors are the server's own `{"error": …}` text, or what went wrong reaching it.

use gloo_net::http::{Method, RequestBuilder, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Deserialize)]
struct ApiError {
    error: String,
}

async fn checked(response: Response, what: &str) -> Result<Response, String> {
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    Err(match response.json::<ApiError>().await {
        Ok(body) => body.error,
        Err(_) => format!("{what} answered {status}"),
    })
}

fn unreachable(error: gloo_net::Error) -> String {
    format!("cannot reach the fluxstrap server ({error}): check your connection and reload")
}

/// `GET url`, failing with the server's message unless it answers 2xx.
pub async fn get(url: &str) -> Result<Response, String> {
    let response = RequestBuilder::new(url)
        .method(Method::GET)
        .send()
        .await
        .map_err(unreachable)?;
    checked(response, url).await
}

/// `GET url` read as JSON.
pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, String> {
    get(url)
        .await?
        .json()
        .await
        .map_err(|e| format!("unexpected answer from {url}: {e}"))
}

/// `POST url` with a JSON body and the caller's token; the answer as JSON.
pub async fn post_json(url: &str, token: &str, body: &Value) -> Result<Value, String> {
    let request = RequestBuilder::new(url)
        .method(Method::POST)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .map_err(|e| e.to_string())?;
    let response = request.send().await.map_err(unreachable)?;
    checked(response, url)
        .await?
        .json()
        .await
        .map_err(|e| format!("unexpected answer from {url}: {e}"))
}

/// A configured Bitbucket server.
#[derive(Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    pub name: String,
    /// Its base URL (what `--hostname` gets).
    pub url: String,
    /// `host:port` of its SSH server, when configured.
    #[serde(default)]
    pub ssh_host: Option<String>,
}

/// A configured cluster and the projects that may target it.
#[derive(Deserialize, Clone, PartialEq, Debug)]
pub struct Cluster {
    pub name: String,
    pub projects: Vec<String>,
}

impl Cluster {
    /// Whether a job for the project `key` may target this cluster (`*` allows every project).
    pub fn allows(&self, key: &str) -> bool {
        self.projects
            .iter()
            .any(|p| p == "*" || p.eq_ignore_ascii_case(key))
    }
}

/// Something `/api/config` names.
#[derive(Deserialize, Clone, PartialEq, Debug)]
pub struct Named {
    pub name: String,
}

/// What the server offers (`/api/config`): its Bitbucket servers, clusters and Flux versions,
/// the default version first.
#[derive(Deserialize, Clone, PartialEq, Debug)]
pub struct PageConfig {
    pub servers: Vec<Server>,
    pub clusters: Vec<Cluster>,
    pub versions: Vec<Named>,
}

/// The server's offer.
pub async fn page_config() -> Result<PageConfig, String> {
    get_json("/api/config").await
}

/// Jobs as the server reports them: the store's own types, built without SQLite.
pub use fluxstrap_jobs::{JobPage, JobRecord};

/// Seconds from a job's start to its end (to `now_ms` while it runs), once it started.
pub fn job_seconds(job: &JobRecord, now_ms: f64) -> Option<f64> {
    let started = parse_time(job.started_at.as_deref()?)?;
    let finished = match job.finished_at.as_deref() {
        Some(at) => parse_time(at)?,
        None => now_ms,
    };
    Some(((finished - started) / 1000.0).max(0.0))
}

/// An RFC 3339 time as milliseconds since the epoch.
pub fn parse_time(at: &str) -> Option<f64> {
    let ms = js_sys::Date::parse(at);
    (!ms.is_nan()).then_some(ms)
}

/// A duration the way the page shows it: `0.4 s`, `12 s`, `2 min 5 s`.
pub fn human_seconds(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.1} s")
    } else if seconds < 60.0 {
        format!("{seconds:.0} s")
    } else {
        let whole = seconds.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    }
}

/// A time in the reader's locale.
pub fn local_time(at: &str) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(at));
    if date.get_time().is_nan() {
        return at.to_string();
    }
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}
