//! What goes wrong: a server error halfway, a wrong token for the GitRepository. (A
//! Kustomization or Deployments that never get ready are the bootstrap's waits: the `bootstrap`
//! suite tests them.)

use std::time::{Duration, Instant};

use fluxstrap_core::cluster::ApplyAction;
use fluxstrap_sandbox::kube::{Fault, Options};

use super::common::{apply, components_yaml, no_flux, not_ready_message, objects, sandbox};

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
    let error = apply(&cluster, component_objects.clone(), 30)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("dry-run applying Deployment/flux-system/"),
        "{message}"
    );
    assert!(message.contains("injected fault"), "{message}");
    let rerun = apply(&cluster, component_objects, 30).await.unwrap();
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
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_makes_the_git_repository_fail_at_once_with_gits_message() {
    let sandbox = sandbox("cluster-wrong-token", Options::default()).await;
    let cluster = sandbox.cluster().await;
    let mut secret = sandbox.source_secret();
    secret.insert("password".into(), "not-the-token".into());
    let (url, _) = sandbox.installed_and_synced(&cluster, secret).await;
    let started = Instant::now();
    let error = not_ready_message(&sandbox.kube).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "Ready=False must come at once"
    );
    assert!(
        error.starts_with(&format!(
            "failed to checkout and determine revision: unable to clone '{url}': "
        )),
        "{error}"
    );
    // go-git's words, as source-controller reports a 401.
    assert!(error.ends_with(": authentication required"), "{error}");
    assert!(
        !error.contains("not-the-token"),
        "the password leaked: {error}"
    );
    sandbox.stop().await;
}
