//! Running `git` (and the programs it starts: ssh, gpg, ssh-keygen) for one job: a cleaned
//! environment, the job's credentials, a timeout on every call.
//!
//! Nothing of the caller's git or ssh set-up leaks in: no inherited `GIT_*` variables, no
//! system or global git configuration, no `~/.ssh/config`, agent or default keys; `HOME` is the
//! job directory. The standard proxy variables are passed on (the user set them, and the REST
//! client honours them too). Credentials never reach a command line or `.git/config`: HTTPS auth
//! is an `http.<origin>/.extraHeader` in `GIT_CONFIG_*` variables, scoped to the repository's
//! origin so no redirect or `insteadOf` can carry it to another host; SSH keys and
//! `known_hosts` are 0600 files of the job directory.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use base64::Engine;
use fluxstrap_core::Secret;
use tokio::process::Command;

use super::workdir::JobDir;
use crate::error::{Error, Result};

/// The longest a single git call (a clone or a push of a large repository) may take.
pub const GIT_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest a helper program (gpg, ssh-keygen) may take.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long ssh may take to connect before git gives up.
const SSH_CONNECT_TIMEOUT_SECONDS: u32 = 30;

/// Proxy variables a user sets on purpose; everything else of the environment stays behind.
const PASSED_ON: [&str; 9] = [
    "PATH",
    "LANG",
    "TMPDIR",
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
];

/// How git authenticates to the remote.
#[derive(Debug, Clone)]
pub enum GitAuth {
    /// Basic `username:token`, trusting `ca_file` too.
    Https {
        /// The Bitbucket user name.
        username: String,
        /// Their HTTP access token (or password).
        token: Secret,
        /// A PEM bundle to trust in addition to the system's roots.
        ca_file: Option<PathBuf>,
    },
    /// `Authorization: Bearer <token>`: Bitbucket's project and repository HTTP access tokens.
    HttpsBearer {
        /// The HTTP access token.
        token: Secret,
        /// A PEM bundle to trust in addition to the system's roots.
        ca_file: Option<PathBuf>,
    },
    /// A private key (PEM or OpenSSH) and the `known_hosts` lines to check the server against.
    Ssh {
        /// The private key, unencrypted.
        private_key: Secret,
        /// `known_hosts` lines for the server (strict checking: nothing else is trusted).
        known_hosts: String,
    },
}

/// A program run with a cleaned environment and a timeout.
pub fn clean_command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.env_clear();
    for name in PASSED_ON {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.env("LC_ALL", "C").kill_on_drop(true);
    command
}

/// Runs `command`, which `what` names in errors, within `timeout`.
pub async fn output_within(
    mut command: Command,
    program: &'static str,
    timeout: Duration,
) -> Result<Output> {
    let running = command.output();
    match tokio::time::timeout(timeout, running).await {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(source)) => Err(Error::RunProgram { program, source }),
        Err(_) => Err(Error::ProgramTimedOut {
            program,
            seconds: timeout.as_secs(),
        }),
    }
}

/// `scheme://host[:port]/` of `url`: what git's `http.<url>.*` settings are scoped to.
fn origin_of(url: &str) -> Result<String> {
    let parsed = url::Url::parse(url).map_err(|e| Error::InvalidRepositoryUrl {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    let host = parsed
        .host_str()
        .ok_or_else(|| Error::InvalidRepositoryUrl {
            url: url.to_string(),
            reason: "it names no host".into(),
        })?;
    Ok(match parsed.port() {
        Some(port) => format!("{}://{host}:{port}/", parsed.scheme()),
        None => format!("{}://{host}/", parsed.scheme()),
    })
}

/// A git command with the job's authentication in its environment.
pub struct Git {
    env: Vec<(String, String)>,
}

impl Git {
    /// Prepares the authentication for `url` (writing SSH credentials into the job directory).
    pub fn new(auth: &GitAuth, url: &str, job: &JobDir) -> Result<Self> {
        let mut env = vec![
            ("HOME".to_string(), job.path().display().to_string()),
            ("GIT_TERMINAL_PROMPT".to_string(), "0".to_string()),
            ("GIT_CONFIG_NOSYSTEM".to_string(), "1".to_string()),
            ("GIT_CONFIG_GLOBAL".to_string(), "/dev/null".to_string()),
        ];
        let mut config: Vec<(String, String)> = Vec::new();
        match auth {
            GitAuth::Https { ca_file, .. } | GitAuth::HttpsBearer { ca_file, .. } => {
                let authorization = match auth {
                    GitAuth::Https {
                        username, token, ..
                    } => format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD
                            .encode(format!("{username}:{}", token.expose()))
                    ),
                    GitAuth::HttpsBearer { token, .. } => format!("Bearer {}", token.expose()),
                    GitAuth::Ssh { .. } => unreachable!("matched above"),
                };
                config.push((
                    format!("http.{}.extraHeader", origin_of(url)?),
                    format!("Authorization: {authorization}"),
                ));
                if let Some(ca) = ca_file {
                    env.push(("GIT_SSL_CAINFO".to_string(), ca.display().to_string()));
                }
            }
            GitAuth::Ssh {
                private_key,
                known_hosts,
            } => {
                let key = job.write_key("identity", private_key)?;
                let hosts = job.write_private(
                    "known_hosts",
                    format!("{}\n", known_hosts.trim()).as_bytes(),
                    0o600,
                )?;
                env.push((
                    "GIT_SSH_COMMAND".to_string(),
                    format!(
                        "ssh -F /dev/null -i '{}' -o IdentitiesOnly=yes -o IdentityAgent=none \
                         -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile='{}' \
                         -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout={SSH_CONNECT_TIMEOUT_SECONDS}",
                        key.display(),
                        hosts.display()
                    ),
                ));
            }
        }
        env.push(("GIT_CONFIG_COUNT".to_string(), config.len().to_string()));
        for (i, (key, value)) in config.into_iter().enumerate() {
            env.push((format!("GIT_CONFIG_KEY_{i}"), key));
            env.push((format!("GIT_CONFIG_VALUE_{i}"), value));
        }
        Ok(Self { env })
    }

    fn command(&self, dir: Option<&Path>) -> Command {
        let mut command = clean_command("git");
        if let Some(dir) = dir {
            command.arg("-C").arg(dir);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs git with `args` (in `dir`), whatever its exit status.
    pub async fn run(&self, dir: Option<&Path>, args: &[&str]) -> Result<Output> {
        let mut command = self.command(dir);
        command.args(args);
        output_within(command, "git", GIT_TIMEOUT).await
    }

    /// Runs git and fails with `what` and git's complaint unless it succeeds.
    pub async fn ok(&self, dir: Option<&Path>, args: &[&str], what: &str) -> Result<Output> {
        let output = self.run(dir, args).await?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(Error::GitFailed {
                action: what.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_scoped_to_the_repository_origin() {
        assert_eq!(
            origin_of("https://localhost:8443/bitbucket/scm/plat/fleet.git").unwrap(),
            "https://localhost:8443/"
        );
        assert_eq!(
            origin_of("https://bitbucket.example.com/scm/plat/fleet.git").unwrap(),
            "https://bitbucket.example.com/"
        );
        assert!(origin_of("not a url").is_err());
    }

    #[tokio::test]
    async fn the_callers_git_environment_does_not_reach_git() {
        let parent = tempfile::tempdir().unwrap();
        let job = JobDir::new(parent.path()).unwrap();
        let auth = GitAuth::HttpsBearer {
            token: Secret::new("t0ken"),
            ca_file: None,
        };
        let git = Git::new(&auth, "https://example.invalid/scm/a/b.git", &job).unwrap();
        // Setting variables in this process is `unsafe` (forbidden here), so the test reads the
        // environment the command was given: after `env_clear`, nothing else is inherited.
        let command = git.command(None);
        let std = command.as_std();
        let names: Vec<String> = std
            .get_envs()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with("GIT_")
                || [
                    "GIT_TERMINAL_PROMPT",
                    "GIT_CONFIG_NOSYSTEM",
                    "GIT_CONFIG_GLOBAL",
                    "GIT_CONFIG_COUNT",
                    "GIT_CONFIG_KEY_0",
                    "GIT_CONFIG_VALUE_0",
                ]
                .contains(&n.as_str())),
            "{names:?}"
        );
        let key = std
            .get_envs()
            .find(|(k, _)| *k == "GIT_CONFIG_KEY_0")
            .and_then(|(_, v)| v)
            .unwrap();
        assert_eq!(key, "http.https://example.invalid/.extraHeader");
        let output = git
            .run(Some(parent.path()), &["config", "--list", "--show-origin"])
            .await
            .unwrap();
        let listed = String::from_utf8_lossy(&output.stdout);
        assert!(
            !listed.contains("file:"),
            "a config file was read: {listed}"
        );
    }
}
