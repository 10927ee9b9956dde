//! Deployments rolling out, watches (with and without WatchList), labels, patches, deletes,
//! Secrets and generations.

use fluxstrap_sandbox::kube::{LoggedRequest, Options, WatchList};
use fluxstrap_testkit::commands::KUBECTL;

use super::common::{Cluster, DEPLOYMENT, NAMESPACE_AND_CONFIGMAP, configmap, eventually, options};

#[test]
fn deployments_roll_out_and_watches_work_with_and_without_watch_list() {
    for (name, watch_list) in [
        ("watchlist", WatchList::Supported),
        ("no-watchlist", WatchList::Rejected),
    ] {
        let cluster = Cluster::start(
            name,
            Options {
                watch_list,
                ..options()
            },
        );
        cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]).ok();
        cluster.apply(DEPLOYMENT, &[]).ok();
        // client-go's WatchList, switched on through its feature-gate variable.
        let env = [("KUBE_FEATURE_WatchListClient", "true")];
        cluster.rolled_out(KUBECTL, &env, "web", "team");
        let out = cluster.run(
            KUBECTL,
            &env,
            &[
                "wait",
                "--for=condition=Available",
                "deploy/web",
                "-n",
                "team",
                "--timeout=10s",
            ],
            None,
        );
        assert_eq!(out.ok(), "deployment.apps/web condition met\n");
        // ReplicaSet and Running pods behind it; `kubectl scale` through the /scale subresource.
        let pods = |cluster: &Cluster| {
            cluster
                .jsonpath(
                    &["pods", "-n", "team", "-l", "app=web"],
                    "{.items[*].status.phase}",
                )
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(pods(&cluster), ["Running", "Running"]);
        let out = cluster.kubectl(&["scale", "deploy/web", "-n", "team", "--replicas=3"]);
        assert_eq!(out.ok(), "deployment.apps/web scaled\n");
        cluster.rolled_out(KUBECTL, &[], "web", "team");
        eventually(|| pods(&cluster).len() == 3);
        assert_eq!(pods(&cluster), ["Running", "Running", "Running"]);
        let sets = cluster.jsonpath(&["rs", "-n", "team"], "{.items[*].spec.replicas}");
        assert_eq!(sets, "3");
        // The built-in printer's columns.
        let printed = cluster.kubectl(&["get", "deploy", "web", "-n", "team"]);
        let lines: Vec<Vec<&str>> = printed
            .ok()
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            lines[0],
            ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        );
        assert_eq!(lines[1][..4], ["web", "3/3", "3", "3"]);
        // Deleting the Deployment takes its ReplicaSet and pods with it.
        cluster
            .kubectl(&["delete", "deploy", "web", "-n", "team"])
            .ok();
        eventually(|| pods(&cluster).is_empty());
        assert!(pods(&cluster).is_empty());
        assert_eq!(
            cluster.jsonpath(&["rs", "-n", "team"], "{.items[*].metadata.name}"),
            ""
        );
        let log = cluster.log();
        let watch_lists: Vec<&LoggedRequest> = log
            .iter()
            .filter(|r| r.path_and_query.contains("sendInitialEvents=true"))
            .collect();
        assert!(!watch_lists.is_empty(), "kubectl did not try WatchList");
        match watch_list {
            WatchList::Supported => assert!(watch_lists.iter().all(|r| r.status == 200)),
            // 422, then list + watch from the list's resourceVersion.
            WatchList::Rejected => {
                assert!(watch_lists.iter().all(|r| r.status == 422));
                assert!(log.iter().any(|r| r.path_and_query.contains("watch=true")
                    && !r.path_and_query.contains("sendInitialEvents")
                    && r.status == 200));
            }
        }
    }
}

#[test]
fn watch_labels_patches_deletes_secrets_and_generation() {
    let cluster = Cluster::start("everyday", options());
    cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]).ok();

    // `get -w` sees an object another process creates.
    let mut watcher = cluster
        .kube()
        .kubectl()
        .command(&[
            "get",
            "cm",
            "-n",
            "team",
            "-w",
            "--output-watch-events",
            "--request-timeout=5s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    cluster.apply(&configmap("late", "  k: v\n"), &[]).ok();
    std::thread::sleep(std::time::Duration::from_millis(700));
    watcher.kill().unwrap();
    let output = watcher.wait_with_output().unwrap();
    let events = String::from_utf8_lossy(&output.stdout);
    assert!(
        events
            .lines()
            .any(|l| l.starts_with("ADDED") && l.contains("late")),
        "{events}"
    );

    // Patches of every type, label and annotate on a built-in type.
    let settings = ["cm", "settings", "-n", "team"];
    let merge = r#"{"data":{"m":"1"}}"#;
    cluster
        .on("patch", &settings, &["--type=merge", "-p", merge])
        .ok();
    let json = r#"[{"op":"add","path":"/data/j","value":"2"}]"#;
    cluster
        .on("patch", &settings, &["--type=json", "-p", json])
        .ok();
    let strategic = r#"{"data":{"s":"3"}}"#;
    cluster.on("patch", &settings, &["-p", strategic]).ok();
    cluster.on("label", &settings, &["tier=gold"]).ok();
    cluster.on("annotate", &settings, &["owner=ops"]).ok();
    assert_eq!(
        cluster.jsonpath(
            &["cm", "settings", "-n", "team"],
            "{.data.m}{.data.j}{.data.s} {.metadata.labels.tier} {.metadata.annotations.owner}"
        ),
        "123 gold ops"
    );

    // Label selectors: equality, set-based, existence.
    let names = |selector: &str| {
        cluster.jsonpath(
            &["cm", "-n", "team", "-l", selector],
            "{.items[*].metadata.name}",
        )
    };
    assert_eq!(names("app.kubernetes.io/part-of=flux"), "settings");
    assert_eq!(names("tier in (gold,silver)"), "settings");
    assert_eq!(names("!tier"), "late");

    // Delete, NotFound, and a new uid on re-creation.
    let uid = cluster.jsonpath(&["cm", "late", "-n", "team"], "{.metadata.uid}");
    assert_eq!(
        cluster
            .kubectl(&["delete", "cm", "late", "-n", "team"])
            .ok(),
        "configmap \"late\" deleted\n"
    );
    cluster
        .kubectl(&["get", "cm", "late", "-n", "team"])
        .fails_with("Error from server (NotFound): configmaps \"late\" not found");
    cluster.apply(&configmap("late", "  k: v\n"), &[]).ok();
    assert_ne!(
        cluster.jsonpath(&["cm", "late", "-n", "team"], "{.metadata.uid}"),
        uid
    );

    // A Secret made client-side and applied: stored base64.
    let secret = cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "token",
        "-n",
        "team",
        "--from-literal=k=v",
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    let out = cluster.run(
        KUBECTL,
        &[],
        &["apply", "--server-side", "-f", "-"],
        Some(secret.ok()),
    );
    assert_eq!(out.ok(), "secret/token serverside-applied\n");
    assert_eq!(
        cluster.jsonpath(&["secret", "token", "-n", "team"], "{.data.k}"),
        "dg=="
    );

    // Generation follows the spec only.
    let web = ["deploy", "web", "-n", "team"];
    let generation = || cluster.jsonpath(&web, "{.metadata.generation}");
    cluster.apply(DEPLOYMENT, &[]).ok();
    assert_eq!(generation(), "1");
    cluster.on("label", &web, &["x=y"]).ok();
    assert_eq!(generation(), "1");
    cluster
        .apply(&DEPLOYMENT.replace("replicas: 2", "replicas: 3"), &[])
        .ok();
    assert_eq!(generation(), "2");

    // What a real server refuses: a changed Deployment selector, a name that is no DNS name.
    cluster
        .apply(&DEPLOYMENT.replace("app: web", "app: web2"), &[])
        .fails_with(
            "The Deployment \"web\" is invalid: spec.selector: Invalid value: \
             v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, \
             MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
        );
    cluster
        .apply(&configmap("Bad_Name", "  k: v\n"), &[])
        .fails_with(
            "The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": \
             a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters",
        );
}
