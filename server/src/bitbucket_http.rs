//! The server's Bitbucket transport: the one Bitbucket HTTP client ([`crate::http`]) with the
//! caller's token, held here for the job's duration only and never logged (it is a [`Secret`]).

use std::path::Path;
use std::time::Duration;

use fluxstrap_core::bitbucket::{
    Answer, BitbucketHost, COMMON_HEADERS, Method, Request, Transport, TransportError,
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
    ) -> std::result::Result<Answer, TransportError> {
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
        let response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let username = response
            .headers()
            .get("x-ausername")
            .and_then(|v| v.to_str().ok())
            .map(percent_decode);
        let body = response
            .bytes()
            .await
            .map_err(|e| TransportError::BodyRead(fluxstrap_core::error::with_causes(&e)))?
            .to_vec();
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

/// Sorts a reqwest failure into core's kinds. reqwest reports TLS failures as connection
/// errors; the rustls error in the cause chain tells them apart.
fn transport_error(error: reqwest::Error) -> TransportError {
    let message = fluxstrap_core::error::with_causes(&error);
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        if is_tls(inner) {
            return TransportError::Tls(message);
        }
        cause = inner.source();
    }
    if error.is_timeout() {
        TransportError::TimedOut(message)
    } else if error.is_connect() {
        TransportError::NoConnection(message)
    } else if error.is_body() || error.is_decode() {
        TransportError::BodyRead(message)
    } else {
        TransportError::Failed(message)
    }
}

/// Whether `error` is a rustls error, or an io::Error wrapping one (hyper wraps it twice, and an
/// io::Error's source() skips the error it wraps).
fn is_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    if error.is::<rustls::Error>() {
        return true;
    }
    error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        .is_some_and(|wrapped| is_tls(wrapped))
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

    /// Sends a GET of the application properties to `base_url` with `transport`.
    async fn failure(transport: &HttpTransport, base_url: &str) -> TransportError {
        let host = BitbucketHost::parse(base_url).unwrap();
        transport
            .send(&host, &Request::application_properties())
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn failures_are_sorted_into_core_kinds() {
        let transport = HttpTransport::new(Secret::new("t"), None).unwrap();
        // A port nobody listens on: bind one, then let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let refused = failure(&transport, &format!("http://127.0.0.1:{port}")).await;
        assert!(
            matches!(&refused, TransportError::NoConnection(m) if m.contains("onnection refused")),
            "{refused:?}"
        );

        // The emulator's own CA is not trusted without its CA file.
        let root = std::env::temp_dir().join(format!("fluxstrap-http-tls-{}", std::process::id()));
        let bitbucket = fluxstrap_sandbox::bitbucket::BitbucketEmulator::start(
            fluxstrap_sandbox::bitbucket::Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                context_path: String::new(),
                git_root: root.join("git"),
                seed: Default::default(),
                ssh_port: 7999,
                transport: fluxstrap_sandbox::bitbucket::Transport::Https {
                    certificates: root.join("tls"),
                },
                ssh: fluxstrap_sandbox::bitbucket::Ssh::Disabled,
            },
        )
        .await
        .unwrap();
        let untrusted = failure(&transport, bitbucket.base_url()).await;
        assert!(matches!(untrusted, TransportError::Tls(_)), "{untrusted:?}");
        bitbucket.stop().await;
        let _ = std::fs::remove_dir_all(&root);
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
