//! The files a bootstrap writes into `<path>/<namespace>/`, with their contents and write
//! modes — listed here once, for the engine's commits, the dry run and the page's preview.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::install::{COMPONENTS_FILE, Distribution, InstallOptions, generate};
use crate::sync::{KUSTOMIZATION_FILE, SYNC_FILE, SyncOptions, generate_sync, kustomization_of};

use super::event::Subject;
use super::options::BootstrapOptions;

/// Whether a file replaces what the branch holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteMode {
    /// Always written (`gotk-components.yaml`, `gotk-sync.yaml`).
    Overwrite,
    /// Written only when missing; an existing one, with the user's patches, is kept
    /// (`kustomization.yaml`, as flux does).
    CreateOnly,
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedFile {
    /// Which commit writes it.
    pub subject: Subject,
    /// Its path in the repository (`clusters/prod/flux-system/gotk-sync.yaml`).
    pub path: String,
    /// Its content; for `kustomization.yaml`, the content for a directory holding only the two
    /// generated files (the engine lists the real directory when it writes).
    pub content: String,
    /// Whether it replaces an existing file.
    pub mode: WriteMode,
}

/// `file` in the cluster's directory: `<path>/<namespace>/<file>`.
pub fn file_path(sync: &SyncOptions, file: &str) -> String {
    let dir = sync
        .target_path
        .trim_start_matches("./")
        .trim_end_matches('/');
    if dir.is_empty() {
        format!("{}/{file}", sync.namespace)
    } else {
        format!("{dir}/{}/{file}", sync.namespace)
    }
}

/// The three files, in commit order: `gotk-components.yaml` (the components commit), then
/// `gotk-sync.yaml` and `kustomization.yaml` (the sync commit).
pub fn generated_files(
    distribution: &Distribution,
    install: &InstallOptions,
    sync: &SyncOptions,
) -> Result<Vec<GeneratedFile>> {
    Ok(files_with_components(
        generate(distribution, install)?,
        sync,
    ))
}

/// The three files around an already generated `gotk-components.yaml` (the page regenerates
/// that one only when the install options change, and the rest on every keystroke).
pub fn files_with_components(components: String, sync: &SyncOptions) -> Vec<GeneratedFile> {
    // Both files are Kubernetes YAML by construction: listing them needs no parse of the
    // components (which is most of the bytes).
    let kustomization = kustomization_of(&[COMPONENTS_FILE, SYNC_FILE]);
    vec![
        GeneratedFile {
            subject: Subject::Components,
            path: file_path(sync, COMPONENTS_FILE),
            content: components,
            mode: WriteMode::Overwrite,
        },
        GeneratedFile {
            subject: Subject::Sync,
            path: file_path(sync, SYNC_FILE),
            content: generate_sync(sync),
            mode: WriteMode::Overwrite,
        },
        GeneratedFile {
            subject: Subject::Sync,
            path: file_path(sync, KUSTOMIZATION_FILE),
            content: kustomization,
            mode: WriteMode::CreateOnly,
        },
    ]
}

impl BootstrapOptions {
    /// What `gotk-sync.yaml` says for a repository the cluster clones from `url`.
    pub fn sync_options(&self, url: &str) -> SyncOptions {
        SyncOptions {
            version: self.install.version.clone(),
            namespace: self.namespace().clone(),
            url: url.to_string(),
            branch: self.branch.clone(),
            interval: self.interval,
            secret_name: self.secret_name.clone(),
            target_path: self
                .path
                .as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            submodules: self.submodules,
            sparse_checkout: self.sparse_checkout.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{BranchName, Interval, Namespace};

    fn sync(target_path: &str) -> SyncOptions {
        SyncOptions {
            version: crate::install::FluxVersion::parse("v2.9.4").unwrap(),
            namespace: Namespace::parse("gitops").unwrap(),
            url: "ssh://git@h/P/r".into(),
            branch: BranchName::parse("main").unwrap(),
            interval: Interval::default(),
            secret_name: "flux-system".into(),
            target_path: target_path.into(),
            submodules: Default::default(),
            sparse_checkout: Vec::new(),
        }
    }

    #[test]
    fn files_live_in_the_namespace_directory_of_the_path() {
        // spec §1.6: path.Join(targetPath, namespace, file) cleans the `./`.
        assert_eq!(
            file_path(&sync("./clusters/prod"), SYNC_FILE),
            "clusters/prod/gitops/gotk-sync.yaml"
        );
        assert_eq!(file_path(&sync("./"), SYNC_FILE), "gitops/gotk-sync.yaml");
        assert_eq!(
            file_path(&sync(""), KUSTOMIZATION_FILE),
            "gitops/kustomization.yaml"
        );
    }
}
