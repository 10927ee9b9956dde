//! Server-side apply: field ownership, conflicts and dry runs.

use super::common::{Cluster, NAMESPACE_AND_CONFIGMAP, configmap, options};

#[test]
fn server_side_apply_ownership_conflicts_and_dry_runs() {
    let cluster = Cluster::start("apply", options());
    let out = cluster.apply(NAMESPACE_AND_CONFIGMAP, &[]);
    assert_eq!(
        out.ok(),
        "namespace/team serverside-applied\nconfigmap/settings serverside-applied\n"
    );
    // Strict validation (the default) is delegated to the server through OpenAPI v3.
    let log = cluster.log();
    assert!(
        log.iter()
            .any(|r| r.path_and_query.starts_with("/openapi/v3"))
    );
    assert!(log.iter().any(|r| r.method == "PATCH"
        && r.path_and_query.contains("fieldValidation=Strict")
        && r.content_type == "application/apply-patch+yaml"));

    // Re-applying changes nothing, not even the resourceVersion.
    let rv = cluster.jsonpath(
        &["cm", "settings", "-n", "team"],
        "{.metadata.resourceVersion}",
    );
    cluster
        .apply(NAMESPACE_AND_CONFIGMAP, &["--validate=false"])
        .ok();
    assert!(
        cluster
            .log()
            .iter()
            .any(|r| r.path_and_query.contains("fieldValidation=Ignore"))
    );
    assert_eq!(
        cluster.jsonpath(
            &["cm", "settings", "-n", "team"],
            "{.metadata.resourceVersion}"
        ),
        rv
    );

    let yaml = cluster
        .kubectl(&[
            "get",
            "cm",
            "settings",
            "-n",
            "team",
            "-o",
            "yaml",
            "--show-managed-fields",
        ])
        .ok()
        .to_string();
    for line in [
        "manager: kubectl",
        "operation: Apply",
        "f:data:",
        "f:a: {}",
        "f:labels:",
    ] {
        assert!(yaml.contains(line), "{line:?} missing:\n{yaml}");
    }

    // Another manager with another value: kubectl's conflict text, exit 1.
    let other = configmap("settings", "  a: \"9\"\n");
    cluster
        .apply(&other, &["--field-manager=other"])
        .fails_with("Apply failed with 1 conflict: conflict with \"kubectl\" using v1: .data.a");
    // Forced, the field moves to `other`.
    cluster
        .apply(&other, &["--field-manager=other", "--force-conflicts"])
        .ok();
    let managed = cluster.jsonpath(
        &["cm", "settings", "-n", "team", "--show-managed-fields"],
        "{.metadata.managedFields[?(@.manager==\"other\")].fieldsV1}",
    );
    assert_eq!(managed, r#"{"f:data":{"f:a":{}}}"#);
    let kubectl_fields = cluster.jsonpath(
        &["cm", "settings", "-n", "team", "--show-managed-fields"],
        "{.metadata.managedFields[?(@.manager==\"kubectl\")].fieldsV1}",
    );
    assert!(!kubectl_fields.contains(r#""f:a":"#), "{kubectl_fields}");
    // The same value from a third manager is shared ownership, not a conflict.
    cluster
        .apply(
            &configmap("settings", "  b: \"2\"\n"),
            &["--field-manager=third"],
        )
        .ok();

    // Fields a manager stops applying are removed.
    cluster
        .apply(&configmap("trim", "  a: \"1\"\n  b: \"2\"\n"), &[])
        .ok();
    cluster.apply(&configmap("trim", "  a: \"1\"\n"), &[]).ok();
    assert_eq!(
        cluster.jsonpath(&["cm", "trim", "-n", "team"], "{.data}"),
        r#"{"a":"1"}"#
    );

    // A server dry run says so and stores nothing.
    let rv = cluster.jsonpath(&["cm", "trim", "-n", "team"], "{.metadata.resourceVersion}");
    let out = cluster.apply(&configmap("trim", "  a: \"5\"\n"), &["--dry-run=server"]);
    assert_eq!(
        out.ok(),
        "configmap/trim serverside-applied (server dry run)\n"
    );
    assert_eq!(
        cluster.jsonpath(&["cm", "trim", "-n", "team"], "{.data.a}"),
        "1"
    );
    assert_eq!(
        cluster.jsonpath(&["cm", "trim", "-n", "team"], "{.metadata.resourceVersion}"),
        rv
    );

    // kubectl diff: exit 0 without changes, 1 with the change shown.
    let same = cluster.dir().join("same.yaml");
    std::fs::write(&same, configmap("trim", "  a: \"1\"\n")).unwrap();
    let out = cluster.kubectl(&["diff", "--server-side", "-f", &same.display().to_string()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let changed = cluster.dir().join("changed.yaml");
    std::fs::write(&changed, configmap("trim", "  a: \"7\"\n")).unwrap();
    let out = cluster.kubectl(&[
        "diff",
        "--server-side",
        "-f",
        &changed.display().to_string(),
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("-  a: \"1\"") && out.stdout.contains("+  a: \"7\""),
        "{}",
        out.stdout
    );

    // Errors in kubectl's words.
    let missing_ns = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: nope\n";
    cluster
        .apply(missing_ns, &[])
        .fails_with("Error from server (NotFound): namespaces \"nope\" not found");
    cluster
        .kubectl(&["get", "deploy", "nope"])
        .fails_with("Error from server (NotFound): deployments.apps \"nope\" not found");
    cluster
        .kubectl(&["get", "foos"])
        .fails_with("error: the server doesn't have a resource type \"foos\"");
}
