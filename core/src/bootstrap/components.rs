//! Step 2 (spec §2.4): `gotk-components.yaml` generated, committed and pushed; the components
//! installed unless Flux already manages itself; the image pull secret.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::bitbucket::{ProjectKey, RepoSlug, Transport, reconcile_default_branch};
use crate::cluster::{ObjectRef, SyncKind, must_install_components, objects_from_documents};
use crate::error::{Error, Result};
use crate::secret::docker_config_json;

use super::commits::{Content, FileSpec};
use super::engine::Engine;
use super::event::{Event, Step, Subject};
use super::plan::PlannedObject;
use super::ports::{ApplyProgress, ApplyRequest, Cluster, Git, SecretWrite, System};
use super::repository::RepositoryTarget;

/// flux waits at most this long for the cluster definitions of the first stage.
pub const DEFINITIONS_TIMEOUT: Duration = Duration::from_secs(60);

/// The object flux's own Kustomization is, `<ns>/<ns>`.
pub(super) fn sync_object(kind: SyncKind, options: &super::BootstrapOptions) -> ObjectRef {
    let (source, kustomize) = crate::sync::api_versions(&options.install.version);
    let api_version = match kind {
        SyncKind::GitRepository => source,
        SyncKind::Kustomization => kustomize,
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let namespace = options.namespace().as_str();
    ObjectRef {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.as_str().to_string(),
        namespace: namespace.to_string(),
        name: namespace.to_string(),
    }
}

/// Parses generated YAML into objects to apply.
pub(super) fn objects_of(yaml: &str) -> Result<Vec<serde_json::Value>> {
    Ok(objects_from_documents(&crate::yaml::parse_documents(yaml)?))
}

impl<T: Transport, G: Git, C: Cluster, S: System, R: rand_core::CryptoRng>
    Engine<'_, T, G, C, S, R>
{
    /// Applies `objects`, reporting each (or, in a dry run, planning each).
    pub(super) async fn apply(
        &mut self,
        step: Step,
        objects: Vec<serde_json::Value>,
    ) -> Result<()> {
        let timeout = DEFINITIONS_TIMEOUT.min(self.remaining());
        let mode = self.options.mode;
        let mut progress = Vec::new();
        let request = ApplyRequest {
            objects,
            mode,
            definitions_timeout: timeout,
        };
        let applied = self.cluster.apply(request, &mut |p| progress.push(p)).await;
        for p in progress {
            match p {
                ApplyProgress::Applied { object, action } if self.applies() => {
                    self.emit(Event::Applied {
                        step,
                        object,
                        action: action.as_str().to_string(),
                    })
                }
                ApplyProgress::Applied { object, action } => {
                    self.emit(Event::PlannedObject {
                        step,
                        object: object.clone(),
                        action: action.as_str().to_string(),
                    });
                    self.plan.objects.push(PlannedObject {
                        step,
                        object,
                        action: action.as_str().to_string(),
                    });
                }
                ApplyProgress::WaitingForDefinitions { count } => {
                    self.emit(Event::WaitingForDefinitions { step, count })
                }
            }
        }
        applied
            .map(|_| ())
            .map_err(|e| Error::port("failed to apply the manifests", e))
    }

    /// Step 2. Returns the pushed commit.
    pub(super) async fn components(
        &mut self,
        target: &RepositoryTarget,
        default_branch: Option<String>,
    ) -> Result<Option<String>> {
        let options = self.options;
        let namespace = options.namespace().as_str().to_string();
        self.emit(Event::Generating {
            subject: Subject::Components,
        });
        let files = self.files(target)?;
        let (path, components) = files
            .iter()
            .find(|f| f.subject == Subject::Components)
            .map(|f| (f.path.clone(), f.content.clone()))
            .ok_or(Error::MissingManifest("gotk-components.yaml".into()))?;
        let message = format!("Add Flux {} component manifests", options.install.version);
        let file = FileSpec {
            path,
            content: Content::Fixed(components.clone().into_bytes()),
        };
        let commit = self
            .commit(target, Subject::Components, message, &[file])
            .await?;
        // A new or empty repository gets the bootstrapped branch as its default (flux can only
        // bootstrap `main` or `master` into a new repository).
        if default_branch.is_none() && (commit.is_some() || !self.applies()) {
            let key = ProjectKey::parse(&target.project_key)?;
            let slug = RepoSlug::parse(&target.slug)?;
            let mut planned = Vec::new();
            let mut writes = self.writes(&mut planned);
            let set = if target.created && !self.applies() {
                // A repository a dry run would create has no branch to read.
                if let crate::bitbucket::Writes::Record(list) = &mut writes {
                    list.push(crate::bitbucket::Request::set_default_branch(
                        &key,
                        &slug,
                        options.branch.as_str(),
                    ));
                }
                true
            } else {
                reconcile_default_branch(
                    self.bitbucket,
                    &options.host,
                    &key,
                    &slug,
                    options.branch.as_str(),
                    &mut writes,
                )
                .await?
            };
            self.record_planned(Step::Repository, planned);
            if set && self.applies() {
                self.emit(Event::DefaultBranchSet {
                    branch: options.branch.as_str().to_string(),
                });
            }
        }
        let kustomization = self
            .cluster
            .get(&sync_object(SyncKind::Kustomization, options))
            .await
            .map_err(|e| Error::port("cannot read the Flux Kustomization", e))?;
        if must_install_components(kustomization.as_ref()) {
            self.emit(Event::InstallingComponents {
                namespace: namespace.clone(),
            });
            self.apply(Step::Components, objects_of(&components)?)
                .await?;
            if self.applies() {
                self.emit(Event::ComponentsInstalled);
            }
        } else {
            self.emit(Event::ComponentsManagedByFlux);
        }
        if let (Some(credentials), Some(name)) = (
            &options.registry_credentials,
            &options.install.image_pull_secret,
        ) {
            let data = BTreeMap::from([(
                ".dockerconfigjson".to_string(),
                docker_config_json(
                    &options.install.registry,
                    &credentials.username,
                    credentials.password.expose(),
                ),
            )]);
            if self.applies() {
                let secret = SecretWrite {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    secret_type: Some("kubernetes.io/dockerconfigjson".to_string()),
                    string_data: data,
                };
                self.cluster
                    .write_secret(&secret)
                    .await
                    .map_err(|e| Error::port("failed to reconcile the image pull secret", e))?;
                self.emit(Event::ImagePullSecretReconciled { name: name.clone() });
            } else {
                self.plan_secret(Step::Components, &namespace, name);
            }
        }
        self.emit(Event::ComponentsReconciled);
        Ok(commit)
    }

    /// A dry run's Secret write.
    pub(super) fn plan_secret(&mut self, step: Step, namespace: &str, name: &str) {
        let object = format!("Secret/{namespace}/{name}");
        self.emit(Event::PlannedObject {
            step,
            object: object.clone(),
            action: "written".to_string(),
        });
        self.plan.objects.push(PlannedObject {
            step,
            object,
            action: "written".to_string(),
        });
    }
}
