//! Git over HTTP at `/scm/{KEY}/{slug}.git` (and `/scm/~user/…`): the real smart-HTTP service
//! (`git http-backend` as CGI) behind Bitbucket's authentication and permission checks.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::Shared;
use super::state::Level;

const HTTP_BACKEND: &str = "/usr/lib/git-core/git-http-backend";

fn challenge() -> Response {
    // git only sends credentials after a Basic challenge.
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            "Basic realm=\"Atlassian Bitbucket\"",
        )],
        "Authentication required\n",
    )
        .into_response()
}

fn plain(status: StatusCode, message: String) -> Response {
    (status, message).into_response()
}

/// Splits `KEY/slug.git/info/refs` into key, slug and the service path.
fn split_path(path: &str) -> Option<(String, String, String)> {
    let mut parts = path.splitn(3, '/');
    let key = parts.next()?.to_string();
    let slug = parts.next()?.trim_end_matches(".git").to_string();
    let rest = parts.next().unwrap_or_default().to_string();
    (!key.is_empty() && !slug.is_empty()).then_some((key, slug, rest))
}

pub async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((key, slug, rest)) = split_path(&path) else {
        return plain(StatusCode::NOT_FOUND, "not a repository path\n".into());
    };
    let writing = rest == "git-receive-pack"
        || query
            .get("service")
            .is_some_and(|s| s == "git-receive-pack");
    let (user_name, git_dir, project_dir) = {
        let state = shared.state.lock().await;
        let user = match super::rest::caller_for_git(&state, &headers) {
            Some(user) => user,
            None => return challenge(),
        };
        let Some(index) = state.repo_index(&key, &slug) else {
            return plain(
                StatusCode::NOT_FOUND,
                format!("Repository {key}/{slug} does not exist.\n"),
            );
        };
        let repo = &state.repos[index];
        let needed = if writing { Level::Write } else { Level::Read };
        match state.repo_level(&user, repo) {
            Some(level) if level >= needed => {}
            Some(_) => {
                return plain(
                    StatusCode::FORBIDDEN,
                    format!("You are not permitted to push to {key}/{slug}.\n"),
                );
            }
            None => {
                return plain(
                    StatusCode::NOT_FOUND,
                    format!("Repository {key}/{slug} does not exist.\n"),
                );
            }
        }
        let git_dir = state.git_dir(repo);
        let project_dir = git_dir
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        (user.name.clone(), git_dir, project_dir)
    };
    let repo_dir_name = git_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let header_value = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut command = Command::new(HTTP_BACKEND);
    command
        .env_clear()
        .env("GIT_PROJECT_ROOT", &project_dir)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", format!("/{repo_dir_name}/{rest}"))
        .env("REQUEST_METHOD", method.as_str())
        .env(
            "QUERY_STRING",
            query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&"),
        )
        .env("CONTENT_TYPE", header_value(header::CONTENT_TYPE))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env(
            "HTTP_CONTENT_ENCODING",
            header_value(header::CONTENT_ENCODING),
        )
        .env(
            "HTTP_GIT_PROTOCOL",
            headers
                .get("git-protocol")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        )
        .env("REMOTE_USER", &user_name)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot run {HTTP_BACKEND}: {e}\n"),
            );
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&body).await;
    }
    let output = match child.wait_with_output().await {
        Ok(output) => output,
        Err(e) => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("git http-backend failed: {e}\n"),
            );
        }
    };
    cgi_response(&output.stdout)
}

/// Turns CGI output (headers, blank line, body) into a response.
fn cgi_response(output: &[u8]) -> Response {
    let split = output
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| output.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, separator)) = split else {
        return plain(
            StatusCode::BAD_GATEWAY,
            "git http-backend gave no headers\n".into(),
        );
    };
    let head = String::from_utf8_lossy(&output[..end]);
    let mut response = Response::new(Body::from(Bytes::copy_from_slice(
        &output[end + separator..],
    )));
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("Status") {
            let code = value
                .split_whitespace()
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(500);
            *response.status_mut() =
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        } else if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
