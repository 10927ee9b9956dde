//! What goes wrong: a Kustomization that never gets ready, a server error halfway, Deployments
//! that never become available, a wrong token for the GitRepository.

use std::time::{Duration, Instant};

use fluxstrap_core::cluster::{ApplyAction, SyncKind};
use fluxstrap_sandbox::kube::{Fault, NeverReady, Options};

use super::common::{apply, components_yaml, fast, no_flux, objects, sandbox, wait_synced};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kustomization_that_never_gets_ready_fails_at_the_timeout_with_fluxs_message() {
    let sandbox = sandbox("cluster-never-ready", Options::default()).await;
    sandbox
        .kube
        .inject(Fault::NeverReady(NeverReady::Kustomizations));
    let cluster = sandbox.cluster().await;
    let (_, revision) = sandbox
        .installed_and_synced(&cluster, sandbox.source_secret())
        .await;
    wait_synced(&cluster, SyncKind::GitRepository, &revision, 30)
        .await
        .unwrap();
    let started = Instant::now();
    let error = wait_synced(&cluster, SyncKind::Kustomization, &revision, 3)
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
    sandbox.stop().await;
}

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
async fn deployments_that_never_become_available_time_out_naming_each_component() {
    let sandbox = sandbox("cluster-unavailable", no_flux()).await;
    sandbox
        .kube
        .inject(Fault::NeverReady(NeverReady::Deployments));
    let cluster = sandbox.cluster().await;
    apply(&cluster, objects(&components_yaml()), 30)
        .await
        .unwrap();
    let mut events = Vec::new();
    let names: Vec<String> = [
        "source-controller",
        "kustomize-controller",
        "missing-controller",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let error = cluster
        .components_health(
            "flux-system",
            &names,
            &fast(Duration::from_secs(2)),
            &mut |e| events.push(e.to_string()),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "timed out waiting for all resources to be ready"
    );
    assert_eq!(
        events,
        [
            "► confirming components are healthy",
            "✗ kustomize-controller: deployment not ready",
            "✗ missing-controller: deployment not found",
            "✗ source-controller: deployment not ready",
        ]
    );
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_makes_the_git_repository_fail_at_once_with_gits_message() {
    let sandbox = sandbox("cluster-wrong-token", Options::default()).await;
    let cluster = sandbox.cluster().await;
    let mut secret = sandbox.source_secret();
    secret.insert("password".into(), "not-the-token".into());
    let (url, revision) = sandbox.installed_and_synced(&cluster, secret).await;
    let started = Instant::now();
    let error = wait_synced(&cluster, SyncKind::GitRepository, &revision, 30)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "Ready=False must end the wait at once"
    );
    assert!(
        error.starts_with(&format!(
            "error while waiting for GitRepository to be ready: 'failed to checkout and \
             determine revision: unable to clone '{url}': "
        )),
        "{error}"
    );
    // go-git's words, as source-controller reports a 401.
    assert!(error.ends_with("': authentication required'"), "{error}");
    assert!(
        !error.contains("not-the-token"),
        "the password leaked: {error}"
    );
    sandbox.stop().await;
}
