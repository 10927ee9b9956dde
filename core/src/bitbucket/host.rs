//! Where Bitbucket lives: the forms `--hostname` accepts, and the URLs derived from it.
//!
//! flux accepts only `host` or `host:port` (a scheme, a context path or `IP:port` break it,
//! spec §3.1); fluxstrap also takes `https://host[:port]/context-path`, `http://…` and IPs.

use crate::error::{Error, Result};

/// How fluxstrap talks to Bitbucket: HTTPS unless the host says `http://`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `https://`, the default.
    Https,
    /// `http://`, only when given explicitly.
    Http,
}

/// A Bitbucket Server base: scheme, host, optional port and context path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitbucketHost {
    scheme: Scheme,
    host: String,
    port: Option<u16>,
    context_path: String,
}

fn invalid(value: &str, reason: &str) -> Error {
    Error::InvalidHost {
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

impl BitbucketHost {
    /// Reads `--hostname`: `host`, `host:port`, or a URL with a scheme and a context path.
    pub fn parse(value: &str) -> Result<Self> {
        let text = value.trim();
        if text.is_empty() {
            return Err(invalid(
                value,
                "give the Bitbucket host, e.g. bitbucket.example.com or https://example.com/bitbucket",
            ));
        }
        let (scheme, rest) = match text.split_once("://") {
            Some(("https", rest)) => (Scheme::Https, rest),
            Some(("http", rest)) => (Scheme::Http, rest),
            Some((other, _)) => {
                return Err(invalid(
                    value,
                    &format!("the scheme must be https or http, not {other}"),
                ));
            }
            None => (Scheme::Https, text),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(invalid(
                value,
                "credentials do not belong in the host: pass the token separately",
            ));
        }
        if path.contains(['?', '#']) {
            return Err(invalid(
                value,
                "a query or fragment does not belong in the host",
            ));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (ipv6, after) = bracketed
                .split_once(']')
                .ok_or_else(|| invalid(value, "an IPv6 address needs its closing ]"))?;
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => return Err(invalid(value, "unexpected text after the IPv6 address")),
            };
            (format!("[{ipv6}]"), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port)),
                None => (authority.to_string(), None),
            }
        };
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| invalid(value, &format!("{p:?} is not a port number")))
            })
            .transpose()?;
        let host_ok = !host.is_empty()
            && (host.starts_with('[')
                || host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')));
        if !host_ok {
            return Err(invalid(
                value,
                "the host name has characters a host name cannot have",
            ));
        }
        Ok(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            context_path: path.trim_end_matches('/').to_string(),
        })
    }

    /// `host[:port]`, what flux calls the domain and puts into clone URLs.
    pub fn domain(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// The host name alone (no port), e.g. for an SSH URL on another port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the REST calls go over HTTPS or HTTP.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `https://host[:port][/context]`, the prefix of every REST and git URL.
    pub fn base_url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        format!("{scheme}://{}{}", self.domain(), self.context_path)
    }

    /// `base_url` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_reasons;

    #[test]
    fn accepts_flux_forms_and_more() {
        let cases = [
            (
                "bitbucket.example.com",
                "https://bitbucket.example.com",
                "bitbucket.example.com",
            ),
            (
                "bitbucket.example.com:7990",
                "https://bitbucket.example.com:7990",
                "bitbucket.example.com:7990",
            ),
            (
                "https://example.com/bitbucket/",
                "https://example.com/bitbucket",
                "example.com",
            ),
            (
                "http://localhost:7990",
                "http://localhost:7990",
                "localhost:7990",
            ),
            ("10.0.0.1:7990", "https://10.0.0.1:7990", "10.0.0.1:7990"),
            ("[::1]:7990", "https://[::1]:7990", "[::1]:7990"),
            (
                "  Bitbucket.Example.com ",
                "https://bitbucket.example.com",
                "bitbucket.example.com",
            ),
        ];
        for (input, base, domain) in cases {
            let host = BitbucketHost::parse(input).unwrap();
            assert_eq!(host.base_url(), base, "{input}");
            assert_eq!(host.domain(), domain, "{input}");
        }
        assert_eq!(
            BitbucketHost::parse("https://example.com/bitbucket")
                .unwrap()
                .url("/rest/api/1.0/projects"),
            "https://example.com/bitbucket/rest/api/1.0/projects"
        );
    }

    #[test]
    fn rejects_what_cannot_work_with_a_reason() {
        assert_reasons(
            BitbucketHost::parse,
            &[
                ("", "give the Bitbucket host"),
                ("ftp://x", "must be https or http"),
                ("https://user:tok@x", "credentials do not belong"),
                ("x:99999", "is not a port number"),
                ("x:0", "is not a port number"),
                ("exa mple.com", "cannot have"),
                ("https://x/y?z=1", "query or fragment"),
            ],
        );
    }
}
