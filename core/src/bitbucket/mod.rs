//! Bitbucket Server, the pure part: names and hosts, the JSON model, the REST calls as values
//! and the decisions taken from the answers. The transports (gloo-net in the browser, reqwest
//! on the server) only send what this module builds.

mod client;
mod decisions;
mod host;
mod model;
mod names;
mod request;

pub use client::{
    Answer, Authority, Authorization, DeployKey, EnsuredRepository, MAX_PAGES, Owner,
    RepositoryOrigin, Transport, TransportError, Writes, authorize, ensure_access_key,
    ensure_default_branch, ensure_description, ensure_group, ensure_repository, identify,
    reconcile_access_key, reconcile_default_branch, reconcile_group, reconcile_repository,
    resolve_owner,
};
pub use decisions::{
    AccessKeyDecision, GroupDecision, GroupGrant, RepoPermission, access_key_text,
    decide_access_key, decide_group_grant, key_material,
};
pub use host::{BitbucketHost, Scheme};
pub use model::{
    AccessKey, ApplicationProperties, Branch, ErrorEnvelope, ErrorMessage, GroupPermission,
    GroupRef, Href, Links, NamedLink, Page, Project, Repository, SshKey, User,
};
pub use names::{ProjectKey, RepoName, RepoSlug};
pub use request::{
    COMMON_HEADERS, Method, PAGE_LIMIT, RETRY_DELAYS_MS, Request, Visibility, api_error,
    read_answer,
};
