//! What a REST handler starts from: the state, locked for the whole request, and the
//! authenticated caller ([`Signed`]); on a repository's endpoints also the repository its path
//! names, checked for the level the endpoint needs ([`OnRepo`]). A failed check is the
//! extractor's rejection, in Bitbucket's words, so a handler only sees requests it may serve.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use tokio::sync::OwnedMutexGuard;

use super::*;

/// A request from an authenticated caller (401 without one), with the state locked.
pub(super) struct Signed {
    pub shared: Shared_,
    pub state: OwnedMutexGuard<State>,
    pub user: User,
}

impl FromRequestParts<Shared_> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, shared: &Shared_) -> Result<Self, Response> {
        let state = Arc::clone(&shared.state).lock_owned().await;
        let user = required_caller(&state, &parts.headers)?;
        Ok(Self {
            shared: Arc::clone(shared),
            state,
            user,
        })
    }
}

impl Signed {
    /// `body` with `status` and the caller's identity headers.
    pub fn answer(&self, status: StatusCode, body: Value) -> Response {
        json_response(status, body, Some(&self.user))
    }

    pub fn ok(&self, body: Value) -> Response {
        self.answer(StatusCode::OK, body)
    }

    /// A 200 with the page of `items` that `start` and `limit` ask for.
    pub fn paged(&self, items: Vec<Value>, params: &HashMap<String, String>) -> Response {
        self.ok(page(items, params))
    }

    /// Saves the changed state and answers 204.
    pub fn saved(&self) -> Response {
        persist(&self.state);
        no_content(&self.user)
    }
}

/// The level a repository endpoint needs of its caller.
pub(super) trait Needs {
    const LEVEL: Level;
}

/// Reading the repository: `REPO_READ`.
pub(super) struct ReadAccess;

impl Needs for ReadAccess {
    const LEVEL: Level = Level::Read;
}

/// Administering the repository: `REPO_ADMIN`.
pub(super) struct AdminAccess;

impl Needs for AdminAccess {
    const LEVEL: Level = Level::Admin;
}

/// The repository a `/projects/{key}/repos/{slug}/…` path names (other parameters are the
/// handler's).
#[derive(Deserialize)]
struct RepoPath {
    key: String,
    slug: String,
}

/// A [`Signed`] request on the repository its path names, at level `L` or higher. Rejections:
/// 404 for a missing project or repository (and for a repository the caller cannot read, which
/// does not exist for it), 401 for too low a level.
pub(super) struct OnRepo<L> {
    signed: Signed,
    /// The repository's index in `state.repos`.
    pub index: usize,
    level: PhantomData<L>,
}

impl<L: Needs> FromRequestParts<Shared_> for OnRepo<L> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, shared: &Shared_) -> Result<Self, Response> {
        let Path(RepoPath { key, slug }) = Path::from_request_parts(parts, shared)
            .await
            .map_err(IntoResponse::into_response)?;
        let signed = Signed::from_request_parts(parts, shared).await?;
        let state = &signed.state;
        let index = state.repo_index(&key, &slug).ok_or_else(|| {
            if state.project_index(&key).is_none() && state.personal_user(&key).is_none() {
                no_project(&key)
            } else {
                no_repo(&key, &slug)
            }
        })?;
        match state.repo_level(&signed.user, &state.repos[index]) {
            Some(level) if level >= L::LEVEL => Ok(Self {
                signed,
                index,
                level: PhantomData,
            }),
            Some(_) => Err(not_permitted()),
            None => Err(no_repo(&key, &slug)),
        }
    }
}

impl<L> OnRepo<L> {
    pub fn repo(&self) -> &Repo {
        &self.state.repos[self.index]
    }

    pub fn repo_mut(&mut self) -> &mut Repo {
        let index = self.index;
        &mut self.state.repos[index]
    }

    /// The repository's bare git directory.
    pub fn git_dir(&self) -> std::path::PathBuf {
        self.state.git_dir(self.repo())
    }
}

/// A file of the repository: `{*path}` at the revision `?at=` names (a branch, `refs/heads/…`
/// or a commit; the default branch without it). Rejection: Bitbucket's 404 for a path missing
/// there.
pub(super) struct RepoFile {
    pub request: OnRepo<ReadAccess>,
    pub params: HashMap<String, String>,
    pub content: Vec<u8>,
}

#[derive(Deserialize)]
struct FilePath {
    path: String,
}

impl FromRequestParts<Shared_> for RepoFile {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, shared: &Shared_) -> Result<Self, Response> {
        let Path(FilePath { path }) = Path::from_request_parts(parts, shared)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(params) = Params::from_request_parts(parts, shared)
            .await
            .map_err(IntoResponse::into_response)?;
        let request = OnRepo::<ReadAccess>::from_request_parts(parts, shared).await?;
        let at = params
            .get("at")
            .map(|at| at.strip_prefix("refs/heads/").unwrap_or(at).to_string())
            .unwrap_or_else(|| request.repo().default_branch.clone());
        match crate::bitbucket::git::file_at(&request.git_dir(), &at, &path).await {
            Some(content) => Ok(Self {
                request,
                params,
                content,
            }),
            None => Err(error(
                StatusCode::NOT_FOUND,
                &format!("The path \"{path}\" does not exist at revision \"{at}\""),
                Some("com.atlassian.bitbucket.content.NoSuchPathException"),
                None,
            )),
        }
    }
}

/// The request is a [`Signed`] one: its state, caller and answers.
impl<L> Deref for OnRepo<L> {
    type Target = Signed;

    fn deref(&self) -> &Signed {
        &self.signed
    }
}

impl<L> DerefMut for OnRepo<L> {
    fn deref_mut(&mut self) -> &mut Signed {
        &mut self.signed
    }
}
