//! Bitbucket from the page: core's steps over the browser's fetch, through the server's
//! same-origin relay (`/api/bitbucket`). The token lives in memory for the page's lifetime only.

use fluxstrap_core::bitbucket::{
    Answer, BitbucketHost, COMMON_HEADERS, Method, Request, Transport, TransportError, identify,
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

/// The relay to the server's first Bitbucket server, as a base URL on this page's origin.
async fn relay_host() -> Result<BitbucketHost, String> {
    let config = crate::release::page_config().await?;
    let server = config
        .servers
        .first()
        .ok_or("this fluxstrap has no Bitbucket server configured (see its --config)")?;
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .ok_or("the page has no origin")?;
    BitbucketHost::parse(&format!("{origin}/api/bitbucket/{}", server.name))
        .map_err(|e| e.to_string())
}

/// Who the token belongs to, in words for the page.
pub async fn connect(token: String) -> Result<String, String> {
    if token.trim().is_empty() {
        return Err("enter a Bitbucket HTTP access token".to_string());
    }
    let host = relay_host().await?;
    let transport = BrowserTransport {
        token: fluxstrap_core::Secret::new(token),
    };
    let (version, user) = identify(&transport, &host)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("Connected to Bitbucket {version} as {user}"))
}
