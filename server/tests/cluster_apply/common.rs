//! What the suite's tests share: the flux-system files, both emulators, a push through the git
//! port, polls of the Flux objects.

use std::collections::BTreeMap;
use std::time::Duration;

use fluxstrap_core::bootstrap::ports::{Checkout, CommitRequest, Git as _, PushResult};
use fluxstrap_core::cluster::{expected_revision, objects_from_documents};
use fluxstrap_core::install::InstallFlags;
use fluxstrap_core::options::{BranchName, Interval, Namespace};
use fluxstrap_core::sync::{SyncOptions, generate_sync};
use fluxstrap_sandbox::kube::{self, KubeEmulator, Options};
use fluxstrap_server::cluster::{
    AppliedObject, Cluster, KubeconfigSource, SecretAction, SecretWrite, WaitSettings,
};
use fluxstrap_server::git::{GitAuth, NativeGit, Secret, Signing};
use fluxstrap_testkit::paths::release_manifests;
use fluxstrap_testkit::{Bitbucket, Kube, seed};
use serde_json::Value;

pub(crate) const VERSION: &str = "v2.9.4";
pub(crate) const ALL_COMPONENTS: &[&str] = &[
    "helm-controller",
    "image-automation-controller",
    "image-reflector-controller",
    "kustomize-controller",
    "notification-controller",
    "source-controller",
    "source-watcher",
];

/// gotk-components.yaml with every component, as `flux install --components-extra=…` writes it.
pub(crate) fn components_yaml() -> String {
    let mut flags = InstallFlags::defaults(VERSION);
    flags
        .apply_args(&[
            "--components-extra=image-reflector-controller,image-automation-controller,source-watcher",
        ])
        .unwrap();
    let files = fluxstrap_server::releases::read_local(&release_manifests(VERSION)).unwrap();
    let distribution = fluxstrap_core::install::Distribution::from_files(files).unwrap();
    fluxstrap_core::install::generate(&distribution, &flags.to_options().unwrap()).unwrap()
}

pub(crate) fn sync_yaml(url: &str) -> String {
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

pub(crate) fn objects(yaml: &str) -> Vec<Value> {
    objects_from_documents(&fluxstrap_core::yaml::parse_documents(yaml).unwrap())
}

/// Both emulators: Bitbucket (HTTPS and SSH) for the Flux simulator to clone from.
pub(crate) struct Sandbox {
    pub(crate) bitbucket: Bitbucket,
    pub(crate) kube: Kube,
}

/// Both emulators for the test `name`, the Kubernetes one with `options`.
pub(crate) async fn sandbox(name: &str, options: Options) -> Sandbox {
    Sandbox {
        bitbucket: Bitbucket::loopback(name).start().await,
        kube: Kube::start(name, options).await,
    }
}

impl Sandbox {
    /// The Secret `name` in flux-system, as stored.
    pub(crate) fn secret(&self, name: &str) -> Value {
        self.kube
            .object("", "Secret", "flux-system", name)
            .unwrap_or_else(|| panic!("no Secret flux-system/{name}"))
    }

    /// Stops both emulators.
    pub(crate) async fn stop(self) {
        self.kube.stop().await;
        self.bitbucket.stop().await;
    }

    /// Creates the repository; returns its HTTPS clone URL.
    pub(crate) fn create_repository(&self, name: &str) -> String {
        self.bitbucket.create_repository(name);
        self.bitbucket.scm_url(name)
    }

    /// The admin's token over HTTPS, trusting the emulator's CA.
    pub(crate) fn auth(&self) -> GitAuth {
        GitAuth::Https {
            username: seed::admin().name.clone(),
            token: Secret::new(&seed::admin().token),
            ca_file: Some(self.bitbucket.ca_file().unwrap().to_path_buf()),
        }
    }

    /// Pushes the flux-system files through the git port; returns the pushed commit.
    pub(crate) async fn push(&self, url: &str, components: &str, sync: &str) -> String {
        let git = NativeGit::new(
            self.auth(),
            Signing::None,
            self.bitbucket.dir().subdir("jobs"),
        );
        let mut checkout = git.clone(url, "main").await.unwrap();
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-components.yaml\n- gotk-sync.yaml\n";
        for (file, content) in [
            ("gotk-components.yaml", components),
            ("gotk-sync.yaml", sync),
            ("kustomization.yaml", kustomization),
        ] {
            let path = format!("clusters/dev/flux-system/{file}");
            checkout.write(&path, content.as_bytes()).await.unwrap();
        }
        let request = CommitRequest {
            message: "Add Flux sync manifests".into(),
            author_name: "Flux".into(),
            author_email: String::new(),
        };
        let commit = checkout.commit(&request).await.unwrap().expect("new files");
        assert_eq!(checkout.push().await.unwrap(), PushResult::Pushed);
        commit
    }

    pub(crate) async fn cluster(&self) -> Cluster {
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
    pub(crate) async fn installed_and_synced(
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
        reconcile_source_secret(cluster, secret).await.unwrap();
        cluster
            .apply_staged(objects(&sync), &wait, &mut |_| {})
            .await
            .unwrap();
        (url, expected_revision("main", &head))
    }

    /// The Secret the GitRepository clones with: HTTPS basic auth and the Bitbucket CA.
    pub(crate) fn source_secret(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("username".to_string(), seed::admin().name.clone()),
            ("password".to_string(), seed::admin().token.clone()),
            (
                "ca.crt".to_string(),
                std::fs::read_to_string(self.bitbucket.ca_file().unwrap()).unwrap(),
            ),
        ])
    }
}

pub(crate) fn fast(timeout: Duration) -> WaitSettings {
    WaitSettings {
        interval: Duration::from_millis(250),
        timeout,
    }
}

pub(crate) fn no_flux() -> Options {
    Options {
        flux: kube::FluxSimulation::Disabled,
        ..Options::default()
    }
}

/// PATCHes that wrote (not dry runs) since the log began.
pub(crate) fn writes(kube: &KubeEmulator) -> usize {
    kube.request_log()
        .iter()
        .filter(|r| {
            matches!(r.method.as_str(), "PATCH" | "PUT" | "POST")
                && !r.path_and_query.contains("dryRun=All")
        })
        .count()
}

/// Applies `objects` in stages with [`fast`] waits of `timeout_secs`, reporting no events.
pub(crate) async fn apply(
    cluster: &Cluster,
    objects: Vec<Value>,
    timeout_secs: u64,
) -> fluxstrap_server::Result<Vec<AppliedObject>> {
    let wait = fast(Duration::from_secs(timeout_secs));
    cluster.apply_staged(objects, &wait, &mut |_| {}).await
}

/// The Namespace `name`, as objects to apply.
pub(crate) fn namespace(name: &str) -> Vec<Value> {
    objects(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
    ))
}

/// flux-system's GitRepository or Kustomization (`kind`) as stored, polled until `done` says
/// yes (the status moved), for up to `timeout`.
pub(crate) async fn poll_until(
    kube: &Kube,
    kind: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let group = if kind == "Kustomization" {
        "kustomize.toolkit.fluxcd.io"
    } else {
        "source.toolkit.fluxcd.io"
    };
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let object = kube
            .object(group, kind, "flux-system", "flux-system")
            .unwrap_or_default();
        if done(&object) {
            return object;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{kind} did not get there: {}",
            object["status"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Ready condition's status and message.
pub(crate) fn ready_message(object: &Value) -> (String, String) {
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

/// The GitRepository's Ready message once it reports Ready=False.
pub(crate) async fn not_ready_message(kube: &Kube) -> String {
    let object = poll_until(kube, "GitRepository", Duration::from_secs(20), |o| {
        ready_message(o).0 == "False"
    })
    .await;
    ready_message(&object).1
}

/// Creates or updates the flux-system Secret the GitRepository clones with, reporting no
/// events.
pub(crate) async fn reconcile_source_secret(
    cluster: &Cluster,
    data: BTreeMap<String, String>,
) -> fluxstrap_server::Result<SecretAction> {
    cluster
        .reconcile_secret(&SecretWrite {
            namespace: "flux-system".into(),
            name: "flux-system".into(),
            secret_type: None,
            string_data: data,
        })
        .await
}
