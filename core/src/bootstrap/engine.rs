//! The run: flux's steps in flux's order (spec §2) over the ports, each get-compare-write, so a
//! re-run after a failure anywhere continues where it stopped and a second run changes
//! nothing. In [`Mode::DryRun`] every read is made and every write is reported instead.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Secret;
use crate::bitbucket::{Request, Transport, Writes};
use crate::error::{Error, Result};
use crate::install::Distribution;

use super::event::{Event, Subject};
use super::options::{BootstrapOptions, Mode, Takeover, VersionRequest};
use super::plan::Plan;
use super::ports::{Cluster, Git, System};
use super::repository::RepositoryTarget;

/// What the edge read for the run: the token and the files the flags name.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The Bitbucket token (`BITBUCKET_TOKEN` or the prompt); the token-auth Secret's password.
    pub token: Secret,
    /// `--ca-file`'s content: the token-auth Secret's `ca.crt`.
    pub ca_bundle: Option<String>,
    /// `--private-key-file`'s content.
    pub private_key: Option<Secret>,
    /// The release's manifests, parsed.
    pub distribution: Distribution,
}

/// The ports a run uses.
pub struct Ports<'a, T, G, C, S, R> {
    /// Bitbucket's REST API, with the token.
    pub bitbucket: &'a T,
    /// git, with the token and the signing key.
    pub git: &'a G,
    /// The cluster.
    pub cluster: &'a C,
    /// Host-key scans and time.
    pub system: &'a S,
    /// Randomness for the deploy key.
    pub rng: &'a mut R,
}

/// One commit a run made, or found unnecessary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitRecord {
    /// Which files.
    pub subject: Subject,
    /// The pushed commit; `None` when the branch already held the files.
    pub commit: Option<String>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The repository and its URLs.
    pub repository: RepositoryTarget,
    /// The two commits.
    pub commits: Vec<CommitRecord>,
    /// The revision Flux reported (`main@sha1:<sha>`); `None` in a dry run.
    pub revision: Option<String>,
    /// The deploy key's label, with SSH sync.
    pub deploy_key: Option<String>,
    /// A dry run's plan.
    pub plan: Option<Plan>,
}

/// The run's state: the options, the ports, the events and the plan being collected.
pub(super) struct Engine<'a, T, G: Git, C, S, R> {
    pub(super) options: &'a BootstrapOptions,
    pub(super) inputs: &'a Inputs,
    pub(super) bitbucket: &'a T,
    pub(super) git: &'a G,
    pub(super) cluster: &'a C,
    pub(super) system: &'a S,
    #[cfg_attr(not(feature = "keygen"), allow(dead_code))]
    pub(super) rng: &'a mut R,
    on_event: &'a mut (dyn FnMut(Event) + Send),
    pub(super) plan: Plan,
    /// Who the token belongs to (`X-AUSERNAME`), once step 1 asked.
    pub(super) token_user: Option<String>,
    /// Whether the run changed what the GitRepository fetches with or from (a push, the
    /// Secret, the deploy key): Flux is then asked to fetch again rather than judged on a
    /// result from before.
    pub(super) source_changed: bool,
    /// The clone the commits reuse, once made.
    pub(super) checkout: Option<G::Checkout>,
    /// The files this run wrote (or, in a dry run, would have), with their contents.
    pub(super) written: Vec<(String, Vec<u8>)>,
    deadline: Duration,
}

/// `Writes::Send`, or recording into `planned` in a dry run.
pub(super) fn writes_for(mode: Mode, planned: &mut Vec<Request>) -> Writes<'_> {
    match mode {
        Mode::Apply => Writes::Send,
        Mode::DryRun => Writes::Record(planned),
    }
}

impl<'a, T: Transport, G: Git, C: Cluster, S: System, R: rand_core::CryptoRng>
    Engine<'a, T, G, C, S, R>
{
    pub(super) fn emit(&mut self, event: Event) {
        (self.on_event)(event);
    }

    /// Whether writes happen (not a dry run).
    pub(super) fn applies(&self) -> bool {
        self.options.mode == Mode::Apply
    }

    pub(super) fn writes<'p>(&self, planned: &'p mut Vec<Request>) -> Writes<'p> {
        writes_for(self.options.mode, planned)
    }

    /// The files of this run, for the repository at `target`.
    pub(super) fn files(
        &self,
        target: &RepositoryTarget,
    ) -> Result<Vec<super::files::GeneratedFile>> {
        super::files::generated_files(
            &self.inputs.distribution,
            &self.options.install,
            &self.options.sync_options(&target.sync_url),
        )
    }

    /// The user for the token-auth Secret: the one given, else the token's owner.
    pub(super) fn git_user(&self) -> String {
        self.options
            .git_user
            .clone()
            .or_else(|| self.token_user.clone())
            .unwrap_or_else(|| "git".to_string())
    }

    /// Time left before `--timeout`.
    pub(super) fn remaining(&self) -> Duration {
        self.deadline.saturating_sub(self.system.elapsed())
    }

    /// Fails once `--timeout` has passed.
    pub(super) fn check_deadline(&self) -> Result<()> {
        if self.remaining().is_zero() {
            Err(Error::Timeout(self.options.timeout.to_string()))
        } else {
            Ok(())
        }
    }

    /// flux's `--force` check (spec §1.5 step 7): a Flux whose CRDs another tool manages is
    /// not taken over unless asked.
    async fn check_takeover(&mut self) -> Result<()> {
        if self.options.takeover == Takeover::Force {
            return Ok(());
        }
        let crd = crate::cluster::ObjectRef {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            kind: "CustomResourceDefinition".into(),
            namespace: String::new(),
            name: "gitrepositories.source.toolkit.fluxcd.io".into(),
        };
        let found = self
            .cluster
            .get(&crd)
            .await
            .map_err(|e| Error::port("cluster info unavailable", e))?;
        let label = |name: &str| {
            found
                .as_ref()
                .and_then(|o| o.pointer("/metadata/labels"))
                .and_then(|l| l.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        match label("app.kubernetes.io/managed-by") {
            Some(manager) if manager != "flux" => Err(Error::ManagedByOtherTool {
                version: label("app.kubernetes.io/version").unwrap_or_default(),
                manager,
            }),
            _ => Ok(()),
        }
    }
}

/// Runs a bootstrap (or, with `--dry-run`, plans one). `options` must have its version
/// resolved ([`BootstrapOptions::with_version`]); `on_event` hears every step as it happens.
pub async fn run<T, G, C, S, R>(
    options: &BootstrapOptions,
    inputs: &Inputs,
    ports: Ports<'_, T, G, C, S, R>,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<Outcome>
where
    T: Transport,
    G: Git,
    C: Cluster,
    S: System,
    R: rand_core::CryptoRng,
{
    if options.version == VersionRequest::Latest {
        return Err(Error::UnresolvedVersion);
    }
    let deadline = ports.system.elapsed() + options.timeout.to_std().unwrap_or_default();
    let mut engine = Engine {
        options,
        inputs,
        bitbucket: ports.bitbucket,
        git: ports.git,
        cluster: ports.cluster,
        system: ports.system,
        rng: ports.rng,
        on_event,
        plan: Plan::default(),
        token_user: None,
        source_changed: false,
        checkout: None,
        written: Vec::new(),
        deadline,
    };
    engine.check_takeover().await?;
    let (target, default_branch) = engine.reconcile_repository().await?;
    let components_commit = engine.components(&target, default_branch).await?;
    let deploy_key = engine.source_secret(&target).await?;
    let (head, sync_commit) = engine.sync(&target).await?;
    let commits = vec![
        CommitRecord {
            subject: Subject::Components,
            commit: components_commit,
        },
        CommitRecord {
            subject: Subject::Sync,
            commit: sync_commit,
        },
    ];
    if options.mode == Mode::DryRun {
        return Ok(Outcome {
            repository: target,
            commits,
            revision: None,
            deploy_key,
            plan: Some(engine.plan),
        });
    }
    let revision = crate::cluster::expected_revision(options.branch.as_str(), &head);
    let requested = engine.request_source_reconcile().await?;
    engine.health(&revision, requested.as_deref()).await?;
    Ok(Outcome {
        repository: target,
        commits,
        revision: Some(revision),
        deploy_key,
        plan: None,
    })
}
