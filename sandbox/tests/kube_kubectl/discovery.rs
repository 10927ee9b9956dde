//! Version and discovery (aggregated and legacy) and authentication: tokens, CAs, client
//! certificates.

use fluxstrap_sandbox::kube::{Authentication, ClientKey, Discovery, Options};
use fluxstrap_testkit::Kubectl;
use fluxstrap_testkit::commands::KUBECTL;

use super::common::{Cluster, NAMESPACE_AND_CONFIGMAP, options, shared_install_yaml};

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
    let wrong = cluster.dir().join("kubeconfig-wrong-token");
    std::fs::write(
        &wrong,
        kubeconfig.replace(cluster.emulator().token(), "wrong-token"),
    )
    .unwrap();
    let out = Kubectl::new(&wrong, &cluster.dir().join("home-wrong")).run(&["get", "namespaces"]);
    assert!(out.code != 0);
    assert!(
        out.stderr
            .contains("error: You must be logged in to the server ("),
        "{}",
        out.stderr
    );
    // Another CA: kubectl refuses the server's certificate.
    let other_ca = kubeconfig.replace(
        "certificate-authority-data",
        "certificate-authority-data-unused",
    );
    let untrusted = cluster.dir().join("kubeconfig-no-ca");
    std::fs::write(&untrusted, other_ca).unwrap();
    let out =
        Kubectl::new(&untrusted, &cluster.dir().join("home-untrusted")).run(&["get", "namespaces"]);
    assert!(out.code != 0);
    assert!(out.stderr.contains("x509"), "{}", out.stderr);
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
        let path = cluster.dir().join("kubeconfig-anonymous");
        std::fs::write(&path, serde_json::to_vec(&anonymous).unwrap()).unwrap();
        let out =
            Kubectl::new(&path, &cluster.dir().join("home-anonymous")).run(&["get", "namespaces"]);
        assert!(out.code != 0);
        let stderr = &out.stderr;
        assert!(
            stderr.contains("error: You must be logged in to the server ("),
            "{stderr}"
        );
    }
}
