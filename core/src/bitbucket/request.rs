//! Bitbucket REST calls as values (sans-IO, like kube-core's request builders): the transports
//! in the browser and on the server send them and hand the answers back to [`read_answer`].

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{Error, Result};

use super::decisions::RepoPermission;
use super::host::BitbucketHost;
use super::model::ErrorEnvelope;
use super::names::{ProjectKey, RepoName, RepoSlug};

/// The HTTP methods the REST calls use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reads.
    Get,
    /// Creates (not idempotent: never retried).
    Post,
    /// Updates and grants.
    Put,
    /// Deletes.
    Delete,
}

impl Method {
    /// The method's name on the wire (`GET`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// Whether repeating the call is harmless, so a 5xx or a time-out may be retried.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Put | Method::Delete)
    }
}

/// One REST call, before authentication is added by the transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// From the API root, e.g. `/rest/api/1.0/projects/PRJ`.
    pub path: String,
    /// Query parameters, unencoded; [`Request::url`] encodes them.
    pub query: Vec<(String, String)>,
    /// The JSON body of a write, if any.
    pub body: Option<Value>,
}

/// Headers every call carries: JSON answers, and the token that passes Bitbucket's XSRF check
/// for bodiless writes.
pub const COMMON_HEADERS: [(&str, &str); 2] = [
    ("Accept", "application/json"),
    ("X-Atlassian-Token", "no-check"),
];

/// The page size fluxstrap asks for.
pub const PAGE_LIMIT: u32 = 100;

/// Delays before the retries of an idempotent call that failed with a 5xx or no answer.
pub const RETRY_DELAYS_MS: [u64; 3] = [500, 1_500, 4_000];

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`) is percent-encoded,
/// in path segments and query parts alike (a space is `%20`, never `+`).
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, ESCAPED).to_string()
}

impl Request {
    fn new(method: Method, path: String) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body: None,
        }
    }

    fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn paged(self, start: u32) -> Self {
        let request = self.query("limit", PAGE_LIMIT);
        if start > 0 {
            request.query("start", start)
        } else {
            request
        }
    }

    /// The full URL on `host`, query encoded.
    pub fn url(&self, host: &BitbucketHost) -> String {
        let mut url = host.url(&self.path);
        for (i, (key, value)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&encode(key));
            url.push('=');
            url.push_str(&encode(value));
        }
        url
    }

    /// `GET application-properties`: the server's version; the answer's `X-AUSERNAME` says whose
    /// the token is.
    pub fn application_properties() -> Self {
        Self::new(Method::Get, "/rest/api/1.0/application-properties".into())
    }

    /// `GET users/{slug}`: one user.
    pub fn user(slug: &str) -> Self {
        Self::new(Method::Get, format!("/rest/api/1.0/users/{}", encode(slug)))
    }

    /// `GET projects/{key}`: one project, to check `--owner` and learn its key's spelling.
    pub fn project(key: &ProjectKey) -> Self {
        Self::new(
            Method::Get,
            format!("/rest/api/1.0/projects/{}", encode(key.as_str())),
        )
    }

    /// Projects whose name contains `name` (Bitbucket's filter); callers compare exactly.
    pub fn projects_named(name: &str, start: u32) -> Self {
        Self::new(Method::Get, "/rest/api/1.0/projects".into())
            .query("name", name)
            .paged(start)
    }

    fn repo_path(key: &ProjectKey, slug: &RepoSlug) -> String {
        format!(
            "/rest/api/1.0/projects/{}/repos/{}",
            encode(key.as_str()),
            encode(slug.as_str())
        )
    }

    /// `GET projects/{key}/repos/{slug}`: one repository.
    pub fn repository(key: &ProjectKey, slug: &RepoSlug) -> Self {
        Self::new(Method::Get, Self::repo_path(key, slug))
    }

    /// Creates a repository; the server derives the slug from the name.
    pub fn create_repository(key: &ProjectKey, name: &RepoName, visibility: Visibility) -> Self {
        Self::new(
            Method::Post,
            format!("/rest/api/1.0/projects/{}/repos", encode(key.as_str())),
        )
        .body(json!({
            "name": name.as_str(),
            "scmId": "git",
            "public": visibility == Visibility::Public,
        }))
    }

    /// Changes the repository's description (`PUT` of the repository with the new value).
    pub fn update_description(key: &ProjectKey, slug: &RepoSlug, description: &str) -> Self {
        Self::new(Method::Put, Self::repo_path(key, slug))
            .body(json!({ "description": description }))
    }

    /// `GET …/branches/default`: the default branch (204 or 404 while the repository is empty).
    pub fn default_branch(key: &ProjectKey, slug: &RepoSlug) -> Self {
        Self::new(
            Method::Get,
            format!("{}/branches/default", Self::repo_path(key, slug)),
        )
    }

    /// `PUT …/branches/default`: makes `branch` the default branch (`--branch`).
    pub fn set_default_branch(key: &ProjectKey, slug: &RepoSlug, branch: &str) -> Self {
        Self::new(
            Method::Put,
            format!("{}/branches/default", Self::repo_path(key, slug)),
        )
        .body(json!({ "id": format!("refs/heads/{branch}") }))
    }

    /// `GET …/repos/{slug}/permissions/groups`: the repository permissions of the groups
    /// matching `group`.
    pub fn repository_group_permissions(
        key: &ProjectKey,
        slug: &RepoSlug,
        group: &str,
        start: u32,
    ) -> Self {
        Self::new(
            Method::Get,
            format!("{}/permissions/groups", Self::repo_path(key, slug)),
        )
        .query("filter", group)
        .paged(start)
    }

    /// `GET projects/{key}/permissions/groups`: the project permissions of the groups matching
    /// `group` (needs PROJECT_ADMIN).
    pub fn project_group_permissions(key: &ProjectKey, group: &str, start: u32) -> Self {
        Self::new(
            Method::Get,
            format!(
                "/rest/api/1.0/projects/{}/permissions/groups",
                encode(key.as_str())
            ),
        )
        .query("filter", group)
        .paged(start)
    }

    /// `PUT …/permissions/groups`: grants `group` `permission` on the repository (`--group`).
    pub fn grant_group(
        key: &ProjectKey,
        slug: &RepoSlug,
        group: &str,
        permission: RepoPermission,
    ) -> Self {
        Self::new(
            Method::Put,
            format!("{}/permissions/groups", Self::repo_path(key, slug)),
        )
        .query("permission", permission.as_api())
        .query("name", group)
    }

    fn keys_path(key: &ProjectKey, slug: &RepoSlug) -> String {
        format!(
            "/rest/keys/1.0/projects/{}/repos/{}/ssh",
            encode(key.as_str()),
            encode(slug.as_str())
        )
    }

    /// `GET` the repository's access keys (SSH deploy keys), one page.
    pub fn access_keys(key: &ProjectKey, slug: &RepoSlug, start: u32) -> Self {
        Self::new(Method::Get, Self::keys_path(key, slug)).paged(start)
    }

    /// `POST` a new access key: the deploy key's public half, its label and permission.
    pub fn add_access_key(
        key: &ProjectKey,
        slug: &RepoSlug,
        text: &str,
        label: &str,
        permission: RepoPermission,
    ) -> Self {
        Self::new(Method::Post, Self::keys_path(key, slug)).body(json!({
            "key": { "text": text, "label": label },
            "permission": permission.as_api(),
        }))
    }

    /// `PUT` a new permission on the registered access key `id`.
    pub fn set_access_key_permission(
        key: &ProjectKey,
        slug: &RepoSlug,
        id: u64,
        permission: RepoPermission,
    ) -> Self {
        Self::new(
            Method::Put,
            format!(
                "{}/{id}/permission/{}",
                Self::keys_path(key, slug),
                permission.as_api()
            ),
        )
    }
}

/// Whether a new repository is public (`--private=false`, which flux ignores on Bitbucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility {
    /// Only users and groups with a permission see it (the default).
    #[default]
    Private,
    /// Anyone who can reach the server can read it.
    Public,
}

/// Reads a successful answer as `T`, or turns a failed one into an error that names the host,
/// the status and Bitbucket's own message. 404 is `Ok(None)`: callers decide what missing means.
pub fn read_answer<T: DeserializeOwned>(
    host: &BitbucketHost,
    request: &Request,
    status: u16,
    body: &[u8],
) -> Result<Option<T>> {
    match status {
        200..=299 => {
            let body = if body.is_empty() {
                b"null".as_slice()
            } else {
                body
            };
            serde_json::from_slice(body)
                .map(Some)
                .map_err(|e| Error::BitbucketUnexpectedAnswer {
                    host: host.domain(),
                    status,
                    method: request.method.as_str(),
                    path: request.path.clone(),
                    reason: e.to_string(),
                })
        }
        404 => Ok(None),
        _ => Err(api_error(host, request, status, body)),
    }
}

/// The error for a failed call.
pub fn api_error(host: &BitbucketHost, request: &Request, status: u16, body: &[u8]) -> Error {
    let detail = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|envelope| {
            envelope
                .errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    let hint = match status {
        401 => {
            " (check the token and that its user has the needed permission: PROJECT_ADMIN to create repositories, REPO_ADMIN for permissions and access keys)"
        }
        403 => " (the server refused the action for this token)",
        _ => "",
    };
    Error::Bitbucket {
        host: host.domain(),
        status,
        message: format!(
            "{} {} failed: {detail}{hint}",
            request.method.as_str(),
            request.path
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitbucket::model::Repository;

    fn host() -> BitbucketHost {
        BitbucketHost::parse("https://example.com/bitbucket").unwrap()
    }

    #[test]
    fn urls_carry_the_context_path_and_encoded_query() {
        let key = ProjectKey::parse("PRJ").unwrap();
        let slug = RepoSlug::parse("fleet-infra").unwrap();
        let grant = Request::grant_group(&key, &slug, "flux admins", RepoPermission::Write);
        assert_eq!(grant.method, Method::Put);
        assert_eq!(
            grant.url(&host()),
            "https://example.com/bitbucket/rest/api/1.0/projects/PRJ/repos/fleet-infra/permissions/groups?permission=REPO_WRITE&name=flux%20admins"
        );
        let keys = Request::access_keys(&key, &slug, 100);
        assert_eq!(
            keys.url(&host()),
            "https://example.com/bitbucket/rest/keys/1.0/projects/PRJ/repos/fleet-infra/ssh?limit=100&start=100"
        );
        let personal = ProjectKey::parse("~vivek").unwrap();
        assert_eq!(
            Request::repository(&personal, &slug).path,
            "/rest/api/1.0/projects/~vivek/repos/fleet-infra"
        );
    }

    #[test]
    fn only_safe_methods_are_retried() {
        assert!(Method::Get.is_idempotent());
        assert!(Method::Put.is_idempotent());
        assert!(!Method::Post.is_idempotent());
    }

    #[test]
    fn errors_name_host_status_and_bitbucket_message() {
        let request = Request::application_properties();
        let body = br#"{"errors":[{"context":null,"message":"You are not permitted to access this resource","exceptionName":"com.atlassian.bitbucket.AuthorisationException"}]}"#;
        let err = read_answer::<Repository>(&host(), &request, 401, body)
            .unwrap_err()
            .to_string();
        assert!(err.contains("example.com"), "{err}");
        assert!(err.contains("401"), "{err}");
        assert!(
            err.contains("You are not permitted to access this resource"),
            "{err}"
        );
        assert!(
            read_answer::<Repository>(&host(), &request, 404, b"{}")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn only_unreserved_characters_stay_unencoded() {
        // RFC 3986 unreserved characters pass; every other byte is `%XX` in upper-case hex.
        for byte in 0u8..=0x7F {
            let text = char::from(byte).to_string();
            let expected = if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                text.clone()
            } else {
                format!("%{byte:02X}")
            };
            assert_eq!(encode(&text), expected, "byte {byte:#04x}");
        }
        assert_eq!(encode("flux admins"), "flux%20admins");
        assert_eq!(encode("~vivek"), "~vivek");
        assert_eq!(encode("a/b?c#d%e&f=g+h"), "a%2Fb%3Fc%23d%25e%26f%3Dg%2Bh");
        assert_eq!(encode("Grüße"), "Gr%C3%BC%C3%9Fe");
        assert_eq!(encode(""), "");
    }
}
