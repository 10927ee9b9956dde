//! The kubectl client.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::describe;

/// Where the tests expect kubectl (they fail without it).
pub const KUBECTL: &str = "/usr/bin/kubectl";

/// kubectl with one kubeconfig and a HOME (and discovery cache) of its own.
#[derive(Debug, Clone)]
pub struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    home: PathBuf,
    env: Vec<(OsString, OsString)>,
}

/// What kubectl did.
#[derive(Debug, Clone)]
pub struct KubectlOutput {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Kubectl {
    /// [`KUBECTL`] with this kubeconfig; `home` keeps its cache apart from other tests'.
    pub fn new(kubeconfig: &Path, home: &Path) -> Self {
        Self {
            binary: PathBuf::from(KUBECTL),
            kubeconfig: kubeconfig.to_path_buf(),
            home: home.to_path_buf(),
            env: Vec::new(),
        }
    }

    /// Another kubectl binary (another release).
    pub fn binary(mut self, binary: impl AsRef<Path>) -> Self {
        self.binary = binary.as_ref().to_path_buf();
        self
    }

    /// One more environment variable (e.g. `KUBECTL_…` feature gates).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The command for `kubectl <args>`, to spawn and watch (e.g. `get -w`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .env("HOME", &self.home)
            .envs(self.env.iter().cloned())
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .arg(format!("--cache-dir={}", self.home.join("cache").display()))
            .args(args);
        command
    }

    /// Runs `kubectl <args>`.
    pub fn run(&self, args: &[&str]) -> KubectlOutput {
        self.run_with_stdin(args, None)
    }

    /// Runs `kubectl <args>` with `stdin` as its input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> KubectlOutput {
        let mut command = self.command(args);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} must be installed: {e}", self.binary.display()));
        let mut input = child.stdin.take().expect("piped stdin");
        if let Some(text) = stdin {
            input
                .write_all(text.as_bytes())
                .unwrap_or_else(|e| panic!("{}: writing stdin: {e}", describe(&command)));
        }
        drop(input);
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("{}: {e}", describe(&command)));
        KubectlOutput {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl KubectlOutput {
    /// Panics unless kubectl succeeded; returns its stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "kubectl failed: {}{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Panics unless kubectl failed with `text` in its stderr.
    #[track_caller]
    pub fn fails_with(&self, text: &str) {
        assert_ne!(self.code, 0, "kubectl succeeded: {}", self.stdout);
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
    }
}
