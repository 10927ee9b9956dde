//! The engine's cluster steps: components left to Flux once it applied a revision, the
//! sync-path guard, and the waits ending with flux's messages at `--timeout`.

use std::time::Instant;

use fluxstrap_sandbox::kube::{Fault, NeverReady, Options};

use super::common::{World, has_all};

#[tokio::test(flavor = "multi_thread")]
async fn components_are_left_to_flux_once_it_applied_a_revision_and_the_path_is_guarded() {
    let world = World::start("bootstrap-managed").await;
    let first = world
        .run(&["--repository=fleet", "--path=clusters/dev"])
        .await
        .healthy();
    assert!(
        first
            .stderr()
            .contains("► installing components in \"flux-system\" namespace")
    );
    let second = world
        .run(&["--repository=fleet", "--path=clusters/dev"])
        .await
        .healthy();
    let stderr = second.stderr();
    assert!(!stderr.contains("► installing components"), "{stderr}");
    has_all(
        &stderr,
        &["✔ Flux manages its own components: kustomize-controller applies them from git"],
    );
    // Moving the Kustomization to another path would prune what the old one deployed.
    world
        .run(&["--repository=fleet", "--path=./clusters/other/"])
        .await
        .fails_with(
            "sync path configuration (\"./clusters/other\") would overwrite path (\"./clusters/dev\") of existing Kustomization",
        );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kustomization_that_never_gets_ready_fails_at_the_timeout_with_fluxs_message() {
    let options = Options::default();
    let world = World::with_kube("bootstrap-never-ready", options).await;
    world
        .kube
        .inject(Fault::NeverReady(NeverReady::Kustomizations));
    let started = Instant::now();
    let run = world
        .run(&["--repository=fleet", "--path=clusters/dev", "--timeout=8s"])
        .await;
    let waited = started.elapsed();
    // flux's words (spec §2.8): the error names the object and surfaces its Ready message.
    run.fails_with(
        "bootstrap failed with 1 health check failure(s): error while waiting for Kustomization to be ready: 'kustomization 'flux-system/flux-system' not ready: 'Reconciliation in progress''",
    );
    let stderr = run.stderr();
    has_all(
        &stderr,
        &[
            "✔ GitRepository reconciled successfully",
            "✔ all components are healthy",
        ],
    );
    assert!(waited.as_secs() < 15, "overran the timeout: {waited:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deployments_that_never_become_available_are_named_at_the_timeout() {
    let world = World::start("bootstrap-unavailable").await;
    world
        .kube
        .inject(Fault::NeverReady(NeverReady::Deployments));
    let run = world
        .run(&["--repository=fleet", "--path=clusters/dev", "--timeout=8s"])
        .await;
    run.fails_with(
        "bootstrap failed with 1 health check failure(s): timed out waiting for all resources to be ready",
    );
    let stderr = run.stderr();
    let lines: Vec<&str> = stderr
        .lines()
        .skip_while(|l| *l != "► confirming components are healthy")
        .take(5)
        .collect();
    assert_eq!(
        lines,
        [
            "► confirming components are healthy",
            "✗ helm-controller: deployment not ready",
            "✗ kustomize-controller: deployment not ready",
            "✗ notification-controller: deployment not ready",
            "✗ source-controller: deployment not ready",
        ]
    );
}
