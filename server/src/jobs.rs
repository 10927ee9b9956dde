//! `serve`'s bootstrap jobs: a request is checked (flags, authorisation, the cluster's
//! projects, targets already busy), recorded, queued behind a bounded number of running jobs,
//! and run by the same engine as the CLI ([`crate::bootstrap::run_engine`]) on a thread of its
//! own (the engine's futures are not `Send`). Every event is stored before followers are woken,
//! so a stream that reconnects resumes from the store with no gap. The token lives in the job's
//! closure only and is dropped with it; the store never sees it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use fluxstrap_core::Secret;
use fluxstrap_core::bitbucket::authorize;
use fluxstrap_core::bootstrap::flags::{Audience, FLAGS};
use fluxstrap_core::bootstrap::{self, BootstrapFlags, BootstrapOptions, Event, Inputs, Mode};
use fluxstrap_jobs::{JobRecord, JobState, JobStore, NewJob};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

use crate::bitbucket_http::HttpTransport;
use crate::cluster::KubeconfigSource;
use crate::config::{ClusterAccess, ClusterConfig, ServeConfig, ServerConfig};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::releases::ReleaseLibrary;

/// `POST /api/bootstraps`'s body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobRequest {
    /// A configured Bitbucket server's name.
    pub server: String,
    /// A configured cluster's name.
    pub cluster: String,
    /// The CLI's flags by their names, as the CLI takes them.
    #[serde(default)]
    pub flags: serde_json::Map<String, Value>,
    /// Plan only: nothing is written anywhere.
    #[serde(default)]
    pub dry_run: bool,
}

/// A request that passed every check, ready to run.
struct Checked {
    options: BootstrapOptions,
    server: ServerConfig,
    cluster: ClusterConfig,
    user: String,
    /// `PROJECT/slug`.
    repository: String,
    /// The request as recorded: secret flag values left out.
    recorded: Value,
}

/// What `accept` answers.
pub enum Accepted {
    /// A job was queued.
    Job(Box<JobRecord>),
    /// A dry run's outcome: the plan and the events.
    Plan(Value),
}

/// The time as the store keeps it: RFC 3339, UTC, milliseconds (so text order is time order).
pub fn now() -> String {
    format!("{:.3}", jiff::Timestamp::now())
}

/// A URL-safe random job id.
fn new_id() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap_or_default();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An event as stored and streamed: the typed event, flux's line, its step and level.
pub fn event_json(event: &Event) -> Value {
    json!({
        "event": event,
        "text": event.to_string(),
        "step": event.step(),
        "level": event.level(),
    })
}

pub struct Jobs {
    config: Arc<ServeConfig>,
    store: Arc<dyn JobStore>,
    releases: Arc<ReleaseLibrary>,
    metrics: Arc<Metrics>,
    slots: Arc<Semaphore>,
    /// Busy targets (`cluster:…`, `repository:…`) and the job holding each.
    busy: Mutex<HashMap<String, String>>,
    /// Live jobs' last stored event sequence, for followers.
    live: Mutex<HashMap<String, Arc<watch::Sender<u64>>>>,
    /// Set when `serve` stops: running jobs drop their run (job directories and keys with it).
    stopping: watch::Sender<bool>,
}

impl Jobs {
    pub fn new(
        config: Arc<ServeConfig>,
        store: Arc<dyn JobStore>,
        releases: Arc<ReleaseLibrary>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(config.limits.concurrent_jobs)),
            config,
            store,
            releases,
            metrics,
            busy: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            stopping: watch::channel(false).0,
        }
    }

    /// Stops every running job (each ends `interrupted`) and waits until none is left.
    pub async fn stop(&self) {
        self.stopping.send_replace(true);
        while !self.live.lock().expect("live lock").is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub fn store(&self) -> &Arc<dyn JobStore> {
        &self.store
    }

    /// A receiver of the job's last event sequence while it is queued or running; `None` once
    /// it has ended (everything is in the store then).
    pub fn follow(&self, id: &str) -> Option<watch::Receiver<u64>> {
        self.live
            .lock()
            .expect("live lock")
            .get(id)
            .map(|sender| sender.subscribe())
    }

    /// Marks what a previous process left unfinished as interrupted.
    pub fn interrupt_leftovers(&self) -> Result<Vec<String>> {
        Ok(self.store.interrupt_unfinished(
            &now(),
            "fluxstrap serve stopped while this job ran: re-run it (every step is safe to repeat)",
        )?)
    }

    /// Checks `request` and queues it (or, for a dry run, runs it and returns the plan).
    pub async fn accept(
        self: &Arc<Self>,
        request: JobRequest,
        token: Secret,
        rerun_of: Option<String>,
    ) -> Result<Accepted> {
        let checked = self.check(&request, &token).await?;
        if request.dry_run {
            return self.plan(checked, token).await;
        }
        let targets = [
            format!(
                "cluster:{}/{}",
                checked.cluster.name, checked.options.install.namespace
            ),
            format!(
                "repository:{}/{}#{}:{}",
                checked.server.name,
                checked.repository,
                checked.options.branch.as_str(),
                sync_path(&checked.options)
            ),
        ];
        let id = new_id();
        {
            let mut busy = self.busy.lock().expect("busy lock");
            if let Some(holder) = targets.iter().find_map(|t| busy.get(t)) {
                return Err(Error::JobConflict { id: holder.clone() });
            }
            for target in &targets {
                busy.insert(target.clone(), id.clone());
            }
        }
        let record = self.store.create(&NewJob {
            id: id.clone(),
            created_at: now(),
            started_by: checked.user.clone(),
            server: checked.server.name.clone(),
            cluster: checked.cluster.name.clone(),
            repository: checked.repository.clone(),
            branch: checked.options.branch.as_str().to_string(),
            path: sync_path(&checked.options),
            namespace: checked.options.install.namespace.to_string(),
            dry_run: false,
            request: checked.recorded.clone(),
            rerun_of,
        });
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                self.release(&id);
                return Err(error.into());
            }
        };
        let (sender, _) = watch::channel(0);
        self.live
            .lock()
            .expect("live lock")
            .insert(id.clone(), Arc::new(sender));
        let jobs = self.clone();
        tokio::spawn(async move { jobs.run(id, checked, token).await });
        Ok(Accepted::Job(Box::new(record)))
    }

    /// Everything that can refuse a request, before anything is recorded.
    async fn check(&self, request: &JobRequest, token: &Secret) -> Result<Checked> {
        let server = self
            .config
            .server(&request.server)
            .cloned()
            .ok_or_else(|| Error::UnknownServer(request.server.clone()))?;
        let cluster = self
            .config
            .cluster(&request.cluster)
            .cloned()
            .ok_or_else(|| Error::UnknownCluster(request.cluster.clone()))?;
        let mut flags = BootstrapFlags::default();
        flags.apply_json(&request.flags, Audience::Anyone)?;
        // The operator's settings: where Bitbucket and the cluster are.
        let mut operator = vec![format!("--hostname={}", server.host.base_url())];
        if let Some(ssh) = &server.ssh_host {
            operator.push(format!("--ssh-hostname={ssh}"));
        }
        if let Some(ca) = &server.ca_file {
            operator.push(format!("--ca-file={}", ca.display()));
        }
        if let ClusterAccess::Kubeconfig { path, context } = &cluster.access {
            operator.push(format!("--kubeconfig={}", path.display()));
            if let Some(context) = context {
                operator.push(format!("--context={context}"));
            }
        }
        if !request.flags.contains_key("path")
            && let Some(prefix) = &cluster.defaults.path_prefix
        {
            operator.push(format!("--path={prefix}"));
        }
        let default_version = self.config.versions[0].to_string();
        if !request.flags.contains_key("version") {
            operator.push(format!("--version={default_version}"));
        }
        if request.dry_run {
            operator.push("--dry-run".to_string());
        }
        flags.parse_args(&operator)?;
        flags.check_values()?;
        let options = flags.validate()?;
        let version = self.releases.offered_version(&match &options.version {
            bootstrap::VersionRequest::Exact(version) => version.to_string(),
            bootstrap::VersionRequest::Latest => "latest".to_string(),
        })?;
        let options = options.with_version(version);
        let transport = HttpTransport::new(token.clone(), server.ca_file.as_deref())?;
        let authorization = authorize(
            &transport,
            &options.host,
            &options.owner,
            &options.repository,
        )
        .await?;
        if !cluster.projects.allows(authorization.project.as_str()) {
            return Err(Error::ClusterRefusesProject {
                cluster: cluster.name.clone(),
                project: authorization.project.as_str().to_string(),
            });
        }
        tracing::info!(
            user = %authorization.user,
            authority = ?authorization.authority,
            cluster = %cluster.name,
            "bootstrap request authorised"
        );
        let repository = format!(
            "{}/{}",
            authorization.project.as_str(),
            options.repository.slug().as_str()
        );
        Ok(Checked {
            recorded: recorded_request(request),
            options,
            server,
            cluster,
            user: authorization.user,
            repository,
        })
    }

    /// The inputs a run needs besides the options: the release and the server's CA.
    async fn inputs(&self, checked: &Checked, token: Secret) -> Result<Inputs> {
        let version = checked.options.install.version.clone();
        let files = self.releases.files(&version).await?;
        let ca_bundle = match &checked.server.ca_file {
            Some(path) => {
                Some(
                    std::fs::read_to_string(path).map_err(|source| Error::ReadCaFile {
                        path: path.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        Ok(Inputs {
            token,
            ca_bundle,
            private_key: None,
            distribution: fluxstrap_core::install::Distribution::from_files(
                files.as_ref().clone(),
            )?,
        })
    }

    /// A dry run, awaited: the plan, the events, nothing written.
    async fn plan(&self, checked: Checked, token: Secret) -> Result<Accepted> {
        debug_assert_eq!(checked.options.mode, Mode::DryRun);
        let inputs = self.inputs(&checked, token).await?;
        let kubeconfig = kubeconfig_of(&checked.cluster);
        let outcome = on_own_thread(move || {
            let mut events = Vec::new();
            let mut collect = |event: Event| events.push(event_json(&event));
            let outcome = block_on_current_thread(crate::bootstrap::run_engine(
                &checked.options,
                &inputs,
                &kubeconfig,
                &mut collect,
            ));
            outcome.map(|outcome| (outcome, events))
        })
        .await?;
        let (outcome, events) = outcome;
        Ok(Accepted::Plan(json!({
            "plan": outcome.plan,
            "repository": outcome.repository,
            "events": events,
        })))
    }

    /// Waits for a slot, runs the job, records its end and frees its targets.
    async fn run(self: Arc<Self>, id: String, checked: Checked, token: Secret) {
        let mut stopping = self.stopping.subscribe();
        let permit = tokio::select! {
            permit = self.slots.clone().acquire_owned() => permit,
            _ = stopping.wait_for(|stop| *stop) => {
                // Queued when serve stopped: never started.
                let _ = self.store.finish(&id, JobState::Interrupted, &now(), Some("fluxstrap serve stopped before this job started: re-run it"), None);
                self.release(&id);
                self.live.lock().expect("live lock").remove(&id);
                return;
            }
        };
        let started = Instant::now();
        let outcome = match self.store.start(&id, &now()) {
            Ok(()) => self.execute(&id, checked, token).await,
            Err(error) => Err(error.into()),
        };
        drop(permit);
        let (state, error, result) = match outcome {
            Ok(outcome) => (
                JobState::Succeeded,
                None,
                serde_json::to_value(&outcome).ok(),
            ),
            Err(Error::Interrupted) => (
                JobState::Interrupted,
                Some("fluxstrap serve stopped while this job ran: re-run it (every step is safe to repeat)".to_string()),
                None,
            ),
            Err(error) => (JobState::Failed, Some(error.to_string()), None),
        };
        if let Some(error) = &error {
            tracing::warn!(job = %id, %error, "bootstrap job failed");
        }
        if let Err(e) = self
            .store
            .finish(&id, state, &now(), error.as_deref(), result.as_ref())
        {
            tracing::error!(job = %id, error = %e, "cannot record the end of a job");
        }
        self.metrics.job_finished(state, started.elapsed());
        self.release(&id);
        // Dropping the sender ends the followers' waits; they read the rest from the store.
        self.live.lock().expect("live lock").remove(&id);
    }

    async fn execute(
        &self,
        id: &str,
        checked: Checked,
        token: Secret,
    ) -> Result<bootstrap::Outcome> {
        let inputs = self.inputs(&checked, token).await?;
        let kubeconfig = kubeconfig_of(&checked.cluster);
        let store = self.store.clone();
        let sender = self.live.lock().expect("live lock").get(id).cloned();
        let metrics = self.metrics.clone();
        let job = id.to_string();
        let mut stopping = self.stopping.subscribe();
        on_own_thread(move || {
            let mut steps = StepClock::default();
            let mut record = |event: Event| {
                steps.observe(&event, &metrics);
                match store.append_event(&job, &now(), &event_json(&event)) {
                    Ok(seq) => {
                        if let Some(sender) = &sender {
                            sender.send_replace(seq);
                        }
                    }
                    Err(error) => {
                        tracing::error!(job = %job, %error, "cannot record an event")
                    }
                }
            };
            let outcome = block_on_current_thread(async {
                tokio::select! {
                    outcome = crate::bootstrap::run_engine(
                        &checked.options,
                        &inputs,
                        &kubeconfig,
                        &mut record,
                    ) => outcome,
                    // Dropping the run removes its job directory, keys included.
                    _ = stopping.wait_for(|stop| *stop) => Err(Error::Interrupted),
                }
            });
            steps.finish(&metrics);
            outcome
        })
        .await
    }

    fn release(&self, id: &str) {
        self.busy
            .lock()
            .expect("busy lock")
            .retain(|_, holder| holder != id);
    }
}

/// The durations of the engine's steps, for the metrics.
#[derive(Default)]
struct StepClock {
    current: Option<(bootstrap::Step, Instant)>,
}

impl StepClock {
    fn observe(&mut self, event: &Event, metrics: &Metrics) {
        let step = event.step();
        match self.current {
            Some((current, _)) if current == step => {}
            _ => {
                self.finish(metrics);
                self.current = Some((step, Instant::now()));
            }
        }
    }

    fn finish(&mut self, metrics: &Metrics) {
        if let Some((step, since)) = self.current.take() {
            metrics.step_finished(step, since.elapsed());
        }
    }
}

fn sync_path(options: &BootstrapOptions) -> String {
    options
        .path
        .as_ref()
        .map_or_else(|| ".".to_string(), |p| p.as_str().to_string())
}

fn kubeconfig_of(cluster: &ClusterConfig) -> KubeconfigSource {
    match &cluster.access {
        ClusterAccess::Kubeconfig { path, context } => KubeconfigSource::File {
            path: path.clone(),
            context: context.clone(),
        },
        ClusterAccess::InCluster => KubeconfigSource::InCluster,
    }
}

/// The request as the history shows it: secret flags' values left out, their names kept.
fn recorded_request(request: &JobRequest) -> Value {
    let mut flags = request.flags.clone();
    let mut withheld = Vec::new();
    for spec in FLAGS.iter().filter(|spec| spec.secret) {
        if flags.remove(spec.name).is_some() {
            withheld.push(spec.name);
        }
    }
    json!({
        "server": request.server,
        "cluster": request.cluster,
        "flags": flags,
        "dryRun": request.dry_run,
        "withheld": withheld,
    })
}

/// The request to run again: refused when secret flags were withheld from the record.
pub fn rerun_request(record: &JobRecord) -> Result<JobRequest> {
    let withheld: Vec<String> = record.request["withheld"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !withheld.is_empty() {
        return Err(Error::RerunNeedsSecrets {
            id: record.id.clone(),
            flags: withheld,
        });
    }
    let mut request = record.request.clone();
    if let Some(map) = request.as_object_mut() {
        map.remove("withheld");
    }
    serde_json::from_value(request).map_err(|e| Error::BadJobRequest(e.to_string()))
}

/// Runs `work` on a thread of its own and awaits it.
async fn on_own_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::JobPanicked(e.to_string()))?
}

/// Drives `future` on a current-thread runtime of this thread.
fn block_on_current_thread<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}
