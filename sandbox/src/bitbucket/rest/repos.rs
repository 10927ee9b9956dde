//! Repository endpoints: list, create (slug rules, 409), get, update, delete, default branch,
//! branches, raw files and browse.

use super::*;

pub(super) async fn list_repos(
    Path(key): Path<String>,
    request: Signed,
    Query(params): Params,
) -> Response {
    let Signed {
        shared,
        state,
        user,
    } = &request;
    if owner_json(shared, state, &key).is_none() {
        return no_project(&key);
    }
    let items = state
        .repos
        .iter()
        .filter(|r| r.project_key.eq_ignore_ascii_case(&key) && state.repo_level(user, r).is_some())
        .map(|r| repo_json(shared, state, r))
        .collect();
    request.paged(items, &params)
}

pub(super) async fn create_repo(
    Path(key): Path<String>,
    mut request: Signed,
    body: Bytes,
) -> Response {
    let state = &mut request.state;
    let canonical_key = match state.project_index(&key) {
        Some(i) => state.projects[i].key.clone(),
        None => match state.personal_user(&key) {
            Some(owner) => format!("~{}", owner.name.to_uppercase()),
            None => return no_project(&key),
        },
    };
    if state.project_level(&request.user, &canonical_key) < Some(Level::Admin) {
        return not_permitted();
    }
    let Ok(wanted) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
            None,
            None,
        );
    };
    let name = wanted
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
    let default_branch = wanted
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
        description: wanted
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        public: wanted
            .get("public")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        forkable: wanted
            .get("forkable")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        default_branch,
        grants: Grants::default(),
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
    let body = repo_json(&request.shared, state, &repo);
    state.repos.push(repo);
    persist(state);
    request.answer(StatusCode::CREATED, body)
}

pub(super) async fn get_repo(request: OnRepo<ReadAccess>) -> Response {
    request.ok(repo_json(&request.shared, &request.state, request.repo()))
}

pub(super) async fn delete_repo(mut request: OnRepo<AdminAccess>) -> Response {
    let index = request.index;
    let state = &mut request.state;
    let repo = state.repos.remove(index);
    let _ = std::fs::remove_dir_all(state.git_dir(&repo));
    state.access_keys.retain(|k| !k.is_on(&repo));
    persist(state);
    empty(StatusCode::ACCEPTED, &request.user)
}

/// A branch as the branch endpoints describe it.
fn branch_json(name: &str, sha: &str, default_branch: &str) -> Value {
    json!({
        "id": format!("refs/heads/{name}"),
        "displayId": name,
        "type": "BRANCH",
        "latestCommit": sha,
        "latestChangeset": sha,
        "isDefault": name == default_branch,
    })
}

pub(super) async fn get_default_branch(request: OnRepo<ReadAccess>) -> Response {
    let branch = &request.repo().default_branch;
    match crate::bitbucket::git::branch_sha(&request.git_dir(), branch).await {
        Some(sha) => request.ok(branch_json(branch, &sha, branch)),
        // An empty repository: Bitbucket 5.6+ answers 204 with no body.
        None => no_content(&request.user),
    }
}

pub(super) async fn set_default_branch(mut request: OnRepo<AdminAccess>, body: Bytes) -> Response {
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
    if let Err(e) = crate::bitbucket::git::set_head(&request.git_dir(), &branch).await {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &e.to_string(),
            None,
            None,
        );
    }
    request.repo_mut().default_branch = branch;
    request.saved()
}

pub(super) async fn update_repo(mut request: OnRepo<AdminAccess>, body: Bytes) -> Response {
    let changes: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let repo = request.repo_mut();
    if let Some(description) = changes.get("description").and_then(Value::as_str) {
        repo.description = Some(description.to_string());
    }
    if let Some(public) = changes.get("public").and_then(Value::as_bool) {
        repo.public = public;
    }
    if let Some(forkable) = changes.get("forkable").and_then(Value::as_bool) {
        repo.forkable = forkable;
    }
    persist(&request.state);
    // The REST documentation gives 201 for an update.
    let body = repo_json(&request.shared, &request.state, request.repo());
    request.answer(StatusCode::CREATED, body)
}

pub(super) async fn list_branches(request: OnRepo<ReadAccess>, Query(params): Params) -> Response {
    let default_branch = &request.repo().default_branch;
    let filter = params.get("filterText");
    let items = crate::bitbucket::git::branches(&request.git_dir())
        .await
        .into_iter()
        .filter(|(name, _)| filter.is_none_or(|f| name.contains(f.as_str())))
        .map(|(name, sha)| branch_json(&name, &sha, default_branch))
        .collect();
    request.paged(items, &params)
}

pub(super) async fn raw_file(file: RepoFile) -> Response {
    let text_plain = [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")];
    (text_plain, file.content).into_response()
}

pub(super) async fn browse_file(file: RepoFile) -> Response {
    let text = String::from_utf8_lossy(&file.content);
    let lines: Vec<Value> = text.lines().map(|line| json!({ "text": line })).collect();
    let mut body = page(lines, &file.params);
    // A file's browse answer: `lines` instead of `values`, no `limit`, and (a known Bitbucket
    // bug, BSERV-12725) no `nextPageStart` even when more lines follow.
    if let Some(map) = body.as_object_mut() {
        map.remove("limit");
        map.remove("nextPageStart");
        if let Some(values) = map.remove("values") {
            map.insert("lines".to_string(), values);
        }
    }
    file.request.ok(body)
}
