//! Repository access keys (`/rest/keys`): list, add (409 for known key material), delete,
//! permission change.

use super::*;

pub(super) fn access_key_json(shared: &Shared, state: &State, key: &AccessKey) -> Value {
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

pub(super) async fn list_access_keys(
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

pub(super) async fn add_access_key(
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
    let (Some(material), Some(level)) =
        (KeyMaterial::of(&text).filter(KeyMaterial::is_valid), level)
    else {
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
    let duplicate = state
        .access_keys
        .iter()
        .any(|k| k.project_key == repo_key && k.slug == repo_slug && material.matches(&k.text));
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

pub(super) async fn delete_access_key(
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

pub(super) async fn set_access_key_permission(
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
