//! `/api/bitbucket/rest/…`: a same-origin relay from the page to the one Bitbucket Server this
//! fluxstrap is configured for (browsers cannot call it cross-origin). Only REST paths are
//! relayed, to that host only; the caller's Authorization header is passed through for that
//! request and neither stored nor logged.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Where the relay forwards to.
#[derive(Clone)]
pub struct BitbucketRelay {
    /// `https://host[:port][/context]`, without a trailing slash.
    pub base_url: String,
    pub client: reqwest::Client,
}

impl BitbucketRelay {
    pub fn new(base_url: &str, ca_file: Option<&std::path::Path>) -> crate::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
        if let Some(path) = ca_file {
            let pem = std::fs::read(path).map_err(|source| crate::Error::ReadCaFile {
                path: path.to_path_buf(),
                source,
            })?;
            for certificate in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                crate::Error::InvalidCaFile {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                }
            })? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            client: builder
                .build()
                .map_err(|e| crate::Error::HttpClient(e.to_string()))?,
        })
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// Request headers passed on; everything else (cookies above all) stays behind.
const FORWARDED: [header::HeaderName; 3] =
    [header::AUTHORIZATION, header::ACCEPT, header::CONTENT_TYPE];

pub async fn relay(
    State(relay): State<Arc<Option<BitbucketRelay>>>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(relay) = relay.as_ref() else {
        return refuse(
            StatusCode::NOT_FOUND,
            "no Bitbucket Server is configured: start fluxstrap serve with --bitbucket-url",
        );
    };
    if !path.starts_with("rest/") || path.contains("..") {
        return refuse(
            StatusCode::FORBIDDEN,
            "only Bitbucket REST paths are relayed",
        );
    }
    let method = match method {
        Method::GET | Method::POST | Method::PUT | Method::DELETE => method,
        _ => return refuse(StatusCode::METHOD_NOT_ALLOWED, "method not relayed"),
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
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(e) => {
            return refuse(
                StatusCode::BAD_GATEWAY,
                &format!("Bitbucket did not answer: {}", e.without_url()),
            );
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::builder().status(status);
    for name in [
        header::CONTENT_TYPE,
        header::HeaderName::from_static("x-ausername"),
    ] {
        if let Some(value) = answer
            .headers()
            .get(&name)
            .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
        {
            response = response.header(name, value);
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    response
        .body(Body::from(body))
        .unwrap_or_else(|_| refuse(StatusCode::BAD_GATEWAY, "bad answer"))
}
