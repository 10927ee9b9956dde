//! Server, user and project endpoints: application properties, users, projects, SSH settings.

use super::*;

pub(super) async fn application_properties(
    AxumState(shared): AxumState<Shared_>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let state = shared.state.lock().await;
    let user = caller(&state, &headers)?;
    let body = json!({ "version": "8.19.1", "buildNumber": "8019001", "buildDate": "1700000000000", "displayName": "Bitbucket" });
    Ok(json_response(StatusCode::OK, body, user.as_ref()))
}

pub(super) async fn get_user(Path(slug): Path<String>, request: Signed) -> Response {
    match request.state.user(&slug) {
        Some(user) => request.ok(user_json(&request.shared, user)),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("User {slug} does not exist."),
            Some("com.atlassian.bitbucket.user.NoSuchUserException"),
            None,
        ),
    }
}

pub(super) async fn list_projects(request: Signed, Query(params): Params) -> Response {
    let Signed {
        shared,
        state,
        user,
    } = &request;
    let items = state
        .projects
        .iter()
        .filter(|p| state.project_level(user, &p.key).is_some())
        .filter(|p| passes_filter(params.get("name"), &[&p.name]))
        .map(|p| project_json(shared, p))
        .collect();
    request.paged(items, &params)
}

pub(super) async fn get_project(Path(key): Path<String>, request: Signed) -> Response {
    match owner_json(&request.shared, &request.state, &key) {
        Some(body) if request.state.project_level(&request.user, &key).is_some() => {
            request.ok(body)
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

pub(super) async fn list_users(request: Signed, Query(params): Params) -> Response {
    // The filter matches user name, display name or e-mail, as a substring.
    let filter = params.get("filter");
    let items = request
        .state
        .users
        .iter()
        .filter(|u| passes_filter(filter, &[&u.name, &u.display_name, &u.email]))
        .map(|u| user_json(&request.shared, u))
        .collect();
    request.paged(items, &params)
}
