//! What both transports push: the flux-system files of v2.9.4 and the commit they go in.

use fluxstrap_server::git::{CommitSpec, FileWrite, WriteMode};
use fluxstrap_testkit::paths::golden_components;

pub(crate) fn components() -> Vec<u8> {
    golden_components("default")
}

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
