//! What the suite's tests share: an emulator with kubectl beside it, polling, and manifests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use fluxstrap_sandbox::kube::{FluxSimulation, KubeEmulator, LoggedRequest, Options};
use fluxstrap_testkit::commands::KUBECTL;
use fluxstrap_testkit::paths::{FLUX_VERSION, release_install_yaml};
use fluxstrap_testkit::{Kube, KubectlOutput as Out};

/// An emulator on its own runtime, so the tests can run kubectl synchronously.
pub(crate) struct Cluster {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) kube: Option<Kube>,
    pub(crate) files: AtomicUsize,
}

pub(crate) fn shared_install_yaml() -> PathBuf {
    release_install_yaml(FLUX_VERSION)
}

impl Cluster {
    pub(crate) fn start(name: &str, options: Options) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let kube = runtime.block_on(Kube::start(&format!("kube-kubectl-{name}"), options));
        Self {
            runtime,
            kube: Some(kube),
            files: AtomicUsize::new(0),
        }
    }

    pub(crate) fn kube(&self) -> &Kube {
        self.kube
            .as_ref()
            .expect("the emulator runs until the cluster is dropped")
    }

    pub(crate) fn emulator(&self) -> &KubeEmulator {
        self.kube()
    }

    /// The emulator's temporary directory, for the test's files.
    pub(crate) fn dir(&self) -> &Path {
        self.kube().dir().path()
    }

    /// `binary` (a kubectl release) with `env` and the emulator's kubeconfig; a fresh HOME
    /// per cluster, since kubectl caches discovery under it.
    pub(crate) fn run(
        &self,
        binary: &str,
        env: &[(&str, &str)],
        args: &[&str],
        stdin: Option<&str>,
    ) -> Out {
        let kubectl = env.iter().fold(
            self.kube().kubectl().binary(binary),
            |kubectl, (key, value)| kubectl.env(key, value),
        );
        kubectl.run_with_stdin(args, stdin)
    }

    pub(crate) fn kubectl(&self, args: &[&str]) -> Out {
        self.run(KUBECTL, &[], args, None)
    }

    /// `kubectl <verb> <object…> <args…>`: `object` names one, as `["cm", "x", "-n", "team"]`.
    pub(crate) fn on(&self, verb: &str, object: &[&str], args: &[&str]) -> Out {
        let mut all = vec![verb];
        all.extend_from_slice(object);
        all.extend_from_slice(args);
        self.kubectl(&all)
    }

    /// `kubectl apply --server-side -f <file with yaml>` plus `extra` flags.
    pub(crate) fn apply(&self, yaml: &str, extra: &[&str]) -> Out {
        let n = self.files.fetch_add(1, Ordering::SeqCst);
        let path = self.dir().join(format!("manifest-{n}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let path = path.display().to_string();
        let mut args = vec!["apply", "--server-side", "-f", &path];
        args.extend_from_slice(extra);
        self.kubectl(&args)
    }

    /// `kubectl rollout status` with `binary` and `env` ends in success.
    #[track_caller]
    pub(crate) fn rolled_out(
        &self,
        binary: &str,
        env: &[(&str, &str)],
        deployment: &str,
        namespace: &str,
    ) {
        let target = format!("deploy/{deployment}");
        let args = [
            "rollout",
            "status",
            &target,
            "-n",
            namespace,
            "--timeout=20s",
        ];
        let out = self.run(binary, env, &args, None);
        let expected = format!("deployment \"{deployment}\" successfully rolled out\n");
        assert!(out.ok().ends_with(&expected), "{binary}: {}", out.stdout);
    }

    pub(crate) fn log(&self) -> Vec<LoggedRequest> {
        self.emulator().request_log()
    }

    pub(crate) fn jsonpath(&self, target: &[&str], path: &str) -> String {
        let mut args = vec!["get"];
        args.extend_from_slice(target);
        let expression = format!("jsonpath={path}");
        args.extend_from_slice(&["-o", &expression]);
        self.kubectl(&args).ok().to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(kube) = self.kube.take() {
            self.runtime.block_on(kube.stop());
        }
    }
}

/// Polls `done` for up to 10 s (controllers act asynchronously, as in a cluster).
pub(crate) fn eventually(done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

pub(crate) fn options() -> Options {
    Options {
        flux: FluxSimulation::Disabled,
        ..Options::default()
    }
}

pub(crate) const NAMESPACE_AND_CONFIGMAP: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team
  labels:
    app.kubernetes.io/part-of: flux
data:
  a: \"1\"
  b: \"2\"
";

pub(crate) fn configmap(name: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: team\ndata:\n{data}"
    )
}

pub(crate) const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
";
