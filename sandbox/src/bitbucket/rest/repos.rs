//! Repository endpoints: list, create (slug rules, 409), get, update, delete, default branch,
//! branches, raw files and browse.

use super::*;

pub(super) async fn list_repos(
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

pub(super) async fn create_repo(
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
    let slug = match repository_slug(name) {
        Ok(slug) => slug,
        Err(problems) => return validation_errors(&problems),
    };
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
    if let Err(e) = crate::bitbucket::git::init_bare(&git_dir, &repo.default_branch).await {
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

pub(super) async fn get_repo(
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

pub(super) async fn delete_repo(
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

pub(super) async fn get_default_branch(
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
    match crate::bitbucket::git::branch_sha(&state.git_dir(repo), &repo.default_branch).await {
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

pub(super) async fn set_default_branch(
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
    if let Err(e) = crate::bitbucket::git::set_head(&git_dir, &branch).await {
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

pub(super) async fn update_repo(
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

pub(super) async fn list_branches(
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
    let items = crate::bitbucket::git::branches(&state.git_dir(repo))
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
pub(super) fn revision(params: &HashMap<String, String>, default_branch: &str) -> String {
    params
        .get("at")
        .map(|at| at.strip_prefix("refs/heads/").unwrap_or(at).to_string())
        .unwrap_or_else(|| default_branch.to_string())
}

pub(super) async fn raw_file(
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
    match crate::bitbucket::git::file_at(&state.git_dir(repo), &at, &path).await {
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

pub(super) async fn browse_file(
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
    let Some(content) = crate::bitbucket::git::file_at(&state.git_dir(repo), &at, &path).await
    else {
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
