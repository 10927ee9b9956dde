//! What the suite's tests share: a world of both emulators (the Kubernetes one with its Flux
//! simulator cloning from the Bitbucket one), a mirror of the Flux releases, and `fluxstrap
//! bootstrap bitbucket-server` run as a user runs it, with its own cache and temp directory.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Instant;

use fluxstrap_sandbox::kube::Options;
use fluxstrap_sandbox::releases::ReleaseMirror;
use fluxstrap_testkit::paths::shared_flux;
use fluxstrap_testkit::{Bitbucket, Git, Kube, TempDir, blocking, seed};
use serde_json::Value;

/// Panics unless `text` (a run's stderr or stdout) holds each of `parts`.
#[track_caller]
pub(crate) fn has_all(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "no {part:?} in:\n{text}");
    }
}

/// Both emulators, a release mirror, and the directories the CLI uses.
pub(crate) struct World {
    pub(crate) bitbucket: Bitbucket,
    pub(crate) kube: Kube,
    mirror: ReleaseMirror,
    /// The CLI's cache (`FLUXSTRAP_CACHE_DIR`) and temp dir (`TMPDIR`, its job directories).
    pub(crate) home: TempDir,
}

/// How one run ended.
pub(crate) struct Run {
    pub(crate) output: Output,
    pub(crate) seconds: f64,
}

impl Run {
    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Panics with the run's stderr unless it succeeded and reported healthy components.
    #[track_caller]
    pub(crate) fn healthy(self) -> Self {
        let stderr = self.stderr();
        assert!(
            self.output.status.success(),
            "the bootstrap failed:\n{stderr}"
        );
        has_all(&stderr, &["✔ all components are healthy"]);
        self
    }

    /// Panics unless the run failed with exit code 1 and `✗ <message>` as its last line.
    #[track_caller]
    pub(crate) fn fails_with(&self, message: &str) {
        let stderr = self.stderr();
        assert_eq!(self.output.status.code(), Some(1), "{stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("✗ ") && last.contains(message),
            "wanted ✗ …{message}…, got:\n{stderr}"
        );
    }
}

impl World {
    pub(crate) async fn start(name: &str) -> Self {
        Self::with_kube(name, Options::default()).await
    }

    pub(crate) async fn with_kube(name: &str, options: Options) -> Self {
        let mirror = ReleaseMirror::start(
            &shared_flux().join("releases"),
            "127.0.0.1:0".parse().expect("a literal address"),
        )
        .await
        .expect("starting the release mirror");
        Self {
            bitbucket: Bitbucket::loopback(name).start().await,
            kube: Kube::start(name, options).await,
            mirror,
            home: TempDir::new(&format!("{name}-home")),
        }
    }

    /// `host:port` of Bitbucket's HTTPS and of its SSH.
    fn hosts(&self) -> (String, String) {
        let https = self
            .bitbucket
            .base_url()
            .trim_start_matches("https://")
            .to_string();
        let ssh = self
            .bitbucket
            .ssh_url()
            .expect("the emulator serves SSH")
            .trim_start_matches("ssh://git@")
            .to_string();
        (https, ssh)
    }

    /// The SSH `host:port` the sync URL names.
    pub(crate) fn ssh_host(&self) -> String {
        self.hosts().1
    }

    /// The command with the flags every run shares: the hosts, the CA, the cluster, the owner.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let (https, ssh) = self.hosts();
        let mut command = Command::new(env!("CARGO_BIN_EXE_fluxstrap"));
        command
            .args(["bootstrap", "bitbucket-server"])
            .arg(format!("--hostname={https}"))
            .arg(format!("--ssh-hostname={ssh}"))
            .arg(format!(
                "--ca-file={}",
                self.bitbucket.ca_file().unwrap().display()
            ))
            .arg(format!(
                "--kubeconfig={}",
                self.kube.kubeconfig_path().display()
            ))
            .arg(format!("--owner={}", seed::project().name))
            .args(args)
            .env("BITBUCKET_TOKEN", &seed::admin().token)
            .env("FLUXSTRAP_RELEASES_URL", self.mirror.url())
            .env("FLUXSTRAP_CACHE_DIR", self.home.subdir("cache"))
            .env("TMPDIR", self.home.subdir("tmp"))
            .env_remove("KUBECONFIG");
        command
    }

    /// Runs a bootstrap with `args` to its end.
    pub(crate) async fn run(&self, args: &[&str]) -> Run {
        let mut command = self.command(args);
        let started = Instant::now();
        let output = blocking(move || command.output().expect("running fluxstrap")).await;
        Run {
            output,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    /// Bitbucket REST writes (not GETs, not git) from request `from` of the log on.
    pub(crate) async fn rest_writes(&self, from: usize) -> Vec<String> {
        self.bitbucket
            .request_log()
            .await
            .into_iter()
            .skip(from)
            .filter(|r| r.method != "GET" && r.path.contains("/rest/"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// How many requests Bitbucket has answered.
    pub(crate) async fn requests(&self) -> usize {
        self.bitbucket.request_log().await.len()
    }

    /// A fresh clone of `slug`'s `branch` (as the admin).
    pub(crate) async fn clone(&self, slug: &str, branch: &str) -> Checkout {
        let dir = TempDir::new(&format!("clone-{slug}"));
        let git = self.bitbucket.admin_git(dir.path());
        let url = self.bitbucket.scm_url(slug);
        let target = dir.join("repo");
        let target_text = target.display().to_string();
        let branch = branch.to_string();
        let git_clone = git.clone();
        blocking(move || {
            git_clone.run(&["clone", "--quiet", "--branch", &branch, &url, &target_text])
        })
        .await;
        Checkout {
            git: git.in_dir(&target),
            dir,
            root: target,
        }
    }

    /// The repository's access keys.
    pub(crate) fn access_keys(&self, slug: &str) -> Vec<Value> {
        let answer = self
            .bitbucket
            .admin_curl(
                "GET",
                &format!(
                    "/rest/keys/1.0/projects/{}/repos/{slug}/ssh?limit=100",
                    seed::project().key
                ),
            )
            .send()
            .expect(200);
        answer.body["values"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The Secret `flux-system/<name>`, as stored.
    pub(crate) fn secret(&self, name: &str) -> Value {
        self.kube
            .object("", "Secret", "flux-system", name)
            .unwrap_or_else(|| panic!("no Secret flux-system/{name}"))
    }

    /// The job directories the CLI left in its temp dir.
    pub(crate) fn leftover_job_dirs(&self) -> usize {
        std::fs::read_dir(self.home.join("tmp/fluxstrap-jobs"))
            .map(|entries| entries.count())
            .unwrap_or(0)
    }
}

/// A clone of a bootstrapped repository.
pub(crate) struct Checkout {
    pub(crate) git: Git,
    // Kept for the directory's lifetime.
    #[allow(dead_code)]
    dir: TempDir,
    pub(crate) root: PathBuf,
}

impl Checkout {
    pub(crate) fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.root.join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
    }

    /// The commit subjects, newest first.
    pub(crate) fn subjects(&self) -> Vec<String> {
        self.git
            .run(&["log", "--format=%s"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}
