//! The full install, a re-apply that changes nothing, and a server with the legacy discovery
//! only. (Installing or leaving the components, the sync-path guard and the waits are the
//! bootstrap engine's steps: the `bootstrap` suite tests them.)

use std::time::{Duration, Instant};

use fluxstrap_core::bootstrap::ports::ApplyProgress;
use fluxstrap_core::cluster::ApplyAction;
use fluxstrap_sandbox::kube::{self, Options};

use super::common::{
    ALL_COMPONENTS, apply, components_yaml, fast, no_flux, objects, sandbox, sync_yaml, writes,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_install_is_applied_by_flux_and_a_second_apply_changes_nothing() {
    let sandbox = sandbox("cluster-full", no_flux()).await;
    let cluster = sandbox.cluster().await;
    let component_objects = objects(&components_yaml());
    let started = Instant::now();
    let mut events: Vec<ApplyProgress> = Vec::new();
    let applied = cluster
        .apply_staged(
            component_objects.clone(),
            &fast(Duration::from_secs(30)),
            &mut |event| events.push(event),
        )
        .await
        .unwrap();
    let install_time = started.elapsed();
    assert_eq!(applied.len(), component_objects.len());
    assert!(applied.iter().all(|a| a.action == ApplyAction::Created));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ApplyProgress::WaitingForDefinitions { count } if *count > 0)),
        "{events:?}"
    );
    // Every component's Deployment, CRDs and the namespace are stored, applied by `flux`.
    for component in ALL_COMPONENTS {
        let deployment = sandbox
            .kube
            .object("apps", "Deployment", "flux-system", component)
            .unwrap_or_else(|| panic!("{component} not applied"));
        let managers: Vec<&str> = deployment["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["manager"].as_str())
            .collect();
        assert!(managers.contains(&"flux"), "{managers:?}");
    }
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

    // A second run: nothing to apply, no write reaches the API server.
    let writes_before = writes(&sandbox.kube);
    let started = Instant::now();
    let again = apply(&cluster, component_objects, 30).await.unwrap();
    let reapply_time = started.elapsed();
    let changed: Vec<String> = again
        .iter()
        .filter(|a| a.action != ApplyAction::Unchanged)
        .map(|a| a.object.display())
        .collect();
    assert!(changed.is_empty(), "changed on re-apply: {changed:?}");
    assert_eq!(writes(&sandbox.kube), writes_before);
    println!(
        "apply timings against the emulator ({} build): full v2.9.4 install with all \
         components ({} objects) {install_time:?}; re-apply (all unchanged) {reapply_time:?}",
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
