//! The git client.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{assert_success, describe, output_of};

/// git run in one directory (`git -C <dir>`), with neither the user's nor the system's
/// configuration, an author identity for commits, and no prompt for credentials.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    config: Vec<String>,
    env: Vec<(OsString, OsString)>,
}

impl Git {
    /// git in `dir`.
    pub fn new(dir: impl AsRef<Path>) -> Self {
        Self {
            dir: dir.as_ref().to_path_buf(),
            config: vec![
                "user.name=fluxstrap test".into(),
                "user.email=test@example.com".into(),
            ],
            env: vec![
                ("GIT_TERMINAL_PROMPT".into(), "0".into()),
                ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
                ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
            ],
        }
    }

    /// The same settings in another directory.
    pub fn in_dir(&self, dir: impl AsRef<Path>) -> Self {
        Self {
            dir: dir.as_ref().to_path_buf(),
            ..self.clone()
        }
    }

    /// The directory git runs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Trusts this CA for HTTPS (`GIT_SSL_CAINFO`).
    pub fn ca_file(self, ca_file: &Path) -> Self {
        self.env("GIT_SSL_CAINFO", ca_file)
    }

    /// Sends `Authorization: Bearer <token>` with every HTTP request.
    pub fn bearer(mut self, token: &str) -> Self {
        self.config
            .push(format!("http.extraHeader=Authorization: Bearer {token}"));
        self
    }

    /// Git over SSH with OpenSSH: only this private key, strict host-key checking against
    /// this known_hosts file, no configuration file, no prompt.
    pub fn ssh_key(self, private_key: &Path, known_hosts: &Path) -> Self {
        let ssh = format!(
            "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o BatchMode=yes \
             -o StrictHostKeyChecking=yes -o UserKnownHostsFile={}",
            private_key.display(),
            known_hosts.display()
        );
        self.env("GIT_SSH_COMMAND", ssh)
    }

    /// One more environment variable for git.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("git");
        command.arg("-C").arg(&self.dir);
        for setting in &self.config {
            command.arg("-c").arg(setting);
        }
        command.args(args).envs(self.env.iter().cloned());
        command
    }

    /// Runs `git <args>`, which must succeed; returns its stdout.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> String {
        let mut command = self.command(args);
        let output = output_of(&mut command);
        assert_success(&describe(&command), &output);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs `git <args>` and returns what it did, success or not (for refusals).
    pub fn output(&self, args: &[&str]) -> Output {
        output_of(&mut self.command(args))
    }

    /// `git commit -q -m <message>` of what is staged.
    #[track_caller]
    pub fn commit(&self, message: &str) {
        self.run(&["commit", "-q", "-m", message]);
    }
}
