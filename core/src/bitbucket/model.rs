//! The JSON Bitbucket Server answers with (reference §5), as far as fluxstrap reads it. Unknown
//! fields are ignored, optional ones default, so older and newer servers both parse.

use serde::{Deserialize, Serialize};

/// The paging envelope of every list (reference §1.4).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[serde(default)]
    pub size: u32,
    #[serde(default)]
    pub limit: u32,
    pub is_last_page: bool,
    #[serde(default)]
    pub start: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_start: Option<u32>,
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct Href {
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct NamedLink {
    pub href: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct Links {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone: Option<Vec<NamedLink>>,
    #[serde(rename = "self", default)]
    pub self_links: Vec<Href>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub name: String,
    #[serde(default)]
    pub email_address: Option<String>,
    pub id: u64,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub active: bool,
    pub slug: String,
    #[serde(rename = "type", default)]
    pub user_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub key: String,
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub public: bool,
    #[serde(rename = "type", default)]
    pub project_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<User>,
    #[serde(default)]
    pub links: Links,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    pub slug: String,
    pub id: u64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub scm_id: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub forkable: bool,
    pub project: Project,
    #[serde(default)]
    pub public: bool,
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
    pub id: String,
    #[serde(default)]
    pub display_id: String,
    #[serde(default)]
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct GroupRef {
    pub name: String,
}

/// One entry of `…/permissions/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct GroupPermission {
    pub group: GroupRef,
    pub permission: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SshKey {
    #[serde(default)]
    pub id: u64,
    pub text: String,
    #[serde(default)]
    pub label: String,
}

/// One access key of a repository (`/rest/keys/1.0/…/ssh`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AccessKey {
    pub key: SshKey,
    pub permission: String,
}

/// `GET /rest/api/1.0/application-properties`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationProperties {
    pub version: String,
    #[serde(default)]
    pub build_number: String,
    #[serde(default)]
    pub display_name: String,
}

/// The error envelope of every 4xx/5xx answer (reference §1.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ErrorEnvelope {
    pub errors: Vec<ErrorMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessage {
    #[serde(default)]
    pub context: Option<String>,
    pub message: String,
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
        assert_eq!(
            repo.clone_link("http").as_deref(),
            Some("http://localhost:7990/bitbucket/scm/~vivek/personalrepo1.git")
        );
        assert_eq!(
            repo.clone_link("ssh").as_deref(),
            Some("ssh://git@localhost:7999/~vivek/personalrepo1.git")
        );
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
