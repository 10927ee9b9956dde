//! The curl client.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitStatus};

use serde_json::Value;

use super::{describe, output_of};

/// One HTTP request made with curl.
#[derive(Debug, Clone)]
pub struct Curl {
    method: String,
    url: String,
    args: Vec<OsString>,
}

/// What the server answered.
#[derive(Debug, Clone)]
pub struct CurlAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The header lines, lower-cased, one a line.
    pub headers: String,
    /// The body as text.
    pub text: String,
    /// The body parsed as JSON (`null` when it is not JSON).
    pub body: Value,
}

impl Curl {
    /// A request with this method.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Self {
            method: method.to_string(),
            url: url.into(),
            args: Vec::new(),
        }
    }

    /// A GET request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header(&format!("Authorization: Bearer {token}"))
    }

    /// HTTP Basic authentication.
    pub fn basic(self, user: &str, password: &str) -> Self {
        self.args(["-u", &format!("{user}:{password}")])
    }

    /// Trusts only this CA for HTTPS.
    pub fn cacert(self, ca_file: &Path) -> Self {
        self.args([OsString::from("--cacert"), ca_file.into()])
    }

    /// A JSON body (with its Content-Type).
    pub fn json(self, body: &str) -> Self {
        self.header("Content-Type: application/json")
            .args(["--data", body])
    }

    /// One more request header.
    pub fn header(self, header: &str) -> Self {
        self.args(["-H", header])
    }

    /// More curl arguments, as they are.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    fn command(&self, extra: &[&str]) -> Command {
        let mut command = Command::new("curl");
        command
            .args(["-s", "-S", "-X", &self.method])
            .args(extra)
            .args(&self.args)
            .arg(&self.url);
        command
    }

    /// Sends the request; panics, naming the request and curl's error, when no HTTP answer
    /// came back (refused connection, untrusted certificate, broken answer).
    #[track_caller]
    pub fn send(&self) -> CurlAnswer {
        let mut command = self.command(&["-i"]);
        let output = output_of(&mut command);
        assert!(
            output.status.success(),
            "{} got no answer ({}): {}",
            describe(&command),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let mut rest = output.stdout.as_slice();
        loop {
            let end = find(rest, b"\r\n\r\n").unwrap_or(rest.len());
            let headers = String::from_utf8_lossy(&rest[..end]).replace("\r\n", "\n");
            let status: u16 = headers
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| {
                    panic!("{}: no HTTP status line in {headers:?}", describe(&command))
                });
            rest = rest.get(end + 4..).unwrap_or_default();
            // An interim answer (100 Continue) comes before the real one.
            if (100..200).contains(&status) {
                continue;
            }
            let text = String::from_utf8_lossy(rest).into_owned();
            return CurlAnswer {
                status,
                headers: headers.to_lowercase(),
                body: serde_json::from_str(&text).unwrap_or(Value::Null),
                text,
            };
        }
    }

    /// Runs the request for curl's exit status alone: for answers that must not arrive.
    pub fn exit_status(&self) -> ExitStatus {
        output_of(&mut self.command(&["-o", "/dev/null"])).status
    }
}

impl CurlAnswer {
    /// Panics unless the status is `status`, showing the answer.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "expected HTTP {status}, got {}: {}",
            self.status, self.text
        );
        self
    }

    /// Panics unless the status is 2xx, showing the answer.
    #[track_caller]
    pub fn success(self) -> Self {
        assert!(
            (200..300).contains(&self.status),
            "expected a 2xx answer, got {}: {}",
            self.status,
            self.text
        );
        self
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
