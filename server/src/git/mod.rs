//! Writing to git, which the browser cannot: the bootstrap engine's git port (clone a branch,
//! read and write files, commit, push without force). What to write, when to commit and how often
//! to retry a push the branch moved under are the engine's decisions (`fluxstrap_core::bootstrap`).
//! Uses the `git` program: it pushes over HTTPS and SSH with every key type and signs commits,
//! which gitoxide cannot and libgit2 only partly can.
//!
//! - [`checkout`]: the port, [`NativeGit`] and its [`NativeCheckout`];
//! - [`command`]: git with a cleaned environment, the job's credentials and timeouts;
//! - [`files`]: writing into a clone without following its symbolic links;
//! - [`signing`]: OpenPGP and SSH commit signing with the job's key;
//! - [`workdir`]: the private per-job directory, removed on every exit path.

mod checkout;
mod command;
mod files;
mod signing;
mod workdir;

use std::path::Path;

pub use checkout::{NativeCheckout, NativeGit};
pub use command::GitAuth;
pub use fluxstrap_core::Secret;
pub use signing::Signing;
pub use workdir::{JobDir, remove_stale};

use command::Git;
use signing::signing_config;

use crate::error::{Error, Result};

/// A commit to make.
#[derive(Debug, Clone)]
pub(crate) struct CommitSpec {
    /// The commit message.
    pub message: String,
    /// `--author-name`.
    pub author_name: String,
    /// `--author-email`.
    pub author_email: String,
    /// How the commit is signed.
    pub signing: Signing,
}

/// Clones `branch` into `dir` (or starts it locally when the repository is empty).
pub(crate) async fn clone(git: &Git, url: &str, branch: &str, dir: &Path) -> Result<()> {
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
pub(crate) async fn commit_staged(
    git: &Git,
    job: &JobDir,
    dir: &Path,
    commit: &CommitSpec,
) -> Result<String> {
    let message = commit.message.clone();
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
