//! One typed event stream for a whole bootstrap: every line flux prints, as data. The CLI prints
//! them on stderr, the server sends them over SSE and stores them, the page renders them; all
//! three go through [`Event`]'s `Display`, which writes flux's wording with its symbols
//! (`►` action, `✚` generate, `◎` waiting, `✔` success, `⚠️` warning, `✗` failure).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How an event reads: flux's six log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// `►` something starts.
    Action,
    /// `✚` something is generated, or would be (dry run).
    Generate,
    /// `◎` waiting for something.
    Waiting,
    /// `✔` done.
    Success,
    /// `⚠️` done with a problem that does not stop the run.
    Warning,
    /// `✗` failed.
    Failure,
}

impl Level {
    /// flux's symbol for the level.
    pub fn symbol(self) -> &'static str {
        match self {
            Level::Action => "►",
            Level::Generate => "✚",
            Level::Waiting => "◎",
            Level::Success => "✔",
            Level::Warning => "⚠️",
            Level::Failure => "✗",
        }
    }
}

/// The step of a bootstrap an event belongs to (stable names, for progress displays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Resolving and reading the Flux release.
    Release,
    /// The Bitbucket repository and its permissions.
    Repository,
    /// `gotk-components.yaml` committed and installed.
    Components,
    /// The source Secret and the deploy key.
    SourceSecret,
    /// `gotk-sync.yaml` and `kustomization.yaml` committed and applied.
    Sync,
    /// Waiting for Flux to report the pushed commit and its controllers ready.
    Health,
}

impl Step {
    /// Every step, in the order a bootstrap runs them.
    pub const ALL: [Step; 6] = [
        Step::Release,
        Step::Repository,
        Step::Components,
        Step::SourceSecret,
        Step::Sync,
        Step::Health,
    ];
}

/// Which commit a git event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    /// `gotk-components.yaml`.
    Components,
    /// `gotk-sync.yaml` and `kustomization.yaml`.
    Sync,
}

impl Subject {
    /// flux's words for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Components => "component manifests",
            Subject::Sync => "sync manifests",
        }
    }

    fn step(self) -> Step {
        match self {
            Subject::Components => Step::Components,
            Subject::Sync => Step::Sync,
        }
    }
}

/// Where the release files came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum ReleaseOrigin {
    /// `--manifests`.
    Local {
        /// The path given.
        path: String,
    },
    /// The cache, verified when it was filled.
    Cache,
    /// Downloaded and checked against the release's published sha256.
    Verified {
        /// Where from.
        url: String,
    },
    /// Downloaded from a mirror that publishes no checksums: only the contents were checked.
    Unverified {
        /// Where from.
        url: String,
    },
}

/// A Deployment's state at the end of the components check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentState {
    /// Available.
    Ready,
    /// There, not available.
    NotReady,
    /// Missing.
    NotFound,
}

/// What a dry run found a file would become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileChange {
    /// It does not exist yet.
    Create,
    /// It exists with other content.
    Update,
    /// It already holds exactly this.
    Unchanged,
    /// It exists and is kept as it is (`kustomization.yaml`).
    Keep,
}

/// One line of a bootstrap.
// Each variant's comment is the line it prints, which names what its fields hold.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum Event {
    /// `latest` was resolved.
    VersionResolved { version: String },
    /// A cached release was unusable and is fetched again.
    ReleaseCacheCorrupt { version: String, reason: String },
    /// The release files are read.
    ReleaseReady {
        version: String,
        #[serde(flatten)]
        origin: ReleaseOrigin,
    },
    /// `► connecting to <domain>`
    Connecting { domain: String },
    /// `✔ repository "<url>" created`
    RepositoryCreated { url: String },
    /// `✔ repository "<url>" reconciled`
    RepositoryReconciled { url: String },
    /// `► reconciling repository permissions`
    ReconcilingPermissions,
    /// `✔ granted "<permission>" permissions to "<group>"`
    GroupGranted { group: String, permission: String },
    /// `✗ failed to grant "<permission>" permissions to "<group>": <reason>` (the run goes on).
    GroupGrantFailed {
        group: String,
        permission: String,
        reason: String,
    },
    /// `✔ reconciled repository permissions`
    PermissionsReconciled,
    /// The repository's default branch was set (new repositories, any branch name).
    DefaultBranchSet { branch: String },
    /// `► cloning branch "<branch>" from Git repository "<url>"`
    Cloning { branch: String, url: String },
    /// `⚠️  clone failure: <reason>` (retried once).
    CloneFailed { reason: String },
    /// `✔ cloned repository`
    Cloned,
    /// `► generating component manifests` / `► generating sync manifests`
    Generating { subject: Subject },
    /// `✔ generated component manifests` / `✔ generated sync manifests`
    Generated { subject: Subject },
    /// `✔ committed component manifests to "<branch>" ("<commit>")`
    Committed {
        subject: Subject,
        branch: String,
        commit: String,
    },
    /// `► pushing component manifests to "<url>"`
    Pushing { subject: Subject, url: String },
    /// `✔ component manifests are up to date`
    UpToDate { subject: Subject },
    /// `◎ git conflict detected, retrying with a fresh clone`
    Conflict { subject: Subject },
    /// `► installing components in "<namespace>" namespace`
    InstallingComponents { namespace: String },
    /// One object applied: `Namespace/flux-system created` (a detail line).
    Applied {
        step: Step,
        object: String,
        action: String,
    },
    /// `◎ waiting for <count> cluster definitions to be established`
    WaitingForDefinitions { step: Step, count: usize },
    /// `✔ installed components`
    ComponentsInstalled,
    /// Flux's own Kustomization has applied a revision: kustomize-controller upgrades the
    /// components from git, the CLI leaves them.
    ComponentsManagedByFlux,
    /// `✔ reconciled image pull secret <name>`
    ImagePullSecretReconciled { name: String },
    /// `✔ reconciled components`
    ComponentsReconciled,
    /// `► determining if source secret "<ns>/<name>" exists`
    DeterminingSecret { namespace: String, name: String },
    /// `✔ source secret up to date`
    SecretUpToDate,
    /// `► generating source secret`
    GeneratingSecret,
    /// `✔ public key: <key>`
    PublicKey { key: String },
    /// `✔ configured deploy key "<label>" for "<url>"`
    DeployKeyConfigured { label: String, url: String },
    /// The deploy key is registered as it should be (nothing sent).
    DeployKeyUpToDate { label: String, url: String },
    /// `► applying source secret "<ns>/<name>"`
    ApplyingSecret { namespace: String, name: String },
    /// `✔ reconciled source secret`
    SecretReconciled,
    /// `► applying sync manifests`
    ApplyingSync,
    /// `✔ reconciled sync configuration`
    SyncReconciled,
    /// `◎ waiting for GitRepository "<ns>/<name>" to be reconciled`
    WaitingFor {
        kind: String,
        namespace: String,
        name: String,
    },
    /// `✔ GitRepository reconciled successfully`
    Reconciled { kind: String },
    /// `✗ <message>`: a health check failed (the run reports all of them at the end).
    HealthCheckFailed { message: String },
    /// `► confirming components are healthy`
    ConfirmingComponents,
    /// `✔ <name>: deployment ready` / `✗ <name>: deployment not ready|not found`
    Component { name: String, state: ComponentState },
    /// `✔ all components are healthy`
    ComponentsHealthy,
    /// Dry run: what a file of the repository would become.
    PlannedFile {
        subject: Subject,
        path: String,
        change: FileChange,
    },
    /// Dry run: a Bitbucket write that would be made.
    PlannedBitbucketWrite {
        step: Step,
        method: String,
        path: String,
        what: String,
    },
    /// Dry run: what applying an object would do.
    PlannedObject {
        step: Step,
        object: String,
        action: String,
    },
}

impl Event {
    /// The event's level.
    pub fn level(&self) -> Level {
        use Event::*;
        match self {
            Connecting { .. }
            | ReconcilingPermissions
            | Cloning { .. }
            | Generating { .. }
            | Pushing { .. }
            | InstallingComponents { .. }
            | DeterminingSecret { .. }
            | GeneratingSecret
            | ApplyingSecret { .. }
            | ApplyingSync
            | ConfirmingComponents => Level::Action,
            WaitingForDefinitions { .. } | WaitingFor { .. } | Conflict { .. } => Level::Waiting,
            ReleaseCacheCorrupt { .. } | CloneFailed { .. } => Level::Warning,
            ReleaseReady {
                origin: ReleaseOrigin::Unverified { .. },
                ..
            } => Level::Warning,
            GroupGrantFailed { .. } | HealthCheckFailed { .. } => Level::Failure,
            Component { state, .. } if *state != ComponentState::Ready => Level::Failure,
            PlannedFile { .. } | PlannedBitbucketWrite { .. } | PlannedObject { .. } => {
                Level::Generate
            }
            _ => Level::Success,
        }
    }

    /// The step the event belongs to.
    pub fn step(&self) -> Step {
        use Event::*;
        match self {
            VersionResolved { .. } | ReleaseCacheCorrupt { .. } | ReleaseReady { .. } => {
                Step::Release
            }
            Connecting { .. }
            | RepositoryCreated { .. }
            | RepositoryReconciled { .. }
            | ReconcilingPermissions
            | GroupGranted { .. }
            | GroupGrantFailed { .. }
            | PermissionsReconciled
            | DefaultBranchSet { .. } => Step::Repository,
            Cloning { .. } | CloneFailed { .. } | Cloned => Step::Components,
            Generating { subject }
            | Generated { subject }
            | Committed { subject, .. }
            | Pushing { subject, .. }
            | UpToDate { subject }
            | Conflict { subject }
            | PlannedFile { subject, .. } => subject.step(),
            InstallingComponents { .. }
            | ComponentsInstalled
            | ComponentsManagedByFlux
            | ImagePullSecretReconciled { .. }
            | ComponentsReconciled => Step::Components,
            Applied { step, .. }
            | WaitingForDefinitions { step, .. }
            | PlannedBitbucketWrite { step, .. }
            | PlannedObject { step, .. } => *step,
            DeterminingSecret { .. }
            | SecretUpToDate
            | GeneratingSecret
            | PublicKey { .. }
            | DeployKeyConfigured { .. }
            | DeployKeyUpToDate { .. }
            | ApplyingSecret { .. }
            | SecretReconciled => Step::SourceSecret,
            ApplyingSync | SyncReconciled => Step::Sync,
            WaitingFor { .. }
            | Reconciled { .. }
            | HealthCheckFailed { .. }
            | ConfirmingComponents
            | Component { .. }
            | ComponentsHealthy => Step::Health,
        }
    }

    /// A detail line (one applied object) that flux does not print; listings may leave it out.
    pub fn is_detail(&self) -> bool {
        matches!(self, Event::Applied { .. })
    }

    /// The text after the symbol.
    pub fn message(&self) -> String {
        use Event::*;
        match self {
            VersionResolved { version } => format!("latest Flux release is {version}"),
            ReleaseCacheCorrupt { version, reason } => format!(
                "cached Flux {version} manifests are unusable ({reason}), downloading them again"
            ),
            ReleaseReady { version, origin } => match origin {
                ReleaseOrigin::Local { path } => {
                    format!("read Flux {version} manifests from {path}")
                }
                ReleaseOrigin::Cache => format!("using cached Flux {version} manifests"),
                ReleaseOrigin::Verified { url } => {
                    format!("downloaded Flux {version} manifests from {url} (sha256 verified)")
                }
                ReleaseOrigin::Unverified { url } => format!(
                    "downloaded Flux {version} manifests from {url}, which publishes no checksums: only their contents were checked"
                ),
            },
            Connecting { domain } => format!("connecting to {domain}"),
            RepositoryCreated { url } => format!("repository \"{url}\" created"),
            RepositoryReconciled { url } => format!("repository \"{url}\" reconciled"),
            ReconcilingPermissions => "reconciling repository permissions".into(),
            GroupGranted { group, permission } => {
                format!("granted \"{permission}\" permissions to \"{group}\"")
            }
            GroupGrantFailed {
                group,
                permission,
                reason,
            } => format!("failed to grant \"{permission}\" permissions to \"{group}\": {reason}"),
            PermissionsReconciled => "reconciled repository permissions".into(),
            DefaultBranchSet { branch } => format!("default branch set to \"{branch}\""),
            Cloning { branch, url } => {
                format!("cloning branch \"{branch}\" from Git repository \"{url}\"")
            }
            // flux's message has a leading space after the symbol's own.
            CloneFailed { reason } => format!(" clone failure: {reason}"),
            Cloned => "cloned repository".into(),
            Generating { subject } => format!("generating {}", subject.as_str()),
            Generated { subject } => format!("generated {}", subject.as_str()),
            Committed {
                subject,
                branch,
                commit,
            } => format!(
                "committed {} to \"{branch}\" (\"{commit}\")",
                subject.as_str()
            ),
            Pushing { subject, url } => format!("pushing {} to \"{url}\"", subject.as_str()),
            UpToDate { subject } => format!("{} are up to date", subject.as_str()),
            Conflict { .. } => "git conflict detected, retrying with a fresh clone".into(),
            InstallingComponents { namespace } => {
                format!("installing components in \"{namespace}\" namespace")
            }
            Applied { object, action, .. } => format!("{object} {action}"),
            WaitingForDefinitions { count, .. } => {
                format!("waiting for {count} cluster definitions to be established")
            }
            ComponentsInstalled => "installed components".into(),
            ComponentsManagedByFlux => {
                "Flux manages its own components: kustomize-controller applies them from git".into()
            }
            ImagePullSecretReconciled { name } => format!("reconciled image pull secret {name}"),
            ComponentsReconciled => "reconciled components".into(),
            DeterminingSecret { namespace, name } => {
                format!("determining if source secret \"{namespace}/{name}\" exists")
            }
            SecretUpToDate => "source secret up to date".into(),
            GeneratingSecret => "generating source secret".into(),
            PublicKey { key } => format!("public key: {}", key.trim()),
            DeployKeyConfigured { label, url } => {
                format!("configured deploy key \"{label}\" for \"{url}\"")
            }
            DeployKeyUpToDate { label, url } => {
                format!("deploy key \"{label}\" for \"{url}\" is registered")
            }
            ApplyingSecret { namespace, name } => {
                format!("applying source secret \"{namespace}/{name}\"")
            }
            SecretReconciled => "reconciled source secret".into(),
            ApplyingSync => "applying sync manifests".into(),
            SyncReconciled => "reconciled sync configuration".into(),
            WaitingFor {
                kind,
                namespace,
                name,
            } => format!("waiting for {kind} \"{namespace}/{name}\" to be reconciled"),
            Reconciled { kind } => format!("{kind} reconciled successfully"),
            HealthCheckFailed { message } => message.clone(),
            ConfirmingComponents => "confirming components are healthy".into(),
            Component { name, state } => match state {
                ComponentState::Ready => format!("{name}: deployment ready"),
                ComponentState::NotReady => format!("{name}: deployment not ready"),
                ComponentState::NotFound => format!("{name}: deployment not found"),
            },
            ComponentsHealthy => "all components are healthy".into(),
            PlannedFile { path, change, .. } => match change {
                FileChange::Create => format!("would create {path}"),
                FileChange::Update => format!("would update {path}"),
                FileChange::Unchanged => format!("{path} is up to date"),
                FileChange::Keep => format!("would keep {path} as it is"),
            },
            PlannedBitbucketWrite {
                method, path, what, ..
            } => format!("would {what} ({method} {path})"),
            PlannedObject { object, action, .. } => format!("{object} would be {action}"),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.level().symbol(), self.message())
    }
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
