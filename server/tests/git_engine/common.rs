//! What both transports push, and one sync through the engine's git port: clone, write,
//! commit, push.

use std::path::Path;

use fluxstrap_core::bootstrap::ports::{Checkout, CommitRequest, Git as _, PortResult, PushResult};
use fluxstrap_server::git::{GitAuth, NativeGit, Signing};
use fluxstrap_testkit::paths::golden_components;

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Synced {
    /// The branch already held the files.
    UpToDate { head: Option<String> },
    /// The commit was pushed.
    Pushed { commit: String },
    /// The branch moved after the clone: the push was refused as non-fast-forward.
    Rejected,
}

/// flux's own v2.9.4 gotk-components.yaml and a gotk-sync.yaml holding `sync`.
pub(crate) fn flux_files(sync: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "clusters/prod/flux-system/gotk-components.yaml".into(),
            golden_components("default"),
        ),
        (
            "clusters/prod/flux-system/gotk-sync.yaml".into(),
            sync.as_bytes().to_vec(),
        ),
    ]
}

/// flux's commit: its subject, a sign-off appended, author `Flux <>`.
pub(crate) fn commit() -> CommitRequest {
    CommitRequest {
        message: "Add Flux v2.9.4 component manifests\n\nSigned-off-by: ops".into(),
        author_name: "Flux".into(),
        author_email: String::new(),
    }
}

/// The port for `auth`, signing with `signing`, job directories below `jobs`.
pub(crate) fn native(auth: GitAuth, signing: Signing, jobs: &Path) -> NativeGit {
    NativeGit::new(auth, signing, jobs.to_path_buf())
}

/// Clones `branch` of `url`, writes `files`, commits with `request` and pushes; `between` runs
/// after the commit and before the push.
pub(crate) async fn sync(
    git: &NativeGit,
    url: &str,
    branch: &str,
    files: &[(String, Vec<u8>)],
    request: &CommitRequest,
    between: impl FnOnce(),
) -> PortResult<Synced> {
    let mut checkout = git.clone(url, branch).await?;
    for (path, content) in files {
        checkout.write(path, content).await?;
    }
    let Some(commit) = checkout.commit(request).await? else {
        return Ok(Synced::UpToDate {
            head: checkout.head(),
        });
    };
    between();
    Ok(match checkout.push().await? {
        PushResult::Pushed => Synced::Pushed { commit },
        PushResult::Rejected { .. } => Synced::Rejected,
    })
}
