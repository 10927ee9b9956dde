//! The server's Bitbucket transport: the one Bitbucket HTTP client ([`crate::http`]) with the
//! caller's token, held here for the job's duration only and never logged (it is a [`Secret`]).

use std::path::Path;
use std::time::Duration;

use fluxstrap_core::bitbucket::{
    Answer, BitbucketHost, COMMON_HEADERS, Method, Request, Transport,
};

use fluxstrap_core::Secret;

use crate::error::Result;

#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    token: Secret,
}

impl HttpTransport {
    /// A transport authenticating with `token` (as Bearer), trusting `ca_file` in addition to
    /// the system's roots.
    pub fn new(token: Secret, ca_file: Option<&Path>) -> Result<Self> {
        Ok(Self {
            client: crate::http::bitbucket_client(ca_file)?,
            token,
        })
    }
}

impl Transport for HttpTransport {
    async fn send(
        &self,
        host: &BitbucketHost,
        request: &Request,
    ) -> std::result::Result<Answer, String> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .client
            .request(method, request.url(host))
            .bearer_auth(self.token.expose());
        for (name, value) in COMMON_HEADERS {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        // reqwest's errors name the URL, never the Authorization header.
        let response = builder.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let username = response
            .headers()
            .get("x-ausername")
            .and_then(|v| v.to_str().ok())
            .map(percent_decode);
        let body = response.bytes().await.map_err(|e| e.to_string())?.to_vec();
        Ok(Answer {
            status,
            body,
            username,
        })
    }

    async fn sleep(&self, milliseconds: u64) {
        tokio::time::sleep(Duration::from_millis(milliseconds)).await;
    }
}

/// `X-AUSERNAME` is percent-encoded when the name has characters like `@`.
fn percent_decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_print() {
        let transport = HttpTransport::new(Secret::new("s3cret-token"), None).unwrap();
        assert!(!format!("{transport:?}").contains("s3cret"));
    }

    #[test]
    fn user_names_are_percent_decoded() {
        assert_eq!(
            percent_decode("XXX.XXX%40example.com"),
            "XXX.XXX@example.com"
        );
        assert_eq!(percent_decode("admin"), "admin");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
    }
}
