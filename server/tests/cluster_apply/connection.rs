//! How the engine reaches the cluster: the kubeconfig context given, client certificates.

use fluxstrap_sandbox::kube::{self, Options};
use fluxstrap_server::cluster::{Cluster, KubeconfigSource};
use serde_json::Value;

use super::common::{apply, namespace, no_flux, sandbox};

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
    let path = sandbox.kube.dir().join("two-contexts.json");
    std::fs::write(&path, serde_json::to_vec(&kubeconfig).unwrap()).unwrap();

    let chosen = Cluster::connect(&KubeconfigSource::File {
        path: path.clone(),
        context: Some("fluxstrap-sandbox".into()),
    })
    .await
    .unwrap();
    apply(&chosen, namespace("chosen"), 10).await.unwrap();
    assert!(sandbox.kube.object("", "Namespace", "", "chosen").is_some());

    let current = Cluster::connect(&KubeconfigSource::File {
        path,
        context: None,
    })
    .await
    .unwrap();
    let error = apply(&current, namespace("other"), 10).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("discovering the cluster's API: ")
            && message.contains("Connection refused")
            && message
                .ends_with("are the kubeconfig's server address and context the right ones?)"),
        "{message}"
    );
    sandbox.stop().await;
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
        apply(&cluster, namespace("by-certificate"), 10)
            .await
            .unwrap_or_else(|e| panic!("{key:?}: {e}"));
        assert!(
            sandbox
                .kube
                .object("", "Namespace", "", "by-certificate")
                .is_some()
        );
        sandbox.stop().await;
    }
}
