//! Writing to git, which the browser cannot: clone the branch, write the generated files, commit
//! only when something changed, push without force, and on a non-fast-forward rejection start
//! again from a fresh clone (bounded). Uses the `git` program: it pushes over HTTPS and SSH with
//! every key type and signs commits, which gitoxide cannot and libgit2 only partly can.
//!
//! - [`checkout`]: the bootstrap engine's git port;
//! - [`command`]: git with a cleaned environment, the job's credentials and timeouts;
//! - [`files`]: writing into a clone without following its symbolic links;
//! - [`signing`]: OpenPGP and SSH commit signing with the job's key;
//! - [`workdir`]: the private per-job directory, removed on every exit path;
//! - [`progress`]: the steps, in flux's words.

mod checkout;
mod command;
mod files;
mod progress;
mod signing;
mod workdir;

use std::path::Path;

pub use checkout::{NativeCheckout, NativeGit};
pub use command::GitAuth;
pub use files::{FileWrite, WriteMode};
pub use fluxstrap_core::Secret;
pub use progress::Progress;
pub use signing::Signing;
pub use workdir::{JobDir, remove_stale};

use command::Git;
use files::write_files;
use signing::signing_config;

use crate::error::{Error, Result};

/// The commit a sync makes when the files changed.
#[derive(Debug, Clone)]
pub struct CommitSpec {
    /// What the files are, for the progress lines: "component manifests", "sync manifests".
    pub subject: String,
    /// The commit message.
    pub message: String,
    /// Appended to the message after a blank line (`--commit-message-appendix`).
    pub appendix: Option<String>,
    /// `--author-name`.
    pub author_name: String,
    /// `--author-email`.
    pub author_email: String,
    /// How the commit is signed.
    pub signing: Signing,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The branch already holds these files: nothing was committed or pushed.
    UpToDate {
        /// The branch's head.
        head: String,
    },
    /// A commit was pushed.
    Pushed {
        /// The pushed commit.
        commit: String,
        /// How many clone-commit-push rounds it took.
        attempts: usize,
    },
}

/// How many times a push rejected as non-fast-forward is retried from a fresh clone.
pub const PUSH_ATTEMPTS: usize = 3;

/// Clones `branch` into `dir` (or starts it locally when the repository is empty).
async fn clone(git: &Git, url: &str, branch: &str, dir: &Path) -> Result<()> {
    let dir_text = dir.display().to_string();
    let cloned = git
        .run(
            None,
            &[
                "clone",
                "--quiet",
                "--single-branch",
                "--no-tags",
                "--branch",
                branch,
                url,
                &dir_text,
            ],
        )
        .await?;
    if cloned.status.success() {
        return Ok(());
    }
    let heads = git
        .ok(
            None,
            &["ls-remote", "--heads", url],
            &format!("cannot read {url}"),
        )
        .await?;
    if !heads.stdout.is_empty() {
        return Err(Error::MissingBranch {
            branch: branch.to_string(),
            url: url.to_string(),
            detail: String::from_utf8_lossy(&cloned.stderr).trim().to_string(),
        });
    }
    // An empty repository: the first push creates the branch.
    let _ = std::fs::remove_dir_all(dir);
    git.ok(
        None,
        &["init", "--quiet", "--initial-branch", branch, &dir_text],
        "cannot start a local repository",
    )
    .await?;
    git.ok(
        Some(dir),
        &["remote", "add", "origin", url],
        "cannot add the remote",
    )
    .await?;
    Ok(())
}

/// Commits what is staged in `dir`; returns the new commit.
async fn commit_staged(git: &Git, job: &JobDir, dir: &Path, commit: &CommitSpec) -> Result<String> {
    let mut message = commit.message.clone();
    if let Some(appendix) = commit.appendix.as_deref().filter(|a| !a.is_empty()) {
        message.push_str("\n\n");
        message.push_str(appendix);
    }
    let mut args: Vec<String> = [
        format!("user.name={}", commit.author_name),
        format!("user.email={}", commit.author_email),
    ]
    .into_iter()
    .flat_map(|c| ["-c".to_string(), c])
    .collect();
    args.extend(signing_config(&commit.signing, job).await?);
    args.extend(
        ["commit", "--quiet", "--no-verify", "-m", &message]
            .iter()
            .map(|a| a.to_string()),
    );
    if !matches!(commit.signing, Signing::None) {
        args.push("--gpg-sign".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    git.ok(Some(dir), &args, "cannot commit").await?;
    let head = git
        .ok(Some(dir), &["rev-parse", "HEAD"], "cannot read the commit")
        .await?;
    Ok(String::from_utf8_lossy(&head.stdout).trim().to_string())
}

/// Clone, write, commit if anything changed, push; a push rejected because the branch moved is
/// retried from a fresh clone up to [`PUSH_ATTEMPTS`] times. `progress` hears each step
/// as it happens; [`Progress::Committed`] comes before the push (tests move the branch then).
pub async fn sync_files(
    url: &str,
    auth: &GitAuth,
    branch: &str,
    writes: &[FileWrite],
    commit: &CommitSpec,
    job_parent: &Path,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<SyncOutcome> {
    let job = JobDir::new(job_parent)?;
    let git = Git::new(auth, url, &job)?;
    let mut last_rejection = String::new();
    for attempt in 1..=PUSH_ATTEMPTS {
        let dir = job.path().join(format!("clone-{attempt}"));
        progress(Progress::Cloning {
            branch: branch.into(),
            url: url.into(),
        });
        clone(&git, url, branch, &dir).await?;
        progress(Progress::Cloned);
        let written = write_files(&dir, writes)?;
        if !written.is_empty() {
            let mut args = vec!["add", "--"];
            args.extend(written.iter().map(String::as_str));
            git.ok(Some(&dir), &args, "cannot stage the files").await?;
        }
        let staged = git
            .run(Some(&dir), &["diff", "--cached", "--quiet"])
            .await?;
        if staged.status.success() {
            let head = git.run(Some(&dir), &["rev-parse", "HEAD"]).await?;
            progress(Progress::UpToDate {
                subject: commit.subject.clone(),
            });
            return Ok(SyncOutcome::UpToDate {
                head: String::from_utf8_lossy(&head.stdout).trim().to_string(),
            });
        }
        let commit_id = commit_staged(&git, &job, &dir, commit).await?;
        progress(Progress::Committed {
            subject: commit.subject.clone(),
            branch: branch.into(),
            commit: commit_id.clone(),
        });
        progress(Progress::Pushing {
            subject: commit.subject.clone(),
            url: url.into(),
        });
        let refspec = format!("HEAD:refs/heads/{branch}");
        let pushed = git
            .run(
                Some(&dir),
                &["push", "--quiet", "--porcelain", "origin", &refspec],
            )
            .await?;
        if pushed.status.success() {
            return Ok(SyncOutcome::Pushed {
                commit: commit_id,
                attempts: attempt,
            });
        }
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&pushed.stdout),
            String::from_utf8_lossy(&pushed.stderr)
        );
        let moved = report.contains("[rejected]")
            || report.contains("non-fast-forward")
            || report.contains("fetch first");
        if !moved {
            return Err(Error::PushFailed {
                url: url.to_string(),
                report: report.trim().to_string(),
            });
        }
        last_rejection = report.trim().to_string();
        if attempt < PUSH_ATTEMPTS {
            progress(Progress::Conflict);
        }
    }
    Err(Error::BranchKeptMoving {
        branch: branch.to_string(),
        attempts: PUSH_ATTEMPTS,
        report: last_rejection,
    })
}
