//! The bare repositories behind the emulated server, managed with the real `git`.

use std::path::Path;

use tokio::process::Command;

async fn git(dir: &Path, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .await
}

/// Creates an empty bare repository whose HEAD names `branch`.
pub async fn init_bare(dir: &Path, branch: &str) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let out = git(
        dir,
        &[
            "init",
            "--bare",
            "--quiet",
            &format!("--initial-branch={branch}"),
        ],
    )
    .await?;
    if !out.status.success() {
        return Err(std::io::Error::other(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    // Pushes over smart HTTP are allowed; authorisation is the emulator's job.
    git(dir, &["config", "http.receivepack", "true"]).await?;
    Ok(())
}

/// The commit a branch points to, or `None` when it does not exist (an empty repository).
pub async fn branch_sha(dir: &Path, branch: &str) -> Option<String> {
    let out = git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ],
    )
    .await
    .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Points HEAD (the default branch) at `branch`.
pub async fn set_head(dir: &Path, branch: &str) -> std::io::Result<()> {
    let out = git(
        dir,
        &["symbolic-ref", "HEAD", &format!("refs/heads/{branch}")],
    )
    .await?;
    if out.status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

/// `(branch, commit)` of every branch, sorted by name.
pub async fn branches(dir: &Path) -> Vec<(String, String)> {
    let Ok(out) = git(
        dir,
        &[
            "for-each-ref",
            "--format=%(refname:short) %(objectname)",
            "refs/heads",
        ],
    )
    .await
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(name, sha)| (name.to_string(), sha.to_string()))
        .collect()
}

/// A file's content at a revision, or `None` when it does not exist there.
pub async fn file_at(dir: &Path, revision: &str, path: &str) -> Option<Vec<u8>> {
    if revision.starts_with('-') || path.contains("..") {
        return None;
    }
    let out = git(dir, &["show", &format!("{revision}:{path}")])
        .await
        .ok()?;
    out.status.success().then_some(out.stdout)
}
