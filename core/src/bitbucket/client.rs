//! The Bitbucket steps of a bootstrap, over a [`Transport`] the edges provide (reqwest on the
//! server, the browser's fetch in the page). Every step reads first and writes only what is
//! missing, so a second run against an unchanged server sends no write at all.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

use super::decisions::{
    AccessKeyDecision, GroupDecision, GroupGrant, RepoPermission, access_key_text,
    decide_access_key, decide_group_grant,
};
use super::host::BitbucketHost;
use super::model::{
    AccessKey, ApplicationProperties, Branch, GroupPermission, Page, Project, Repository,
};
use super::names::{ProjectKey, RepoName, RepoSlug};
use super::request::{RETRY_DELAYS_MS, Request, Visibility, api_error, read_answer};

/// One HTTP answer as the transport got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The body as received (JSON for the REST API).
    pub body: Vec<u8>,
    /// The `X-AUSERNAME` header: who the token belongs to.
    pub username: Option<String>,
}

/// Why a request got no complete HTTP answer; the transports sort their failures into these,
/// each with the underlying message, and idempotent calls are retried after any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection to the server: refused, unreachable, or the name does not resolve.
    #[error("no connection: {0}")]
    NoConnection(String),
    /// The server took longer than the transport waits.
    #[error("timed out: {0}")]
    TimedOut(String),
    /// The TLS handshake failed, e.g. the server's certificate is not trusted.
    #[error("TLS failed: {0} (is the server's certificate signed by a CA this client trusts?)")]
    Tls(String),
    /// The answer started but its body could not be read to the end.
    #[error("reading the answer failed: {0}")]
    BodyRead(String),
    /// Any other failure to build or send the request.
    #[error("{0}")]
    Failed(String),
}

/// Sends requests; implemented at the edges. The token lives in the transport and nowhere else.
#[allow(async_fn_in_trait)] // single-threaded use, in the browser and per job on the server
pub trait Transport {
    /// Sends `request`; `Err` is a failure without a (complete) answer.
    async fn send(
        &self,
        host: &BitbucketHost,
        request: &Request,
    ) -> std::result::Result<Answer, TransportError>;

    /// Waits before a retry.
    async fn sleep(&self, milliseconds: u64);
}

/// Sends with retries: idempotent calls are repeated after a 5xx or no answer.
async fn send<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    request: &Request,
) -> Result<Answer> {
    let mut delays = RETRY_DELAYS_MS.iter();
    loop {
        let outcome = transport.send(host, request).await;
        let retry = match &outcome {
            Ok(answer) => answer.status >= 500,
            Err(_) => true,
        };
        match delays.next() {
            Some(delay) if retry && request.method.is_idempotent() => transport.sleep(*delay).await,
            _ => {
                return outcome.map_err(|cause| Error::BitbucketNoAnswer {
                    host: host.domain(),
                    method: request.method.as_str(),
                    path: request.path.clone(),
                    cause,
                });
            }
        }
    }
}

/// Sends and reads the answer as `T`; 404 is `None`.
async fn fetch<T: Transport, R: DeserializeOwned>(
    transport: &T,
    host: &BitbucketHost,
    request: &Request,
) -> Result<Option<R>> {
    let answer = send(transport, host, request).await?;
    read_answer(host, request, answer.status, &answer.body)
}

/// The most pages a list is read to: a server that pages for ever (or a hostile one) cannot keep
/// a bootstrap busy; 100 pages of [`super::PAGE_LIMIT`] are far more than any repository has.
pub const MAX_PAGES: usize = 100;

/// Every page of a list (at most [`MAX_PAGES`]).
async fn fetch_all<T: Transport, R: DeserializeOwned>(
    transport: &T,
    host: &BitbucketHost,
    request_for: impl Fn(u32) -> Request,
) -> Result<Vec<R>> {
    let mut items = Vec::new();
    let mut start = 0;
    for _ in 0..MAX_PAGES {
        let request = request_for(start);
        let page: Page<R> = fetch(transport, host, &request)
            .await?
            .ok_or_else(|| api_error(host, &request, 404, b""))?;
        let next = page.next_start();
        items.extend(page.values);
        match next {
            Some(next) if next > start => start = next,
            _ => return Ok(items),
        }
    }
    Err(Error::Bitbucket {
        host: host.domain(),
        status: 200,
        message: format!(
            "{} has more than {MAX_PAGES} pages: refusing to read further",
            request_for(0).path
        ),
    })
}

/// Whether writes are sent, or only recorded (a dry run: every read is made, no write).
pub enum Writes<'a> {
    /// Send every write.
    Send,
    /// Record the writes that would be sent, send none.
    Record(&'a mut Vec<Request>),
}

/// Expects a write to succeed (2xx); anything else is an error with Bitbucket's message.
async fn write<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    request: &Request,
) -> Result<Answer> {
    let answer = send(transport, host, request).await?;
    if (200..300).contains(&answer.status) {
        Ok(answer)
    } else {
        Err(api_error(host, request, answer.status, &answer.body))
    }
}

/// Sends `request`, or records it when `writes` says so.
async fn write_or_record<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    request: Request,
    writes: &mut Writes<'_>,
) -> Result<()> {
    match writes {
        Writes::Send => write(transport, host, &request).await.map(|_| ()),
        Writes::Record(planned) => {
            planned.push(request);
            Ok(())
        }
    }
}

/// The server's version and who the token belongs to.
pub async fn identify<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
) -> Result<(String, String)> {
    let request = Request::application_properties();
    let answer = send(transport, host, &request).await?;
    let properties: ApplicationProperties =
        read_answer(host, &request, answer.status, &answer.body)?.ok_or_else(|| {
            api_error(
                host,
                &request,
                404,
                b"this does not look like Bitbucket Server",
            )
        })?;
    let user = answer.username.ok_or_else(|| Error::TokenNotAccepted {
        host: host.domain(),
    })?;
    Ok((properties.version, user))
}

/// How `--owner` names the repository's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A project by its key (`PLAT`).
    ProjectKey(ProjectKey),
    /// A project by its exact name, as flux's `--owner` means it.
    ProjectName(String),
    /// A user's personal repositories (`--personal`).
    User(String),
}

/// The project key the repository lives under (`~user` for personal repositories).
pub async fn resolve_owner<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    owner: &Owner,
) -> Result<ProjectKey> {
    match owner {
        Owner::User(user) => ProjectKey::parse(&format!("~{user}")),
        Owner::ProjectKey(key) => {
            let request = Request::project(key);
            let project: Project =
                fetch(transport, host, &request)
                    .await?
                    .ok_or_else(|| Error::Bitbucket {
                        host: host.domain(),
                        status: 404,
                        message: format!(
                            "project {key} does not exist (or the token's user cannot see it)"
                        ),
                    })?;
            ProjectKey::parse(&project.key)
        }
        Owner::ProjectName(name) => {
            // The filter is a substring match: several projects may come back.
            let projects: Vec<Project> = fetch_all(transport, host, |start| {
                Request::projects_named(name, start)
            })
            .await?;
            let project = projects.iter().find(|p| p.name == *name).ok_or_else(|| Error::Bitbucket {
                host: host.domain(),
                status: 404,
                message: format!("no project is named exactly \"{name}\" (names are case-sensitive; a project key works too)"),
            })?;
            ProjectKey::parse(&project.key)
        }
    }
}

/// Why a token's user may bootstrap a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Authority {
    /// It is (or will be) one of the user's personal repositories.
    Personal,
    /// The user administers the existing repository.
    RepositoryAdmin,
    /// The repository does not exist yet and the user administers its project.
    ProjectAdmin,
}

/// Who asks, and on what grounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The token's user (`X-AUSERNAME`).
    pub user: String,
    /// The project the repository lives under (`~user` for personal repositories).
    pub project: ProjectKey,
    /// The rule that admits them.
    pub authority: Authority,
}

/// Admits the token's user to bootstrap `repository` of `owner` only if they may administer
/// it: their personal repository, a repository they are REPO_ADMIN of, or — when it does not
/// exist yet — one in a project they are PROJECT_ADMIN of. Asked by reading the permission
/// lists, which Bitbucket answers only to administrators (401 otherwise), so no write is made.
pub async fn authorize<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    owner: &Owner,
    repository: &RepoName,
) -> Result<Authorization> {
    let (_, user) = identify(transport, host).await?;
    let project = resolve_owner(transport, host, owner).await?;
    let target = format!("{}/{}", project.as_str(), repository.slug().as_str());
    let refused = |rule: &str| Error::NotPermitted {
        user: user.clone(),
        target: target.clone(),
        rule: rule.to_string(),
    };
    if project.is_personal() {
        return if project.as_str()[1..].eq_ignore_ascii_case(&user) {
            Ok(Authorization {
                user,
                project,
                authority: Authority::Personal,
            })
        } else {
            Err(refused(
                "a personal repository may be bootstrapped by its owner only",
            ))
        };
    }
    let slug = repository.slug();
    let exists = fetch::<_, Repository>(transport, host, &Request::repository(&project, &slug))
        .await?
        .is_some();
    let (check, authority, rule) = if exists {
        (
            Request::repository_group_permissions(&project, &slug, "", 0),
            Authority::RepositoryAdmin,
            "the repository exists and the user is not its administrator (REPO_ADMIN)",
        )
    } else {
        (
            Request::project_group_permissions(&project, "", 0),
            Authority::ProjectAdmin,
            "the repository does not exist and the user is not an administrator of its project (PROJECT_ADMIN)",
        )
    };
    let answer = send(transport, host, &check).await?;
    match answer.status {
        200..=299 => Ok(Authorization {
            user,
            project,
            authority,
        }),
        401 | 403 => Err(refused(rule)),
        status => Err(api_error(host, &check, status, &answer.body)),
    }
}

/// Whether the repository was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepositoryOrigin {
    /// fluxstrap created it in this run.
    Created,
    /// It was there already (or was created meanwhile by someone else) and is used as it is.
    Adopted,
    /// Dry run: it does not exist and would be created.
    WouldCreate,
}

/// The repository, found or created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnsuredRepository {
    /// The repository as Bitbucket describes it.
    pub repository: Repository,
    /// Whether this run created it.
    pub origin: RepositoryOrigin,
    /// The default branch, or `None` for an empty repository (no commit yet).
    pub default_branch: Option<String>,
}

/// Finds the repository by the slug of `name`, or creates it; a 409 on create (created meanwhile
/// by someone else) is adopted.
pub async fn ensure_repository<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    name: &RepoName,
    visibility: Visibility,
) -> Result<EnsuredRepository> {
    reconcile_repository(transport, host, key, name, visibility, &mut Writes::Send).await
}

/// [`ensure_repository`], or in a dry run the repository as it is or would be created.
pub async fn reconcile_repository<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    name: &RepoName,
    visibility: Visibility,
    writes: &mut Writes<'_>,
) -> Result<EnsuredRepository> {
    let slug = name.slug();
    let get = Request::repository(key, &slug);
    let (repository, origin) = match fetch::<_, Repository>(transport, host, &get).await? {
        Some(repository) => (repository, RepositoryOrigin::Adopted),
        None if matches!(writes, Writes::Record(_)) => {
            let create = Request::create_repository(key, name, visibility);
            if let Writes::Record(planned) = writes {
                planned.push(create);
            }
            return Ok(EnsuredRepository {
                repository: Repository::would_create(key, name),
                origin: RepositoryOrigin::WouldCreate,
                default_branch: None,
            });
        }
        None => {
            let create = Request::create_repository(key, name, visibility);
            let answer = send(transport, host, &create).await?;
            match answer.status {
                200 | 201 => {
                    let repository: Repository =
                        read_answer(host, &create, answer.status, &answer.body)?
                            .ok_or_else(|| api_error(host, &create, answer.status, &answer.body))?;
                    (repository, RepositoryOrigin::Created)
                }
                409 => {
                    let repository = fetch::<_, Repository>(transport, host, &get)
                        .await?
                        .ok_or_else(|| api_error(host, &create, 409, &answer.body))?;
                    (repository, RepositoryOrigin::Adopted)
                }
                status => return Err(api_error(host, &create, status, &answer.body)),
            }
        }
    };
    let slug = RepoSlug::parse(&repository.slug)?;
    let default_branch = default_branch(transport, host, key, &slug).await?;
    Ok(EnsuredRepository {
        repository,
        origin,
        default_branch,
    })
}

/// The repository's default branch, or `None` while the repository is empty: 204 on Bitbucket
/// 5.6+, 404 on older servers. Any other answer, or a 200 that is not a branch, is an error.
async fn default_branch<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    slug: &RepoSlug,
) -> Result<Option<String>> {
    let request = Request::default_branch(key, slug);
    let answer = send(transport, host, &request).await?;
    match answer.status {
        200 => Ok(read_answer::<Branch>(host, &request, 200, &answer.body)?.map(|b| b.display_id)),
        204 | 404 => Ok(None),
        status => Err(api_error(host, &request, status, &answer.body)),
    }
}

/// Makes `branch` the default branch unless it already is (after the first push to an empty
/// repository, any branch name works).
pub async fn ensure_default_branch<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    slug: &RepoSlug,
    branch: &str,
) -> Result<bool> {
    reconcile_default_branch(transport, host, key, slug, branch, &mut Writes::Send).await
}

/// [`ensure_default_branch`], or in a dry run whether it would be set.
pub async fn reconcile_default_branch<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    slug: &RepoSlug,
    branch: &str,
    writes: &mut Writes<'_>,
) -> Result<bool> {
    let current = default_branch(transport, host, key, slug).await?;
    if current.as_deref() == Some(branch) {
        return Ok(false);
    }
    write_or_record(
        transport,
        host,
        Request::set_default_branch(key, slug, branch),
        writes,
    )
    .await?;
    Ok(true)
}

/// Sets the repository's description unless it already reads `description` (`--reconcile`).
pub async fn ensure_description<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    slug: &RepoSlug,
    description: &str,
) -> Result<bool> {
    let request = Request::repository(key, slug);
    let repository: Repository = fetch(transport, host, &request)
        .await?
        .ok_or_else(|| api_error(host, &request, 404, b""))?;
    if repository.description.as_deref().unwrap_or_default() == description {
        return Ok(false);
    }
    write(
        transport,
        host,
        &Request::update_description(key, slug, description),
    )
    .await?;
    Ok(true)
}

/// Grants the group its permission on the repository when it lacks it (or has less).
pub async fn ensure_group<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    slug: &RepoSlug,
    grant: &GroupGrant,
) -> Result<GroupDecision> {
    reconcile_group(transport, host, key, slug, grant, &mut Writes::Send).await
}

/// [`ensure_group`], or in a dry run the decision alone.
pub async fn reconcile_group<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    slug: &RepoSlug,
    grant: &GroupGrant,
    writes: &mut Writes<'_>,
) -> Result<GroupDecision> {
    let on_repository: Vec<GroupPermission> = fetch_all(transport, host, |start| {
        Request::repository_group_permissions(key, slug, &grant.group, start)
    })
    .await?;
    // Project permissions need PROJECT_ADMIN to read; without it (Bitbucket answers 401, or
    // 403) only the repository counts. Any other failure is an error.
    let on_project: Vec<GroupPermission> = if key.is_personal() {
        Vec::new()
    } else {
        match fetch_all(transport, host, |start| {
            Request::project_group_permissions(key, &grant.group, start)
        })
        .await
        {
            Err(Error::Bitbucket {
                status: 401 | 403, ..
            }) => Vec::new(),
            listed => listed?,
        }
    };
    let decision = decide_group_grant(grant, &on_repository, &on_project);
    if let GroupDecision::Grant(permission) = decision {
        write_or_record(
            transport,
            host,
            Request::grant_group(key, slug, &grant.group, permission),
            writes,
        )
        .await?;
    }
    Ok(decision)
}

/// Registers the deploy key (our public key) with `permission`, changes its permission, or
/// leaves it; never touches other keys.
pub async fn ensure_access_key<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    slug: &RepoSlug,
    public_key: &str,
    label: &str,
    permission: RepoPermission,
) -> Result<AccessKeyDecision> {
    let deploy_key = DeployKey {
        public_key,
        label,
        permission,
    };
    reconcile_access_key(transport, host, key, slug, &deploy_key, &mut Writes::Send).await
}

/// The deploy key to register: our public key, its label and permission.
#[derive(Debug, Clone, Copy)]
pub struct DeployKey<'a> {
    /// `type base64 [comment]`.
    pub public_key: &'a str,
    /// flux's label (`flux-system-main-flux-system-./clusters/x`).
    pub label: &'a str,
    /// `REPO_READ`, or `REPO_WRITE` with `--read-write-key`.
    pub permission: RepoPermission,
}

/// [`ensure_access_key`], or in a dry run the decision alone.
pub async fn reconcile_access_key<T: Transport>(
    transport: &T,
    host: &BitbucketHost,
    key: &ProjectKey,
    slug: &RepoSlug,
    deploy_key: &DeployKey<'_>,
    writes: &mut Writes<'_>,
) -> Result<AccessKeyDecision> {
    let DeployKey {
        public_key,
        label,
        permission,
    } = *deploy_key;
    let existing: Vec<AccessKey> = fetch_all(transport, host, |start| {
        Request::access_keys(key, slug, start)
    })
    .await?;
    let decision = decide_access_key(&existing, public_key, permission);
    match &decision {
        AccessKeyDecision::UpToDate { .. } => {}
        AccessKeyDecision::ChangePermission { id, to } => {
            write_or_record(
                transport,
                host,
                Request::set_access_key_permission(key, slug, *id, *to),
                writes,
            )
            .await?;
        }
        AccessKeyDecision::Add => {
            let text = access_key_text(public_key, label).ok_or(Error::NotAnOpenSshPublicKey)?;
            write_or_record(
                transport,
                host,
                Request::add_access_key(key, slug, &text, label, permission),
                writes,
            )
            .await?;
        }
    }
    Ok(decision)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
