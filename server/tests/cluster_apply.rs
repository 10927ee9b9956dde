//! The apply engine (kube-rs) against the sandbox's Kubernetes API emulator, with the Flux
//! simulator cloning from the Bitbucket emulator: the full v2.9.4 install with every component,
//! the source Secret, the sync objects, flux's three waits, a re-apply that changes nothing, and
//! a Kustomization that never gets ready. Prints the apply times.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fluxstrap_core::cluster::{ApplyAction, SyncKind, expected_revision, objects_from_documents};
use fluxstrap_core::install::InstallFlags;
use fluxstrap_core::options::{BranchName, Interval, Namespace};
use fluxstrap_core::sync::{SyncOptions, generate_sync};
use fluxstrap_sandbox::bitbucket::{self, BitbucketEmulator};
use fluxstrap_sandbox::kube::{self, Fault, KubeEmulator, NeverReady, Options};
use fluxstrap_server::cluster::{
    Cluster, ClusterEvent, ComponentsStep, KubeconfigSource, WaitSettings,
};
use fluxstrap_server::git::{CommitSpec, FileWrite, GitAuth, Secret, WriteMode, sync_files};
use serde_json::Value;

const ADMIN: &str = "admin-token-0123456789abcdef";
const VERSION: &str = "v2.9.4";
const ALL_COMPONENTS: &[&str] = &[
    "helm-controller",
    "image-automation-controller",
    "image-reflector-controller",
    "kustomize-controller",
    "notification-controller",
    "source-controller",
    "source-watcher",
];

fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/flux/releases/v2.9.4/manifests")
}

/// gotk-components.yaml with every component, as `flux install --components-extra=…` writes it.
fn components_yaml() -> String {
    let mut flags = InstallFlags::defaults(VERSION);
    flags
        .apply_args(&[
            "--components-extra=image-reflector-controller,image-automation-controller,source-watcher",
        ])
        .unwrap();
    let files = fluxstrap_server::releases::read_local(&manifests_dir()).unwrap();
    let distribution = fluxstrap_core::install::Distribution::from_files(files).unwrap();
    fluxstrap_core::install::generate(&distribution, &flags.to_options().unwrap()).unwrap()
}

fn sync_yaml(url: &str) -> String {
    generate_sync(&SyncOptions {
        version: fluxstrap_core::install::FluxVersion::parse(VERSION).unwrap(),
        namespace: Namespace::default(),
        url: url.to_string(),
        branch: BranchName::parse("main").unwrap(),
        interval: Interval::parse("1m0s").unwrap(),
        secret_name: "flux-system".into(),
        target_path: "clusters/dev".into(),
        submodules: Default::default(),
        sparse_checkout: Vec::new(),
    })
}

fn objects(yaml: &str) -> Vec<Value> {
    objects_from_documents(&fluxstrap_core::yaml::parse_documents(yaml).unwrap())
}

struct Sandbox {
    root: PathBuf,
    bitbucket: BitbucketEmulator,
    kube: KubeEmulator,
}

async fn sandbox(name: &str, options: Options) -> Sandbox {
    let root = std::env::temp_dir().join(format!("fluxstrap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let bitbucket = BitbucketEmulator::start(bitbucket::Config::loopback(&root))
        .await
        .unwrap();
    let kube = KubeEmulator::start(kube::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        state_dir: root.join("kube"),
        options,
    })
    .await
    .unwrap();
    Sandbox {
        root,
        bitbucket,
        kube,
    }
}

impl Sandbox {
    fn create_repository(&self, name: &str) -> String {
        let out = Command::new("curl")
            .args(["-sf", "-X", "POST", "--cacert"])
            .arg(self.bitbucket.ca_file().unwrap())
            .args([
                "-H",
                &format!("Authorization: Bearer {ADMIN}"),
                "-H",
                "Content-Type: application/json",
                "--data",
                &format!(r#"{{"name":"{name}","defaultBranch":"main"}}"#),
            ])
            .arg(format!(
                "{}/rest/api/1.0/projects/PLAT/repos",
                self.bitbucket.base_url()
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "repository {name} not created");
        format!("{}/scm/plat/{name}.git", self.bitbucket.base_url())
    }

    fn auth(&self) -> GitAuth {
        GitAuth::Https {
            username: "admin".into(),
            token: Secret::new(ADMIN),
            ca_file: Some(self.bitbucket.ca_file().unwrap().to_path_buf()),
        }
    }

    /// Pushes the flux-system files; returns the commit the cluster must report.
    async fn push(&self, url: &str, components: &str, sync: &str) -> String {
        let writes = vec![
            FileWrite {
                path: "clusters/dev/flux-system/gotk-components.yaml".into(),
                content: components.as_bytes().to_vec(),
                mode: WriteMode::Overwrite,
            },
            FileWrite {
                path: "clusters/dev/flux-system/gotk-sync.yaml".into(),
                content: sync.as_bytes().to_vec(),
                mode: WriteMode::Overwrite,
            },
            FileWrite {
                path: "clusters/dev/flux-system/kustomization.yaml".into(),
                content: b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-components.yaml\n- gotk-sync.yaml\n".to_vec(),
                mode: WriteMode::CreateOnly,
            },
        ];
        let commit = CommitSpec {
            subject: "Add Flux sync manifests".into(),
            message: "Add Flux sync manifests".into(),
            appendix: None,
            author_name: "Flux".into(),
            author_email: String::new(),
            signing: fluxstrap_server::git::Signing::None,
        };
        let jobs = self.root.join("jobs");
        std::fs::create_dir_all(&jobs).unwrap();
        match sync_files(
            url,
            &self.auth(),
            "main",
            &writes,
            &commit,
            &jobs,
            &mut |_| {},
        )
        .await
        .unwrap()
        {
            fluxstrap_server::git::SyncOutcome::Pushed { commit, .. } => commit,
            fluxstrap_server::git::SyncOutcome::UpToDate { head } => head,
        }
    }

    async fn cluster(&self) -> Cluster {
        Cluster::connect(&KubeconfigSource::File {
            path: self.kube.kubeconfig_path().to_path_buf(),
            context: None,
        })
        .await
        .unwrap()
    }

    /// Where a bootstrap starts waiting: the flux-system files pushed to a new repository, the
    /// components installed, the source Secret and the sync objects applied. Returns the sync
    /// URL and the revision Flux must report.
    async fn installed_and_synced(
        &self,
        cluster: &Cluster,
        secret: BTreeMap<String, String>,
    ) -> (String, String) {
        let url = self.create_repository("fleet");
        let components = components_yaml();
        let sync = sync_yaml(&url);
        let head = self.push(&url, &components, &sync).await;
        let wait = fast(Duration::from_secs(30));
        cluster
            .apply_staged(objects(&components), &wait, &mut |_| {})
            .await
            .unwrap();
        cluster
            .reconcile_secret("flux-system", "flux-system", None, secret, &mut |_| {})
            .await
            .unwrap();
        cluster
            .apply_staged(objects(&sync), &wait, &mut |_| {})
            .await
            .unwrap();
        (url, expected_revision("main", &head))
    }

    /// The Secret the GitRepository clones with: HTTPS basic auth and the Bitbucket CA.
    fn source_secret(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("username".to_string(), "admin".to_string()),
            ("password".to_string(), ADMIN.to_string()),
            (
                "ca.crt".to_string(),
                std::fs::read_to_string(self.bitbucket.ca_file().unwrap()).unwrap(),
            ),
        ])
    }
}

fn fast(timeout: Duration) -> WaitSettings {
    WaitSettings {
        interval: Duration::from_millis(250),
        timeout,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_install_and_sync_become_healthy_and_a_second_apply_changes_nothing() {
    let sandbox = sandbox("cluster-full", Options::default()).await;
    let url = sandbox.create_repository("fleet");
    let components = components_yaml();
    let sync = sync_yaml(&url);
    let head = sandbox.push(&url, &components, &sync).await;
    let cluster = sandbox.cluster().await;
    let mut events: Vec<String> = Vec::new();
    let mut record = |event: ClusterEvent| events.push(event.to_string());

    let component_objects = objects(&components);
    let started = Instant::now();
    let applied = cluster
        .apply_staged(
            component_objects.clone(),
            &fast(Duration::from_secs(30)),
            &mut record,
        )
        .await
        .unwrap();
    let install_time = started.elapsed();
    assert_eq!(applied.len(), component_objects.len());
    assert!(applied.iter().all(|a| a.action == ApplyAction::Created));
    // Every component's Deployment, CRDs and the namespace are stored, applied by `flux`.
    let deployment = sandbox
        .kube
        .object("apps", "Deployment", "flux-system", "source-watcher")
        .expect("source-watcher applied");
    let managers: Vec<&str> = deployment["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["manager"].as_str())
        .collect();
    assert!(managers.contains(&"flux"), "{managers:?}");
    assert!(
        sandbox
            .kube
            .object(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                "",
                "gitrepositories.source.toolkit.fluxcd.io"
            )
            .is_some()
    );

    cluster
        .reconcile_secret(
            "flux-system",
            "flux-system",
            None,
            sandbox.source_secret(),
            &mut record,
        )
        .await
        .unwrap();
    let started = Instant::now();
    cluster
        .apply_staged(objects(&sync), &fast(Duration::from_secs(30)), &mut record)
        .await
        .unwrap();
    let sync_apply_time = started.elapsed();

    let revision = expected_revision("main", &head);
    let started = Instant::now();
    for kind in [SyncKind::GitRepository, SyncKind::Kustomization] {
        cluster
            .wait_synced(
                kind,
                "flux-system",
                "flux-system",
                &revision,
                &fast(Duration::from_secs(60)),
                &mut record,
            )
            .await
            .unwrap();
    }
    let names: Vec<String> = ALL_COMPONENTS.iter().map(|s| s.to_string()).collect();
    let health = cluster
        .components_health(
            "flux-system",
            &names,
            &fast(Duration::from_secs(30)),
            &mut record,
        )
        .await
        .unwrap();
    let sync_time = started.elapsed();
    assert!(health.iter().all(|c| c.found && c.ready));
    assert!(events.contains(&"✔ GitRepository reconciled successfully".to_string()));
    assert!(events.contains(&"✔ Kustomization reconciled successfully".to_string()));
    assert!(events.contains(&"✔ source-watcher: deployment ready".to_string()));
    assert_eq!(
        events.last().map(String::as_str),
        Some("✔ all components are healthy")
    );

    // The simulated kustomize-controller applied the pushed manifests and owns them too.
    let kustomization = sandbox
        .kube
        .object(
            "kustomize.toolkit.fluxcd.io",
            "Kustomization",
            "flux-system",
            "flux-system",
        )
        .unwrap();
    assert_eq!(kustomization["status"]["lastAppliedRevision"], revision);
    let deployment = sandbox
        .kube
        .object("apps", "Deployment", "flux-system", "helm-controller")
        .unwrap();
    assert_eq!(
        deployment["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"],
        "flux-system"
    );

    // A second run: nothing to apply, no write reaches the API server.
    let writes_before = sandbox
        .kube
        .request_log()
        .iter()
        .filter(|r| r.method == "PATCH" && !r.path_and_query.contains("dryRun=All"))
        .count();
    let started = Instant::now();
    let again = cluster
        .apply_staged(
            component_objects,
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap();
    let reapply_time = started.elapsed();
    let changed: Vec<String> = again
        .iter()
        .filter(|a| a.action != ApplyAction::Unchanged)
        .map(|a| a.object.display())
        .collect();
    assert!(changed.is_empty(), "changed on re-apply: {changed:?}");
    let writes_after = sandbox
        .kube
        .request_log()
        .iter()
        .filter(|r| r.method == "PATCH" && !r.path_and_query.contains("dryRun=All"))
        .count();
    assert_eq!(writes_before, writes_after);

    println!(
        "apply timings against the emulator ({} build): full v2.9.4 install with all \
         components ({} objects) {install_time:?}; sync objects {sync_apply_time:?}; \
         waits until Flux reports {revision} and all components are healthy {sync_time:?}; \
         re-apply (all unchanged) {reapply_time:?}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        again.len()
    );
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kustomization_that_never_gets_ready_fails_at_the_timeout_with_fluxs_message() {
    let sandbox = sandbox("cluster-never-ready", Options::default()).await;
    sandbox
        .kube
        .inject(Fault::NeverReady(NeverReady::Kustomizations));
    let cluster = sandbox.cluster().await;
    let (_, revision) = sandbox
        .installed_and_synced(&cluster, sandbox.source_secret())
        .await;
    cluster
        .wait_synced(
            SyncKind::GitRepository,
            "flux-system",
            "flux-system",
            &revision,
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap();
    let started = Instant::now();
    let error = cluster
        .wait_synced(
            SyncKind::Kustomization,
            "flux-system",
            "flux-system",
            &revision,
            &fast(Duration::from_secs(3)),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    let waited = started.elapsed();
    // flux's words (spec §2.8): the error names the object and surfaces its Ready message.
    assert_eq!(
        error.to_string(),
        "error while waiting for Kustomization to be ready: 'kustomization \
         'flux-system/flux-system' not ready: 'Reconciliation in progress''"
    );
    assert!(
        waited >= Duration::from_secs(2),
        "gave up early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(10),
        "overran the timeout: {waited:?}"
    );
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

fn no_flux() -> Options {
    Options {
        flux: kube::FluxSimulation::Disabled,
        ..Options::default()
    }
}

/// PATCHes that wrote (not dry runs) since the log began.
fn writes(kube: &KubeEmulator) -> usize {
    kube.request_log()
        .iter()
        .filter(|r| {
            matches!(r.method.as_str(), "PATCH" | "PUT" | "POST")
                && !r.path_and_query.contains("dryRun=All")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_are_left_to_flux_once_it_applied_a_revision_and_the_sync_path_is_guarded() {
    let sandbox = sandbox("cluster-skip", no_flux()).await;
    let cluster = sandbox.cluster().await;
    let mut events = Vec::new();
    let mut record = |e: ClusterEvent| events.push(e.to_string());
    let first = cluster
        .install_components(
            "flux-system",
            objects(&components_yaml()),
            &fast(Duration::from_secs(30)),
            &mut record,
        )
        .await
        .unwrap();
    assert!(matches!(first, ComponentsStep::Installed(ref applied) if !applied.is_empty()));
    cluster
        .apply_sync(
            "flux-system",
            "clusters/dev",
            objects(&sync_yaml("ssh://git@example.com/PLAT/fleet")),
            &fast(Duration::from_secs(30)),
            &mut record,
        )
        .await
        .unwrap();
    assert_eq!(
        events.first().map(String::as_str),
        Some("► installing components in \"flux-system\" namespace")
    );
    assert!(events.contains(&"✔ reconciled sync configuration".to_string()));

    // Until kustomize-controller reports a revision, the CLI still owns the install.
    let again = cluster
        .install_components(
            "flux-system",
            objects(&components_yaml()),
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(matches!(again, ComponentsStep::Installed(_)));

    // Play kustomize-controller: a revision applied.
    sandbox
        .kube
        .set_status(
            "kustomize.toolkit.fluxcd.io",
            "Kustomization",
            "flux-system",
            "flux-system",
            serde_json::json!({"lastAppliedRevision": "main@sha1:0123456789012345678901234567890123456789"}),
        )
        .unwrap();
    let before = writes(&sandbox.kube);
    let skipped = cluster
        .install_components(
            "flux-system",
            objects(&components_yaml()),
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(skipped, ComponentsStep::ManagedByFlux);
    assert_eq!(writes(&sandbox.kube), before, "a skipped install wrote");

    // Moving the Kustomization to another path would prune what the old one deployed.
    let error = cluster
        .apply_sync(
            "flux-system",
            "./clusters/other/",
            objects(&sync_yaml("ssh://git@example.com/PLAT/fleet")),
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "sync path configuration (\"./clusters/other\") would overwrite path (\"./clusters/dev\") \
         of existing Kustomization"
    );
    assert_eq!(writes(&sandbox.kube), before);
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_discovery_only_servers_still_resolve_new_custom_kinds() {
    let sandbox = sandbox(
        "cluster-legacy",
        Options {
            discovery: kube::Discovery::LegacyOnly,
            ..no_flux()
        },
    )
    .await;
    let cluster = sandbox.cluster().await;
    let mut all = objects(&components_yaml());
    all.extend(objects(&sync_yaml("ssh://git@example.com/PLAT/fleet")));
    let applied = cluster
        .apply_staged(all, &fast(Duration::from_secs(30)), &mut |_| {})
        .await
        .unwrap();
    assert!(applied.iter().all(|a| a.action == ApplyAction::Created));
    assert!(
        sandbox
            .kube
            .object(
                "source.toolkit.fluxcd.io",
                "GitRepository",
                "flux-system",
                "flux-system"
            )
            .is_some()
    );
    let log = sandbox.kube.request_log();
    assert!(
        log.iter().any(|r| r
            .path_and_query
            .starts_with("/apis/source.toolkit.fluxcd.io/v1")
            && r.method == "GET"),
        "the legacy per-group discovery was not used"
    );
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_halfway_is_reported_and_a_rerun_finishes_the_job() {
    let sandbox = sandbox("cluster-fault", no_flux()).await;
    let cluster = sandbox.cluster().await;
    // The third PATCH of a Deployment: the dry run of the second one.
    sandbox.kube.inject(Fault::FailRequest {
        method: axum::http::Method::PATCH,
        resource: "deployments".into(),
        nth: 3,
        code: 500,
    });
    let component_objects = objects(&components_yaml());
    let error = cluster
        .apply_staged(
            component_objects.clone(),
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("dry-run applying Deployment/flux-system/"),
        "{message}"
    );
    assert!(message.contains("injected fault"), "{message}");
    let rerun = cluster
        .apply_staged(
            component_objects,
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap();
    let created = rerun
        .iter()
        .filter(|a| a.action == ApplyAction::Created)
        .count();
    let unchanged = rerun
        .iter()
        .filter(|a| a.action == ApplyAction::Unchanged)
        .count();
    assert!(
        created > 0 && unchanged > 0,
        "created {created}, unchanged {unchanged}"
    );
    assert_eq!(created + unchanged, rerun.len());
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_that_never_become_available_time_out_naming_each_component() {
    let sandbox = sandbox("cluster-unavailable", no_flux()).await;
    sandbox
        .kube
        .inject(Fault::NeverReady(NeverReady::Deployments));
    let cluster = sandbox.cluster().await;
    cluster
        .apply_staged(
            objects(&components_yaml()),
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap();
    let mut events = Vec::new();
    let names: Vec<String> = [
        "source-controller",
        "kustomize-controller",
        "missing-controller",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let error = cluster
        .components_health(
            "flux-system",
            &names,
            &fast(Duration::from_secs(2)),
            &mut |e| events.push(e.to_string()),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "timed out waiting for all resources to be ready"
    );
    assert_eq!(
        events,
        [
            "► confirming components are healthy",
            "✗ kustomize-controller: deployment not ready",
            "✗ missing-controller: deployment not found",
            "✗ source-controller: deployment not ready",
        ]
    );
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_makes_the_git_repository_fail_at_once_with_gits_message() {
    let sandbox = sandbox("cluster-wrong-token", Options::default()).await;
    let cluster = sandbox.cluster().await;
    let mut secret = sandbox.source_secret();
    secret.insert("password".into(), "not-the-token".into());
    let (url, revision) = sandbox.installed_and_synced(&cluster, secret).await;
    let started = Instant::now();
    let error = cluster
        .wait_synced(
            SyncKind::GitRepository,
            "flux-system",
            "flux-system",
            &revision,
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "Ready=False must end the wait at once"
    );
    assert!(
        error.starts_with(&format!(
            "error while waiting for GitRepository to be ready: 'failed to checkout and \
             determine revision: unable to clone '{url}': "
        )),
        "{error}"
    );
    // go-git's words, as source-controller reports a 401.
    assert!(error.ends_with("': authentication required'"), "{error}");
    assert!(
        !error.contains("not-the-token"),
        "the password leaked: {error}"
    );
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

/// Polls the object until `done` says yes (the status moved), for up to `timeout`.
async fn poll_until(
    cluster: &Cluster,
    kind: SyncKind,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let object = cluster
            .get_sync_object(kind, "flux-system", "flux-system")
            .await
            .unwrap()
            .unwrap_or_default();
        if done(&object) {
            return object;
        }
        assert!(
            Instant::now() < deadline,
            "{kind:?} did not get there: {}",
            object["status"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The GitRepository's Ready message once it reports Ready=False.
async fn not_ready_message(cluster: &Cluster) -> String {
    let object = poll_until(
        cluster,
        SyncKind::GitRepository,
        Duration::from_secs(20),
        |o| ready_message(o).0 == "False",
    )
    .await;
    ready_message(&object).1
}

fn ready_message(object: &Value) -> (String, String) {
    let ready = object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .cloned()
        .unwrap_or_default();
    (
        ready["status"].as_str().unwrap_or("").to_string(),
        ready["message"].as_str().unwrap_or("").to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_deploy_keys_missing_registered_and_a_wrong_known_hosts_behave_as_in_flux() {
    use fluxstrap_core::secret::{KeyPair, KeySpec, SourceSecretData};
    let sandbox = sandbox("cluster-ssh", Options::default()).await;
    let https_url = sandbox.create_repository("fleet");
    let ssh_url = format!(
        "{}/PLAT/fleet",
        sandbox.bitbucket.ssh_url().expect("ssh is enabled")
    );
    let components = components_yaml();
    let sync = sync_yaml(&ssh_url);
    let head = sandbox.push(&https_url, &components, &sync).await;
    let revision = expected_revision("main", &head);
    let cluster = sandbox.cluster().await;
    cluster
        .apply_staged(
            objects(&components),
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap();

    // flux's default deploy key (ECDSA P-384), not registered in Bitbucket yet.
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let key_pair = KeyPair::generate(KeySpec::default(), &mut rng).unwrap();
    let known_hosts = sandbox.bitbucket.ssh_known_hosts().unwrap().to_string();
    let secret = SourceSecretData::Ssh {
        key_pair: key_pair.clone(),
        known_hosts: known_hosts.clone(),
    };
    cluster
        .reconcile_secret(
            "flux-system",
            "flux-system",
            None,
            secret.string_data(),
            &mut |_| {},
        )
        .await
        .unwrap();
    cluster
        .apply_staged(objects(&sync), &fast(Duration::from_secs(30)), &mut |_| {})
        .await
        .unwrap();
    let refused = not_ready_message(&cluster).await;
    assert!(refused.ends_with("unable to authenticate, attempted methods [none publickey], no supported methods remain"), "{refused}");

    // Register the deploy key as a read-only access key, as bootstrap does; the next
    // reconcile clones at the pushed commit and the Kustomization applies it.
    let out = Command::new("curl")
        .args(["-sf", "-X", "POST", "--cacert"])
        .arg(sandbox.bitbucket.ca_file().unwrap())
        .args([
            "-H",
            &format!("Authorization: Bearer {ADMIN}"),
            "-H",
            "Content-Type: application/json",
            "--data",
            &serde_json::json!({"key": {"text": key_pair.public_authorized().trim(),
                                        "label": "flux-system-main-flux-system-./clusters/dev"},
                                "permission": "REPO_READ"})
            .to_string(),
        ])
        .arg(format!(
            "{}/rest/keys/1.0/projects/PLAT/repos/fleet/ssh",
            sandbox.bitbucket.base_url()
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    poll_until(
        &cluster,
        SyncKind::GitRepository,
        Duration::from_secs(20),
        |o| {
            o["status"]["artifact"]["revision"] == revision.as_str() && ready_message(o).0 == "True"
        },
    )
    .await;
    cluster
        .wait_synced(
            SyncKind::Kustomization,
            "flux-system",
            "flux-system",
            &revision,
            &fast(Duration::from_secs(20)),
            &mut |_| {},
        )
        .await
        .unwrap();

    // A known_hosts line with another key for the same host: the clone must stop.
    let other = KeyPair::generate(KeySpec::Ed25519, &mut rng).unwrap();
    let host = known_hosts.split_whitespace().next().unwrap();
    let wrong = SourceSecretData::Ssh {
        key_pair,
        known_hosts: format!("{host} {}", other.public_authorized().trim()),
    };
    cluster
        .reconcile_secret(
            "flux-system",
            "flux-system",
            None,
            wrong.string_data(),
            &mut |_| {},
        )
        .await
        .unwrap();
    let mismatch = not_ready_message(&cluster).await;
    assert!(mismatch.ends_with("knownhosts: key mismatch"), "{mismatch}");
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_created_then_updated_keeping_keys_flux_does_not_write() {
    use base64::Engine as _;
    let sandbox = sandbox("cluster-secrets", no_flux()).await;
    let cluster = sandbox.cluster().await;
    cluster
        .apply_staged(
            objects("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n"),
            &fast(Duration::from_secs(10)),
            &mut |_| {},
        )
        .await
        .unwrap();
    let mut events = Vec::new();
    let pull = fluxstrap_core::secret::docker_config_json("ghcr.io", "bot", "s3cret");
    let created = cluster
        .reconcile_secret(
            "flux-system",
            "regcred",
            Some("kubernetes.io/dockerconfigjson"),
            BTreeMap::from([(".dockerconfigjson".to_string(), pull.clone())]),
            &mut |e| events.push(e.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(created, fluxstrap_server::cluster::SecretAction::Created);
    let stored = sandbox
        .kube
        .object("", "Secret", "flux-system", "regcred")
        .unwrap();
    assert_eq!(stored["type"], "kubernetes.io/dockerconfigjson");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(stored["data"][".dockerconfigjson"].as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), pull);
    assert!(stored.get("stringData").is_none());

    // Switching from SSH to token auth: the new keys are written, the old ones stay (flux
    // sets stringData on the existing Secret).
    cluster
        .reconcile_secret(
            "flux-system",
            "flux-system",
            None,
            BTreeMap::from([("identity".to_string(), "old-key".to_string())]),
            &mut |_| {},
        )
        .await
        .unwrap();
    let updated = cluster
        .reconcile_secret(
            "flux-system",
            "flux-system",
            None,
            BTreeMap::from([
                ("username".to_string(), "git".to_string()),
                ("password".to_string(), "token".to_string()),
            ]),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(updated, fluxstrap_server::cluster::SecretAction::Updated);
    let stored = sandbox
        .kube
        .object("", "Secret", "flux-system", "flux-system")
        .unwrap();
    let keys: Vec<&String> = stored["data"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["identity", "password", "username"]);
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubeconfig_context_given_is_used_not_the_current_one() {
    let sandbox = sandbox("cluster-context", no_flux()).await;
    // A kubeconfig whose current context points at nothing, plus the emulator's context.
    let mut kubeconfig: Value =
        serde_json::from_slice(&std::fs::read(sandbox.kube.kubeconfig_path()).unwrap()).unwrap();
    kubeconfig["clusters"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "gone", "cluster": {"server": "https://127.0.0.1:1"}}));
    kubeconfig["contexts"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "gone", "context": {"cluster": "gone", "user": "fluxstrap-sandbox"}}));
    kubeconfig["current-context"] = serde_json::json!("gone");
    let path = sandbox.root.join("two-contexts.json");
    std::fs::write(&path, serde_json::to_vec(&kubeconfig).unwrap()).unwrap();

    let chosen = Cluster::connect(&KubeconfigSource::File {
        path: path.clone(),
        context: Some("fluxstrap-sandbox".into()),
    })
    .await
    .unwrap();
    chosen
        .apply_staged(
            objects("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: chosen\n"),
            &fast(Duration::from_secs(10)),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(sandbox.kube.object("", "Namespace", "", "chosen").is_some());

    let current = Cluster::connect(&KubeconfigSource::File {
        path,
        context: None,
    })
    .await
    .unwrap();
    let error = current
        .apply_staged(
            objects("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n"),
            &fast(Duration::from_secs(10)),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("discovering the cluster's API: ")
            && message.contains("Connection refused")
            && message
                .ends_with("are the kubeconfig's server address and context the right ones?)"),
        "{message}"
    );
    sandbox.kube.stop().await;
    sandbox.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_with_pkcs8_and_sec1_keys_authenticate_kube_rs() {
    for key in [kube::ClientKey::Pkcs8, kube::ClientKey::Sec1] {
        let sandbox = sandbox(
            &format!("cluster-cert-{key:?}"),
            Options {
                authentication: kube::Authentication::ClientCertificate(key),
                ..no_flux()
            },
        )
        .await;
        let cluster = sandbox.cluster().await;
        cluster
            .apply_staged(
                objects("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: by-certificate\n"),
                &fast(Duration::from_secs(10)),
                &mut |_| {},
            )
            .await
            .unwrap_or_else(|e| panic!("{key:?}: {e}"));
        assert!(
            sandbox
                .kube
                .object("", "Namespace", "", "by-certificate")
                .is_some()
        );
        sandbox.kube.stop().await;
        sandbox.bitbucket.stop().await;
    }
}
