//! `/api/bitbucket/rest/…`: a same-origin relay from the page to the one Bitbucket Server this
//! fluxstrap is configured for (browsers cannot call it cross-origin). Only REST paths are
//! relayed, checked after full percent-decoding, to that host only, with redirects never
//! followed; answers are size-capped and passed back only as JSON. The caller's Authorization
//! header is passed through for that request and neither stored nor logged.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;

use crate::error::{Error, Result};

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
    /// A relay to `base_url`, trusting `ca_file` in addition to the system's roots.
    pub fn new(base_url: &str, ca_file: Option<&std::path::Path>) -> Result<Self> {
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            client: crate::http::bitbucket_client(ca_file)?,
        })
    }
}

/// Request headers passed on; everything else (cookies above all) stays behind.
const FORWARDED: [header::HeaderName; 3] =
    [header::AUTHORIZATION, header::ACCEPT, header::CONTENT_TYPE];

/// Accepts `path` only if it is a REST path with no dot segment, empty segment or backslash in
/// any encoding: it is percent-decoded until it stops changing (`%252e` → `%2e` → `.`), since an
/// upstream that decodes once more would otherwise climb out of `/rest/` or the context path.
fn check_rest_path(path: &str) -> Result<()> {
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
    if decoded.starts_with("rest/") && plain && !decoded.contains('\\') {
        Ok(())
    } else {
        Err(Error::RelayPathRefused)
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

/// The relay handler.
pub async fn relay(
    State(relay): State<Arc<Option<BitbucketRelay>>>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let relay = relay.as_ref().as_ref().ok_or(Error::RelayNotConfigured)?;
    check_rest_path(&path)?;
    if let Some(query) = &query {
        check_query(query)?;
    }
    let method = match method {
        Method::GET | Method::POST | Method::PUT | Method::DELETE => method,
        other => return Err(Error::RelayMethodRefused(other.to_string())),
    };
    let mut url = format!("{}/{path}", relay.base_url);
    if let Some(query) = query {
        url.push('?');
        url.push_str(&query);
    }
    let mut request = relay
        .client
        .request(method, url)
        .header("X-Atlassian-Token", "no-check")
        .body(body);
    for name in FORWARDED {
        if let Some(value) = headers.get(&name) {
            let mut value = value.clone();
            if name == header::AUTHORIZATION {
                value.set_sensitive(true);
            }
            request = request.header(name, value);
        }
    }
    let answer = request
        .send()
        .await
        .map_err(|e| Error::UpstreamUnreachable(crate::http::describe(e)))?;
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let username = answer.headers().get("x-ausername").cloned();
    if status.is_redirection() {
        return Err(Error::UpstreamAnswer(format!(
            "it redirected ({status}), which the relay does not follow"
        )));
    }
    let body = capped_body(answer).await?;
    if !body.is_empty() && !is_json(content_type.as_ref()) {
        return Err(Error::UpstreamAnswer(format!(
            "it is not JSON ({})",
            content_type
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or("no content type")
        )));
    }
    let mut response = Response::builder()
        .status(status.as_u16())
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(username) = username {
        response = response.header("x-ausername", username);
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
    fn only_json_answers_pass() {
        let value = |v: &str| HeaderValue::from_str(v).unwrap();
        assert!(is_json(Some(&value("application/json;charset=UTF-8"))));
        assert!(is_json(Some(&value("application/vnd.api+json"))));
        assert!(!is_json(Some(&value("text/html"))));
        assert!(!is_json(None));
    }
}
