//! The kubectl checklist (`kubernetes-api-surface.md` §5.3) against the Kubernetes API emulator,
//! driven by the real kubectl (`/usr/bin/kubectl`, plus every
//! `/usr/lib/google-cloud-sdk/bin/kubectl.1.*` that is installed). Expected texts are kubectl's
//! own output for a real API server. kubectl must be installed: these tests fail without it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use fluxstrap_sandbox::kube::{
    Authentication, ClientKey, Config, Discovery, Fault, FluxSimulation, KubeEmulator,
    LoggedRequest, Options, WatchList,
};

const KUBECTL: &str = "/usr/bin/kubectl";

/// kubectl's answer.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    #[track_caller]
    fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "kubectl failed: {}{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    #[track_caller]
    fn fails_with(&self, text: &str) {
        assert_ne!(self.code, 0, "kubectl succeeded: {}", self.stdout);
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
    }
}

/// An emulator on its own runtime, so the tests can run kubectl synchronously.
struct Cluster {
    runtime: tokio::runtime::Runtime,
    emulator: Option<KubeEmulator>,
    dir: PathBuf,
    files: AtomicUsize,
}

fn shared_install_yaml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/flux/releases/v2.9.4/install.yaml")
}

impl Cluster {
    fn start(name: &str, options: Options) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = std::env::temp_dir().join(format!("kube-kubectl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let emulator = runtime
            .block_on(KubeEmulator::start(Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                state_dir: dir.join("state"),
                options,
            }))
            .unwrap();
        Self {
            runtime,
            emulator: Some(emulator),
            dir,
            files: AtomicUsize::new(0),
        }
    }

    fn emulator(&self) -> &KubeEmulator {
        self.emulator.as_ref().unwrap()
    }

    fn run(&self, binary: &str, env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> Out {
        // A fresh HOME per cluster: kubectl caches discovery under it.
        let home = self.dir.join("home");
        let mut child = Command::new(binary)
            .env("HOME", &home)
            .envs(env.iter().copied())
            .arg(format!(
                "--kubeconfig={}",
                self.emulator().kubeconfig_path().display()
            ))
            .arg(format!("--cache-dir={}", home.join("cache").display()))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{binary} must be installed: {e}"));
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let output = child.wait_with_output().unwrap();
        Out {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn kubectl(&self, args: &[&str]) -> Out {
        self.run(KUBECTL, &[], args, None)
    }

    /// `kubectl apply --server-side -f <file with yaml>` plus `extra` flags.
    fn apply(&self, yaml: &str, extra: &[&str]) -> Out {
        let n = self.files.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.join(format!("manifest-{n}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let path = path.display().to_string();
        let mut args = vec!["apply", "--server-side", "-f", &path];
        args.extend_from_slice(extra);
        self.kubectl(&args)
    }

    /// `kubectl rollout status` with `binary` and `env` ends in success.
    #[track_caller]
    fn rolled_out(&self, binary: &str, env: &[(&str, &str)], deployment: &str, namespace: &str) {
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

    fn log(&self) -> Vec<LoggedRequest> {
        self.emulator().request_log()
    }

    fn jsonpath(&self, target: &[&str], path: &str) -> String {
        let mut args = vec!["get"];
        args.extend_from_slice(target);
        let expression = format!("jsonpath={path}");
        args.extend_from_slice(&["-o", &expression]);
        self.kubectl(&args).ok().to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.stop());
        }
    }
}

/// Polls `done` for up to 10 s (controllers act asynchronously, as in a cluster).
fn eventually(done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn options() -> Options {
    Options {
        flux: FluxSimulation::Disabled,
        ..Options::default()
    }
}

const NAMESPACE_AND_CONFIGMAP: &str = "apiVersion: v1
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

fn configmap(name: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: team\ndata:\n{data}"
    )
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
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

#[test]
fn version_discovery_and_authentication() {
    let cluster = Cluster::start("version", options());
    let version: serde_json::Value =
        serde_json::from_str(cluster.kubectl(&["version", "-o", "json"]).ok()).unwrap();
    assert_eq!(
        version["serverVersion"]["gitVersion"],
        "v1.32.0-fluxstrap-emulator"
    );

    let api_versions = cluster.kubectl(&["api-versions"]).ok().to_string();
    for group_version in [
        "v1",
        "apps/v1",
        "rbac.authorization.k8s.io/v1",
        "networking.k8s.io/v1",
        "apiextensions.k8s.io/v1",
    ] {
        assert!(
            api_versions.lines().any(|l| l == group_version),
            "{group_version} missing:\n{api_versions}"
        );
    }
    let resources = cluster
        .kubectl(&["api-resources", "-o", "name"])
        .ok()
        .to_string();
    for name in [
        "configmaps",
        "deployments.apps",
        "customresourcedefinitions.apiextensions.k8s.io",
    ] {
        assert!(resources.lines().any(|l| l == name), "{name}:\n{resources}");
    }
    // The aggregated document was asked for and served.
    assert!(
        cluster
            .log()
            .iter()
            .any(|r| r.path_and_query.starts_with("/apis")
                && r.accept.contains("as=APIGroupDiscoveryList")
                && r.status == 200)
    );

    // A wrong token: 401, which kubectl reports as not logged in.
    let kubeconfig = std::fs::read_to_string(cluster.emulator().kubeconfig_path()).unwrap();
    let wrong = cluster.dir.join("kubeconfig-wrong-token");
    std::fs::write(
        &wrong,
        kubeconfig.replace(cluster.emulator().token(), "wrong-token"),
    )
    .unwrap();
    let out = Command::new(KUBECTL)
        .env("HOME", cluster.dir.join("home-wrong"))
        .arg(format!("--kubeconfig={}", wrong.display()))
        .args(["get", "namespaces"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("error: You must be logged in to the server ("),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another CA: kubectl refuses the server's certificate.
    let other_ca = kubeconfig.replace(
        "certificate-authority-data",
        "certificate-authority-data-unused",
    );
    let untrusted = cluster.dir.join("kubeconfig-no-ca");
    std::fs::write(&untrusted, other_ca).unwrap();
    let out = Command::new(KUBECTL)
        .env("HOME", cluster.dir.join("home-untrusted"))
        .arg(format!("--kubeconfig={}", untrusted.display()))
        .args(["get", "namespaces"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("x509"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn server_side_apply_ownership_conflicts_and_dry_runs() {
    let cluster = Cluster::start("apply", options());
    let out = cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]);
    assert_eq!(
        out.ok(),
        "namespace/team serverside-applied\nconfigmap/settings serverside-applied\n"
    );
    // Strict validation (the default) is delegated to the server through OpenAPI v3.
    let log = cluster.log();
    assert!(
        log.iter()
            .any(|r| r.path_and_query.starts_with("/openapi/v3"))
    );
    assert!(log.iter().any(|r| r.method == "PATCH"
        && r.path_and_query.contains("fieldValidation=Strict")
        && r.content_type == "application/apply-patch+yaml"));

    // Re-applying changes nothing, not even the resourceVersion.
    let rv = cluster.jsonpath(
        &["cm", "settings", "-n", "team"],
        "{.metadata.resourceVersion}",
    );
    cluster
        .apply(NAMESPACE_AND_CONFIGMAP, &["--validate=false"])
        .ok();
    assert!(
        cluster
            .log()
            .iter()
            .any(|r| r.path_and_query.contains("fieldValidation=Ignore"))
    );
    assert_eq!(
        cluster.jsonpath(
            &["cm", "settings", "-n", "team"],
            "{.metadata.resourceVersion}"
        ),
        rv
    );

    let yaml = cluster
        .kubectl(&[
            "get",
            "cm",
            "settings",
            "-n",
            "team",
            "-o",
            "yaml",
            "--show-managed-fields",
        ])
        .ok()
        .to_string();
    for line in [
        "manager: kubectl",
        "operation: Apply",
        "f:data:",
        "f:a: {}",
        "f:labels:",
    ] {
        assert!(yaml.contains(line), "{line:?} missing:\n{yaml}");
    }

    // Another manager with another value: kubectl's conflict text, exit 1.
    let other = configmap("settings", "  a: \"9\"\n");
    cluster
        .apply(&other, &["--field-manager=other"])
        .fails_with("Apply failed with 1 conflict: conflict with \"kubectl\" using v1: .data.a");
    // Forced, the field moves to `other`.
    cluster
        .apply(&other, &["--field-manager=other", "--force-conflicts"])
        .ok();
    let managed = cluster.jsonpath(
        &["cm", "settings", "-n", "team", "--show-managed-fields"],
        "{.metadata.managedFields[?(@.manager==\"other\")].fieldsV1}",
    );
    assert_eq!(managed, r#"{"f:data":{"f:a":{}}}"#);
    let kubectl_fields = cluster.jsonpath(
        &["cm", "settings", "-n", "team", "--show-managed-fields"],
        "{.metadata.managedFields[?(@.manager==\"kubectl\")].fieldsV1}",
    );
    assert!(!kubectl_fields.contains(r#""f:a":"#), "{kubectl_fields}");
    // The same value from a third manager is shared ownership, not a conflict.
    cluster
        .apply(
            &configmap("settings", "  b: \"2\"\n"),
            &["--field-manager=third"],
        )
        .ok();

    // Fields a manager stops applying are removed.
    cluster
        .apply(&configmap("trim", "  a: \"1\"\n  b: \"2\"\n"), &[])
        .ok();
    cluster.apply(&configmap("trim", "  a: \"1\"\n"), &[]).ok();
    assert_eq!(
        cluster.jsonpath(&["cm", "trim", "-n", "team"], "{.data}"),
        r#"{"a":"1"}"#
    );

    // A server dry run says so and stores nothing.
    let rv = cluster.jsonpath(&["cm", "trim", "-n", "team"], "{.metadata.resourceVersion}");
    let out = cluster.apply(&configmap("trim", "  a: \"5\"\n"), &["--dry-run=server"]);
    assert_eq!(
        out.ok(),
        "configmap/trim serverside-applied (server dry run)\n"
    );
    assert_eq!(
        cluster.jsonpath(&["cm", "trim", "-n", "team"], "{.data.a}"),
        "1"
    );
    assert_eq!(
        cluster.jsonpath(&["cm", "trim", "-n", "team"], "{.metadata.resourceVersion}"),
        rv
    );

    // kubectl diff: exit 0 without changes, 1 with the change shown.
    let same = cluster.dir.join("same.yaml");
    std::fs::write(&same, configmap("trim", "  a: \"1\"\n")).unwrap();
    let out = cluster.kubectl(&["diff", "--server-side", "-f", &same.display().to_string()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let changed = cluster.dir.join("changed.yaml");
    std::fs::write(&changed, configmap("trim", "  a: \"7\"\n")).unwrap();
    let out = cluster.kubectl(&[
        "diff",
        "--server-side",
        "-f",
        &changed.display().to_string(),
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("-  a: \"1\"") && out.stdout.contains("+  a: \"7\""),
        "{}",
        out.stdout
    );

    // Errors in kubectl's words.
    let missing_ns = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: nope\n";
    cluster
        .apply(missing_ns, &[])
        .fails_with("Error from server (NotFound): namespaces \"nope\" not found");
    cluster
        .kubectl(&["get", "deploy", "nope"])
        .fails_with("Error from server (NotFound): deployments.apps \"nope\" not found");
    cluster
        .kubectl(&["get", "foos"])
        .fails_with("error: the server doesn't have a resource type \"foos\"");
}

#[test]
fn custom_resources_appear_once_their_definitions_are_established() {
    let cluster = Cluster::start("crds", options());
    let install = shared_install_yaml().display().to_string();
    let out = cluster.kubectl(&["apply", "--server-side", "-f", &install]);
    assert!(
        out.ok().contains("customresourcedefinition.apiextensions.k8s.io/gitrepositories.source.toolkit.fluxcd.io serverside-applied"),
        "{}",
        out.stdout
    );
    let out = cluster.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/gitrepositories.source.toolkit.fluxcd.io",
        "crd/kustomizations.kustomize.toolkit.fluxcd.io",
        "--timeout=10s",
    ]);
    assert_eq!(
        out.ok(),
        "customresourcedefinition.apiextensions.k8s.io/gitrepositories.source.toolkit.fluxcd.io condition met\n\
         customresourcedefinition.apiextensions.k8s.io/kustomizations.kustomize.toolkit.fluxcd.io condition met\n"
    );
    let api_versions = cluster.kubectl(&["api-versions"]).ok().to_string();
    assert!(
        api_versions
            .lines()
            .any(|l| l == "source.toolkit.fluxcd.io/v1")
    );
    let none = cluster.kubectl(&["get", "gitrepositories,kustomizations", "-A"]);
    assert!(
        none.stderr.contains("No resources found"),
        "{}",
        none.stderr
    );

    let repository = "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ssh://git@example.com/PLAT/fleet
";
    cluster.apply(repository, &[]).ok();
    assert_eq!(
        cluster.jsonpath(&["gitrepo", "fleet", "-n", "flux-system"], "{.spec.url}"),
        "ssh://git@example.com/PLAT/fleet"
    );
    // `kubectl get` prints the CRD's printer columns (served as a Table).
    let printed = cluster.kubectl(&["get", "gitrepositories", "-n", "flux-system"]);
    let header: Vec<&str> = printed
        .ok()
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "URL", "AGE", "READY", "STATUS"]);
    assert!(
        printed.stdout.contains("ssh://git@example.com/PLAT/fleet"),
        "{}",
        printed.stdout
    );
    // The CRD's schema is enforced: unknown fields refused under strict validation and dropped
    // without it; types and patterns checked with the API server's words.
    let unknown = repository
        .replace("name: fleet", "name: strict")
        .replace("  interval: 1m0s", "  interval: 1m0s\n  bogus: true");
    cluster.apply(&unknown, &[]).fails_with(
        "Error from server (BadRequest): failed to create typed patch object (flux-system/strict; \
         source.toolkit.fluxcd.io/v1, Kind=GitRepository): .spec.bogus: field not declared in schema",
    );
    cluster.apply(&unknown, &["--validate=false"]).ok();
    assert_eq!(
        cluster.jsonpath(&["gitrepo", "strict", "-n", "flux-system"], "{.spec.bogus}"),
        ""
    );
    let invalid = repository
        .replace("name: fleet", "name: invalid")
        .replace("ssh://git@example.com", "ftp://example.com");
    cluster.apply(&invalid, &[]).fails_with(
        "The GitRepository \"invalid\" is invalid: spec.url: Invalid value: \"ftp://example.com/PLAT/fleet\": \
         spec.url in body should match '^(http|https|ssh)://.*$'",
    );
    assert!(
        cluster
            .kubectl(&["get", "ks", "-A"])
            .stderr
            .contains("No resources found")
    );

    // Strategic merge does not apply to custom resources; merge and JSON patches do.
    cluster.kubectl(&["patch", "gitrepository", "fleet", "-n", "flux-system", "-p", r#"{"spec":{"interval":"2m"}}"#])
        .fails_with("application/strategic-merge-patch+json is not supported by source.toolkit.fluxcd.io/v1, Kind=GitRepository");
    cluster
        .kubectl(&[
            "patch",
            "gitrepository",
            "fleet",
            "-n",
            "flux-system",
            "--type=merge",
            "-p",
            r#"{"spec":{"interval":"2m"}}"#,
        ])
        .ok();
    cluster
        .kubectl(&[
            "patch",
            "gitrepository",
            "fleet",
            "-n",
            "flux-system",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/ref/branch","value":"dev"}]"#,
        ])
        .ok();
    cluster
        .kubectl(&[
            "label",
            "gitrepository",
            "fleet",
            "-n",
            "flux-system",
            "team=platform",
        ])
        .ok();
    cluster
        .kubectl(&[
            "annotate",
            "gitrepository",
            "fleet",
            "-n",
            "flux-system",
            "note=x",
        ])
        .ok();
    assert_eq!(
        cluster.jsonpath(&["gitrepo", "fleet", "-n", "flux-system"], "{.spec.interval} {.spec.ref.branch} {.metadata.labels.team} {.metadata.annotations.note} {.metadata.generation}"),
        "2m dev platform x 3"
    );

    // Status belongs to the subresource: ignored on the main resource, generation untouched.
    cluster
        .kubectl(&[
            "patch",
            "gitrepository",
            "fleet",
            "-n",
            "flux-system",
            "--type=merge",
            "-p",
            r#"{"status":{"observedGeneration":7}}"#,
        ])
        .ok();
    assert_eq!(
        cluster.jsonpath(
            &["gitrepo", "fleet", "-n", "flux-system"],
            "{.status.observedGeneration}"
        ),
        ""
    );
    let rv = cluster.jsonpath(
        &["gitrepo", "fleet", "-n", "flux-system"],
        "{.metadata.resourceVersion}",
    );
    cluster
        .kubectl(&[
            "patch",
            "gitrepository",
            "fleet",
            "-n",
            "flux-system",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"observedGeneration":3}}"#,
        ])
        .ok();
    assert_eq!(
        cluster.jsonpath(
            &["gitrepo", "fleet", "-n", "flux-system"],
            "{.status.observedGeneration} {.metadata.generation}"
        ),
        "3 3"
    );
    assert_ne!(
        cluster.jsonpath(
            &["gitrepo", "fleet", "-n", "flux-system"],
            "{.metadata.resourceVersion}"
        ),
        rv
    );

    // A CR in the same file as its new CRD fails once (the kind is not served yet), then works.
    let widget = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: first
  namespace: flux-system
spec:
  size: 3
";
    // (A real server words the error after its OpenAPI v2 lookup; the emulator serves only v3.)
    let first = cluster.apply(widget, &[]);
    assert_ne!(first.code, 0, "{}", first.stdout);
    assert!(
        first.stdout.contains(
            "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied"
        ),
        "{}",
        first.stdout
    );
    assert!(
        cluster
            .emulator()
            .object("example.com", "Widget", "flux-system", "first")
            .is_none()
    );
    cluster
        .kubectl(&[
            "wait",
            "--for=condition=Established",
            "crd/widgets.example.com",
            "--timeout=10s",
        ])
        .ok();
    cluster.apply(widget, &[]).ok();
    assert_eq!(
        cluster.jsonpath(&["widget", "first", "-n", "flux-system"], "{.spec.size}"),
        "3"
    );
    // Every served version serves the object; the short name resolves to the preferred one.
    assert_eq!(
        cluster.jsonpath(
            &["widgets.v1beta1.example.com", "first", "-n", "flux-system"],
            "{.apiVersion}"
        ),
        "example.com/v1beta1"
    );
    assert_eq!(
        cluster.jsonpath(&["widget", "first", "-n", "flux-system"], "{.apiVersion}"),
        "example.com/v1"
    );

    // Deleting the CRD removes its kind.
    cluster
        .kubectl(&["delete", "crd", "widgets.example.com"])
        .ok();
    let resources = cluster
        .kubectl(&["api-resources", "-o", "name"])
        .ok()
        .to_string();
    assert!(!resources.contains("widgets.example.com"), "{resources}");
    cluster
        .kubectl(&["get", "widgets"])
        .fails_with("error: the server doesn't have a resource type \"widgets\"");
}

#[test]
fn deployments_roll_out_and_watches_work_with_and_without_watch_list() {
    for (name, watch_list) in [
        ("watchlist", WatchList::Supported),
        ("no-watchlist", WatchList::Rejected),
    ] {
        let cluster = Cluster::start(
            name,
            Options {
                watch_list,
                ..options()
            },
        );
        cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]).ok();
        cluster.apply(DEPLOYMENT, &[]).ok();
        // client-go's WatchList, switched on through its feature-gate variable.
        let env = [("KUBE_FEATURE_WatchListClient", "true")];
        cluster.rolled_out(KUBECTL, &env, "web", "team");
        let out = cluster.run(
            KUBECTL,
            &env,
            &[
                "wait",
                "--for=condition=Available",
                "deploy/web",
                "-n",
                "team",
                "--timeout=10s",
            ],
            None,
        );
        assert_eq!(out.ok(), "deployment.apps/web condition met\n");
        // ReplicaSet and Running pods behind it; `kubectl scale` through the /scale subresource.
        let pods = |cluster: &Cluster| {
            cluster
                .jsonpath(
                    &["pods", "-n", "team", "-l", "app=web"],
                    "{.items[*].status.phase}",
                )
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(pods(&cluster), ["Running", "Running"]);
        let out = cluster.kubectl(&["scale", "deploy/web", "-n", "team", "--replicas=3"]);
        assert_eq!(out.ok(), "deployment.apps/web scaled\n");
        cluster.rolled_out(KUBECTL, &[], "web", "team");
        eventually(|| pods(&cluster).len() == 3);
        assert_eq!(pods(&cluster), ["Running", "Running", "Running"]);
        let sets = cluster.jsonpath(&["rs", "-n", "team"], "{.items[*].spec.replicas}");
        assert_eq!(sets, "3");
        // The built-in printer's columns.
        let printed = cluster.kubectl(&["get", "deploy", "web", "-n", "team"]);
        let lines: Vec<Vec<&str>> = printed
            .ok()
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            lines[0],
            ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        );
        assert_eq!(lines[1][..4], ["web", "3/3", "3", "3"]);
        // Deleting the Deployment takes its ReplicaSet and pods with it.
        cluster
            .kubectl(&["delete", "deploy", "web", "-n", "team"])
            .ok();
        eventually(|| pods(&cluster).is_empty());
        assert!(pods(&cluster).is_empty());
        assert_eq!(
            cluster.jsonpath(&["rs", "-n", "team"], "{.items[*].metadata.name}"),
            ""
        );
        let log = cluster.log();
        let watch_lists: Vec<&LoggedRequest> = log
            .iter()
            .filter(|r| r.path_and_query.contains("sendInitialEvents=true"))
            .collect();
        assert!(!watch_lists.is_empty(), "kubectl did not try WatchList");
        match watch_list {
            WatchList::Supported => assert!(watch_lists.iter().all(|r| r.status == 200)),
            // 422, then list + watch from the list's resourceVersion.
            WatchList::Rejected => {
                assert!(watch_lists.iter().all(|r| r.status == 422));
                assert!(log.iter().any(|r| r.path_and_query.contains("watch=true")
                    && !r.path_and_query.contains("sendInitialEvents")
                    && r.status == 200));
            }
        }
    }
}

#[test]
fn watch_labels_patches_deletes_secrets_and_generation() {
    let cluster = Cluster::start("everyday", options());
    cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]).ok();

    // `get -w` sees an object another process creates.
    let home = cluster.dir.join("home");
    let mut watcher = Command::new(KUBECTL)
        .env("HOME", &home)
        .arg(format!(
            "--kubeconfig={}",
            cluster.emulator().kubeconfig_path().display()
        ))
        .arg(format!("--cache-dir={}", home.join("cache").display()))
        .args([
            "get",
            "cm",
            "-n",
            "team",
            "-w",
            "--output-watch-events",
            "--request-timeout=5s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    cluster.apply(&configmap("late", "  k: v\n"), &[]).ok();
    std::thread::sleep(std::time::Duration::from_millis(700));
    watcher.kill().unwrap();
    let output = watcher.wait_with_output().unwrap();
    let events = String::from_utf8_lossy(&output.stdout);
    assert!(
        events
            .lines()
            .any(|l| l.starts_with("ADDED") && l.contains("late")),
        "{events}"
    );

    // Patches of every type, label and annotate on a built-in type.
    cluster
        .kubectl(&[
            "patch",
            "cm",
            "settings",
            "-n",
            "team",
            "--type=merge",
            "-p",
            r#"{"data":{"m":"1"}}"#,
        ])
        .ok();
    cluster
        .kubectl(&[
            "patch",
            "cm",
            "settings",
            "-n",
            "team",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/data/j","value":"2"}]"#,
        ])
        .ok();
    cluster
        .kubectl(&[
            "patch",
            "cm",
            "settings",
            "-n",
            "team",
            "-p",
            r#"{"data":{"s":"3"}}"#,
        ])
        .ok();
    cluster
        .kubectl(&["label", "cm", "settings", "-n", "team", "tier=gold"])
        .ok();
    cluster
        .kubectl(&["annotate", "cm", "settings", "-n", "team", "owner=ops"])
        .ok();
    assert_eq!(
        cluster.jsonpath(
            &["cm", "settings", "-n", "team"],
            "{.data.m}{.data.j}{.data.s} {.metadata.labels.tier} {.metadata.annotations.owner}"
        ),
        "123 gold ops"
    );

    // Label selectors: equality, set-based, existence.
    let names = |selector: &str| {
        cluster.jsonpath(
            &["cm", "-n", "team", "-l", selector],
            "{.items[*].metadata.name}",
        )
    };
    assert_eq!(names("app.kubernetes.io/part-of=flux"), "settings");
    assert_eq!(names("tier in (gold,silver)"), "settings");
    assert_eq!(names("!tier"), "late");

    // Delete, NotFound, and a new uid on re-creation.
    let uid = cluster.jsonpath(&["cm", "late", "-n", "team"], "{.metadata.uid}");
    assert_eq!(
        cluster
            .kubectl(&["delete", "cm", "late", "-n", "team"])
            .ok(),
        "configmap \"late\" deleted\n"
    );
    cluster
        .kubectl(&["get", "cm", "late", "-n", "team"])
        .fails_with("Error from server (NotFound): configmaps \"late\" not found");
    cluster.apply(&configmap("late", "  k: v\n"), &[]).ok();
    assert_ne!(
        cluster.jsonpath(&["cm", "late", "-n", "team"], "{.metadata.uid}"),
        uid
    );

    // A Secret made client-side and applied: stored base64.
    let secret = cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "token",
        "-n",
        "team",
        "--from-literal=k=v",
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    let out = cluster.run(
        KUBECTL,
        &[],
        &["apply", "--server-side", "-f", "-"],
        Some(secret.ok()),
    );
    assert_eq!(out.ok(), "secret/token serverside-applied\n");
    assert_eq!(
        cluster.jsonpath(&["secret", "token", "-n", "team"], "{.data.k}"),
        "dg=="
    );

    // Generation follows the spec only.
    cluster.apply(DEPLOYMENT, &[]).ok();
    assert_eq!(
        cluster.jsonpath(&["deploy", "web", "-n", "team"], "{.metadata.generation}"),
        "1"
    );
    cluster
        .kubectl(&["label", "deploy", "web", "-n", "team", "x=y"])
        .ok();
    assert_eq!(
        cluster.jsonpath(&["deploy", "web", "-n", "team"], "{.metadata.generation}"),
        "1"
    );
    cluster
        .apply(&DEPLOYMENT.replace("replicas: 2", "replicas: 3"), &[])
        .ok();
    assert_eq!(
        cluster.jsonpath(&["deploy", "web", "-n", "team"], "{.metadata.generation}"),
        "2"
    );

    // What a real server refuses: a changed Deployment selector, a name that is no DNS name.
    cluster
        .apply(&DEPLOYMENT.replace("app: web", "app: web2"), &[])
        .fails_with(
            "The Deployment \"web\" is invalid: spec.selector: Invalid value: \
             v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, \
             MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
        );
    cluster
        .apply(&configmap("Bad_Name", "  k: v\n"), &[])
        .fails_with(
            "The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": \
             a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters",
        );
}

#[test]
fn legacy_discovery_only_still_serves_kubectl() {
    let cluster = Cluster::start(
        "legacy",
        Options {
            discovery: Discovery::LegacyOnly,
            ..options()
        },
    );
    cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]).ok();
    let install = shared_install_yaml().display().to_string();
    cluster
        .kubectl(&["apply", "--server-side", "-f", &install])
        .ok();
    cluster
        .kubectl(&[
            "wait",
            "--for=condition=Established",
            "crd/gitrepositories.source.toolkit.fluxcd.io",
            "--timeout=10s",
        ])
        .ok();
    cluster.rolled_out(KUBECTL, &[], "source-controller", "flux-system");
    assert!(
        cluster
            .kubectl(&["get", "gitrepositories", "-A"])
            .stderr
            .contains("No resources found")
    );
    // Without aggregation kubectl reads every group-version's own document.
    assert!(
        cluster
            .log()
            .iter()
            .any(|r| r.path_and_query.starts_with("/apis/apps/v1?") && r.status == 200)
    );
}

/// The other installed kubectl releases: apply, get, wait and rollout status. kubectl 1.27 and
/// 1.28 fetch OpenAPI v2 as protobuf for validation, which the emulator does not serve, so they
/// run with `--validate=false`.
#[test]
fn other_installed_kubectl_releases() {
    let dir = Path::new("/usr/lib/google-cloud-sdk/bin");
    let mut binaries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("kubectl.1."))
                })
                .collect()
        })
        .unwrap_or_default();
    binaries.sort();
    let cluster = Cluster::start("releases", options());
    cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]).ok();
    cluster.apply(DEPLOYMENT, &[]).ok();
    for binary in &binaries {
        let name = binary.file_name().unwrap().to_string_lossy().to_string();
        let minor: u32 = name.trim_start_matches("kubectl.1.").parse().unwrap_or(0);
        let binary = binary.display().to_string();
        let manifest = cluster.dir.join(format!("{name}.yaml"));
        std::fs::write(
            &manifest,
            configmap(&format!("from-{}", name.replace('.', "-")), "  k: v\n"),
        )
        .unwrap();
        let manifest = manifest.display().to_string();
        let mut args = vec!["apply", "--server-side", "-f", &manifest];
        if minor < 29 {
            args.push("--validate=false");
        }
        let out = cluster.run(&binary, &[], &args, None);
        assert!(
            out.ok().contains("serverside-applied"),
            "{name}: {}",
            out.stdout
        );
        cluster.rolled_out(&binary, &[], "web", "team");
        let out = cluster.run(
            &binary,
            &[],
            &["get", "cm", "-n", "team", "-o", "name"],
            None,
        );
        assert!(
            out.ok().contains("configmap/settings"),
            "{name}: {}",
            out.stdout
        );
        let out = cluster.run(&binary, &[], &["get", "deploy", "-n", "team"], None);
        assert!(
            out.ok()
                .starts_with("NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/2 "),
            "{name}: {}",
            out.stdout
        );
    }
}

#[test]
fn injected_faults_reach_kubectl_as_a_real_server_would_send_them() {
    let cluster = Cluster::start("faults", options());
    cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]).ok();
    cluster.apply(DEPLOYMENT, &[]).ok();

    // The second GET of configmaps fails with a 500 Status; the third works again.
    cluster.emulator().inject(Fault::FailRequest {
        method: axum::http::Method::GET,
        resource: "configmaps".into(),
        nth: 2,
        code: 500,
    });
    cluster
        .kubectl(&["get", "cm", "settings", "-n", "team"])
        .ok();
    cluster
        .kubectl(&["get", "cm", "settings", "-n", "team"])
        .fails_with("Error from server (InternalError): Internal error occurred: injected fault for GET configmaps");
    cluster
        .kubectl(&["get", "cm", "settings", "-n", "team"])
        .ok();

    // Dropped watches: kubectl watches again and still sees the rollout finish.
    cluster.emulator().inject(Fault::DropWatches);
    let deployment_watches = |cluster: &Cluster| {
        cluster
            .log()
            .iter()
            .filter(|r| {
                r.path_and_query.contains("/deployments?")
                    && r.path_and_query.contains("watch=true")
            })
            .count()
    };
    let before = deployment_watches(&cluster);
    cluster
        .apply(&DEPLOYMENT.replace("replicas: 2", "replicas: 4"), &[])
        .ok();
    cluster.rolled_out(KUBECTL, &[], "web", "team");
    // Every watch ended at once, so kubectl had to watch more than once.
    assert!(
        deployment_watches(&cluster) >= before + 2,
        "kubectl did not watch again"
    );
}

/// Checklist item 27: TLS with a client certificate, its key in PKCS#8 or SEC1 form.
#[test]
fn client_certificates_authenticate_kubectl() {
    for (name, key, marker) in [
        ("cert-pkcs8", ClientKey::Pkcs8, "BEGIN PRIVATE KEY"),
        ("cert-sec1", ClientKey::Sec1, "BEGIN EC PRIVATE KEY"),
    ] {
        let cluster = Cluster::start(
            name,
            Options {
                authentication: Authentication::ClientCertificate(key),
                ..options()
            },
        );
        let kubeconfig: serde_json::Value =
            serde_json::from_slice(&std::fs::read(cluster.emulator().kubeconfig_path()).unwrap())
                .unwrap();
        let user = &kubeconfig["users"][0]["user"];
        use base64::Engine as _;
        let key_pem = base64::engine::general_purpose::STANDARD
            .decode(user["client-key-data"].as_str().unwrap())
            .unwrap();
        assert!(String::from_utf8_lossy(&key_pem).contains(marker));
        assert!(user.get("token").is_none());
        let out = cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]);
        assert!(
            out.ok().contains("configmap/settings serverside-applied"),
            "{name}"
        );

        // Without the certificate (a token instead, or kubectl would prompt): 401.
        let mut anonymous = kubeconfig.clone();
        anonymous["users"][0]["user"] = serde_json::json!({"token": "not-a-certificate"});
        let path = cluster.dir.join("kubeconfig-anonymous");
        std::fs::write(&path, serde_json::to_vec(&anonymous).unwrap()).unwrap();
        let out = Command::new(KUBECTL)
            .env("HOME", cluster.dir.join("home-anonymous"))
            .arg(format!("--kubeconfig={}", path.display()))
            .args(["get", "namespaces"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("error: You must be logged in to the server ("),
            "{stderr}"
        );
    }
}
