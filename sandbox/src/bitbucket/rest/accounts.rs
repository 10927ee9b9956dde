//! Server, user and project endpoints: application properties, users, projects, SSH settings.

use super::*;

pub(super) async fn application_properties(
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

pub(super) async fn get_user(
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

pub(super) async fn list_projects(
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

pub(super) async fn get_project(
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

pub(super) async fn ssh_settings(AxumState(shared): AxumState<Shared_>) -> Response {
    json_response(
        StatusCode::OK,
        json!({ "enabled": true, "port": shared.ssh_port, "baseUrl": shared.ssh_url }),
        None,
    )
}

pub(super) async fn list_users(
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
