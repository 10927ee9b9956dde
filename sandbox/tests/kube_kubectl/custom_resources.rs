//! Custom resources, served once their definitions are established.

use super::common::{Cluster, options, shared_install_yaml};

/// The GitRepository the test works on.
const FLEET: [&str; 4] = ["gitrepository", "fleet", "-n", "flux-system"];

#[test]
fn custom_resources_appear_once_their_definitions_are_established() {
    let cluster = Cluster::start("crds", options());
    let install = shared_install_yaml().display().to_string();
    let out = cluster.kubectl(&["apply", "--server-side", "-f", &install]);
    assert!(
        out.ok().contains("customresourcedefinition.apiextensions.k8s.io/gitrepositories.source.toolkit.fluxcd.io serverside-applied"),
        "{}",
        out.stdout
    );
    let out = cluster.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/gitrepositories.source.toolkit.fluxcd.io",
        "crd/kustomizations.kustomize.toolkit.fluxcd.io",
        "--timeout=10s",
    ]);
    assert_eq!(
        out.ok(),
        "customresourcedefinition.apiextensions.k8s.io/gitrepositories.source.toolkit.fluxcd.io condition met\n\
         customresourcedefinition.apiextensions.k8s.io/kustomizations.kustomize.toolkit.fluxcd.io condition met\n"
    );
    let api_versions = cluster.kubectl(&["api-versions"]).ok().to_string();
    assert!(
        api_versions
            .lines()
            .any(|l| l == "source.toolkit.fluxcd.io/v1")
    );
    let none = cluster.kubectl(&["get", "gitrepositories,kustomizations", "-A"]);
    assert!(
        none.stderr.contains("No resources found"),
        "{}",
        none.stderr
    );

    let repository = "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ssh://git@example.com/PLAT/fleet
";
    cluster.apply(repository, &[]).ok();
    assert_eq!(
        cluster.jsonpath(&["gitrepo", "fleet", "-n", "flux-system"], "{.spec.url}"),
        "ssh://git@example.com/PLAT/fleet"
    );
    // `kubectl get` prints the CRD's printer columns (served as a Table).
    let printed = cluster.kubectl(&["get", "gitrepositories", "-n", "flux-system"]);
    let header: Vec<&str> = printed
        .ok()
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "URL", "AGE", "READY", "STATUS"]);
    assert!(
        printed.stdout.contains("ssh://git@example.com/PLAT/fleet"),
        "{}",
        printed.stdout
    );
    // The CRD's schema is enforced: unknown fields refused under strict validation and dropped
    // without it; types and patterns checked with the API server's words.
    let unknown = repository
        .replace("name: fleet", "name: strict")
        .replace("  interval: 1m0s", "  interval: 1m0s\n  bogus: true");
    cluster.apply(&unknown, &[]).fails_with(
        "Error from server (BadRequest): failed to create typed patch object (flux-system/strict; \
         source.toolkit.fluxcd.io/v1, Kind=GitRepository): .spec.bogus: field not declared in schema",
    );
    cluster.apply(&unknown, &["--validate=false"]).ok();
    assert_eq!(
        cluster.jsonpath(&["gitrepo", "strict", "-n", "flux-system"], "{.spec.bogus}"),
        ""
    );
    let invalid = repository
        .replace("name: fleet", "name: invalid")
        .replace("ssh://git@example.com", "ftp://example.com");
    cluster.apply(&invalid, &[]).fails_with(
        "The GitRepository \"invalid\" is invalid: spec.url: Invalid value: \"ftp://example.com/PLAT/fleet\": \
         spec.url in body should match '^(http|https|ssh)://.*$'",
    );
    assert!(
        cluster
            .kubectl(&["get", "ks", "-A"])
            .stderr
            .contains("No resources found")
    );

    // Strategic merge does not apply to custom resources; merge and JSON patches do.
    cluster.kubectl(&["patch", "gitrepository", "fleet", "-n", "flux-system", "-p", r#"{"spec":{"interval":"2m"}}"#])
        .fails_with("application/strategic-merge-patch+json is not supported by source.toolkit.fluxcd.io/v1, Kind=GitRepository");
    let interval = r#"{"spec":{"interval":"2m"}}"#;
    cluster
        .on("patch", &FLEET, &["--type=merge", "-p", interval])
        .ok();
    let branch = r#"[{"op":"replace","path":"/spec/ref/branch","value":"dev"}]"#;
    cluster
        .on("patch", &FLEET, &["--type=json", "-p", branch])
        .ok();
    cluster.on("label", &FLEET, &["team=platform"]).ok();
    cluster.on("annotate", &FLEET, &["note=x"]).ok();
    assert_eq!(
        cluster.jsonpath(&["gitrepo", "fleet", "-n", "flux-system"], "{.spec.interval} {.spec.ref.branch} {.metadata.labels.team} {.metadata.annotations.note} {.metadata.generation}"),
        "2m dev platform x 3"
    );

    // Status belongs to the subresource: ignored on the main resource, generation untouched.
    let status = r#"{"status":{"observedGeneration":7}}"#;
    cluster
        .on("patch", &FLEET, &["--type=merge", "-p", status])
        .ok();
    assert_eq!(
        cluster.jsonpath(
            &["gitrepo", "fleet", "-n", "flux-system"],
            "{.status.observedGeneration}"
        ),
        ""
    );
    let rv = cluster.jsonpath(
        &["gitrepo", "fleet", "-n", "flux-system"],
        "{.metadata.resourceVersion}",
    );
    let status = r#"{"status":{"observedGeneration":3}}"#;
    let on_status = ["--subresource=status", "--type=merge", "-p", status];
    cluster.on("patch", &FLEET, &on_status).ok();
    assert_eq!(
        cluster.jsonpath(
            &["gitrepo", "fleet", "-n", "flux-system"],
            "{.status.observedGeneration} {.metadata.generation}"
        ),
        "3 3"
    );
    assert_ne!(
        cluster.jsonpath(
            &["gitrepo", "fleet", "-n", "flux-system"],
            "{.metadata.resourceVersion}"
        ),
        rv
    );

    // A CR in the same file as its new CRD fails once (the kind is not served yet), then works.
    let widget = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: first
  namespace: flux-system
spec:
  size: 3
";
    // (A real server words the error after its OpenAPI v2 lookup; the emulator serves only v3.)
    let first = cluster.apply(widget, &[]);
    assert_ne!(first.code, 0, "{}", first.stdout);
    assert!(
        first.stdout.contains(
            "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied"
        ),
        "{}",
        first.stdout
    );
    assert!(
        cluster
            .emulator()
            .object("example.com", "Widget", "flux-system", "first")
            .is_none()
    );
    cluster
        .kubectl(&[
            "wait",
            "--for=condition=Established",
            "crd/widgets.example.com",
            "--timeout=10s",
        ])
        .ok();
    cluster.apply(widget, &[]).ok();
    assert_eq!(
        cluster.jsonpath(&["widget", "first", "-n", "flux-system"], "{.spec.size}"),
        "3"
    );
    // Every served version serves the object; the short name resolves to the preferred one.
    assert_eq!(
        cluster.jsonpath(
            &["widgets.v1beta1.example.com", "first", "-n", "flux-system"],
            "{.apiVersion}"
        ),
        "example.com/v1beta1"
    );
    assert_eq!(
        cluster.jsonpath(&["widget", "first", "-n", "flux-system"], "{.apiVersion}"),
        "example.com/v1"
    );

    // Deleting the CRD removes its kind.
    cluster
        .kubectl(&["delete", "crd", "widgets.example.com"])
        .ok();
    let resources = cluster
        .kubectl(&["api-resources", "-o", "name"])
        .ok()
        .to_string();
    assert!(!resources.contains("widgets.example.com"), "{resources}");
    cluster
        .kubectl(&["get", "widgets"])
        .fails_with("error: the server doesn't have a resource type \"widgets\"");
}
