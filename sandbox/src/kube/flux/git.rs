//! The clone source-controller makes, with the real `git` and `ssh`: the GitRepository
//! Secret's credentials decoded, written to a private per-job directory and handed to git
//! through the environment, and git's failures put in go-git's words.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

/// Credentials of a GitRepository Secret, decoded.
#[derive(Debug, Default)]
pub(super) struct Credentials {
    fields: HashMap<String, Vec<u8>>,
}

impl Credentials {
    /// The Secret's `data`, base64-decoded; entries that do not decode are left out.
    pub fn from_secret(secret: &Value) -> Self {
        let fields = secret
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(value.as_str()?)
                    .ok()?;
                Some((key.clone(), decoded))
            })
            .collect();
        Self { fields }
    }

    fn get(&self, key: &str) -> Option<&[u8]> {
        self.fields.get(key).map(Vec::as_slice)
    }

    /// A field as text, without the trailing newline `echo`-made Secrets carry.
    fn text(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|b| String::from_utf8_lossy(b).trim_end().to_string())
    }
}

/// `ssh://…` and scp-like `user@host:path` URLs go over SSH; everything else over HTTP(S).
fn is_ssh_url(url: &str) -> bool {
    url.starts_with("ssh://") || (url.contains('@') && !url.contains("://"))
}

/// Runs `git clone` of one branch into `target` with the Secret's credentials; returns the
/// commit SHA or git's complaint. A clone that outlives `timeout` is killed, as
/// source-controller cancels its context, so one stalled server never holds the simulator.
pub(super) fn clone_branch(
    url: &str,
    branch: &str,
    credentials: &Credentials,
    job: &Path,
    target: &Path,
    timeout: Duration,
) -> Result<String, String> {
    let _ = std::fs::remove_dir_all(job);
    std::fs::create_dir_all(job).map_err(|e| e.to_string())?;
    let mut command = Command::new("git");
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", job)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    let mut config: Vec<(String, String)> = Vec::new();
    if is_ssh_url(url) {
        let identity = credentials
            .get("identity")
            .ok_or("invalid 'identity' in secret: missing SSH private key")?;
        let known_hosts = credentials
            .get("known_hosts")
            .ok_or("invalid secret data: required fields 'known_hosts'")?;
        let identity_path = job.join("identity");
        let known_hosts_path = job.join("known_hosts");
        write_private(&identity_path, identity)?;
        write_private(&known_hosts_path, known_hosts)?;
        command.env(
            "GIT_SSH_COMMAND",
            format!(
                "ssh -F none -i {} -o IdentitiesOnly=yes -o BatchMode=yes \
                 -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} -o ConnectTimeout=10",
                identity_path.display(),
                known_hosts_path.display()
            ),
        );
    } else {
        if let Some(ca) = credentials.get("ca.crt").or(credentials.get("caFile")) {
            let ca_path = job.join("ca.crt");
            write_private(&ca_path, ca)?;
            command.env("GIT_SSL_CAINFO", &ca_path);
        }
        if let Some(header) = authorization_header(credentials) {
            config.push(("http.extraHeader".into(), header));
        }
    }
    // Credentials travel in the environment, never on the command line.
    command.env("GIT_CONFIG_COUNT", config.len().to_string());
    for (index, (key, value)) in config.iter().enumerate() {
        command.env(format!("GIT_CONFIG_KEY_{index}"), key);
        command.env(format!("GIT_CONFIG_VALUE_{index}"), value);
    }
    let stderr_path = job.join("stderr");
    let stderr = std::fs::File::create(&stderr_path).map_err(|e| e.to_string())?;
    let mut child = command
        .args([
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--single-branch",
            "--branch",
            branch,
        ])
        .arg(url)
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child
            .try_wait()
            .map_err(|e| format!("cannot wait for git: {e}"))?
        {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("context deadline exceeded".to_string());
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    if !status.success() {
        let stderr = std::fs::read(&stderr_path).unwrap_or_default();
        return Err(clone_failure(&String::from_utf8_lossy(&stderr)));
    }
    let head = Command::new("git")
        .arg("-C")
        .arg(target)
        .args(["rev-parse", "HEAD"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    Ok(String::from_utf8_lossy(&head.stdout).trim().to_string())
}

/// The HTTP `Authorization` header of the Secret: `bearerToken` first, else `username` and
/// `password` as Basic.
fn authorization_header(credentials: &Credentials) -> Option<String> {
    if let Some(token) = credentials.text("bearerToken") {
        return Some(format!("Authorization: Bearer {token}"));
    }
    let (user, password) = (credentials.text("username")?, credentials.text("password")?);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    Some(format!("Authorization: Basic {basic}"))
}

/// Why a clone failed: go-git's words when the failure is one it names, else git's own lines.
fn clone_failure(stderr: &str) -> String {
    if let Some(reason) = go_git_reason(stderr) {
        return reason.to_string();
    }
    stderr
        .lines()
        .map(|l| l.trim_start_matches("fatal: ").trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// source-controller clones with go-git; its words for the failures a bootstrap meets, read
/// from what git and ssh print for the same failure.
fn go_git_reason(stderr: &str) -> Option<&'static str> {
    if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        Some("ssh: handshake failed: knownhosts: key mismatch")
    } else if stderr.contains("Host key verification failed") {
        Some("ssh: handshake failed: knownhosts: key is unknown")
    } else if stderr.contains("Permission denied (publickey") {
        Some(
            "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none \
             publickey], no supported methods remain",
        )
    } else if stderr.contains("could not read Username")
        || stderr.contains("Authentication failed")
        || stderr.contains("The requested URL returned error: 401")
    {
        Some("authentication required")
    } else if stderr.contains("The requested URL returned error: 403") {
        Some("authorization failed")
    } else if stderr.contains("not found") || stderr.contains("does not appear to be a git") {
        Some("repository not found")
    } else {
        None
    }
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(contents).map_err(|e| e.to_string())?;
    // OpenSSH wants a final newline after a PEM key.
    if !contents.ends_with(b"\n") {
        file.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn secret(data: Value) -> Credentials {
        Credentials::from_secret(&json!({"apiVersion": "v1", "kind": "Secret", "data": data}))
    }

    #[test]
    fn secret_data_is_decoded_and_undecodable_entries_left_out() {
        // `alice` and `s3cret\n` in base64.
        let credentials = secret(json!({"username": "YWxpY2U=", "password": "czNjcmV0Cg==",
                                        "broken": "not base64!", "number": 7}));
        assert_eq!(credentials.get("username"), Some(&b"alice"[..]));
        assert_eq!(credentials.get("password"), Some(&b"s3cret\n"[..]));
        assert_eq!(credentials.text("password").as_deref(), Some("s3cret"));
        assert_eq!(credentials.get("broken"), None);
        assert_eq!(credentials.get("number"), None);
        assert!(
            Credentials::from_secret(&json!({"kind": "Secret"}))
                .fields
                .is_empty()
        );
    }

    #[test]
    fn http_credentials_become_one_authorization_header() {
        // `YWxpY2U6czNjcmV0` is base64 of `alice:s3cret`.
        let basic = secret(json!({"username": "YWxpY2U=", "password": "czNjcmV0Cg=="}));
        assert_eq!(
            authorization_header(&basic).as_deref(),
            Some("Authorization: Basic YWxpY2U6czNjcmV0")
        );
        // `dG9r` is base64 of `tok`: a bearer token wins over a user and password.
        let bearer = secret(json!({"bearerToken": "dG9r", "username": "YWxpY2U=",
                                   "password": "czNjcmV0Cg=="}));
        assert_eq!(
            authorization_header(&bearer).as_deref(),
            Some("Authorization: Bearer tok")
        );
        assert_eq!(
            authorization_header(&secret(json!({"username": "YWxpY2U="}))),
            None
        );
    }

    #[test]
    fn ssh_urls_are_told_from_http_ones() {
        assert!(is_ssh_url("ssh://git@127.0.0.1:7999/plat/fleet.git"));
        assert!(is_ssh_url("git@bitbucket.example.com:plat/fleet.git"));
        assert!(!is_ssh_url(
            "https://bitbucket.example.com/scm/plat/fleet.git"
        ));
        assert!(!is_ssh_url(
            "https://alice@bitbucket.example.com/scm/plat/fleet.git"
        ));
    }

    #[test]
    fn git_and_ssh_failures_in_go_gits_words() {
        let cases = [
            (
                "@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n",
                "ssh: handshake failed: knownhosts: key mismatch",
            ),
            (
                "Host key verification failed.\nfatal: Could not read from remote repository.",
                "ssh: handshake failed: knownhosts: key is unknown",
            ),
            (
                "git@127.0.0.1: Permission denied (publickey).\nfatal: Could not read from remote",
                "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none \
                 publickey], no supported methods remain",
            ),
            (
                "fatal: could not read Username for 'https://localhost': terminal prompts disabled",
                "authentication required",
            ),
            (
                "fatal: unable to access 'https://localhost/scm/p/r.git/': The requested URL \
                 returned error: 401",
                "authentication required",
            ),
            (
                "fatal: unable to access 'https://localhost/scm/p/r.git/': The requested URL \
                 returned error: 403",
                "authorization failed",
            ),
            (
                "fatal: repository 'https://localhost/scm/p/nope.git/' not found",
                "repository not found",
            ),
        ];
        for (stderr, reason) in cases {
            assert_eq!(clone_failure(stderr), reason, "{stderr}");
        }
        // Anything else is git's own lines, without `fatal: `.
        assert_eq!(
            clone_failure("fatal: unable to connect to 127.0.0.1:\n\nconnection refused\n"),
            "unable to connect to 127.0.0.1:; connection refused"
        );
    }

    #[test]
    fn a_clone_from_a_server_that_never_answers_ends_at_the_timeout() {
        // Accepts the connection and never speaks: git waits for the HTTP response forever.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/scm/p/r.git", listener.local_addr().unwrap());
        let held = std::thread::spawn(move || listener.accept().map(|(stream, _)| stream));
        let scratch = std::env::temp_dir().join(format!("clone-timeout-{}", std::process::id()));
        let result = clone_branch(
            &url,
            "main",
            &Credentials::default(),
            &scratch.join("job"),
            &scratch.join("checkout"),
            Duration::from_millis(500),
        );
        assert_eq!(result, Err("context deadline exceeded".to_string()));
        drop(held.join());
        let _ = std::fs::remove_dir_all(&scratch);
    }
}
