//! Group and user permissions on projects and repositories: paged lists, grants, revokes. One
//! handler each, generic over who is granted ([`Groups`] or [`Users`]).

use std::collections::BTreeMap;

use super::*;

/// Who a grant names; the two kinds differ in their list entries and in how `?name=` resolves.
pub(super) trait Grantee {
    /// Of a pair of things about groups and users, this kind's (its grant map, borrowed or not).
    fn pick<T>(groups: T, users: T) -> T;

    /// One entry of a permission list; `None` for a grantee that no longer exists.
    fn entry(shared: &Shared, state: &State, name: &str, permission: &str) -> Option<Value>;

    /// The grantee `?name=` names, as grants store it, or Bitbucket's answer when there is none.
    fn named(state: &State, name: Option<&String>) -> Result<String, Response>;
}

pub(super) struct Groups;

impl Grantee for Groups {
    fn pick<T>(groups: T, _: T) -> T {
        groups
    }

    fn entry(_: &Shared, _: &State, name: &str, permission: &str) -> Option<Value> {
        Some(json!({ "group": { "name": name }, "permission": permission }))
    }

    fn named(state: &State, name: Option<&String>) -> Result<String, Response> {
        let Some(name) = name else {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "A group name is required.",
                None,
                Some("name"),
            ));
        };
        if !state.groups.contains_key(name) {
            return Err(error(
                StatusCode::NOT_FOUND,
                &format!("Group {name} does not exist."),
                Some("com.atlassian.bitbucket.user.NoSuchGroupException"),
                None,
            ));
        }
        Ok(name.clone())
    }
}

pub(super) struct Users;

impl Grantee for Users {
    fn pick<T>(_: T, users: T) -> T {
        users
    }

    fn entry(shared: &Shared, state: &State, name: &str, permission: &str) -> Option<Value> {
        let user = state.user(name)?;
        Some(json!({ "user": user_json(shared, user), "permission": permission }))
    }

    fn named(state: &State, name: Option<&String>) -> Result<String, Response> {
        name.and_then(|n| state.user(n))
            .map(|u| u.name.clone())
            .ok_or_else(|| {
                error(
                    StatusCode::NOT_FOUND,
                    "The specified user does not exist.",
                    Some("com.atlassian.bitbucket.user.NoSuchUserException"),
                    None,
                )
            })
    }
}

fn grants_of<G: Grantee>(grants: &Grants) -> &BTreeMap<String, Level> {
    G::pick(&grants.groups, &grants.users)
}

fn grants_of_mut<G: Grantee>(grants: &mut Grants) -> &mut BTreeMap<String, Level> {
    G::pick(&mut grants.groups, &mut grants.users)
}

/// The list entries of `grants` whose name passes `?filter=`, each level named by `permission`.
fn entries<G: Grantee>(
    request: &Signed,
    grants: &Grants,
    params: &HashMap<String, String>,
    permission: fn(Level) -> &'static str,
) -> Vec<Value> {
    grants_of::<G>(grants)
        .iter()
        .filter(|(name, _)| passes_filter(params.get("filter"), &[name]))
        .filter_map(|(name, level)| {
            G::entry(&request.shared, &request.state, name, permission(*level))
        })
        .collect()
}

pub(super) async fn project_group_permissions(
    Path(key): Path<String>,
    request: Signed,
    Query(params): Params,
) -> Response {
    let Some(i) = request.state.project_index(&key) else {
        return no_project(&key);
    };
    if request.state.project_level(&request.user, &key) < Some(Level::Admin) {
        return not_permitted();
    }
    let grants = &request.state.projects[i].grants;
    let items = entries::<Groups>(&request, grants, &params, Level::project_name);
    request.paged(items, &params)
}

pub(super) async fn repo_permissions<G: Grantee>(
    request: OnRepo<AdminAccess>,
    Query(params): Params,
) -> Response {
    let items = entries::<G>(&request, &request.repo().grants, &params, Level::repo_name);
    request.paged(items, &params)
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

pub(super) async fn grant_repo<G: Grantee>(
    mut request: OnRepo<AdminAccess>,
    Query(params): Params,
) -> Result<Response, Response> {
    let level = repo_level(&params)?;
    let name = G::named(&request.state, params.get("name"))?;
    grants_of_mut::<G>(&mut request.repo_mut().grants).insert(name, level);
    Ok(request.saved())
}

/// Removes `?name=` from the repository's grants of this kind (nothing to remove is fine).
pub(super) async fn revoke_repo<G: Grantee>(
    mut request: OnRepo<AdminAccess>,
    Query(params): Params,
) -> Response {
    if let Some(name) = params.get("name") {
        grants_of_mut::<G>(&mut request.repo_mut().grants).remove(name);
    }
    request.saved()
}
