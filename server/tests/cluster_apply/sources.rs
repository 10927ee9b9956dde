//! The source Secret: SSH deploy keys (missing, registered, a wrong known_hosts) and Secrets
//! updated keeping the keys flux does not write.

use std::collections::BTreeMap;
use std::time::Duration;

use fluxstrap_core::cluster::expected_revision;
use fluxstrap_sandbox::kube::Options;
use fluxstrap_server::cluster::SecretWrite;

use super::common::{
    apply, components_yaml, namespace, no_flux, not_ready_message, objects, poll_until,
    ready_message, reconcile_source_secret, sandbox, sync_yaml,
};

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
    apply(&cluster, objects(&components), 30).await.unwrap();

    // flux's default deploy key (ECDSA P-384), not registered in Bitbucket yet.
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let key_pair = KeyPair::generate(KeySpec::default(), &mut rng).unwrap();
    let known_hosts = sandbox.bitbucket.ssh_known_hosts().unwrap().to_string();
    let secret = SourceSecretData::Ssh {
        key_pair: key_pair.clone(),
        known_hosts: known_hosts.clone(),
    };
    reconcile_source_secret(&cluster, secret.string_data())
        .await
        .unwrap();
    apply(&cluster, objects(&sync), 30).await.unwrap();
    let refused = not_ready_message(&sandbox.kube).await;
    assert!(refused.ends_with("unable to authenticate, attempted methods [none publickey], no supported methods remain"), "{refused}");

    // Register the deploy key as a read-only access key, as bootstrap does; the next
    // reconcile clones at the pushed commit and the Kustomization applies it.
    let access_key = serde_json::json!({"key": {"text": key_pair.public_authorized().trim(),
                                                 "label": "flux-system-main-flux-system-./clusters/dev"},
                                         "permission": "REPO_READ"});
    sandbox
        .bitbucket
        .admin_curl("POST", "/rest/keys/1.0/projects/PLAT/repos/fleet/ssh")
        .json(&access_key.to_string())
        .send()
        .success();
    poll_until(
        &sandbox.kube,
        "GitRepository",
        Duration::from_secs(20),
        |o| {
            o["status"]["artifact"]["revision"] == revision.as_str() && ready_message(o).0 == "True"
        },
    )
    .await;
    poll_until(
        &sandbox.kube,
        "Kustomization",
        Duration::from_secs(20),
        |o| o["status"]["lastAppliedRevision"] == revision.as_str(),
    )
    .await;

    // A known_hosts line with another key for the same host: the clone must stop.
    let other = KeyPair::generate(KeySpec::Ed25519, &mut rng).unwrap();
    let host = known_hosts.split_whitespace().next().unwrap();
    let wrong = SourceSecretData::Ssh {
        key_pair,
        known_hosts: format!("{host} {}", other.public_authorized().trim()),
    };
    reconcile_source_secret(&cluster, wrong.string_data())
        .await
        .unwrap();
    let mismatch = not_ready_message(&sandbox.kube).await;
    assert!(mismatch.ends_with("knownhosts: key mismatch"), "{mismatch}");
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_created_then_updated_keeping_keys_flux_does_not_write() {
    use base64::Engine as _;
    let sandbox = sandbox("cluster-secrets", no_flux()).await;
    let cluster = sandbox.cluster().await;
    apply(&cluster, namespace("flux-system"), 10).await.unwrap();
    let pull = fluxstrap_core::secret::docker_config_json("ghcr.io", "bot", "s3cret");
    let created = cluster
        .reconcile_secret(&SecretWrite {
            namespace: "flux-system".into(),
            name: "regcred".into(),
            secret_type: Some("kubernetes.io/dockerconfigjson".into()),
            string_data: BTreeMap::from([(".dockerconfigjson".to_string(), pull.clone())]),
        })
        .await
        .unwrap();
    assert_eq!(created, fluxstrap_server::cluster::SecretAction::Created);
    let stored = sandbox.secret("regcred");
    assert_eq!(stored["type"], "kubernetes.io/dockerconfigjson");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(stored["data"][".dockerconfigjson"].as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), pull);
    assert!(stored.get("stringData").is_none());

    // Switching from SSH to token auth: the new keys are written, the old ones stay (flux
    // sets stringData on the existing Secret).
    reconcile_source_secret(
        &cluster,
        BTreeMap::from([("identity".to_string(), "old-key".to_string())]),
    )
    .await
    .unwrap();
    let updated = reconcile_source_secret(
        &cluster,
        BTreeMap::from([
            ("username".to_string(), "git".to_string()),
            ("password".to_string(), "token".to_string()),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(updated, fluxstrap_server::cluster::SecretAction::Updated);
    let stored = sandbox.secret("flux-system");
    let keys: Vec<&String> = stored["data"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["identity", "password", "username"]);
    sandbox.stop().await;
}
