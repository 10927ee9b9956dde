//! The engine's git port ([`fluxstrap_core::bootstrap::ports::Git`]) with the `git` program:
//! each clone lives in its own private job directory (credentials, signing keys, the working
//! copy), removed when the checkout is dropped — after a push, a conflict, an error or Ctrl-C.

use std::path::{Path, PathBuf};

use fluxstrap_core::bootstrap::ports::{self, CommitRequest, PortError, PortResult, PushResult};
use fluxstrap_core::sync::DirectoryEntry;

use super::command::{Git, GitAuth};
use super::files::{resolve, write_file};
use super::workdir::JobDir;
use super::{CommitSpec, Signing, clone, commit_staged};
use crate::error::Error;

fn port_error(error: Error) -> PortError {
    PortError::of(&error)
}

/// git for one repository, as the bootstrap engine uses it.
pub struct NativeGit {
    auth: GitAuth,
    signing: Signing,
    jobs: PathBuf,
}

impl NativeGit {
    /// Authenticating with `auth`, signing with `signing`, job directories below `jobs`.
    pub fn new(auth: GitAuth, signing: Signing, jobs: PathBuf) -> Self {
        Self {
            auth,
            signing,
            jobs,
        }
    }
}

/// One clone.
pub struct NativeCheckout {
    // Dropped last: the directory goes when the checkout does.
    job: JobDir,
    git: Git,
    dir: PathBuf,
    branch: String,
    head: Option<String>,
    written: Vec<String>,
    signing: Signing,
}

impl ports::Git for NativeGit {
    type Checkout = NativeCheckout;

    async fn clone(&self, url: &str, branch: &str) -> PortResult<NativeCheckout> {
        let job = JobDir::new(&self.jobs).map_err(port_error)?;
        let git = Git::new(&self.auth, url, &job).map_err(port_error)?;
        let dir = job.path().join("clone");
        clone(&git, url, branch, &dir).await.map_err(port_error)?;
        let head = git
            .run(Some(&dir), &["rev-parse", "--verify", "--quiet", "HEAD"])
            .await
            .map_err(port_error)?;
        let head = head
            .status
            .success()
            .then(|| String::from_utf8_lossy(&head.stdout).trim().to_string());
        Ok(NativeCheckout {
            job,
            git,
            dir,
            branch: branch.to_string(),
            head,
            written: Vec::new(),
            signing: self.signing.clone(),
        })
    }
}

fn is_kustomization_dir(dir: &Path) -> bool {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|name| {
            std::fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.file_type().is_file())
        })
}

impl ports::Checkout for NativeCheckout {
    fn head(&self) -> Option<String> {
        self.head.clone()
    }

    async fn read(&self, path: &str) -> PortResult<Option<Vec<u8>>> {
        let (full, exists) = resolve(&self.dir, path).map_err(port_error)?;
        if !exists {
            return Ok(None);
        }
        std::fs::read(&full)
            .map(Some)
            .map_err(|source| port_error(Error::JobFile { path: full, source }))
    }

    async fn list(&self, dir: &str) -> PortResult<Vec<DirectoryEntry>> {
        let full = if dir.is_empty() {
            self.dir.clone()
        } else {
            // The directory itself must not be (or lie behind) a symbolic link.
            match resolve(&self.dir, &format!("{dir}/.probe")) {
                Ok(_) => self.dir.join(dir),
                Err(error) => return Err(port_error(error)),
            }
        };
        let Ok(entries) = std::fs::read_dir(&full) else {
            return Ok(Vec::new());
        };
        let mut listed = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_file() {
                let content = std::fs::read(entry.path()).map_err(|source| {
                    port_error(Error::JobFile {
                        path: entry.path(),
                        source,
                    })
                })?;
                listed.push(DirectoryEntry::File {
                    path: name,
                    content,
                });
            } else if kind.is_dir() && name != ".git" && is_kustomization_dir(&entry.path()) {
                listed.push(DirectoryEntry::KustomizationDirectory { path: name });
            }
        }
        Ok(listed)
    }

    async fn write(&mut self, path: &str, content: &[u8]) -> PortResult<()> {
        write_file(&self.dir, path, content).map_err(port_error)?;
        self.written.push(path.to_string());
        Ok(())
    }

    async fn commit(&mut self, request: &CommitRequest) -> PortResult<Option<String>> {
        if !self.written.is_empty() {
            let mut args = vec!["add", "--"];
            args.extend(self.written.iter().map(String::as_str));
            self.git
                .ok(Some(&self.dir), &args, "cannot stage the files")
                .await
                .map_err(port_error)?;
        }
        let staged = self
            .git
            .run(Some(&self.dir), &["diff", "--cached", "--quiet"])
            .await
            .map_err(port_error)?;
        if staged.status.success() {
            return Ok(None);
        }
        let spec = CommitSpec {
            message: request.message.clone(),
            author_name: request.author_name.clone(),
            author_email: request.author_email.clone(),
            signing: self.signing.clone(),
        };
        let commit = commit_staged(&self.git, &self.job, &self.dir, &spec)
            .await
            .map_err(port_error)?;
        self.head = Some(commit.clone());
        Ok(Some(commit))
    }

    async fn push(&mut self) -> PortResult<PushResult> {
        let refspec = format!("HEAD:refs/heads/{}", self.branch);
        let pushed = self
            .git
            .run(
                Some(&self.dir),
                &["push", "--quiet", "--porcelain", "origin", &refspec],
            )
            .await
            .map_err(port_error)?;
        if pushed.status.success() {
            return Ok(PushResult::Pushed);
        }
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&pushed.stdout),
            String::from_utf8_lossy(&pushed.stderr)
        )
        .trim()
        .to_string();
        let moved = report.contains("[rejected]")
            || report.contains("non-fast-forward")
            || report.contains("fetch first");
        if moved {
            Ok(PushResult::Rejected { report })
        } else {
            Err(PortError(format!("failed to push to remote: {report}")))
        }
    }
}
