//! The JSON Bitbucket Server answers with (reference §5), as far as fluxstrap reads it. Unknown
//! fields are ignored, optional ones default, so older and newer servers both parse.

use serde::{Deserialize, Serialize};

/// The paging envelope of every list (reference §1.4).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// How many values this page holds.
    #[serde(default)]
    pub size: u32,
    /// The page size the server used.
    #[serde(default)]
    pub limit: u32,
    /// Whether this is the last page.
    pub is_last_page: bool,
    /// The index of the page's first value.
    #[serde(default)]
    pub start: u32,
    /// Where the next page starts (`start=`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_start: Option<u32>,
    /// The page's values.
    pub values: Vec<T>,
}

impl<T> Page<T> {
    /// Where the next page starts, if there is one. A page that says it is not the last but
    /// gives no `nextPageStart` (a known Bitbucket bug on some endpoints) ends the listing
    /// rather than looping for ever.
    pub fn next_start(&self) -> Option<u32> {
        if self.is_last_page {
            None
        } else {
            self.next_page_start
        }
    }
}

/// A link (`{"href": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct Href {
    /// The URL.
    pub href: String,
}

/// A named link, e.g. a clone URL named `http` or `ssh`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct NamedLink {
    /// The URL.
    pub href: String,
    /// Its name.
    pub name: String,
}

/// The `links` of a project or repository.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct Links {
    /// The clone URLs of a repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone: Option<Vec<NamedLink>>,
    /// The web UI pages of the object (`self`).
    #[serde(rename = "self", default)]
    pub self_links: Vec<Href>,
}

/// A Bitbucket user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user name (login).
    pub name: String,
    /// The e-mail address, when the token may see it.
    #[serde(default)]
    pub email_address: Option<String>,
    /// Bitbucket's id.
    pub id: u64,
    /// The full name.
    #[serde(default)]
    pub display_name: String,
    /// Whether the account is active.
    #[serde(default)]
    pub active: bool,
    /// The URL slug, e.g. in `~slug` personal project keys.
    pub slug: String,
    /// `NORMAL` or `SERVICE`.
    #[serde(rename = "type", default)]
    pub user_type: String,
}

/// A project (or a user's personal project).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// The project key, e.g. `PLAT` or `~USER`.
    pub key: String,
    /// Bitbucket's id.
    pub id: u64,
    /// The display name, e.g. `Platform`.
    #[serde(default)]
    pub name: String,
    /// The description, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether anyone may read it.
    #[serde(default)]
    pub public: bool,
    /// `NORMAL` or `PERSONAL`.
    #[serde(rename = "type", default)]
    pub project_type: String,
    /// The owner of a personal project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<User>,
    /// The project's links.
    #[serde(default)]
    pub links: Links,
}

/// A repository.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    /// The slug in URLs, derived from the name.
    pub slug: String,
    /// Bitbucket's id.
    pub id: u64,
    /// The name as given when created.
    pub name: String,
    /// The description, if set (`--reconcile` keeps it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The version control system, `git`.
    #[serde(default)]
    pub scm_id: String,
    /// `AVAILABLE` once created.
    #[serde(default)]
    pub state: String,
    /// Whether it may be forked.
    #[serde(default)]
    pub forkable: bool,
    /// The project it lives in.
    pub project: Project,
    /// Whether anyone may read it.
    #[serde(default)]
    pub public: bool,
    /// The repository's links, among them the clone URLs.
    #[serde(default)]
    pub links: Links,
}

impl Repository {
    /// The repository a dry run reports for one that would be created: the slug Bitbucket
    /// derives from the name, no id and no links yet.
    pub fn would_create(key: &super::ProjectKey, name: &super::RepoName) -> Self {
        Self {
            slug: name.slug().as_str().to_string(),
            id: 0,
            name: name.as_str().to_string(),
            description: None,
            scm_id: "git".to_string(),
            state: String::new(),
            forkable: false,
            project: Project {
                key: key.as_str().to_string(),
                id: 0,
                name: String::new(),
                description: None,
                public: false,
                project_type: String::new(),
                owner: None,
                links: Links::default(),
            },
            public: false,
            links: Links::default(),
        }
    }

    /// The clone link of that name (`http` or `ssh`), with any user name removed from it.
    pub fn clone_link(&self, name: &str) -> Option<String> {
        let href = &self
            .links
            .clone
            .as_ref()?
            .iter()
            .find(|link| link.name == name)?
            .href;
        Some(strip_userinfo(href))
    }
}

/// `http://VIVEK@host/…` → `http://host/…`: the caller's name in a link is not a credential to
/// reuse (ssh links keep their `git@`).
fn strip_userinfo(url: &str) -> String {
    if !url.starts_with("http") {
        return url.to_string();
    }
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

/// A branch (`GET …/branches/default`, `…/branches`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Branch {
    /// The full ref, e.g. `refs/heads/main`.
    pub id: String,
    /// The branch name, e.g. `main`.
    #[serde(default)]
    pub display_id: String,
    /// Whether it is the repository's default branch.
    #[serde(default)]
    pub is_default: bool,
}

/// A group, as permission lists name it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct GroupRef {
    /// The group's name.
    pub name: String,
}

/// One entry of `…/permissions/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct GroupPermission {
    /// The group.
    pub group: GroupRef,
    /// `REPO_READ`/`REPO_WRITE`/`REPO_ADMIN`, or the `PROJECT_*` ones on a project.
    pub permission: String,
}

/// An SSH public key as Bitbucket stores it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SshKey {
    /// Bitbucket's id.
    #[serde(default)]
    pub id: u64,
    /// The key line, `type base64 [comment]`.
    pub text: String,
    /// The label it was registered with.
    #[serde(default)]
    pub label: String,
}

/// One access key of a repository (`/rest/keys/1.0/…/ssh`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AccessKey {
    /// The key.
    pub key: SshKey,
    /// `REPO_READ` or `REPO_WRITE`.
    pub permission: String,
}

/// `GET /rest/api/1.0/application-properties`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationProperties {
    /// The server's version, e.g. `8.19.1`.
    pub version: String,
    /// The build number.
    #[serde(default)]
    pub build_number: String,
    /// The product name, `Bitbucket`.
    #[serde(default)]
    pub display_name: String,
}

/// The error envelope of every 4xx/5xx answer (reference §1.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ErrorEnvelope {
    /// One or more errors.
    pub errors: Vec<ErrorMessage>,
}

/// One error: the message a person reads, and what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessage {
    /// The field the error is about, if any.
    #[serde(default)]
    pub context: Option<String>,
    /// The message, in Bitbucket's words.
    pub message: String,
    /// The Java exception class, e.g. `com.atlassian.bitbucket.AuthorisationException`.
    #[serde(default)]
    pub exception_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_links_are_picked_by_name_without_user_names() {
        let repo: Repository = serde_json::from_str(
            r#"{"slug":"personalrepo1","id":1,"name":"personalrepo1","project":{"key":"~VIVEK","id":44,"name":"vivek","type":"PERSONAL"},
               "links":{"clone":[{"href":"ssh://git@localhost:7999/~vivek/personalrepo1.git","name":"ssh"},
                                 {"href":"http://VIVEK@localhost:7990/bitbucket/scm/~vivek/personalrepo1.git","name":"http"}]}}"#,
        )
        .unwrap();
        for (name, url) in [
            (
                "http",
                "http://localhost:7990/bitbucket/scm/~vivek/personalrepo1.git",
            ),
            ("ssh", "ssh://git@localhost:7999/~vivek/personalrepo1.git"),
        ] {
            assert_eq!(repo.clone_link(name).as_deref(), Some(url), "{name}");
        }
    }

    #[test]
    fn pages_stop_when_next_page_start_is_missing() {
        let page: Page<GroupPermission> = serde_json::from_str(
            r#"{"size":0,"limit":25,"isLastPage":false,"values":[],"start":0}"#,
        )
        .unwrap();
        assert_eq!(page.next_start(), None);
        let page: Page<GroupPermission> = serde_json::from_str(
            r#"{"size":1,"limit":1,"isLastPage":false,"values":[{"group":{"name":"a"},"permission":"REPO_READ"}],"start":0,"nextPageStart":1}"#,
        )
        .unwrap();
        assert_eq!(page.next_start(), Some(1));
    }
}
