//! The REST surface (reference §5), answering in the shapes of the recorded real responses.
//! (Handlers return `Response` as their rejection: boxing it would only add noise.)
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
use fluxstrap_core::bitbucket::{RepoName, key_material};
use serde_json::{Value, json};

use super::Shared;
use super::state::{AccessKey, Level, Project, Repo, State, User, user_slug};

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

/// The caller of a git request: like the REST API (Bearer, or Basic with the token as password).
pub(crate) fn caller_for_git(state: &State, headers: &HeaderMap) -> Option<User> {
    caller(state, headers).ok().flatten()
}

fn required_caller(state: &State, headers: &HeaderMap) -> Result<User, Response> {
    caller(state, headers)?.ok_or_else(unauthorized)
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

async fn application_properties(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
) -> Response {
    let state = shared.state.lock().await;
    let user = match caller(&state, &headers) {
        Ok(user) => user,
        Err(response) => return response,
    };
    let body = json!({ "version": "8.19.1", "buildNumber": "8019001", "buildDate": "1700000000000", "displayName": "Bitbucket" });
    json_response(StatusCode::OK, body, user.as_ref())
}

async fn get_user(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let state = shared.state.lock().await;
    let caller = match required_caller(&state, &headers) {
        Ok(user) => user,
        Err(response) => return response,
    };
    match state.user(&slug) {
        Some(user) => json_response(StatusCode::OK, user_json(&shared, user), Some(&caller)),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("User {slug} does not exist."),
            Some("com.atlassian.bitbucket.user.NoSuchUserException"),
            None,
        ),
    }
}

async fn list_projects(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    let user = match required_caller(&state, &headers) {
        Ok(user) => user,
        Err(response) => return response,
    };
    let filter = params.get("name").map(|n| n.to_lowercase());
    let items = state
        .projects
        .iter()
        .filter(|p| state.project_level(&user, &p.key).is_some())
        .filter(|p| {
            filter
                .as_ref()
                .is_none_or(|f| p.name.to_lowercase().contains(f))
        })
        .map(|p| project_json(&shared, p))
        .collect();
    json_response(StatusCode::OK, page(items, &params), Some(&user))
}

async fn get_project(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    let state = shared.state.lock().await;
    let user = match required_caller(&state, &headers) {
        Ok(user) => user,
        Err(response) => return response,
    };
    match owner_json(&shared, &state, &key) {
        Some(body) if state.project_level(&user, &key).is_some() => {
            json_response(StatusCode::OK, body, Some(&user))
        }
        Some(_) => not_permitted(),
        None => no_project(&key),
    }
}

async fn list_repos(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    let user = match required_caller(&state, &headers) {
        Ok(user) => user,
        Err(response) => return response,
    };
    if owner_json(&shared, &state, &key).is_none() {
        return no_project(&key);
    }
    let items = state
        .repos
        .iter()
        .filter(|r| {
            r.project_key.eq_ignore_ascii_case(&key) && state.repo_level(&user, r).is_some()
        })
        .map(|r| repo_json(&shared, &state, r))
        .collect();
    json_response(StatusCode::OK, page(items, &params), Some(&user))
}

async fn create_repo(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let mut state = shared.state.lock().await;
    let user = match required_caller(&state, &headers) {
        Ok(user) => user,
        Err(response) => return response,
    };
    let canonical_key = match state.project_index(&key) {
        Some(i) => state.projects[i].key.clone(),
        None => match state.personal_user(&key) {
            Some(owner) => format!("~{}", owner.name.to_uppercase()),
            None => return no_project(&key),
        },
    };
    if state.project_level(&user, &canonical_key) < Some(Level::Admin) {
        return not_permitted();
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
            None,
            None,
        );
    };
    let name = request
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Ok(repo_name) = RepoName::parse(name) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Repository names are limited to 128 characters. They must start with a letter or number and may contain spaces, hyphens, underscores and periods",
            None,
            Some("name"),
        );
    };
    let slug = repo_name.slug().to_string();
    let taken = state.repos.iter().any(|r| {
        r.project_key.eq_ignore_ascii_case(&canonical_key)
            && (r.slug == slug || r.name.eq_ignore_ascii_case(name))
    });
    if taken {
        return error(
            StatusCode::CONFLICT,
            &format!("This repository URL is already taken by '{name}' in '{canonical_key}'"),
            Some("com.atlassian.bitbucket.repository.DuplicateRepositorySlugException"),
            Some("name"),
        );
    }
    let default_branch = request
        .get("defaultBranch")
        .and_then(Value::as_str)
        .unwrap_or("master")
        .to_string();
    let id = state.next_id();
    let repo = Repo {
        id,
        project_key: canonical_key,
        slug,
        name: name.to_string(),
        description: request
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        public: request
            .get("public")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        forkable: request
            .get("forkable")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        default_branch,
        groups: Default::default(),
        users: Default::default(),
    };
    let git_dir = state.git_dir(&repo);
    if let Err(e) = super::git::init_bare(&git_dir, &repo.default_branch).await {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot create the repository: {e}"),
            None,
            None,
        );
    }
    let body = repo_json(&shared, &state, &repo);
    state.repos.push(repo);
    persist(&state);
    json_response(StatusCode::CREATED, body, Some(&user))
}

/// Finds the repository and checks the caller's level on it.
fn repo_for(
    state: &State,
    headers: &HeaderMap,
    key: &str,
    slug: &str,
    needed: Level,
) -> Result<(User, usize), Response> {
    let user = required_caller(state, headers)?;
    let index = state.repo_index(key, slug).ok_or_else(|| {
        if state.project_index(key).is_none() && state.personal_user(key).is_none() {
            no_project(key)
        } else {
            no_repo(key, slug)
        }
    })?;
    match state.repo_level(&user, &state.repos[index]) {
        Some(level) if level >= needed => Ok((user, index)),
        Some(_) => Err(not_permitted()),
        // Without read access the repository does not exist for the caller.
        None => Err(no_repo(key, slug)),
    }
}

async fn get_repo(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
) -> Response {
    let state = shared.state.lock().await;
    match repo_for(&state, &headers, &key, &slug, Level::Read) {
        Ok((user, i)) => json_response(
            StatusCode::OK,
            repo_json(&shared, &state, &state.repos[i]),
            Some(&user),
        ),
        Err(response) => response,
    }
}

async fn delete_repo(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
) -> Response {
    let mut state = shared.state.lock().await;
    match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok((user, i)) => {
            let repo = state.repos.remove(i);
            let _ = std::fs::remove_dir_all(state.git_dir(&repo));
            state
                .access_keys
                .retain(|k| !(k.project_key == repo.project_key && k.slug == repo.slug));
            persist(&state);
            empty(StatusCode::ACCEPTED, &user)
        }
        Err(response) => response,
    }
}

async fn get_default_branch(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
) -> Response {
    let state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Read) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let repo = &state.repos[i];
    match super::git::branch_sha(&state.git_dir(repo), &repo.default_branch).await {
        Some(sha) => json_response(
            StatusCode::OK,
            json!({
                "id": format!("refs/heads/{}", repo.default_branch),
                "displayId": repo.default_branch,
                "type": "BRANCH",
                "latestCommit": sha,
                "latestChangeset": sha,
                "isDefault": true,
            }),
            Some(&user),
        ),
        // An empty repository: Bitbucket 5.6+ answers 204 with no body.
        None => no_content(&user),
    }
}

async fn set_default_branch(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let branch = id.strip_prefix("refs/heads/").unwrap_or(&id).to_string();
    if branch.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "A branch id is required.",
            None,
            Some("id"),
        );
    }
    let git_dir = state.git_dir(&state.repos[i]);
    if let Err(e) = super::git::set_head(&git_dir, &branch).await {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &e.to_string(),
            None,
            None,
        );
    }
    state.repos[i].default_branch = branch;
    persist(&state);
    no_content(&user)
}

fn group_entries(
    levels: &std::collections::BTreeMap<String, Level>,
    filter: Option<&String>,
    project: bool,
) -> Vec<Value> {
    levels
        .iter()
        .filter(|(name, _)| filter.is_none_or(|f| name.to_lowercase().contains(&f.to_lowercase())))
        .map(|(name, level)| {
            json!({
                "group": { "name": name },
                "permission": if project { level.project_name() } else { level.repo_name() },
            })
        })
        .collect()
}

async fn project_group_permissions(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    let user = match required_caller(&state, &headers) {
        Ok(user) => user,
        Err(response) => return response,
    };
    let Some(i) = state.project_index(&key) else {
        return no_project(&key);
    };
    if state.project_level(&user, &key) < Some(Level::Admin) {
        return not_permitted();
    }
    let items = group_entries(&state.projects[i].groups, params.get("filter"), true);
    json_response(StatusCode::OK, page(items, &params), Some(&user))
}

async fn repo_group_permissions(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok((user, i)) => {
            let items = group_entries(&state.repos[i].groups, params.get("filter"), false);
            json_response(StatusCode::OK, page(items, &params), Some(&user))
        }
        Err(response) => response,
    }
}

async fn grant_repo_group(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let mut state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(level) = params
        .get("permission")
        .and_then(|p| Level::parse(p))
        .filter(|_| {
            params
                .get("permission")
                .is_some_and(|p| p.starts_with("REPO_"))
        })
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "The permission must be REPO_READ, REPO_WRITE or REPO_ADMIN.",
            None,
            Some("permission"),
        );
    };
    let Some(name) = params.get("name").cloned() else {
        return error(
            StatusCode::BAD_REQUEST,
            "A group name is required.",
            None,
            Some("name"),
        );
    };
    if !state.groups.contains_key(&name) {
        return error(
            StatusCode::NOT_FOUND,
            &format!("Group {name} does not exist."),
            Some("com.atlassian.bitbucket.user.NoSuchGroupException"),
            None,
        );
    }
    state.repos[i].groups.insert(name, level);
    persist(&state);
    no_content(&user)
}

/// Removes `?name=` from one of the repository's grant maps (groups or users).
async fn revoke_repo_grant(
    shared: &Shared,
    headers: &HeaderMap,
    key: &str,
    slug: &str,
    name: Option<&String>,
    grants: fn(&mut Repo) -> &mut std::collections::BTreeMap<String, Level>,
) -> Response {
    let mut state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, headers, key, slug, Level::Admin) {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Some(name) = name {
        grants(&mut state.repos[i]).remove(name);
    }
    persist(&state);
    no_content(&user)
}

async fn revoke_repo_group(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    revoke_repo_grant(&shared, &headers, &key, &slug, params.get("name"), |r| {
        &mut r.groups
    })
    .await
}

fn access_key_json(shared: &Shared, state: &State, key: &AccessKey) -> Value {
    let repo = state
        .repo_index(&key.project_key, &key.slug)
        .map(|i| repo_json(shared, state, &state.repos[i]))
        .unwrap_or(Value::Null);
    json!({
        "key": { "id": key.id, "text": key.text, "label": key.label },
        "repository": repo,
        "permission": key.level.repo_name(),
    })
}

async fn list_access_keys(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let repo = &state.repos[i];
    let filter = params.get("filter");
    let items = state
        .access_keys
        .iter()
        .filter(|k| k.project_key == repo.project_key && k.slug == repo.slug)
        .filter(|k| filter.is_none_or(|f| k.label.starts_with(f.as_str())))
        .map(|k| access_key_json(&shared, &state, k))
        .collect();
    json_response(StatusCode::OK, page(items, &params), Some(&user))
}

async fn add_access_key(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = request
        .pointer("/key/text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string();
    let level = request
        .get("permission")
        .and_then(Value::as_str)
        .and_then(Level::parse)
        .filter(|l| *l != Level::Admin);
    let (Some(material), Some(level)) = (
        key_material(&text).filter(|(kind, b64)| valid_public_key(kind, b64)),
        level,
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "You must enter a valid public key",
            None,
            Some("text"),
        );
    };
    let (repo_key, repo_slug) = (
        state.repos[i].project_key.clone(),
        state.repos[i].slug.clone(),
    );
    let duplicate = state.access_keys.iter().any(|k| {
        k.project_key == repo_key && k.slug == repo_slug && key_material(&k.text) == Some(material)
    });
    if duplicate {
        return error(
            StatusCode::CONFLICT,
            "This SSH key is already added to this repository.",
            Some("com.atlassian.bitbucket.ssh.DuplicateSshKeyException"),
            Some("text"),
        );
    }
    let label = request
        .pointer("/key/label")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| text.split_whitespace().nth(2).map(str::to_string))
        .unwrap_or_default();
    let id = state.next_id();
    let access_key = AccessKey {
        id,
        project_key: repo_key,
        slug: repo_slug,
        text,
        label,
        level,
    };
    let body = access_key_json(&shared, &state, &access_key);
    state.access_keys.push(access_key);
    persist(&state);
    json_response(StatusCode::CREATED, body, Some(&user))
}

/// A public key's type is known and its body is base64 that starts with the same type.
fn valid_public_key(kind: &str, b64: &str) -> bool {
    let Ok(blob) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return false;
    };
    let Some(len) = blob
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    else {
        return false;
    };
    blob.get(4..4 + len) == Some(kind.as_bytes())
}

async fn delete_access_key(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug, id)): Path<(String, String, u64)>,
) -> Response {
    let mut state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let (repo_key, repo_slug) = (
        state.repos[i].project_key.clone(),
        state.repos[i].slug.clone(),
    );
    state
        .access_keys
        .retain(|k| !(k.id == id && k.project_key == repo_key && k.slug == repo_slug));
    persist(&state);
    no_content(&user)
}

async fn set_access_key_permission(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug, id, permission)): Path<(String, String, u64, String)>,
) -> Response {
    let mut state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(level) = Level::parse(&permission).filter(|l| *l != Level::Admin) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The permission must be REPO_READ or REPO_WRITE.",
            None,
            Some("permission"),
        );
    };
    let (repo_key, repo_slug) = (
        state.repos[i].project_key.clone(),
        state.repos[i].slug.clone(),
    );
    let Some(position) = state
        .access_keys
        .iter()
        .position(|k| k.id == id && k.project_key == repo_key && k.slug == repo_slug)
    else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("No access key with id {id} exists on this repository."),
            None,
            None,
        );
    };
    state.access_keys[position].level = level;
    persist(&state);
    let body = access_key_json(&shared, &state, &state.access_keys[position]);
    json_response(StatusCode::OK, body, Some(&user))
}

async fn ssh_settings(AxumState(shared): AxumState<Shared_>) -> Response {
    json_response(
        StatusCode::OK,
        json!({ "enabled": true, "port": shared.ssh_port, "baseUrl": shared.ssh_url }),
        None,
    )
}

async fn list_users(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    let user = match required_caller(&state, &headers) {
        Ok(user) => user,
        Err(response) => return response,
    };
    // The filter matches user name, display name or e-mail, as a substring.
    let filter = params.get("filter").map(|f| f.to_lowercase());
    let items = state
        .users
        .iter()
        .filter(|u| {
            filter.as_ref().is_none_or(|f| {
                [&u.name, &u.display_name, &u.email]
                    .iter()
                    .any(|field| field.to_lowercase().contains(f))
            })
        })
        .map(|u| user_json(&shared, u))
        .collect();
    json_response(StatusCode::OK, page(items, &params), Some(&user))
}

async fn update_repo(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let repo = &mut state.repos[i];
    if let Some(description) = request.get("description").and_then(Value::as_str) {
        repo.description = Some(description.to_string());
    }
    if let Some(public) = request.get("public").and_then(Value::as_bool) {
        repo.public = public;
    }
    if let Some(forkable) = request.get("forkable").and_then(Value::as_bool) {
        repo.forkable = forkable;
    }
    persist(&state);
    // The REST documentation gives 201 for an update.
    json_response(
        StatusCode::CREATED,
        repo_json(&shared, &state, &state.repos[i]),
        Some(&user),
    )
}

async fn list_branches(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Read) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let repo = &state.repos[i];
    let filter = params.get("filterText");
    let items = super::git::branches(&state.git_dir(repo))
        .await
        .into_iter()
        .filter(|(name, _)| filter.is_none_or(|f| name.contains(f.as_str())))
        .map(|(name, sha)| {
            json!({
                "id": format!("refs/heads/{name}"),
                "displayId": name,
                "type": "BRANCH",
                "latestCommit": sha,
                "latestChangeset": sha,
                "isDefault": name == repo.default_branch,
            })
        })
        .collect();
    json_response(StatusCode::OK, page(items, &params), Some(&user))
}

/// The revision `at` names (a branch, `refs/heads/…` or a commit), the default branch if none.
fn revision(params: &HashMap<String, String>, default_branch: &str) -> String {
    params
        .get("at")
        .map(|at| at.strip_prefix("refs/heads/").unwrap_or(at).to_string())
        .unwrap_or_else(|| default_branch.to_string())
}

async fn raw_file(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug, path)): Path<(String, String, String)>,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    let (_, i) = match repo_for(&state, &headers, &key, &slug, Level::Read) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let repo = &state.repos[i];
    let at = revision(&params, &repo.default_branch);
    match super::git::file_at(&state.git_dir(repo), &at, &path).await {
        Some(content) => (
            [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
            content,
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("The path \"{path}\" does not exist at revision \"{at}\""),
            Some("com.atlassian.bitbucket.content.NoSuchPathException"),
            None,
        ),
    }
}

async fn browse_file(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug, path)): Path<(String, String, String)>,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Read) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let repo = &state.repos[i];
    let at = revision(&params, &repo.default_branch);
    let Some(content) = super::git::file_at(&state.git_dir(repo), &at, &path).await else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("The path \"{path}\" does not exist at revision \"{at}\""),
            Some("com.atlassian.bitbucket.content.NoSuchPathException"),
            None,
        );
    };
    let text = String::from_utf8_lossy(&content);
    let lines: Vec<Value> = text.lines().map(|line| json!({ "text": line })).collect();
    let mut body = page(lines, &params);
    // A file's browse answer: `lines` instead of `values`, no `limit`, and (a known Bitbucket
    // bug, BSERV-12725) no `nextPageStart` even when more lines follow.
    if let Some(map) = body.as_object_mut() {
        map.remove("limit");
        map.remove("nextPageStart");
        if let Some(values) = map.remove("values") {
            map.insert("lines".to_string(), values);
        }
    }
    json_response(StatusCode::OK, body, Some(&user))
}

fn user_entries(
    state: &State,
    shared: &Shared,
    levels: &std::collections::BTreeMap<String, Level>,
    filter: Option<&String>,
) -> Vec<Value> {
    levels
        .iter()
        .filter(|(name, _)| filter.is_none_or(|f| name.to_lowercase().contains(&f.to_lowercase())))
        .filter_map(|(name, level)| {
            let user = state.user(name)?;
            Some(json!({ "user": user_json(shared, user), "permission": level.repo_name() }))
        })
        .collect()
}

async fn repo_user_permissions(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let state = shared.state.lock().await;
    match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok((user, i)) => {
            let items = user_entries(&state, &shared, &state.repos[i].users, params.get("filter"));
            json_response(StatusCode::OK, page(items, &params), Some(&user))
        }
        Err(response) => response,
    }
}

async fn grant_repo_user(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let mut state = shared.state.lock().await;
    let (user, i) = match repo_for(&state, &headers, &key, &slug, Level::Admin) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(level) = params
        .get("permission")
        .filter(|p| p.starts_with("REPO_"))
        .and_then(|p| Level::parse(p))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "The permission must be REPO_READ, REPO_WRITE or REPO_ADMIN.",
            None,
            Some("permission"),
        );
    };
    let Some(name) = params
        .get("name")
        .and_then(|n| state.user(n))
        .map(|u| u.name.clone())
    else {
        return error(
            StatusCode::NOT_FOUND,
            "The specified user does not exist.",
            Some("com.atlassian.bitbucket.user.NoSuchUserException"),
            None,
        );
    };
    state.repos[i].users.insert(name, level);
    persist(&state);
    no_content(&user)
}

async fn revoke_repo_user(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
    Path((key, slug)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    revoke_repo_grant(&shared, &headers, &key, &slug, params.get("name"), |r| {
        &mut r.users
    })
    .await
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
            get(repo_user_permissions)
                .put(grant_repo_user)
                .delete(revoke_repo_user),
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
            get(repo_group_permissions)
                .put(grant_repo_group)
                .delete(revoke_repo_group),
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
