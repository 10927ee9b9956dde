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
use fluxstrap_sandbox::bitbucket::{self, BitbucketEmulator, Seed, Ssh, Transport};
use fluxstrap_sandbox::kube::{self, Fault, KubeEmulator, NeverReady, Options};
use fluxstrap_server::cluster::{Cluster, ClusterEvent, KubeconfigSource, WaitSettings};
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
    fluxstrap_server::install::export(Some(&manifests_dir()), &flags).unwrap()
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
    let bitbucket = BitbucketEmulator::start(bitbucket::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        context_path: String::new(),
        git_root: root.join("repos"),
        seed: Seed::default(),
        ssh_port: 7999,
        transport: Transport::Https {
            certificates: root.join("tls"),
        },
        ssh: Ssh::Disabled,
    })
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
        "apply timings against the emulator (debug build): full v2.9.4 install with all \
         components ({} objects) {install_time:?}; sync objects {sync_apply_time:?}; \
         waits until Flux reports {revision} and all components are healthy {sync_time:?}; \
         re-apply (all unchanged) {reapply_time:?}",
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
    let url = sandbox.create_repository("fleet");
    let components = components_yaml();
    let sync = sync_yaml(&url);
    let head = sandbox.push(&url, &components, &sync).await;
    let cluster = sandbox.cluster().await;
    cluster
        .apply_staged(
            objects(&components),
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap();
    cluster
        .reconcile_secret(
            "flux-system",
            "flux-system",
            None,
            sandbox.source_secret(),
            &mut |_| {},
        )
        .await
        .unwrap();
    cluster
        .apply_staged(objects(&sync), &fast(Duration::from_secs(30)), &mut |_| {})
        .await
        .unwrap();
    let revision = expected_revision("main", &head);
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
