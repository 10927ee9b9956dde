//! Bitbucket from the page: core's steps over the browser's fetch, through the server's
//! same-origin relay (`/api/bitbucket/{server}`). The token lives in memory for the page's
//! lifetime only.

use fluxstrap_core::Error;
use fluxstrap_core::bitbucket::{
    Answer, BitbucketHost, Branch, COMMON_HEADERS, Method, Page, Project, ProjectKey, RepoName,
    Repository, Request, Transport, TransportError, identify, read_answer,
};
use wasm_bindgen::JsCast;

pub struct BrowserTransport {
    token: fluxstrap_core::Secret,
}

impl Transport for BrowserTransport {
    async fn send(
        &self,
        host: &BitbucketHost,
        request: &Request,
    ) -> Result<Answer, TransportError> {
        use gloo_net::http::RequestBuilder;
        let url = request.url(host);
        let mut builder = match request.method {
            Method::Get => RequestBuilder::new(&url).method(gloo_net::http::Method::GET),
            Method::Post => RequestBuilder::new(&url).method(gloo_net::http::Method::POST),
            Method::Put => RequestBuilder::new(&url).method(gloo_net::http::Method::PUT),
            Method::Delete => RequestBuilder::new(&url).method(gloo_net::http::Method::DELETE),
        };
        builder = builder.header("Authorization", &format!("Bearer {}", self.token.expose()));
        for (name, value) in COMMON_HEADERS {
            builder = builder.header(name, value);
        }
        let request = match &request.body {
            Some(body) => builder
                .header("Content-Type", "application/json")
                .body(body.to_string()),
            None => builder.build(),
        }
        .map_err(|e| TransportError::Failed(e.to_string()))?;
        // fetch() only says that it failed (a TypeError), not why: the relay is out of reach.
        let response = request
            .send()
            .await
            .map_err(|e| TransportError::NoConnection(e.to_string()))?;
        let username = response.headers().get("x-ausername");
        Ok(Answer {
            status: response.status(),
            username,
            body: response
                .binary()
                .await
                .map_err(|e| TransportError::BodyRead(e.to_string()))?,
        })
    }

    async fn sleep(&self, milliseconds: u64) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    resolve.unchecked_ref(),
                    i32::try_from(milliseconds).unwrap_or(i32::MAX),
                );
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

/// Who the token belongs to, on which server.
#[derive(Clone, PartialEq, Debug)]
pub struct Identity {
    pub user: String,
    pub version: String,
}

/// A project the user can see.
#[derive(Clone, PartialEq, Debug)]
pub struct ProjectChoice {
    pub key: String,
    pub name: String,
}

/// What the chosen repository is now.
#[derive(Clone, PartialEq, Debug)]
pub enum RepositoryState {
    /// Not looked up (not connected, or no project or name yet).
    Unknown,
    /// Being looked up.
    Checking,
    /// Not there: the bootstrap creates it.
    Missing,
    /// There, without a branch.
    Empty(Box<Repository>),
    /// There, with these branches (the default first).
    Exists(Box<Repository>, Vec<String>),
    /// The lookup failed.
    Failed(String),
}

/// The server's REST relay with the user's token.
pub struct Relay {
    host: BitbucketHost,
    transport: BrowserTransport,
}

impl Relay {
    /// The relay to the configured server `server`.
    pub fn new(server: &str, token: &str) -> Result<Self, String> {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .ok_or("the page has no origin")?;
        let host = BitbucketHost::parse(&format!("{origin}/api/bitbucket/{server}"))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            host,
            transport: BrowserTransport {
                token: fluxstrap_core::Secret::new(token),
            },
        })
    }

    /// Who the token belongs to and the server's version, or what to do about it.
    pub async fn connect(&self) -> Result<Identity, String> {
        match identify(&self.transport, &self.host).await {
            Ok((version, user)) => Ok(Identity { user, version }),
            Err(error) => Err(explain(&error)),
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        request: &Request,
    ) -> Result<Option<T>, String> {
        let answer = self
            .transport
            .send(&self.host, request)
            .await
            .map_err(|e| format!("Bitbucket gave no answer: {e}"))?;
        read_answer(&self.host, request, answer.status, &answer.body).map_err(|e| e.to_string())
    }

    /// Every project the token's user can see, by name.
    pub async fn projects(&self) -> Result<Vec<ProjectChoice>, String> {
        let request = Request {
            method: Method::Get,
            path: "/rest/api/1.0/projects".into(),
            query: vec![("limit".into(), "1000".into())],
            body: None,
        };
        let page: Option<Page<Project>> = self.get(&request).await?;
        let mut projects: Vec<ProjectChoice> = page
            .map(|p| p.values)
            .unwrap_or_default()
            .into_iter()
            .map(|p| ProjectChoice {
                key: p.key,
                name: p.name,
            })
            .collect();
        projects.sort_by_key(|p| p.name.to_lowercase());
        Ok(projects)
    }

    /// Whether the repository `name` of project `key` exists, is empty, and its branches.
    pub async fn repository(&self, key: &str, name: &str) -> RepositoryState {
        let (Ok(key), Ok(name)) = (ProjectKey::parse(key), RepoName::parse(name)) else {
            return RepositoryState::Unknown;
        };
        let request = Request::repository(&key, &name.slug());
        let repository: Repository = match self.get(&request).await {
            Ok(Some(repository)) => repository,
            Ok(None) => return RepositoryState::Missing,
            Err(error) => return RepositoryState::Failed(error),
        };
        let request = Request {
            method: Method::Get,
            path: format!("{}/branches", request.path),
            query: vec![("limit".into(), "100".into())],
            body: None,
        };
        match self.get::<Page<Branch>>(&request).await {
            Ok(Some(page)) if !page.values.is_empty() => {
                let mut branches = page.values;
                branches.sort_by_key(|b| !b.is_default);
                RepositoryState::Exists(
                    Box::new(repository),
                    branches.into_iter().map(|b| b.display_id).collect(),
                )
            }
            Ok(_) => RepositoryState::Empty(Box::new(repository)),
            Err(error) => RepositoryState::Failed(error),
        }
    }
}

/// A failed connection in words that say what to do.
fn explain(error: &Error) -> String {
    match error {
        Error::Bitbucket { status: 401, .. } | Error::TokenNotAccepted { .. } => format!(
            "Bitbucket did not accept this token ({error}). Paste an HTTP access token of your \
             own (Bitbucket → Manage account → HTTP access tokens) that has not expired."
        ),
        Error::Bitbucket { status: 403, .. } => format!(
            "Bitbucket refused this token ({error}). Give the token at least project read \
             permission, or create a new one."
        ),
        Error::Bitbucket { status, .. } if *status >= 500 => format!(
            "Bitbucket cannot be reached through fluxstrap ({error}). Try again in a minute; \
             if it keeps failing, tell whoever runs fluxstrap."
        ),
        Error::BitbucketNoAnswer { .. } => format!(
            "the fluxstrap server did not answer ({error}). Check your connection and try again."
        ),
        other => other.to_string(),
    }
}
