//! `/api/bitbucket/{server}/rest/…` and `/api/git/{server}/scm/…`: same-origin relays from the
//! page to the Bitbucket servers this fluxstrap is configured for (browsers cannot call them
//! cross-origin). Only REST paths are relayed on the first, and only git's upload-pack (reading)
//! on the second, each checked after full percent-decoding, to configured hosts only, with
//! redirects never followed; answers are size-capped and passed back only as JSON (or git's own
//! content types). The caller's Authorization header is passed through for that request and
//! neither stored nor logged.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::metrics::Relay;

/// The largest answer relayed to the page.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Where the relay forwards to.
#[derive(Clone)]
pub struct BitbucketRelay {
    /// `https://host[:port][/context]`, without a trailing slash.
    pub base_url: String,
    /// The Bitbucket HTTP client ([`crate::http::bitbucket_client`]).
    pub client: reqwest::Client,
}

impl BitbucketRelay {
    /// The upstream URL of `path` (checked) with `query`.
    fn url(&self, path: &str, query: Option<&str>) -> String {
        match query {
            Some(query) => format!("{}/{path}?{query}", self.base_url),
            None => format!("{}/{path}", self.base_url),
        }
    }

    /// A relay to `base_url`, trusting `ca_file` in addition to the system's roots.
    pub fn new(base_url: &str, ca_file: Option<&std::path::Path>) -> Result<Self> {
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            client: crate::http::bitbucket_client(ca_file)?,
        })
    }
}

/// The relay of every configured server, by name.
#[derive(Clone, Default)]
pub struct Relays(HashMap<String, BitbucketRelay>);

impl Relays {
    /// One relay per server of `config`.
    pub fn of(config: &crate::config::ServeConfig) -> Result<Self> {
        let mut relays = HashMap::new();
        for server in &config.servers {
            relays.insert(
                server.name.clone(),
                BitbucketRelay::new(&server.host.base_url(), server.ca_file.as_deref())?,
            );
        }
        Ok(Self(relays))
    }

    fn get(&self, server: &str) -> Result<&BitbucketRelay> {
        self.0.get(server).ok_or(Error::RelayNotConfigured)
    }
}

/// Request headers passed on; everything else (cookies above all) stays behind.
const FORWARDED: [header::HeaderName; 3] =
    [header::AUTHORIZATION, header::ACCEPT, header::CONTENT_TYPE];

/// `path` percent-decoded until it stops changing (`%252e` → `%2e` → `.`), refused if any
/// segment is empty, `.` or `..`, or holds a backslash: an upstream that decodes once more
/// would otherwise climb out of `/rest/`, `/scm/` or the context path.
fn plain_path(path: &str) -> Result<String> {
    let mut decoded = path.to_string();
    loop {
        let next = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8()
            .map_err(|_| Error::RelayPathRefused)?
            .into_owned();
        if next == decoded {
            break;
        }
        decoded = next;
    }
    let plain = decoded
        .split('/')
        .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    if plain && !decoded.contains('\\') {
        Ok(decoded)
    } else {
        Err(Error::RelayPathRefused)
    }
}

/// Accepts `path` only if it is a plain REST path.
fn check_rest_path(path: &str) -> Result<()> {
    if plain_path(path)?.starts_with("rest/") {
        Ok(())
    } else {
        Err(Error::RelayPathRefused)
    }
}

/// What git may ask the read-only relay: the upload-pack advertisement and the upload-pack
/// exchange of a repository under `scm/`; receive-pack (pushing) never.
fn check_git_request(method: &Method, path: &str, query: Option<&str>) -> Result<()> {
    let path = plain_path(path)?;
    let in_scm = path.starts_with("scm/");
    let allowed = match *method {
        Method::GET => path.ends_with("/info/refs") && query == Some("service=git-upload-pack"),
        Method::POST => path.ends_with("/git-upload-pack"),
        _ => false,
    };
    if in_scm && allowed {
        Ok(())
    } else {
        Err(Error::GitRelayRefused)
    }
}

fn is_json(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|media| {
            let media = media.trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        })
        .unwrap_or(false)
}

/// Reads at most [`MAX_ANSWER_BYTES`] of `answer`.
async fn capped_body(mut answer: reqwest::Response) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| Error::UpstreamAnswer(crate::http::describe(e)))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(Error::UpstreamAnswer(format!(
                "it is larger than {MAX_ANSWER_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Sends `request` on, refusing to follow a redirect, and reads at most [`MAX_ANSWER_BYTES`].
async fn forward(
    request: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, HeaderMap, Vec<u8>)> {
    let answer = request
        .send()
        .await
        .map_err(|e| Error::UpstreamUnreachable(crate::http::describe(e)))?;
    let status = answer.status();
    if status.is_redirection() {
        return Err(Error::UpstreamAnswer(format!(
            "it redirected ({status}), which the relay does not follow"
        )));
    }
    let headers = answer.headers().clone();
    let body = capped_body(answer).await?;
    Ok((status, headers, body))
}

/// `request` with the caller's headers that may travel (the token marked sensitive).
fn with_forwarded(
    mut request: reqwest::RequestBuilder,
    headers: &HeaderMap,
    names: &[header::HeaderName],
) -> reqwest::RequestBuilder {
    for name in names {
        if let Some(value) = headers.get(name) {
            let mut value = value.clone();
            if name == header::AUTHORIZATION {
                value.set_sensitive(true);
            }
            request = request.header(name, value);
        }
    }
    request
}

/// The REST relay's handler.
pub async fn relay(
    State(state): State<Arc<AppState>>,
    method: Method,
    Path((server, path)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let outcome = rest(&state, method, &server, &path, query, &headers, body).await;
    counted(&state, Relay::Rest, outcome)
}

/// `outcome`, counted in the metrics by the status it answers with (refusals included).
fn counted(state: &AppState, relay: Relay, outcome: Result<Response>) -> Result<Response> {
    let status = match &outcome {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.status().as_u16(),
    };
    state.metrics.relayed(relay, status);
    outcome
}

async fn rest(
    state: &AppState,
    method: Method,
    server: &str,
    path: &str,
    query: Option<String>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let relay = state.relays.get(server)?;
    check_rest_path(path)?;
    if let Some(query) = &query {
        check_query(query)?;
    }
    let method = match method {
        Method::GET | Method::POST | Method::PUT | Method::DELETE => method,
        other => return Err(Error::RelayMethodRefused(other.to_string())),
    };
    let url = relay.url(path, query.as_deref());
    let request = relay
        .client
        .request(method, url)
        .header("X-Atlassian-Token", "no-check")
        .body(body);
    let (status, answer_headers, body) =
        forward(with_forwarded(request, headers, &FORWARDED)).await?;
    let content_type = answer_headers.get(header::CONTENT_TYPE);
    if !body.is_empty() && !is_json(content_type) {
        return Err(Error::UpstreamAnswer(format!(
            "it is not JSON ({})",
            content_type
                .and_then(|v| v.to_str().ok())
                .unwrap_or("no content type")
        )));
    }
    let mut response = Response::builder()
        .status(status.as_u16())
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(username) = answer_headers.get("x-ausername") {
        response = response.header("x-ausername", username);
    }
    response
        .body(Body::from(body))
        .map_err(|e| Error::UpstreamAnswer(e.to_string()))
}

/// git's content types for upload-pack, the only ones the git relay passes back.
const GIT_CONTENT_TYPES: [&str; 2] = [
    "application/x-git-upload-pack-advertisement",
    "application/x-git-upload-pack-result",
];

/// The read-only git relay's handler (`/api/git/{server}/scm/…`).
pub async fn git_relay(
    State(state): State<Arc<AppState>>,
    method: Method,
    Path((server, path)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let outcome = git(&state, method, &server, &path, query, &headers, body).await;
    counted(&state, Relay::Git, outcome)
}

async fn git(
    state: &AppState,
    method: Method,
    server: &str,
    path: &str,
    query: Option<String>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let relay = state.relays.get(server)?;
    check_git_request(&method, path, query.as_deref())?;
    let url = relay.url(path, query.as_deref());
    let request = relay.client.request(method, url).body(body);
    let names = [
        header::AUTHORIZATION,
        header::ACCEPT,
        header::CONTENT_TYPE,
        header::HeaderName::from_static("git-protocol"),
    ];
    let (status, answer_headers, body) = forward(with_forwarded(request, headers, &names)).await?;
    let content_type = answer_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut response = Response::builder().status(status.as_u16());
    if GIT_CONTENT_TYPES.contains(&content_type.as_str()) {
        response = response.header(header::CONTENT_TYPE, content_type);
    } else if !body.is_empty() && status.is_success() {
        return Err(Error::UpstreamAnswer(format!(
            "it is not git's upload-pack ({content_type})"
        )));
    } else {
        // Bitbucket's errors (401 and the like) are text: passed back as such, never as HTML.
        response = response.header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
    }
    if let Some(challenge) = answer_headers.get(header::WWW_AUTHENTICATE) {
        response = response.header(header::WWW_AUTHENTICATE, challenge);
    }
    response
        .body(Body::from(body))
        .map_err(|e| Error::UpstreamAnswer(e.to_string()))
}

/// A query may not smuggle a second path or fragment in.
fn check_query(query: &str) -> Result<()> {
    if query.contains('#') {
        Err(Error::RelayPathRefused)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_paths_are_checked_in_every_encoding() {
        assert!(check_rest_path("rest/api/1.0/projects").is_ok());
        assert!(check_rest_path("rest/api/latest/projects/~ALICE/repos").is_ok());
        for path in [
            "scm/plat/fleet.git/info/refs",
            "rest/../admin",
            "rest/%2e%2e/%2e%2e/plugins/servlet/x",
            "rest/%252e%252e/%252e%252e/plugins/servlet/x",
            "rest/%25252e%25252e/x",
            "rest/api/./x",
            "rest//x",
            "rest/a%5c..%5cb",
            "http://evil.example/rest/x",
            "rest/%ff",
        ] {
            assert!(check_rest_path(path).is_err(), "{path}");
        }
    }

    #[test]
    fn the_git_relay_reads_only() {
        let get = Method::GET;
        let post = Method::POST;
        let upload = Some("service=git-upload-pack");
        assert!(check_git_request(&get, "scm/plat/fleet.git/info/refs", upload).is_ok());
        assert!(check_git_request(&post, "scm/plat/fleet.git/git-upload-pack", None).is_ok());
        for (method, path, query) in [
            (
                &get,
                "scm/plat/fleet.git/info/refs",
                Some("service=git-receive-pack"),
            ),
            (&post, "scm/plat/fleet.git/git-receive-pack", None),
            (&get, "scm/plat/fleet.git/info/refs", None),
            (&get, "rest/api/1.0/projects", None),
            (&post, "scm/../rest/x/git-upload-pack", None),
            (&post, "scm/%2e%2e/admin/git-upload-pack", None),
            (&Method::PUT, "scm/plat/fleet.git/git-upload-pack", None),
        ] {
            assert!(
                check_git_request(method, path, query).is_err(),
                "{method} {path} {query:?}"
            );
        }
    }

    #[test]
    fn only_json_answers_pass() {
        let value = |v: &str| HeaderValue::from_str(v).unwrap();
        assert!(is_json(Some(&value("application/json;charset=UTF-8"))));
        assert!(is_json(Some(&value("application/vnd.api+json"))));
        assert!(!is_json(Some(&value("text/html"))));
        assert!(!is_json(None));
    }
}
