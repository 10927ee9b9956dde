//! What every answer and every state-changing request goes through: a Content-Security-Policy
//! fit for the wasm page (its one inline bootstrap script admitted by hash, nothing else
//! inline), `nosniff`, no referrer, no framing, `no-store` on the API; and a same-origin check
//! on every request that may change something (`Origin` / `Sec-Fetch-Site`).

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// The headers of every answer.
#[derive(Clone)]
pub struct Policy {
    csp: HeaderValue,
}

/// The contents of the inline `<script>` elements of `html` (Trunk's module loader).
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            scripts.push(&body[..close]);
        }
        rest = &body[close..];
    }
    scripts
}

impl Policy {
    /// The policy for the app in `web_dir`: its inline scripts' hashes are the only inline code
    /// allowed; wasm may be compiled; everything else comes from this origin.
    pub fn for_web_dir(web_dir: &Path) -> Self {
        let html = std::fs::read_to_string(web_dir.join("index.html")).unwrap_or_default();
        let hashes: String = inline_scripts(&html)
            .into_iter()
            .map(|script| {
                let digest = Sha256::digest(script.as_bytes());
                format!(
                    " 'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                )
            })
            .collect();
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        );
        Self {
            csp: HeaderValue::from_str(&csp).expect("the policy is ASCII"),
        }
    }
}

/// Adds the security headers to every answer.
pub async fn headers(State(policy): State<Arc<Policy>>, request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/") || request.uri().path() == "/metrics";
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy.csp.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if is_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Whether a request that may change something comes from this origin: browsers say so in
/// `Sec-Fetch-Site` and `Origin`; a request with neither is not from a browser page (curl, the
/// CLI) and cannot carry a victim's cookies anyway — fluxstrap has none.
fn same_origin(request: &Request<Body>) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin.split_once("://").is_some_and(|(scheme, authority)| {
        matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
    })
}

/// Refuses state-changing requests from other origins.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !same_origin(&request) {
        return Error::CrossOrigin.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_found_and_external_ones_are_not() {
        let html = "<head><script type=\"module\">import init from '/a.js';\n</script>\
                    <script src=\"/b.js\"></script><script>x()</script></head>";
        assert_eq!(
            inline_scripts(html),
            vec!["import init from '/a.js';\n", "x()"]
        );
    }

    #[test]
    fn the_policy_admits_the_inline_loader_by_hash_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("index.html"),
            "<script type=\"module\">abc</script>",
        )
        .unwrap();
        let policy = Policy::for_web_dir(dir.path());
        let csp = policy.csp.to_str().unwrap();
        // sha256("abc") in base64.
        assert!(
            csp.contains("'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    }

    fn request(method: Method, headers: &[(&str, &str)]) -> Request<Body> {
        let mut builder = Request::builder().method(method).uri("/api/bootstraps");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn only_same_origin_pages_may_post() {
        let host = ("host", "127.0.0.1:8080");
        assert!(same_origin(&request(
            Method::POST,
            &[host, ("origin", "http://127.0.0.1:8080")]
        )));
        assert!(same_origin(&request(Method::POST, &[host])));
        assert!(same_origin(&request(
            Method::POST,
            &[host, ("sec-fetch-site", "same-origin")]
        )));
        assert!(!same_origin(&request(
            Method::POST,
            &[host, ("origin", "http://evil.example")]
        )));
        assert!(!same_origin(&request(
            Method::POST,
            &[host, ("sec-fetch-site", "cross-site")]
        )));
        assert!(!same_origin(&request(
            Method::POST,
            &[host, ("origin", "null")]
        )));
    }
}
