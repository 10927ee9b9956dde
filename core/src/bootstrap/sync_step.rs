//! Step 4 (spec §2.7): the path guard, `gotk-sync.yaml` and (when missing) `kustomization.yaml`
//! committed and pushed, then the directory's resources applied.

use crate::bitbucket::Transport;
use crate::cluster::{SyncKind, check_sync_path};
use crate::error::{Error, Result};
use crate::yaml::Value as Yaml;

use super::commits::{Content, FileSpec, read_in};
use super::components::{objects_of, sync_object};
use super::engine::Engine;
use super::event::{Event, Step, Subject};
use super::files::WriteMode;
use super::ports::{Checkout, Cluster, Git, System};
use super::repository::RepositoryTarget;

/// The plain-file `resources` of a `kustomization.yaml` (what fluxstrap can build without
/// kustomize); `None` when it is not a mapping with a list of resources.
fn resources(kustomization: &str) -> Option<Vec<String>> {
    let documents = crate::yaml::parse_documents(kustomization).ok()?;
    let resources = documents.first()?.pointer(&["resources"])?;
    match resources {
        Yaml::Seq(items) => Some(
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

impl<T: Transport, G: Git, C: Cluster, S: System, R: rand_core::CryptoRng>
    Engine<'_, T, G, C, S, R>
{
    /// Step 4. Returns the branch's head after it and the pushed commit.
    pub(super) async fn sync(
        &mut self,
        target: &RepositoryTarget,
    ) -> Result<(String, Option<String>)> {
        let options = self.options;
        let target_path = options
            .path
            .as_ref()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let existing = self
            .cluster
            .get(&sync_object(SyncKind::Kustomization, options))
            .await
            .map_err(|e| {
                Error::port(
                    "failed to determine if sync configuration would overwrite existing Kustomization",
                    e,
                )
            })?;
        check_sync_path(existing.as_ref(), &target_path)?;
        self.emit(Event::Generating {
            subject: Subject::Sync,
        });
        let files: Vec<FileSpec> = self
            .files(target)?
            .into_iter()
            .filter(|f| f.subject == Subject::Sync)
            .map(|f| FileSpec {
                content: match f.mode {
                    WriteMode::Overwrite => Content::Fixed(f.content.into_bytes()),
                    // Listed from the real directory when written, kept when it exists.
                    WriteMode::CreateOnly => Content::Kustomization,
                },
                path: f.path,
            })
            .collect();
        let kustomization = files
            .iter()
            .find(|f| f.content == Content::Kustomization)
            .map(|f| f.path.clone())
            .unwrap_or_default();
        let message = "Add Flux sync manifests".to_string();
        let commit = self.commit(target, Subject::Sync, message, &files).await?;
        self.emit(Event::ApplyingSync);
        let objects = self
            .directory_objects(self.checkout.as_ref(), &kustomization, &self.written)
            .await?;
        self.apply(Step::Sync, objects).await?;
        if self.applies() {
            self.emit(Event::SyncReconciled);
        }
        let head = self.checkout.as_ref().and_then(Checkout::head);
        Ok((head.unwrap_or_default(), commit))
    }

    /// The objects the cluster directory's `kustomization.yaml` lists (flux applies its
    /// kustomize build; fluxstrap reads its plain-file `resources`, which is all a bootstrapped
    /// directory has unless the user adds patches — kustomize-controller applies those).
    async fn directory_objects(
        &self,
        checkout: Option<&G::Checkout>,
        kustomization: &str,
        written: &[(String, Vec<u8>)],
    ) -> Result<Vec<serde_json::Value>> {
        let read = |path: String| async move {
            if let Some((_, content)) = written.iter().find(|(p, _)| *p == path) {
                return Ok(Some(content.clone()));
            }
            read_in(checkout, &path).await
        };
        let dir = kustomization.rsplit_once('/').map_or("", |(d, _)| d);
        let text = read(kustomization.to_string())
            .await?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let mut objects = Vec::new();
        for resource in resources(&text).unwrap_or_default() {
            if resource.contains("..") || resource.starts_with('/') {
                continue;
            }
            let path = if dir.is_empty() {
                resource
            } else {
                format!("{dir}/{resource}")
            };
            if let Some(content) = read(path).await? {
                objects.extend(objects_of(&String::from_utf8_lossy(&content))?);
            }
        }
        Ok(objects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_resources_are_read_from_a_kustomization() {
        let text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-components.yaml\n- gotk-sync.yaml\npatches:\n- path: patch.yaml\n";
        assert_eq!(
            resources(text),
            Some(vec![
                "gotk-components.yaml".to_string(),
                "gotk-sync.yaml".to_string()
            ])
        );
        assert_eq!(resources("kind: Kustomization\n"), None);
        assert_eq!(resources("not: [yaml"), None);
    }
}
