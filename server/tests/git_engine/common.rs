//! What both transports push: the flux-system files of v2.9.4 and the commit they go in.

use std::path::Path;

use fluxstrap_server::git::{CommitSpec, FileWrite, GitAuth, SyncOutcome, WriteMode, sync_files};
use fluxstrap_testkit::paths::golden_components;

/// flux's own v2.9.4 gotk-components.yaml (the default case).
pub(crate) fn components() -> Vec<u8> {
    golden_components("default")
}

/// The three flux-system files, gotk-sync.yaml holding `sync`.
pub(crate) fn flux_files(sync: &str) -> Vec<FileWrite> {
    vec![
        FileWrite {
            path: "clusters/prod/flux-system/gotk-components.yaml".into(),
            content: components(),
            mode: WriteMode::Overwrite,
        },
        FileWrite {
            path: "clusters/prod/flux-system/gotk-sync.yaml".into(),
            content: sync.as_bytes().to_vec(),
            mode: WriteMode::Overwrite,
        },
        FileWrite {
            path: "clusters/prod/flux-system/kustomization.yaml".into(),
            content: b"generated\n".to_vec(),
            mode: WriteMode::CreateOnly,
        },
    ]
}

/// The commit they go in: flux's subject and message, a sign-off, no signature.
pub(crate) fn commit() -> CommitSpec {
    CommitSpec {
        subject: "component manifests".into(),
        message: "Add Flux v2.9.4 component manifests".into(),
        appendix: Some("Signed-off-by: ops".into()),
        author_name: "Flux".into(),
        author_email: "".into(),
        signing: fluxstrap_server::git::Signing::None,
    }
}

/// Syncs [`flux_files`] (gotk-sync.yaml holding `sync`) to `branch` of `url` in one
/// [`commit`], reporting no events.
pub(crate) async fn push_flux_files(
    url: &str,
    auth: &GitAuth,
    branch: &str,
    sync: &str,
    jobs: &Path,
) -> fluxstrap_server::Result<SyncOutcome> {
    sync_files(
        url,
        auth,
        branch,
        &flux_files(sync),
        &commit(),
        jobs,
        &mut |_| {},
    )
    .await
}
