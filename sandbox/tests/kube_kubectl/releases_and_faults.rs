//! The other installed kubectl releases, and injected faults as a real server sends them.

use std::path::{Path, PathBuf};

use fluxstrap_sandbox::kube::Fault;
use fluxstrap_testkit::commands::KUBECTL;

use super::common::{Cluster, DEPLOYMENT, NAMESPACE_AND_CONFIGMAP, configmap, options};

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
        let manifest = cluster.dir().join(format!("{name}.yaml"));
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
