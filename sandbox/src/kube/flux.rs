//! A small Flux: what source-controller and kustomize-controller do for a bootstrap.
//!
//! - GitRepository: clone `spec.url` at `spec.ref.branch` with the credentials of its Secret
//!   (SSH `identity` + `known_hosts`, or `username`/`password`/`bearerToken` + `ca.crt`) using
//!   the real `git` and `ssh`, then report `status.artifact.revision` = `<branch>@sha1:<sha>` and
//!   Ready, or Ready=False with git's own error, as Flux would.
//! - Kustomization: build `spec.path` of the source's checkout (`kustomization.yaml`
//!   `resources`, else every YAML file below it), server-side apply the objects as
//!   `kustomize-controller` with its owner labels, prune what left the inventory, then report
//!   Ready with `lastAppliedRevision`/`lastAttemptedRevision`.
//!
//! Not simulated: kustomize patches, generators and transformers other than `resources`,
//! SOPS, variable substitution, health checks of applied objects, dependsOn.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::schema::FieldValidation;
use super::selector::Selector;
use super::store::{Part, PatchKind, WriteOptions, now};
use super::types::ResourceType;
use super::{NeverReady, Shared, generation, text};

/// Whether the emulator plays Flux's controllers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FluxSimulation {
    /// Reconcile on every change, and again after `spec.interval` or `requeue`, whichever is
    /// shorter (tests should not wait a minute for a new commit).
    Enabled { requeue: Duration },
    /// Flux objects are stored but nothing acts on them (tests play the controllers).
    Disabled,
}

impl Default for FluxSimulation {
    fn default() -> Self {
        FluxSimulation::Enabled {
            requeue: Duration::from_secs(2),
        }
    }
}

const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";
const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";

/// What was last done for one object.
struct Attempt {
    at: Instant,
    generation: i64,
    requested_at: String,
    source_revision: String,
}

/// A GitRepository's last good checkout.
#[derive(Clone)]
struct Artifact {
    revision: String,
    checkout: PathBuf,
}

pub struct Simulator {
    mode: FluxSimulation,
    work_dir: PathBuf,
    attempts: HashMap<(String, String, String), Attempt>,
    artifacts: HashMap<(String, String), Artifact>,
}

/// Status without timestamps, to tell a real change from a repeated report.
fn without_times(status: &Value) -> Value {
    let mut status = status.clone();
    if let Some(conditions) = status.get_mut("conditions").and_then(Value::as_array_mut) {
        for condition in conditions {
            if let Some(map) = condition.as_object_mut() {
                map.remove("lastTransitionTime");
            }
        }
    }
    if let Some(artifact) = status.get_mut("artifact").and_then(Value::as_object_mut) {
        artifact.remove("lastUpdateTime");
    }
    status
}

fn condition(kind: &str, status: &str, reason: &str, message: &str, generation: i64) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message,
           "observedGeneration": generation, "lastTransitionTime": now()})
}

/// flux's `--interval` text, as Go durations (`1m0s`, `10m`), for requeueing.
fn interval_of(object: &Value) -> Duration {
    fluxstrap_core::duration::GoDuration::parse(text(object, "/spec/interval"))
        .ok()
        .and_then(|d| d.to_std())
        .unwrap_or(Duration::from_secs(60))
}

/// Writes a status unless only its timestamps would change.
fn report(shared: &Shared, resource: &ResourceType, namespace: &str, name: &str, status: Value) {
    let mut store = shared.store.lock().expect("store lock");
    let Some(current) = store.get(resource, namespace, name) else {
        return;
    };
    if current.get("status").map(without_times) == Some(without_times(&status)) {
        return;
    }
    // Keep the transition time of conditions whose status did not change.
    let mut status = status;
    if let (Some(old), Some(new)) = (
        current
            .pointer("/status/conditions")
            .and_then(Value::as_array),
        status.get_mut("conditions").and_then(Value::as_array_mut),
    ) {
        for condition in new.iter_mut() {
            if let Some(previous) = old.iter().find(|c| {
                c.get("type") == condition.get("type") && c.get("status") == condition.get("status")
            }) && let Some(time) = previous.get("lastTransitionTime")
            {
                condition["lastTransitionTime"] = time.clone();
            }
        }
    }
    let _ = store.set_status(resource, namespace, name, status, "flux-simulator");
}

/// Credentials of a GitRepository Secret, decoded.
#[derive(Default)]
struct Credentials {
    fields: HashMap<String, Vec<u8>>,
}

impl Credentials {
    fn get(&self, key: &str) -> Option<&[u8]> {
        self.fields.get(key).map(Vec::as_slice)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|b| String::from_utf8_lossy(b).trim_end().to_string())
    }
}

/// Runs `git clone` of one branch into `target` with the Secret's credentials; returns the
/// commit SHA or git's complaint.
fn clone_branch(
    url: &str,
    branch: &str,
    credentials: &Credentials,
    job: &Path,
    target: &Path,
) -> Result<String, String> {
    let _ = std::fs::remove_dir_all(job);
    std::fs::create_dir_all(job).map_err(|e| e.to_string())?;
    let mut command = Command::new("git");
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", job)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    let mut config: Vec<(String, String)> = Vec::new();
    if url.starts_with("ssh://") || (url.contains('@') && !url.contains("://")) {
        let identity = credentials
            .get("identity")
            .ok_or("invalid 'identity' in secret: missing SSH private key")?;
        let known_hosts = credentials
            .get("known_hosts")
            .ok_or("invalid secret data: required fields 'known_hosts'")?;
        let identity_path = job.join("identity");
        let known_hosts_path = job.join("known_hosts");
        write_private(&identity_path, identity)?;
        write_private(&known_hosts_path, known_hosts)?;
        command.env(
            "GIT_SSH_COMMAND",
            format!(
                "ssh -F none -i {} -o IdentitiesOnly=yes -o BatchMode=yes \
                 -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} -o ConnectTimeout=10",
                identity_path.display(),
                known_hosts_path.display()
            ),
        );
    } else {
        if let Some(ca) = credentials.get("ca.crt").or(credentials.get("caFile")) {
            let ca_path = job.join("ca.crt");
            write_private(&ca_path, ca)?;
            command.env("GIT_SSL_CAINFO", &ca_path);
        }
        if let Some(token) = credentials.text("bearerToken") {
            config.push((
                "http.extraHeader".into(),
                format!("Authorization: Bearer {token}"),
            ));
        } else if let (Some(user), Some(password)) =
            (credentials.text("username"), credentials.text("password"))
        {
            let basic =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            config.push((
                "http.extraHeader".into(),
                format!("Authorization: Basic {basic}"),
            ));
        }
    }
    // Credentials travel in the environment, never on the command line.
    command.env("GIT_CONFIG_COUNT", config.len().to_string());
    for (index, (key, value)) in config.iter().enumerate() {
        command.env(format!("GIT_CONFIG_KEY_{index}"), key);
        command.env(format!("GIT_CONFIG_VALUE_{index}"), value);
    }
    let output = command
        .args([
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--single-branch",
            "--branch",
            branch,
        ])
        .arg(url)
        .arg(target)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if let Some(reason) = go_git_reason(&stderr) {
            return Err(reason.to_string());
        }
        let reason = stderr
            .lines()
            .map(|l| l.trim_start_matches("fatal: ").trim())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(reason);
    }
    let head = Command::new("git")
        .arg("-C")
        .arg(target)
        .args(["rev-parse", "HEAD"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    Ok(String::from_utf8_lossy(&head.stdout).trim().to_string())
}

/// source-controller clones with go-git; its words for the failures a bootstrap meets, read
/// from what git and ssh print for the same failure.
fn go_git_reason(stderr: &str) -> Option<&'static str> {
    if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        Some("ssh: handshake failed: knownhosts: key mismatch")
    } else if stderr.contains("Host key verification failed") {
        Some("ssh: handshake failed: knownhosts: key is unknown")
    } else if stderr.contains("Permission denied (publickey") {
        Some(
            "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none \
             publickey], no supported methods remain",
        )
    } else if stderr.contains("could not read Username")
        || stderr.contains("Authentication failed")
        || stderr.contains("The requested URL returned error: 401")
    {
        Some("authentication required")
    } else if stderr.contains("The requested URL returned error: 403") {
        Some("authorization failed")
    } else if stderr.contains("not found") || stderr.contains("does not appear to be a git") {
        Some("repository not found")
    } else {
        None
    }
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(contents).map_err(|e| e.to_string())?;
    // OpenSSH wants a final newline after a PEM key.
    if !contents.ends_with(b"\n") {
        file.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The YAML files a Kustomization builds from `dir`: its kustomization.yaml's `resources`,
/// or every YAML file below it (what kustomize-controller generates when there is none).
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let kustomization = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file());
    if let Some(path) = kustomization {
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let documents = fluxstrap_core::yaml::parse_documents(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let config = documents
            .first()
            .map(fluxstrap_core::cluster::to_json)
            .unwrap_or(Value::Null);
        for resource in config
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let target = dir.join(resource);
            if target.is_dir() {
                collect_files(&target, out)?;
            } else if target.is_file() {
                out.push(target);
            } else {
                return Err(format!(
                    "accumulating resources: accumulation err='accumulating resources from \
                     '{resource}': open {}: no such file or directory'",
                    target.display()
                ));
            }
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_files(&entry, out)?;
        } else if entry.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(entry);
        }
    }
    Ok(())
}

fn build(dir: &Path) -> Result<Vec<Value>, String> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
        let documents = fluxstrap_core::yaml::parse_documents(&text)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        objects.extend(fluxstrap_core::cluster::objects_from_documents(&documents));
    }
    Ok(objects)
}

/// `<namespace>_<name>_<group>_<Kind>`, as Flux's inventory spells object ids.
fn inventory_id(object: &Value) -> String {
    let api_version = text(object, "/apiVersion");
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    format!(
        "{}_{}_{}_{}",
        text(object, "/metadata/namespace"),
        text(object, "/metadata/name"),
        group,
        text(object, "/kind")
    )
}

impl Simulator {
    pub fn new(mode: FluxSimulation, work_dir: PathBuf) -> Self {
        Self {
            mode,
            work_dir,
            attempts: HashMap::new(),
            artifacts: HashMap::new(),
        }
    }

    /// Whether `object` needs a reconcile now.
    fn due(&self, kind: &str, object: &Value, source_revision: &str, requeue: Duration) -> bool {
        let key = (
            kind.to_string(),
            text(object, "/metadata/namespace").to_string(),
            text(object, "/metadata/name").to_string(),
        );
        if object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
            return false;
        }
        let Some(attempt) = self.attempts.get(&key) else {
            return true;
        };
        attempt.generation != generation(object)
            || attempt.requested_at
                != text(
                    object,
                    "/metadata/annotations/reconcile.fluxcd.io~1requestedAt",
                )
            || attempt.source_revision != source_revision
            || attempt.at.elapsed() >= interval_of(object).min(requeue)
    }

    fn attempted(&mut self, kind: &str, object: &Value, source_revision: &str) {
        self.attempts.insert(
            (
                kind.to_string(),
                text(object, "/metadata/namespace").to_string(),
                text(object, "/metadata/name").to_string(),
            ),
            Attempt {
                at: Instant::now(),
                generation: generation(object),
                requested_at: text(
                    object,
                    "/metadata/annotations/reconcile.fluxcd.io~1requestedAt",
                )
                .to_string(),
                source_revision: source_revision.to_string(),
            },
        );
    }

    pub async fn reconcile(&mut self, shared: &Arc<Shared>) {
        let FluxSimulation::Enabled { requeue } = self.mode else {
            return;
        };
        let all = Selector::default();
        let (git_type, kustomization_type) = {
            let store = shared.store.lock().expect("store lock");
            (
                store.find_kind(SOURCE_GROUP, "GitRepository"),
                store.find_kind(KUSTOMIZE_GROUP, "Kustomization"),
            )
        };
        if let Some(git_type) = git_type {
            let repositories = shared
                .store
                .lock()
                .expect("store lock")
                .list(&git_type, None, &all, &all);
            for repository in repositories {
                if self.due("GitRepository", &repository, "", requeue) {
                    self.attempted("GitRepository", &repository, "");
                    self.reconcile_source(shared, &git_type, &repository).await;
                }
            }
        }
        if let Some(kustomization_type) = kustomization_type {
            let kustomizations = shared.store.lock().expect("store lock").list(
                &kustomization_type,
                None,
                &all,
                &all,
            );
            for kustomization in kustomizations {
                let namespace = text(&kustomization, "/metadata/namespace").to_string();
                let source_namespace = match text(&kustomization, "/spec/sourceRef/namespace") {
                    "" => namespace.clone(),
                    other => other.to_string(),
                };
                let source_name = text(&kustomization, "/spec/sourceRef/name").to_string();
                let artifact = self
                    .artifacts
                    .get(&(source_namespace, source_name))
                    .cloned();
                let revision = artifact
                    .as_ref()
                    .map(|a| a.revision.clone())
                    .unwrap_or_default();
                if self.due("Kustomization", &kustomization, &revision, requeue) {
                    self.attempted("Kustomization", &kustomization, &revision);
                    self.reconcile_kustomization(
                        shared,
                        &kustomization_type,
                        &kustomization,
                        artifact,
                    );
                }
            }
        }
    }

    fn secret(shared: &Shared, namespace: &str, name: &str) -> Option<Credentials> {
        let store = shared.store.lock().expect("store lock");
        let secrets = store.find_kind("", "Secret")?;
        let secret = store.get(&secrets, namespace, name)?;
        let mut credentials = Credentials::default();
        for (key, value) in secret
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(decoded) = value
                .as_str()
                .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            {
                credentials.fields.insert(key.clone(), decoded);
            }
        }
        Some(credentials)
    }

    async fn reconcile_source(
        &mut self,
        shared: &Arc<Shared>,
        resource: &ResourceType,
        repository: &Value,
    ) {
        let namespace = text(repository, "/metadata/namespace").to_string();
        let name = text(repository, "/metadata/name").to_string();
        let generation = generation(repository);
        if shared.never_ready(NeverReady::GitRepositories) {
            let status = json!({"conditions": [
                condition("Reconciling", "True", "Progressing", "reconciliation in progress", generation),
                condition("Ready", "Unknown", "Progressing", "reconciliation in progress", generation),
            ]});
            report(shared, resource, &namespace, &name, status);
            return;
        }
        let url = text(repository, "/spec/url").to_string();
        let branch = match text(repository, "/spec/ref/branch") {
            "" => "master".to_string(),
            other => other.to_string(),
        };
        let secret_name = text(repository, "/spec/secretRef/name").to_string();
        let credentials = if secret_name.is_empty() {
            Some(Credentials::default())
        } else {
            Self::secret(shared, &namespace, &secret_name)
        };
        let Some(credentials) = credentials else {
            let message = format!(
                "failed to get secret '{namespace}/{secret_name}': secrets \"{secret_name}\" not found"
            );
            let status = json!({"observedGeneration": generation, "conditions": [
                condition("FetchFailed", "True", "AuthenticationFailed", &message, generation),
                condition("Ready", "False", "AuthenticationFailed", &message, generation),
            ]});
            report(shared, resource, &namespace, &name, status);
            return;
        };
        let job = self.work_dir.join("jobs").join(&namespace).join(&name);
        let checkout_root = self.work_dir.join("artifacts").join(&namespace).join(&name);
        let attempt_dir = checkout_root.join(format!("attempt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&attempt_dir);
        let (job_for_task, dir_for_task, url_for_task, branch_for_task) = (
            job.clone(),
            attempt_dir.clone(),
            url.clone(),
            branch.clone(),
        );
        let result = tokio::task::spawn_blocking(move || {
            let result = clone_branch(
                &url_for_task,
                &branch_for_task,
                &credentials,
                &job_for_task,
                &dir_for_task,
            );
            // The job directory holds the private key: never leave it behind.
            let _ = std::fs::remove_dir_all(&job_for_task);
            result
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        match result {
            Ok(sha) => {
                let checkout = checkout_root.join(&sha);
                if !checkout.exists() {
                    let _ = std::fs::rename(&attempt_dir, &checkout);
                } else {
                    let _ = std::fs::remove_dir_all(&attempt_dir);
                }
                let revision = format!("{branch}@sha1:{sha}");
                let message = format!("stored artifact for revision '{revision}'");
                let digest = Sha256::digest(revision.as_bytes())
                    .iter()
                    .fold(String::from("sha256:"), |hex, b| hex + &format!("{b:02x}"));
                let path = format!("gitrepository/{namespace}/{name}/{sha}.tar.gz");
                let status = json!({
                    "observedGeneration": generation,
                    "conditions": [
                        condition("Ready", "True", "Succeeded", &message, generation),
                        condition("ArtifactInStorage", "True", "Succeeded", &message, generation),
                    ],
                    "artifact": {
                        "path": path,
                        "url": format!("http://source-controller.{namespace}.svc.cluster.local./{path}"),
                        "revision": revision, "digest": digest, "lastUpdateTime": now(),
                    },
                });
                self.artifacts.insert(
                    (namespace.clone(), name.clone()),
                    Artifact { revision, checkout },
                );
                report(shared, resource, &namespace, &name, status);
            }
            Err(reason) => {
                let _ = std::fs::remove_dir_all(&attempt_dir);
                let message = format!(
                    "failed to checkout and determine revision: unable to clone '{url}': {reason}"
                );
                let mut status = json!({"observedGeneration": generation, "conditions": [
                    condition("FetchFailed", "True", "GitOperationFailed", &message, generation),
                    condition("Ready", "False", "GitOperationFailed", &message, generation),
                ]});
                // A failed fetch keeps the last artifact, as source-controller does.
                if let Some(artifact) = self
                    .artifacts
                    .get(&(namespace.clone(), name.clone()))
                    .and_then(|_| repository.pointer("/status/artifact"))
                {
                    status["artifact"] = artifact.clone();
                }
                report(shared, resource, &namespace, &name, status);
            }
        }
    }

    fn reconcile_kustomization(
        &mut self,
        shared: &Arc<Shared>,
        resource: &ResourceType,
        kustomization: &Value,
        artifact: Option<Artifact>,
    ) {
        let namespace = text(kustomization, "/metadata/namespace").to_string();
        let name = text(kustomization, "/metadata/name").to_string();
        let generation = generation(kustomization);
        let previous_status = kustomization.get("status").cloned().unwrap_or(json!({}));
        let progressing = |message: &str| {
            let mut status = previous_status.clone();
            status["conditions"] = json!([
                condition("Reconciling", "True", "Progressing", message, generation),
                condition("Ready", "Unknown", "Progressing", message, generation),
            ]);
            status
        };
        if shared.never_ready(NeverReady::Kustomizations) {
            let status = progressing("Reconciliation in progress");
            report(shared, resource, &namespace, &name, status);
            return;
        }
        let Some(artifact) = artifact else {
            let status = progressing("Source artifact not found, retrying in 30s");
            report(shared, resource, &namespace, &name, status);
            return;
        };
        let failed = |reason: &str, message: &str| {
            let mut status = previous_status.clone();
            status["observedGeneration"] = json!(generation);
            status["lastAttemptedRevision"] = json!(artifact.revision);
            status["conditions"] =
                json!([condition("Ready", "False", reason, message, generation)]);
            status
        };
        let path = text(kustomization, "/spec/path")
            .trim_start_matches("./")
            .to_string();
        let dir = artifact.checkout.join(&path);
        if !dir.is_dir() {
            let message = format!(
                "kustomization path not found: stat {}: no such file or directory",
                dir.display()
            );
            report(
                shared,
                resource,
                &namespace,
                &name,
                failed("ArtifactFailed", &message),
            );
            return;
        }
        let objects = match build(&dir) {
            Ok(objects) => objects,
            Err(message) => {
                report(
                    shared,
                    resource,
                    &namespace,
                    &name,
                    failed("BuildFailed", &message),
                );
                return;
            }
        };
        match self.apply_objects(shared, kustomization, objects) {
            Ok(Some(inventory)) => {
                let message = format!("Applied revision: {}", artifact.revision);
                let status = json!({
                    "observedGeneration": generation,
                    "lastAppliedRevision": artifact.revision,
                    "lastAttemptedRevision": artifact.revision,
                    "conditions": [condition("Ready", "True", "ReconciliationSucceeded", &message, generation)],
                    "inventory": {"entries": inventory},
                });
                report(shared, resource, &namespace, &name, status);
            }
            // Custom kinds not served yet: their CRDs were just applied. Try again shortly.
            Ok(None) => {
                self.attempts.remove(&(
                    "Kustomization".to_string(),
                    namespace.clone(),
                    name.clone(),
                ));
                let status = progressing("Reconciliation in progress");
                report(shared, resource, &namespace, &name, status);
            }
            Err(message) => {
                report(
                    shared,
                    resource,
                    &namespace,
                    &name,
                    failed("ReconciliationFailed", &message),
                );
            }
        }
    }

    /// Applies in Flux's stages; `Ok(None)` when some kinds are not served yet.
    fn apply_objects(
        &mut self,
        shared: &Arc<Shared>,
        kustomization: &Value,
        objects: Vec<Value>,
    ) -> Result<Option<Vec<Value>>, String> {
        use fluxstrap_core::cluster::{ApplyStage, ObjectRef, apply_stage, compare_for_apply};
        let owner_name = text(kustomization, "/metadata/name").to_string();
        let owner_namespace = text(kustomization, "/metadata/namespace").to_string();
        let target_namespace = text(kustomization, "/spec/targetNamespace").to_string();
        let mut prepared: Vec<(ObjectRef, Value)> = Vec::new();
        for mut object in objects {
            let labels = &mut object["metadata"]["labels"];
            if !labels.is_object() {
                *labels = json!({});
            }
            labels["kustomize.toolkit.fluxcd.io/name"] = json!(owner_name);
            labels["kustomize.toolkit.fluxcd.io/namespace"] = json!(owner_namespace);
            if !target_namespace.is_empty() {
                object["metadata"]["namespace"] = json!(target_namespace);
            }
            let reference = ObjectRef::of(&object)
                .ok_or("every object needs apiVersion, kind and metadata.name")?;
            prepared.push((reference, object));
        }
        prepared.sort_by(|a, b| {
            (apply_stage(&a.0), 0)
                .cmp(&(apply_stage(&b.0), 0))
                .then_with(|| compare_for_apply(&a.0, &b.0))
        });
        let options = WriteOptions {
            manager: "kustomize-controller".into(),
            version: String::new(),
            part: Part::Main,
            dry_run: false,
            validation: FieldValidation::Prune,
        };
        let mut inventory = Vec::new();
        let mut store = shared.store.lock().expect("store lock");
        for (reference, mut object) in prepared {
            let Some(resource) = store.find_kind(&reference.group, &reference.kind) else {
                if apply_stage(&reference) == ApplyStage::Resources {
                    return Ok(None);
                }
                return Err(format!(
                    "{} dry-run failed: no matches for kind \"{}\" in version \"{}\"",
                    reference.display(),
                    reference.kind,
                    text(&object, "/apiVersion")
                ));
            };
            if !resource.versions.contains(&reference.version) {
                return Ok(None);
            }
            let namespace = if resource.namespaced {
                match reference.namespace.as_str() {
                    "" => "default".to_string(),
                    ns => ns.to_string(),
                }
            } else {
                String::new()
            };
            if resource.namespaced {
                object["metadata"]["namespace"] = json!(namespace);
            }
            let options = WriteOptions {
                version: reference.version.clone(),
                ..options.clone()
            };
            store
                .patch(
                    &resource,
                    &namespace,
                    &reference.name,
                    PatchKind::Apply,
                    &object,
                    true,
                    &options,
                )
                .map_err(|e| {
                    format!(
                        "{} dry-run failed ({}): {}",
                        reference.display(),
                        e.reason,
                        e.message
                    )
                })?;
            inventory.push(json!({"id": inventory_id(&object), "v": reference.version}));
        }
        // Prune what the previous inventory had and this one does not.
        if kustomization
            .pointer("/spec/prune")
            .and_then(Value::as_bool)
            == Some(true)
        {
            let current: Vec<&str> = inventory
                .iter()
                .filter_map(|e| e.get("id").and_then(Value::as_str))
                .collect();
            let previous = kustomization
                .pointer("/status/inventory/entries")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for entry in previous {
                let id = entry.get("id").and_then(Value::as_str).unwrap_or("");
                if current.contains(&id) {
                    continue;
                }
                let parts: Vec<&str> = id.splitn(4, '_').collect();
                if let [namespace, name, group, kind] = parts.as_slice()
                    && let Some(resource) = store.find_kind(group, kind)
                {
                    let _ = store.delete(&resource, namespace, name, false);
                }
            }
        }
        drop(store);
        shared.wake.notify_one();
        Ok(Some(inventory))
    }
}
