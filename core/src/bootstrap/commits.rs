//! Committing the generated files (spec §2.4 step 3, §2.7 step 5): clone (retried once, as
//! flux), write, commit only when something changed, push without force; a push the branch
//! moved under starts again from a fresh clone, at most [`PUSH_ATTEMPTS`] times (flux retries
//! the sync commit without bound and the components commit not at all). In a dry run the files
//! are compared with the branch instead, and their diffs planned.

use std::time::Duration;

use crate::bitbucket::Transport;
use crate::error::{Error, Result};
use crate::sync::{DirectoryEntry, generate_kustomization};

use super::engine::Engine;
use super::event::{Event, FileChange, Subject};
use super::plan::{PlannedFile, unified_diff};
use super::ports::{Checkout, Cluster, CommitRequest, Git, PushResult, System};
use super::repository::RepositoryTarget;

/// How many clone-commit-push rounds a commit gets when the branch keeps moving.
pub const PUSH_ATTEMPTS: usize = 3;
/// flux waits this long before its second clone attempt.
const CLONE_RETRY_DELAY: Duration = Duration::from_secs(2);

/// What a file of a commit holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Content {
    /// Always these bytes.
    Fixed(Vec<u8>),
    /// `kustomization.yaml`: kept when it exists, else generated from the directory.
    Kustomization,
}

/// One file of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileSpec {
    pub path: String,
    pub content: Content,
}

fn directory_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// `path` in `checkout`; a repository a dry run would create has no checkout and no files.
pub(super) async fn read_in<K: Checkout>(
    checkout: Option<&K>,
    path: &str,
) -> Result<Option<Vec<u8>>> {
    match checkout {
        Some(checkout) => checkout
            .read(path)
            .await
            .map_err(|e| Error::port("cannot read the repository", e)),
        None => Ok(None),
    }
}

async fn list_in<K: Checkout>(checkout: Option<&K>, dir: &str) -> Result<Vec<DirectoryEntry>> {
    match checkout {
        Some(checkout) => checkout
            .list(dir)
            .await
            .map_err(|e| Error::port("cannot read the repository", e)),
        None => Ok(Vec::new()),
    }
}

impl<T: Transport, G: Git, C: Cluster, S: System, R: rand_core::CryptoRng>
    Engine<'_, T, G, C, S, R>
{
    /// Clones the branch over HTTPS, once more after a failure.
    pub(super) async fn clone(&mut self, target: &RepositoryTarget) -> Result<G::Checkout> {
        let branch = self.options.branch.as_str();
        self.emit(Event::Cloning {
            branch: branch.to_string(),
            url: target.https_url.clone(),
        });
        let checkout = match self.git.clone(&target.https_url, branch).await {
            Ok(checkout) => checkout,
            Err(first) => {
                self.emit(Event::CloneFailed {
                    reason: first.to_string(),
                });
                self.system.sleep(CLONE_RETRY_DELAY).await;
                self.git
                    .clone(&target.https_url, branch)
                    .await
                    .map_err(|e| Error::port("failed to clone repository", e))?
            }
        };
        self.emit(Event::Cloned);
        Ok(checkout)
    }

    /// The bytes `file` holds in `checkout` once written, or `None` when an existing
    /// `kustomization.yaml` is kept. `written` are the files this run has written (or, in a
    /// dry run, would have), which a generated kustomization lists.
    async fn content_of(
        &self,
        checkout: Option<&G::Checkout>,
        file: &FileSpec,
        written: &[(String, Vec<u8>)],
    ) -> Result<Option<Vec<u8>>> {
        match &file.content {
            Content::Fixed(bytes) => Ok(Some(bytes.clone())),
            Content::Kustomization => {
                if read_in(checkout, &file.path).await?.is_some() {
                    return Ok(None);
                }
                let dir = directory_of(&file.path);
                let mut entries = list_in(checkout, dir).await?;
                for (path, content) in written {
                    if directory_of(path) != dir {
                        continue;
                    }
                    let name = path.rsplit('/').next().unwrap_or(path).to_string();
                    entries.retain(
                        |e| !matches!(e, DirectoryEntry::File { path, .. } if *path == name),
                    );
                    entries.push(DirectoryEntry::File {
                        path: name,
                        content: content.clone(),
                    });
                }
                Ok(Some(generate_kustomization(&entries).into_bytes()))
            }
        }
    }

    /// A dry run's file: its change and diff against the branch.
    async fn plan_file(
        &mut self,
        checkout: Option<&G::Checkout>,
        subject: Subject,
        file: &FileSpec,
        content: Option<Vec<u8>>,
    ) -> Result<()> {
        let current = read_in(checkout, &file.path).await?;
        let current_text = current.as_deref().map(String::from_utf8_lossy);
        let (change, content, diff) = match content {
            None => (
                FileChange::Keep,
                current_text.as_deref().unwrap_or_default().to_string(),
                String::new(),
            ),
            Some(bytes) => {
                let new = String::from_utf8_lossy(&bytes).into_owned();
                let change = match current.as_deref() {
                    None => FileChange::Create,
                    Some(old) if old == bytes.as_slice() => FileChange::Unchanged,
                    Some(_) => FileChange::Update,
                };
                let diff = unified_diff(&file.path, current_text.as_deref(), &new);
                (change, new, diff)
            }
        };
        self.emit(Event::PlannedFile {
            subject,
            path: file.path.clone(),
            change,
        });
        self.plan.files.push(PlannedFile {
            subject,
            path: file.path.clone(),
            change,
            content,
            diff,
        });
        Ok(())
    }

    /// Writes, commits and pushes `files`, the generated `subject`; returns the pushed commit,
    /// or `None` when the branch already holds them (and in a dry run). `checkout` is reused
    /// when given and left holding the final clone.
    pub(super) async fn commit(
        &mut self,
        target: &RepositoryTarget,
        subject: Subject,
        message: String,
        files: &[FileSpec],
    ) -> Result<Option<String>> {
        let mut checkout = self.checkout.take();
        let mut written = std::mem::take(&mut self.written);
        let committed = self
            .commit_in(target, &mut checkout, subject, message, files, &mut written)
            .await;
        self.checkout = checkout;
        self.written = written;
        committed
    }

    async fn commit_in(
        &mut self,
        target: &RepositoryTarget,
        checkout: &mut Option<G::Checkout>,
        subject: Subject,
        message: String,
        files: &[FileSpec],
        written: &mut Vec<(String, Vec<u8>)>,
    ) -> Result<Option<String>> {
        self.emit(Event::Generated { subject });
        let options = self.options;
        let request = CommitRequest {
            message: match &options.commit_appendix {
                Some(appendix) => format!("{message}\n\n{appendix}"),
                None => message,
            },
            author_name: options.author_name.clone(),
            author_email: options.author_email.clone(),
        };
        if !self.applies() {
            // A repository a dry run would create has nothing to clone: its files are all new.
            if checkout.is_none() && !target.created {
                *checkout = Some(self.clone(target).await?);
            }
            let mut planned = written.clone();
            for file in files {
                let content = self.content_of(checkout.as_ref(), file, &planned).await?;
                self.plan_file(checkout.as_ref(), subject, file, content.clone())
                    .await?;
                if let Some(bytes) = content {
                    planned.push((file.path.clone(), bytes));
                }
            }
            *written = planned;
            return Ok(None);
        }
        let mut last_report = String::new();
        for attempt in 1..=PUSH_ATTEMPTS {
            self.check_deadline()?;
            if checkout.is_none() {
                *checkout = Some(self.clone(target).await?);
            }
            let Some(clone) = checkout.take() else {
                unreachable!("cloned above")
            };
            let mut clone = clone;
            let mut this_round = written.clone();
            for file in files {
                let content = self.content_of(Some(&clone), file, &this_round).await?;
                if let Some(bytes) = content {
                    clone
                        .write(&file.path, &bytes)
                        .await
                        .map_err(|e| Error::port("cannot write into the repository", e))?;
                    this_round.push((file.path.clone(), bytes));
                }
            }
            let committed = clone
                .commit(&request)
                .await
                .map_err(|e| Error::port("cannot commit", e))?;
            let Some(commit) = committed else {
                self.emit(Event::UpToDate { subject });
                *written = this_round;
                *checkout = Some(clone);
                return Ok(None);
            };
            self.emit(Event::Committed {
                subject,
                branch: options.branch.as_str().to_string(),
                commit: commit.clone(),
            });
            self.emit(Event::Pushing {
                subject,
                url: target.https_url.clone(),
            });
            match clone
                .push()
                .await
                .map_err(|e| Error::port(&format!("failed to push {}", subject.as_str()), e))?
            {
                PushResult::Pushed => {
                    self.source_changed = true;
                    *written = this_round;
                    *checkout = Some(clone);
                    return Ok(Some(commit));
                }
                PushResult::Rejected { report } => {
                    last_report = report;
                    if attempt < PUSH_ATTEMPTS {
                        self.emit(Event::Conflict { subject });
                    }
                    // A fresh clone next round.
                    *checkout = None;
                }
            }
        }
        Err(Error::BranchKeptMoving {
            branch: options.branch.as_str().to_string(),
            attempts: PUSH_ATTEMPTS,
            report: last_report,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_of_repository_paths() {
        assert_eq!(directory_of("a/b/c.yaml"), "a/b");
        assert_eq!(directory_of("c.yaml"), "");
    }
}
