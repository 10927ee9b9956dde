//! The sandbox's emulators on loopback, each owning a temporary directory for its state (and
//! for whatever the test writes next to it), removed when the emulator is dropped.

use std::ops::Deref;
use std::path::{Path, PathBuf};

use fluxstrap_sandbox::bitbucket::{self, BitbucketEmulator, Seed, Ssh, Transport};
use fluxstrap_sandbox::kube::{self, KubeEmulator};
use serde_json::Value;

use crate::commands::{Curl, Git, Kubectl};
use crate::seed;
use crate::temp::TempDir;

/// A running emulator owning its temporary directory; derefs to the emulator.
pub struct Running<E> {
    emulator: E,
    dir: TempDir,
}

/// A running Bitbucket emulator.
pub type Bitbucket = Running<BitbucketEmulator>;

/// A running Kubernetes API emulator.
pub type Kube = Running<KubeEmulator>;

impl<E> Running<E> {
    /// The temporary directory the emulator's state is kept in, free for the test's files.
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }
}

impl<E> Deref for Running<E> {
    type Target = E;

    fn deref(&self) -> &E {
        &self.emulator
    }
}

/// How to start a [`Bitbucket`]: by default as `fluxstrap-sandbox up` runs it
/// ([`bitbucket::Config::loopback`]: HTTPS with the sandbox's CA, SSH, the default seed).
pub struct BitbucketBuilder {
    name: String,
    context_path: String,
    https: bool,
    ssh: bool,
    seed: Seed,
}

impl Running<BitbucketEmulator> {
    /// The emulator for the test `name` (which names its temporary directory).
    pub fn loopback(name: &str) -> BitbucketBuilder {
        BitbucketBuilder {
            name: name.to_string(),
            context_path: String::new(),
            https: true,
            ssh: true,
            seed: Seed::default(),
        }
    }

    /// Where the bare repositories are (`<git_root>/<project>/<slug>.git`, lower-case).
    pub fn git_root(&self) -> PathBuf {
        bitbucket::Config::loopback(self.dir.path()).git_root
    }

    /// A request to `<base URL><path>` as the seeded admin, trusting the emulator's CA.
    pub fn admin_curl(&self, method: &str, path: &str) -> Curl {
        let curl =
            Curl::new(method, format!("{}{path}", self.base_url())).bearer(&seed::admin().token);
        match self.ca_file() {
            Some(ca_file) => curl.cacert(ca_file),
            None => curl,
        }
    }

    /// Creates the repository `name` with `main` as its default branch in the seeded project
    /// (as the admin, which must work); returns Bitbucket's answer.
    #[track_caller]
    pub fn create_repository(&self, name: &str) -> Value {
        let body = serde_json::json!({ "name": name, "defaultBranch": "main" });
        self.admin_curl(
            "POST",
            &format!("/rest/api/1.0/projects/{}/repos", seed::project().key),
        )
        .json(&body.to_string())
        .send()
        .expect(201)
        .body
    }

    /// The HTTP(S) clone URL of a repository of the seeded project.
    pub fn scm_url(&self, slug: &str) -> String {
        format!(
            "{}/scm/{}/{slug}.git",
            self.base_url(),
            seed::project().key.to_lowercase()
        )
    }

    /// git in `dir` as the seeded admin over HTTP(S): its token as a Bearer header, the
    /// emulator's CA trusted.
    pub fn admin_git(&self, dir: impl AsRef<Path>) -> Git {
        let git = Git::new(dir).bearer(&seed::admin().token);
        match self.ca_file() {
            Some(ca_file) => git.ca_file(ca_file),
            None => git,
        }
    }

    /// Stops the emulator, then removes its directory.
    pub async fn stop(self) {
        self.emulator.stop().await;
        drop(self.dir);
    }
}

impl BitbucketBuilder {
    /// Serves below a context path such as `/bitbucket`.
    pub fn context_path(mut self, context_path: &str) -> Self {
        self.context_path = context_path.to_string();
        self
    }

    /// Plain HTTP instead of HTTPS.
    pub fn plain_http(mut self) -> Self {
        self.https = false;
        self
    }

    /// No git over SSH (port 7999 is still advertised).
    pub fn without_ssh(mut self) -> Self {
        self.ssh = false;
        self
    }

    /// Other users, groups and projects than the default ones.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Starts the emulator.
    pub async fn start(self) -> Bitbucket {
        let dir = TempDir::new(&self.name);
        let mut config = bitbucket::Config {
            context_path: self.context_path,
            seed: self.seed,
            ..bitbucket::Config::loopback(dir.path())
        };
        if !self.https {
            config.transport = Transport::Http;
        }
        if !self.ssh {
            config.ssh = Ssh::Disabled;
        }
        let emulator = BitbucketEmulator::start(config)
            .await
            .unwrap_or_else(|e| panic!("starting the Bitbucket emulator for {}: {e}", self.name));
        Running { emulator, dir }
    }
}

impl Running<KubeEmulator> {
    /// Starts the emulator for the test `name` with these options; its state (kubeconfig,
    /// certificates) is kept in `state/` of its temporary directory.
    pub async fn start(name: &str, options: kube::Options) -> Self {
        let dir = TempDir::new(name);
        let config = kube::Config {
            options,
            ..kube::Config::loopback(&dir.join("state"))
        };
        let emulator = KubeEmulator::start(config)
            .await
            .unwrap_or_else(|e| panic!("starting the Kubernetes emulator for {name}: {e}"));
        Self { emulator, dir }
    }

    /// kubectl with the emulator's kubeconfig and a HOME (`home/`) of this emulator's own.
    pub fn kubectl(&self) -> Kubectl {
        Kubectl::new(self.emulator.kubeconfig_path(), &self.dir.join("home"))
    }

    /// Stops the emulator, then removes its directory.
    pub async fn stop(self) {
        self.emulator.stop().await;
        drop(self.dir);
    }
}

/// Runs blocking client calls (git, curl, kubectl) off the async runtime the emulators run
/// on, so a single-threaded test runtime keeps serving them.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        // Re-raise the closure's own panic, so the test fails with its message.
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}
