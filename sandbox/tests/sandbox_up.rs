//! `fluxstrap-sandbox up` as scripts use it: KEY=VALUE lines, READY, HTTPS with its own CA that
//! real clients (curl, git) trust through the printed CA file, and a clean stop on SIGTERM.

use std::path::Path;

use fluxstrap_testkit::process::SandboxUp;
use fluxstrap_testkit::{Curl, Git, Kubectl, TempDir, seed};

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fluxstrap-sandbox"))
}

#[test]
fn up_prints_its_settings_and_serves_https_with_its_ca() {
    let up = SandboxUp::start_fresh(binary(), &[]);
    let settings = &up.settings;
    for key in [
        "BITBUCKET_URL",
        "BITBUCKET_CA_FILE",
        "BITBUCKET_USER",
        "BITBUCKET_TOKEN",
        "BITBUCKET_PROJECT",
        "BITBUCKET_PROJECT_NAME",
        "BITBUCKET_GROUP",
        "BITBUCKET_READONLY_USER",
        "BITBUCKET_READONLY_TOKEN",
        "BITBUCKET_SSH_URL",
        "BITBUCKET_SSH_KNOWN_HOSTS",
        "KUBECONFIG",
        "FLUXSTRAP_CONFIG",
    ] {
        assert!(
            settings.get(key).is_some(),
            "{key} missing from {settings:?}"
        );
    }
    let url = &settings["BITBUCKET_URL"];
    assert!(url.starts_with("https://localhost:"), "{url}");
    // One cluster by default, and without --releases no release keys: serve keeps its own.
    let config = std::fs::read_to_string(&settings["FLUXSTRAP_CONFIG"]).unwrap();
    let config: ServeConfig = toml::from_str(&config).unwrap();
    assert_eq!(config.clusters.len(), 1, "{config:?}");
    assert!(config.releases_url.is_none() && config.versions.is_empty());
    let project_path = format!("/rest/api/1.0/projects/{}", &settings["BITBUCKET_PROJECT"]);

    // Trusted through the CA file…
    let trusted = up.bitbucket_curl("GET", &project_path).send().expect(200);
    assert_eq!(trusted.body["name"], &settings["BITBUCKET_PROJECT_NAME"]);
    // … and also at 127.0.0.1, which the certificate names too.
    let by_ip = format!("{url}{project_path}").replace("localhost", "127.0.0.1");
    Curl::get(&by_ip)
        .cacert(Path::new(&settings["BITBUCKET_CA_FILE"]))
        .bearer(&settings["BITBUCKET_TOKEN"])
        .send()
        .expect(200);
    // git over HTTPS, trusting the CA: a personal repository of the admin, pushed and cloned.
    let work = TempDir::new("sandbox-up-work");
    let user = &settings["BITBUCKET_USER"];
    up.bitbucket_curl("POST", &format!("/rest/api/1.0/projects/~{user}/repos"))
        .json(r#"{"name":"mine","defaultBranch":"main"}"#)
        .send()
        .success();
    let git = Git::new(work.path()).ca_file(Path::new(&settings["BITBUCKET_CA_FILE"]));
    let authed = url.replace(
        "https://",
        &format!("https://{user}:{}@", &settings["BITBUCKET_TOKEN"]),
    );
    let remote = format!("{authed}/scm/~{user}/mine.git");
    git.run(&["init", "-q", "-b", "main"]);
    std::fs::write(work.join("f"), "f\n").unwrap();
    git.run(&["add", "f"]);
    git.commit("f");
    git.run(&["push", "-q", &remote, "main"]);
    git.run(&["clone", "-q", &remote, "copy"]);
    assert_eq!(std::fs::read_to_string(work.join("copy/f")).unwrap(), "f\n");

    // Without it, the certificate is rejected (exit 60: peer certificate cannot be authenticated).
    let untrusted = Curl::get(format!("{url}{project_path}"))
        .args(["--capath", "/nonexistent", "--cacert", "/dev/null"])
        .exit_status();
    assert!(!untrusted.success());

    let exit = up.terminate();
    assert!(
        exit.success(),
        "fluxstrap-sandbox should exit cleanly on SIGTERM: {exit}"
    );
}

/// A restart with the same state directory keeps repositories, their access keys and the
/// TLS and SSH identities clients already trust.
#[test]
fn a_restart_keeps_repositories_keys_and_identities() {
    let state = TempDir::new("sandbox-restart");
    let project = &seed::project().key;

    let first = SandboxUp::start(binary(), state.path(), &[]);
    let created = first
        .bitbucket_curl("POST", &format!("/rest/api/1.0/projects/{project}/repos"))
        .json(r#"{"name":"kept"}"#)
        .send()
        .body;
    assert_eq!(created["slug"], "kept");
    let key =
        serde_json::json!({"key": {"text": seed::ED25519_PUBLIC_KEY}, "permission": "REPO_READ"});
    first
        .bitbucket_curl(
            "POST",
            &format!("/rest/keys/1.0/projects/{project}/repos/kept/ssh"),
        )
        .json(&key.to_string())
        .send();
    let before = first.settings.clone();
    assert!(first.terminate().success());

    let second = SandboxUp::start(binary(), state.path(), &[]);
    let kept = second
        .bitbucket_curl(
            "GET",
            &format!("/rest/api/1.0/projects/{project}/repos/kept"),
        )
        .send();
    assert_eq!(kept.body["id"], created["id"]);
    let keys = second
        .bitbucket_curl(
            "GET",
            &format!("/rest/keys/1.0/projects/{project}/repos/kept/ssh"),
        )
        .send();
    assert_eq!(keys.body["size"], 1);
    let after = &second.settings;
    assert_eq!(before["BITBUCKET_CA_FILE"], after["BITBUCKET_CA_FILE"]);
    // Same host key, so known_hosts written before the restart still matches.
    let key_of = |line: &str| {
        line.split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        key_of(&before["BITBUCKET_SSH_KNOWN_HOSTS"]),
        key_of(&after["BITBUCKET_SSH_KNOWN_HOSTS"])
    );
    assert!(second.terminate().success());
}

/// `up --kube-never-ready deployments`: kubectl works with the printed KUBECONFIG (objects
/// without a namespace land in `default`), and a Deployment never becomes Available.
#[test]
fn up_serves_kubectl_and_takes_kubernetes_fault_flags() {
    let up = SandboxUp::start_fresh(binary(), &["--kube-never-ready", "deployments"]);
    let kubectl = up.kubectl();
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx\n";
    let applied = kubectl.run_with_stdin(&["apply", "--server-side", "-f", "-"], Some(deployment));
    assert_eq!(
        applied.stdout, "deployment.apps/web serverside-applied\n",
        "{}",
        applied.stderr
    );
    let waited = kubectl.run(&[
        "wait",
        "--for=condition=Available",
        "deploy/web",
        "--timeout=2s",
    ]);
    assert!(waited.code != 0);
    assert!(
        waited
            .stderr
            .contains("timed out waiting for the condition"),
        "{}",
        waited.stderr
    );
    assert!(up.terminate().success());
}

/// `fluxstrap serve`'s configuration file as its parser takes it: unknown keys are refused
/// there, so they are here too.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeConfig {
    releases_url: Option<String>,
    #[serde(default)]
    versions: Vec<String>,
    servers: Vec<ServeServer>,
    clusters: Vec<ServeCluster>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeServer {
    name: String,
    url: String,
    ssh_url: Option<String>,
    ca_file: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeCluster {
    name: String,
    kubeconfig: String,
    projects: Vec<String>,
}

/// `up --clusters 3 --releases DIR`: FLUXSTRAP_CONFIG names the Bitbucket emulator, the mirror
/// and its versions, and three clusters whose kubeconfigs each reach their own emulator; no
/// credential of any of them is in the file.
#[test]
fn up_with_three_clusters_writes_a_configuration_for_serve() {
    let releases = TempDir::new("sandbox-up-releases");
    for version in ["v2.9.4", "v2.10.0", "not-a-version"] {
        let manifests = releases.join(version).join("manifests");
        std::fs::create_dir_all(&manifests).unwrap();
        std::fs::write(manifests.join("gotk.yaml"), "kind: List\n").unwrap();
    }
    let releases_dir = releases.path().to_str().unwrap();
    let up = SandboxUp::start_fresh(binary(), &["--clusters", "3", "--releases", releases_dir]);
    let settings = &up.settings;
    let path = Path::new(&settings["FLUXSTRAP_CONFIG"]);
    assert!(path.is_absolute(), "{}", path.display());
    assert_eq!(path, up.state().join("fluxstrap.toml"));
    let text = std::fs::read_to_string(path).unwrap();
    let config: ServeConfig = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\nin:\n{text}"));

    assert_eq!(
        config.releases_url.as_deref(),
        Some(&settings["FLUXSTRAP_RELEASES_URL"])
    );
    assert_eq!(config.versions, ["v2.10.0", "v2.9.4"]);
    let [server] = config.servers.as_slice() else {
        panic!("one server expected: {config:?}")
    };
    assert_eq!(server.name, "sandbox");
    assert_eq!(server.url, &settings["BITBUCKET_URL"]);
    assert_eq!(
        server.ssh_url.as_deref(),
        Some(&settings["BITBUCKET_SSH_URL"])
    );
    assert_eq!(
        server.ca_file.as_deref(),
        Some(&settings["BITBUCKET_CA_FILE"])
    );

    let names: Vec<&str> = config.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["sandbox-1", "sandbox-2", "sandbox-3"]);
    // The first is the one KUBECONFIG has always named.
    assert_eq!(config.clusters[0].kubeconfig, &settings["KUBECONFIG"]);
    let kubeconfigs: Vec<&str> = config
        .clusters
        .iter()
        .map(|c| c.kubeconfig.as_str())
        .collect();
    let distinct: std::collections::BTreeSet<&str> = kubeconfigs.iter().copied().collect();
    assert_eq!(distinct.len(), 3, "{kubeconfigs:?}");
    let seed_projects: Vec<String> = fluxstrap_sandbox::bitbucket::Seed::default()
        .projects
        .into_iter()
        .map(|p| p.key)
        .collect();
    let kubectls: Vec<Kubectl> = config
        .clusters
        .iter()
        .enumerate()
        .map(|(index, cluster)| {
            assert!(Path::new(&cluster.kubeconfig).is_file(), "{cluster:?}");
            assert_eq!(cluster.projects, seed_projects);
            Kubectl::new(
                Path::new(&cluster.kubeconfig),
                &up.state().join(format!("home-{index}")),
            )
        })
        .collect();

    // Each kubeconfig reaches its own emulator: a namespace made on the second is only there.
    // (Applied from YAML: typed `kubectl create namespace` sends protobuf, which the emulator
    // does not speak.)
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: only-in-2\n";
    kubectls[1]
        .run_with_stdin(&["apply", "--server-side", "-f", "-"], Some(namespace))
        .ok();
    kubectls[1].run(&["get", "namespace", "only-in-2"]).ok();
    for other in [&kubectls[0], &kubectls[2]] {
        other
            .run(&["get", "namespace", "only-in-2"])
            .fails_with("not found");
    }

    // No credential: neither Bitbucket's tokens nor the clusters' (they stay in the kubeconfigs).
    let mut secrets: Vec<String> = ["BITBUCKET_TOKEN", "BITBUCKET_READONLY_TOKEN"]
        .iter()
        .map(|key| settings[key].to_string())
        .collect();
    for kubeconfig in &kubeconfigs {
        let parsed: serde_json::Value =
            serde_json::from_slice(&std::fs::read(kubeconfig).unwrap()).unwrap();
        secrets.push(
            parsed["users"][0]["user"]["token"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(!text.contains(secret.as_str()), "a token in:\n{text}");
    }
    assert!(up.terminate().success());
}

/// `--clusters 0` is refused before anything starts, in words that say what is allowed.
#[test]
fn up_refuses_zero_clusters() {
    let output = std::process::Command::new(binary())
        .args(["up", "--clusters", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--clusters"), "{stderr}");
    assert!(stderr.contains("not in 1.."), "{stderr}");
}
