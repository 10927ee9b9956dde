//! The REST surface (reference §5), answering in the shapes of the recorded real responses.
//! (Handlers return `Response` as their rejection: boxing it would only add noise.) One file per
//! endpoint family, and the extractors every handler starts from (`extract`); the shared answers,
//! the caller check, the JSON shapes and the router live here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};

use super::Shared;
use super::keys::KeyMaterial;
use super::names::{NameProblem, repository_slug, user_slug};

mod access_keys;
mod accounts;
mod extract;
mod permissions;
mod repos;

use super::state::{AccessKey, Grants, Level, Project, Repo, State, User};
use access_keys::*;
use accounts::*;
use extract::*;
use permissions::*;
use repos::*;

type Shared_ = Arc<Shared>;

static REQUEST_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
type Params = Query<HashMap<String, String>>;

fn error(
    status: StatusCode,
    message: &str,
    exception: Option<&str>,
    context: Option<&str>,
) -> Response {
    let body = json!({ "errors": [{ "context": context, "message": message, "exceptionName": exception }] });
    json_response(status, body, None)
}

/// A 400 naming every field that breaks a rule, in the order the rules are checked.
fn validation_errors(problems: &[NameProblem]) -> Response {
    let errors: Vec<Value> = problems
        .iter()
        .map(|p| json!({ "context": p.context, "message": p.message, "exceptionName": null }))
        .collect();
    json_response(StatusCode::BAD_REQUEST, json!({ "errors": errors }), None)
}

fn json_response(status: StatusCode, body: Value, user: Option<&User>) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    if let Some(user) = user {
        if let Ok(name) = HeaderValue::from_str(&user.name) {
            headers.insert("X-AUSERNAME", name);
        }
        headers.insert("X-AUSERID", HeaderValue::from(user.id));
    }
    // Bitbucket tags every answer with a request id of this form.
    let id = REQUEST_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Ok(value) = HeaderValue::from_str(&format!("@SANDBOX{id:X}x1x0")) {
        headers.insert("X-AREQUESTID", value);
    }
    response
}

/// Saves the state; a failure is logged, the request already succeeded in memory.
fn persist(state: &State) {
    if let Err(e) = state.save() {
        tracing::warn!("cannot save the sandbox state: {e}");
    }
}

/// An answer without a body, with the identity headers.
fn empty(status: StatusCode, user: &User) -> Response {
    let mut response = json_response(status, json!({}), Some(user));
    *response.body_mut() = axum::body::Body::empty();
    response
}

fn no_content(user: &User) -> Response {
    empty(StatusCode::NO_CONTENT, user)
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "Authentication failed. Please check your credentials and try again.",
        Some("com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"),
        None,
    )
}

/// Bitbucket answers 401, not 403, when the caller lacks a permission.
fn not_permitted() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "You are not permitted to access this resource",
        Some("com.atlassian.bitbucket.AuthorisationException"),
        None,
    )
}

fn no_project(key: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("Project {key} does not exist."),
        Some("com.atlassian.bitbucket.project.NoSuchProjectException"),
        None,
    )
}

fn no_repo(key: &str, slug: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("Repository {key}/{slug} does not exist."),
        Some("com.atlassian.bitbucket.repository.NoSuchRepositoryException"),
        None,
    )
}

/// The caller, from `Authorization: Bearer <token>` or Basic `user:token`. `Err` when
/// credentials were given but are wrong.
fn caller(state: &State, headers: &HeaderMap) -> Result<Option<User>, Response> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let user = if let Some(token) = value.strip_prefix("Bearer ") {
        state.authenticate(None, token.trim())
    } else if let Some(basic) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        match decoded.split_once(':') {
            Some((name, token)) => state.authenticate(Some(name), token),
            None => None,
        }
    } else {
        None
    };
    user.cloned().map(Some).ok_or_else(unauthorized)
}

/// The caller of a git request: Bearer, or Basic with a token as password. Over git the user
/// name beside a token is not checked (Backstage clones as `x-token-auth:<token>`; reference
/// §2.1), while a password needs its own user.
pub(crate) fn caller_for_git(state: &State, headers: &HeaderMap) -> Option<User> {
    let token_only = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|basic| {
            base64::engine::general_purpose::STANDARD
                .decode(basic.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|decoded| {
            let (_, token) = decoded.split_once(':')?;
            state.authenticate(None, token).cloned()
        });
    token_only.or_else(|| caller(state, headers).ok().flatten())
}

fn required_caller(state: &State, headers: &HeaderMap) -> Result<User, Response> {
    caller(state, headers)?.ok_or_else(unauthorized)
}

/// Bitbucket's name filters: a case-insensitive substring of any of `fields`; no filter passes all.
fn passes_filter(filter: Option<&String>, fields: &[&String]) -> bool {
    filter.is_none_or(|filter| {
        let filter = filter.to_lowercase();
        fields
            .iter()
            .any(|field| field.to_lowercase().contains(&filter))
    })
}

/// Slices `items` per `start`/`limit` into Bitbucket's paging envelope.
fn page(items: Vec<Value>, params: &HashMap<String, String>) -> Value {
    let start: usize = params
        .get("start")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let limit: usize = params
        .get("limit")
        .and_then(|s| s.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(25)
        .min(1000);
    let total = items.len();
    let values: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let end = start + values.len();
    let mut body = json!({
        "size": values.len(),
        "limit": limit,
        "isLastPage": end >= total,
        "values": values,
        "start": start,
    });
    if end < total {
        body["nextPageStart"] = json!(end);
    }
    body
}

fn project_json(shared: &Shared, project: &Project) -> Value {
    let mut body = json!({
        "key": project.key,
        "id": project.id,
        "name": project.name,
        "public": false,
        "type": "NORMAL",
        "links": { "self": [{ "href": format!("{}/projects/{}", shared.base_url, project.key) }] },
    });
    if let Some(description) = &project.description {
        body["description"] = json!(description);
    }
    body
}

fn personal_project_json(shared: &Shared, user: &User) -> Value {
    json!({
        "key": format!("~{}", user.name.to_uppercase()),
        "id": user.id,
        "name": user.display_name,
        "type": "PERSONAL",
        "owner": user_json(shared, user),
        "links": { "self": [{ "href": format!("{}/users/{}", shared.base_url, user.slug) }] },
    })
}

fn user_json(shared: &Shared, user: &User) -> Value {
    json!({
        "name": user.name,
        "emailAddress": user.email,
        "id": user.id,
        "displayName": user.display_name,
        "active": true,
        "slug": user.slug,
        "type": "NORMAL",
        "links": { "self": [{ "href": format!("{}/users/{}", shared.base_url, user.slug) }] },
    })
}

fn owner_json(shared: &Shared, state: &State, key: &str) -> Option<Value> {
    match state.project_index(key) {
        Some(i) => Some(project_json(shared, &state.projects[i])),
        None => state
            .personal_user(key)
            .map(|u| personal_project_json(shared, u)),
    }
}

fn repo_json(shared: &Shared, state: &State, repo: &Repo) -> Value {
    let project = owner_json(shared, state, &repo.project_key).unwrap_or(Value::Null);
    let scm_path = format!("{}/{}", repo.project_key.to_lowercase(), repo.slug);
    let browse = if repo.project_key.starts_with('~') {
        format!(
            "{}/users/{}/repos/{}/browse",
            shared.base_url,
            user_slug(&repo.project_key[1..]),
            repo.slug
        )
    } else {
        format!(
            "{}/projects/{}/repos/{}/browse",
            shared.base_url, repo.project_key, repo.slug
        )
    };
    let mut body = json!({
        "slug": repo.slug,
        "id": repo.id,
        "name": repo.name,
        "hierarchyId": format!("{:020x}", repo.id),
        "scmId": "git",
        "state": "AVAILABLE",
        "statusMessage": "Available",
        "forkable": repo.forkable,
        "project": project,
        "public": repo.public,
        "archived": false,
        "links": {
            "clone": [
                { "href": format!("{}/scm/{scm_path}.git", shared.base_url), "name": "http" },
                { "href": format!("{}/{scm_path}.git", shared.ssh_url), "name": "ssh" },
            ],
            "self": [{ "href": browse }],
        },
    });
    if let Some(description) = &repo.description {
        body["description"] = json!(description);
    }
    body
}

/// The REST API under one version prefix (`1.0` or `latest`).
fn api() -> Router<Shared_> {
    Router::new()
        .route("/application-properties", get(application_properties))
        .route("/users", get(list_users))
        .route("/users/{slug}", get(get_user))
        .route("/projects", get(list_projects))
        .route("/projects/{key}", get(get_project))
        .route(
            "/projects/{key}/permissions/groups",
            get(project_group_permissions),
        )
        .route("/projects/{key}/repos", get(list_repos).post(create_repo))
        .route(
            "/projects/{key}/repos/{slug}",
            get(get_repo).put(update_repo).delete(delete_repo),
        )
        .route("/projects/{key}/repos/{slug}/branches", get(list_branches))
        .route("/projects/{key}/repos/{slug}/raw/{*path}", get(raw_file))
        .route(
            "/projects/{key}/repos/{slug}/browse/{*path}",
            get(browse_file),
        )
        .route(
            "/projects/{key}/repos/{slug}/permissions/users",
            get(repo_permissions::<Users>)
                .put(grant_repo::<Users>)
                .delete(revoke_repo::<Users>),
        )
        .route(
            "/projects/{key}/repos/{slug}/branches/default",
            get(get_default_branch).put(set_default_branch),
        )
        .route(
            "/projects/{key}/repos/{slug}/default-branch",
            get(get_default_branch).put(set_default_branch),
        )
        .route(
            "/projects/{key}/repos/{slug}/permissions/groups",
            get(repo_permissions::<Groups>)
                .put(grant_repo::<Groups>)
                .delete(revoke_repo::<Groups>),
        )
}

fn keys() -> Router<Shared_> {
    Router::new()
        .route(
            "/projects/{key}/repos/{slug}/ssh",
            get(list_access_keys).post(add_access_key),
        )
        .route(
            "/projects/{key}/repos/{slug}/ssh/{id}",
            axum::routing::delete(delete_access_key),
        )
        .route(
            "/projects/{key}/repos/{slug}/ssh/{id}/permission/{permission}",
            put(set_access_key_permission),
        )
}

/// Every REST route under the context path.
pub fn router(context_path: &str) -> Router<Shared_> {
    let mut router = Router::new();
    for version in ["1.0", "latest"] {
        router = router
            .nest(&format!("{context_path}/rest/api/{version}"), api())
            .nest(&format!("{context_path}/rest/keys/{version}"), keys())
            .route(
                &format!("{context_path}/rest/ssh/{version}/settings"),
                get(ssh_settings),
            );
    }
    router = router.route(
        &format!("{context_path}/scm/{{*path}}"),
        get(super::git_http::handle)
            .post(super::git_http::handle)
            .layer(axum::extract::DefaultBodyLimit::disable()),
    );
    // GGP's unauthenticated rate-limit probe of the base URL must not fail.
    router.route(
        if context_path.is_empty() {
            "/"
        } else {
            context_path
        },
        get(|| async { Json(json!({})) }),
    )
}
