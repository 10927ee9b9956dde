//! Repository access keys (`/rest/keys`): list, add (409 for known key material), delete,
//! permission change.

use super::*;

pub(super) fn access_key_json(shared: &Shared, state: &State, key: &AccessKey) -> Value {
    let repo = state
        .repo_index(&key.project_key, &key.slug)
        .map(|i| repo_json(shared, state, &state.repos[i]))
        .unwrap_or(Value::Null);
    let mut key_json = json!({ "id": key.id, "text": key.text, "label": key.label });
    if let Some((algorithm, bits)) = KeyMaterial::of(&key.text).and_then(|m| m.algorithm()) {
        key_json["algorithmType"] = json!(algorithm);
        key_json["bitLength"] = json!(bits);
    }
    json!({
        "key": key_json,
        "repository": repo,
        "permission": key.level.repo_name(),
    })
}

pub(super) async fn list_access_keys(
    request: OnRepo<AdminAccess>,
    Query(params): Params,
) -> Response {
    let filter = params.get("filter");
    let items = request
        .state
        .access_keys
        .iter()
        .filter(|k| k.is_on(request.repo()))
        .filter(|k| filter.is_none_or(|f| k.label.starts_with(f.as_str())))
        .map(|k| access_key_json(&request.shared, &request.state, k))
        .collect();
    request.paged(items, &params)
}

pub(super) async fn add_access_key(mut request: OnRepo<AdminAccess>, body: Bytes) -> Response {
    let added: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = added
        .pointer("/key/text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string();
    let level = added
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
    let repo = request.repo();
    let duplicate = request
        .state
        .access_keys
        .iter()
        .any(|k| k.is_on(repo) && material.matches(&k.text));
    if duplicate {
        return error(
            StatusCode::CONFLICT,
            "This SSH key is already added to this repository.",
            Some("com.atlassian.bitbucket.ssh.DuplicateSshKeyException"),
            Some("text"),
        );
    }
    let label = added
        .pointer("/key/label")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| text.split_whitespace().nth(2).map(str::to_string))
        .unwrap_or_default();
    let (project_key, slug) = (repo.project_key.clone(), repo.slug.clone());
    let id = request.state.next_id();
    let access_key = AccessKey {
        id,
        project_key,
        slug,
        text,
        label,
        level,
    };
    let body = access_key_json(&request.shared, &request.state, &access_key);
    request.state.access_keys.push(access_key);
    persist(&request.state);
    request.answer(StatusCode::CREATED, body)
}

/// The position in `state.access_keys` of key `id` on the request's repository.
fn key_position<L>(request: &OnRepo<L>, id: u64) -> Option<usize> {
    let repo = request.repo();
    request
        .state
        .access_keys
        .iter()
        .position(|k| k.id == id && k.is_on(repo))
}

// A key's path is read whole, `{key}` and `{slug}` (which `OnRepo` reads) as well, so that a
// malformed `{id}` is refused first and in axum's words for a tuple, as it always was.
pub(super) async fn delete_access_key(
    Path((_, _, id)): Path<(String, String, u64)>,
    mut request: OnRepo<AdminAccess>,
) -> Response {
    if let Some(position) = key_position(&request, id) {
        request.state.access_keys.remove(position);
    }
    request.saved()
}

pub(super) async fn set_access_key_permission(
    Path((_, _, id, permission)): Path<(String, String, u64, String)>,
    mut request: OnRepo<AdminAccess>,
) -> Response {
    let Some(level) = Level::parse(&permission).filter(|l| *l != Level::Admin) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The permission must be REPO_READ or REPO_WRITE.",
            None,
            Some("permission"),
        );
    };
    let Some(position) = key_position(&request, id) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("No access key with id {id} exists on this repository."),
            None,
            None,
        );
    };
    request.state.access_keys[position].level = level;
    persist(&request.state);
    let body = access_key_json(
        &request.shared,
        &request.state,
        &request.state.access_keys[position],
    );
    request.ok(body)
}
