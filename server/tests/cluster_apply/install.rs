//! The full install and sync, a re-apply that changes nothing, components left to Flux once it
//! applied a revision, and a server with the legacy discovery only.

use std::time::{Duration, Instant};

use fluxstrap_core::cluster::{ApplyAction, SyncKind, expected_revision};
use fluxstrap_sandbox::kube::{self, Options};
use fluxstrap_server::cluster::{ClusterEvent, ComponentsStep};

use super::common::{
    ALL_COMPONENTS, apply, components_yaml, fast, install_components, no_flux, objects, sandbox,
    sync_yaml, writes,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_install_and_sync_become_healthy_and_a_second_apply_changes_nothing() {
    let sandbox = sandbox("cluster-full", Options::default()).await;
    let url = sandbox.create_repository("fleet");
    let components = components_yaml();
    let sync = sync_yaml(&url);
    let head = sandbox.push(&url, &components, &sync).await;
    let cluster = sandbox.cluster().await;
    let mut events: Vec<String> = Vec::new();
    let mut record = |event: ClusterEvent| events.push(event.to_string());

    let component_objects = objects(&components);
    let started = Instant::now();
    let applied = cluster
        .apply_staged(
            component_objects.clone(),
            &fast(Duration::from_secs(30)),
            &mut record,
        )
        .await
        .unwrap();
    let install_time = started.elapsed();
    assert_eq!(applied.len(), component_objects.len());
    assert!(applied.iter().all(|a| a.action == ApplyAction::Created));
    // Every component's Deployment, CRDs and the namespace are stored, applied by `flux`.
    let deployment = sandbox
        .kube
        .object("apps", "Deployment", "flux-system", "source-watcher")
        .expect("source-watcher applied");
    let managers: Vec<&str> = deployment["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["manager"].as_str())
        .collect();
    assert!(managers.contains(&"flux"), "{managers:?}");
    assert!(
        sandbox
            .kube
            .object(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                "",
                "gitrepositories.source.toolkit.fluxcd.io"
            )
            .is_some()
    );

    cluster
        .reconcile_secret(
            "flux-system",
            "flux-system",
            None,
            sandbox.source_secret(),
            &mut record,
        )
        .await
        .unwrap();
    let started = Instant::now();
    cluster
        .apply_staged(objects(&sync), &fast(Duration::from_secs(30)), &mut record)
        .await
        .unwrap();
    let sync_apply_time = started.elapsed();

    let revision = expected_revision("main", &head);
    let started = Instant::now();
    for kind in [SyncKind::GitRepository, SyncKind::Kustomization] {
        cluster
            .wait_synced(
                kind,
                "flux-system",
                "flux-system",
                &revision,
                &fast(Duration::from_secs(60)),
                &mut record,
            )
            .await
            .unwrap();
    }
    let names: Vec<String> = ALL_COMPONENTS.iter().map(|s| s.to_string()).collect();
    let health = cluster
        .components_health(
            "flux-system",
            &names,
            &fast(Duration::from_secs(30)),
            &mut record,
        )
        .await
        .unwrap();
    let sync_time = started.elapsed();
    assert!(health.iter().all(|c| c.found && c.ready));
    assert!(events.contains(&"✔ GitRepository reconciled successfully".to_string()));
    assert!(events.contains(&"✔ Kustomization reconciled successfully".to_string()));
    assert!(events.contains(&"✔ source-watcher: deployment ready".to_string()));
    assert_eq!(
        events.last().map(String::as_str),
        Some("✔ all components are healthy")
    );

    // The simulated kustomize-controller applied the pushed manifests and owns them too.
    let kustomization = sandbox
        .kube
        .object(
            "kustomize.toolkit.fluxcd.io",
            "Kustomization",
            "flux-system",
            "flux-system",
        )
        .unwrap();
    assert_eq!(kustomization["status"]["lastAppliedRevision"], revision);
    let deployment = sandbox
        .kube
        .object("apps", "Deployment", "flux-system", "helm-controller")
        .unwrap();
    assert_eq!(
        deployment["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"],
        "flux-system"
    );

    // A second run: nothing to apply, no write reaches the API server.
    let writes_before = sandbox
        .kube
        .request_log()
        .iter()
        .filter(|r| r.method == "PATCH" && !r.path_and_query.contains("dryRun=All"))
        .count();
    let started = Instant::now();
    let again = apply(&cluster, component_objects, 30).await.unwrap();
    let reapply_time = started.elapsed();
    let changed: Vec<String> = again
        .iter()
        .filter(|a| a.action != ApplyAction::Unchanged)
        .map(|a| a.object.display())
        .collect();
    assert!(changed.is_empty(), "changed on re-apply: {changed:?}");
    let writes_after = sandbox
        .kube
        .request_log()
        .iter()
        .filter(|r| r.method == "PATCH" && !r.path_and_query.contains("dryRun=All"))
        .count();
    assert_eq!(writes_before, writes_after);

    println!(
        "apply timings against the emulator ({} build): full v2.9.4 install with all \
         components ({} objects) {install_time:?}; sync objects {sync_apply_time:?}; \
         waits until Flux reports {revision} and all components are healthy {sync_time:?}; \
         re-apply (all unchanged) {reapply_time:?}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        again.len()
    );
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_are_left_to_flux_once_it_applied_a_revision_and_the_sync_path_is_guarded() {
    let sandbox = sandbox("cluster-skip", no_flux()).await;
    let cluster = sandbox.cluster().await;
    let mut events = Vec::new();
    let mut record = |e: ClusterEvent| events.push(e.to_string());
    let first = cluster
        .install_components(
            "flux-system",
            objects(&components_yaml()),
            &fast(Duration::from_secs(30)),
            &mut record,
        )
        .await
        .unwrap();
    assert!(matches!(first, ComponentsStep::Installed(ref applied) if !applied.is_empty()));
    cluster
        .apply_sync(
            "flux-system",
            "clusters/dev",
            objects(&sync_yaml("ssh://git@example.com/PLAT/fleet")),
            &fast(Duration::from_secs(30)),
            &mut record,
        )
        .await
        .unwrap();
    assert_eq!(
        events.first().map(String::as_str),
        Some("► installing components in \"flux-system\" namespace")
    );
    assert!(events.contains(&"✔ reconciled sync configuration".to_string()));

    // Until kustomize-controller reports a revision, the CLI still owns the install.
    let again = install_components(&cluster).await.unwrap();
    assert!(matches!(again, ComponentsStep::Installed(_)));

    // Play kustomize-controller: a revision applied.
    sandbox
        .kube
        .set_status(
            "kustomize.toolkit.fluxcd.io",
            "Kustomization",
            "flux-system",
            "flux-system",
            serde_json::json!({"lastAppliedRevision": "main@sha1:0123456789012345678901234567890123456789"}),
        )
        .unwrap();
    let before = writes(&sandbox.kube);
    let skipped = install_components(&cluster).await.unwrap();
    assert_eq!(skipped, ComponentsStep::ManagedByFlux);
    assert_eq!(writes(&sandbox.kube), before, "a skipped install wrote");

    // Moving the Kustomization to another path would prune what the old one deployed.
    let error = cluster
        .apply_sync(
            "flux-system",
            "./clusters/other/",
            objects(&sync_yaml("ssh://git@example.com/PLAT/fleet")),
            &fast(Duration::from_secs(30)),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "sync path configuration (\"./clusters/other\") would overwrite path (\"./clusters/dev\") \
         of existing Kustomization"
    );
    assert_eq!(writes(&sandbox.kube), before);
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_discovery_only_servers_still_resolve_new_custom_kinds() {
    let sandbox = sandbox(
        "cluster-legacy",
        Options {
            discovery: kube::Discovery::LegacyOnly,
            ..no_flux()
        },
    )
    .await;
    let cluster = sandbox.cluster().await;
    let mut all = objects(&components_yaml());
    all.extend(objects(&sync_yaml("ssh://git@example.com/PLAT/fleet")));
    let applied = apply(&cluster, all, 30).await.unwrap();
    assert!(applied.iter().all(|a| a.action == ApplyAction::Created));
    assert!(
        sandbox
            .kube
            .object(
                "source.toolkit.fluxcd.io",
                "GitRepository",
                "flux-system",
                "flux-system"
            )
            .is_some()
    );
    let log = sandbox.kube.request_log();
    assert!(
        log.iter().any(|r| r
            .path_and_query
            .starts_with("/apis/source.toolkit.fluxcd.io/v1")
            && r.method == "GET"),
        "the legacy per-group discovery was not used"
    );
    sandbox.stop().await;
}
