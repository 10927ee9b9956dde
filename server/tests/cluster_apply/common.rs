//! What the suite's tests share: the flux-system files, both emulators, fast waits.

use std::collections::BTreeMap;
use std::time::Duration;

use fluxstrap_core::cluster::SyncKind;
use fluxstrap_core::cluster::{expected_revision, objects_from_documents};
use fluxstrap_core::install::InstallFlags;
use fluxstrap_core::options::{BranchName, Interval, Namespace};
use fluxstrap_core::sync::{SyncOptions, generate_sync};
use fluxstrap_sandbox::kube::{self, KubeEmulator, Options};
use fluxstrap_server::cluster::{
    AppliedObject, Cluster, ComponentsStep, KubeconfigSource, SecretAction, WaitSettings,
};
use fluxstrap_server::git::{CommitSpec, FileWrite, GitAuth, Secret, WriteMode, sync_files};
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

    /// Pushes the flux-system files; returns the commit the cluster must report.
    pub(crate) async fn push(&self, url: &str, components: &str, sync: &str) -> String {
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
        let jobs = self.bitbucket.dir().subdir("jobs");
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

/// Waits ([`fast`], `timeout_secs` at most, reporting no events) until flux-system's object
/// of `kind` reports `revision`.
pub(crate) async fn wait_synced(
    cluster: &Cluster,
    kind: SyncKind,
    revision: &str,
    timeout_secs: u64,
) -> fluxstrap_server::Result<()> {
    let timeout = Duration::from_secs(timeout_secs);
    cluster
        .wait_synced(
            kind,
            "flux-system",
            "flux-system",
            revision,
            &fast(timeout),
            &mut |_| {},
        )
        .await
}

/// Creates or updates the flux-system Secret the GitRepository clones with, reporting no
/// events.
pub(crate) async fn reconcile_source_secret(
    cluster: &Cluster,
    data: BTreeMap<String, String>,
) -> fluxstrap_server::Result<SecretAction> {
    cluster
        .reconcile_secret("flux-system", "flux-system", None, data, &mut |_| {})
        .await
}

/// Installs every component in flux-system (30 s [`fast`] waits, reporting no events).
pub(crate) async fn install_components(
    cluster: &Cluster,
) -> fluxstrap_server::Result<ComponentsStep> {
    cluster
        .install_components(
            "flux-system",
            objects(&components_yaml()),
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
}
