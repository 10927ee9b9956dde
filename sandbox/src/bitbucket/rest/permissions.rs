//! Group and user permissions on projects and repositories: paged lists, grants, revokes.

use super::*;

pub(super) fn group_entries(
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

pub(super) async fn project_group_permissions(
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

pub(super) async fn repo_group_permissions(
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

/// `?permission=` of a repository grant: only the `REPO_` levels.
fn repo_level(params: &HashMap<String, String>) -> Result<Level, Response> {
    params
        .get("permission")
        .filter(|p| p.starts_with("REPO_"))
        .and_then(|p| Level::parse(p))
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "The permission must be REPO_READ, REPO_WRITE or REPO_ADMIN.",
                None,
                Some("permission"),
            )
        })
}

pub(super) async fn grant_repo_group(
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
    let level = match repo_level(&params) {
        Ok(level) => level,
        Err(response) => return response,
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
pub(super) async fn revoke_repo_grant(
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

pub(super) async fn revoke_repo_group(
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

pub(super) fn user_entries(
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

pub(super) async fn repo_user_permissions(
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

pub(super) async fn grant_repo_user(
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
    let level = match repo_level(&params) {
        Ok(level) => level,
        Err(response) => return response,
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

pub(super) async fn revoke_repo_user(
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
