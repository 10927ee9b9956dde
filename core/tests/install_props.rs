//! Properties over arbitrary input: option strings and YAML text never make the generator panic
//! (they give typed errors), and the YAML writer's output reads back as the same value.

use std::sync::OnceLock;

use fluxstrap_core::install::{Distribution, InstallFlags, generate};
use fluxstrap_core::yaml::{Mapping, Value, compare_keys, parse_documents, to_yaml};
use fluxstrap_testkit::paths::{FLUX_VERSION, release_files};
use proptest::prelude::*;

fn distribution() -> &'static Distribution {
    static DISTRIBUTION: OnceLock<Distribution> = OnceLock::new();
    DISTRIBUTION.get_or_init(|| Distribution::from_files(release_files(FLUX_VERSION)).unwrap())
}

/// Option values: mostly plausible, sometimes anything.
fn option_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z][a-z0-9-]{0,20}",
        "(true|false|1|0|t|f|yes|maybe)",
        "(debug|info|error|warn)",
        "(source-controller|kustomize-controller|helm-controller|notification-controller|image-reflector-controller|image-automation-controller|source-watcher|bogus)",
        any::<String>(),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        // Text a Kubernetes manifest may hold: printable characters, spaces, tabs, new lines.
        "[ -~\\t\\néü日本]{0,120}".prop_map(Value::Str),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Seq),
            prop::collection::vec(("[a-zA-Z0-9_./-]{1,12}", inner), 0..5)
                .prop_map(|entries| { Value::Map(entries.into_iter().collect::<Mapping>()) }),
        ]
    })
}

/// The value with every mapping's keys in the writer's order: key order carries no meaning.
fn sorted(value: Value) -> Value {
    match value {
        Value::Seq(items) => Value::Seq(items.into_iter().map(sorted).collect()),
        Value::Map(map) => {
            let mut entries: Vec<(String, Value)> = map
                .iter()
                .map(|(k, v)| (k.clone(), sorted(v.clone())))
                .collect();
            entries.sort_by(|a, b| compare_keys(&a.0, &b.0));
            Value::Map(entries.into_iter().collect())
        }
        other => other,
    }
}

proptest! {
    // 64 cases per property in the test suite; PROPTEST_CASES=N for a longer hunt.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_option_strings_give_a_result_not_a_panic(
        namespace in option_text(),
        components in prop::collection::vec(option_text(), 0..5),
        extra in prop::collection::vec(option_text(), 0..3),
        registry in option_text(),
        pull_secret in option_text(),
        tolerations in prop::collection::vec(option_text(), 0..3),
        watch in option_text(),
        policy in option_text(),
        log_level in option_text(),
        domain in option_text(),
    ) {
        let mut flags = InstallFlags::defaults("v2.9.4");
        flags.namespace = namespace;
        flags.components = components;
        flags.components_extra = extra;
        flags.registry = registry;
        flags.image_pull_secret = pull_secret;
        flags.toleration_keys = tolerations;
        flags.watch_all_namespaces = watch;
        flags.network_policy = policy;
        flags.log_level = log_level;
        flags.cluster_domain = domain;
        if let Ok(options) = flags.to_options() {
            let text = generate(distribution(), &options).expect("valid options generate");
            // Whatever the options, the output is YAML that reads back.
            prop_assert!(parse_documents(&text).is_ok());
        }
    }

    #[test]
    fn every_valid_option_combination_generates_parseable_yaml(
        namespace in "[a-z][a-z0-9-]{0,20}[a-z0-9]",
        extras in proptest::sample::subsequence(
            vec!["image-reflector-controller", "image-automation-controller", "source-watcher"], 0..=3),
        drop_optional in proptest::sample::subsequence(
            vec!["helm-controller", "notification-controller"], 0..=2),
        registry in "(|ghcr.io/fluxcd|registry.example.com:5000/mirror)",
        pull_secret in "(|regcred)",
        tolerations in prop::collection::vec("[a-z.]{1,10}(/[a-z-]{1,10})?", 0..3),
        watch in any::<bool>(),
        policy in any::<bool>(),
        log_level in "(debug|info|error)",
        domain in "(|cluster.local|example.internal)",
    ) {
        let mut flags = InstallFlags::defaults("v2.9.4");
        flags.namespace = namespace.clone();
        flags.components.retain(|c| !drop_optional.contains(&c.as_str()));
        flags.components_extra = extras.iter().map(|s| s.to_string()).collect();
        flags.registry = registry;
        flags.image_pull_secret = pull_secret;
        flags.toleration_keys = tolerations;
        flags.watch_all_namespaces = watch.to_string();
        flags.network_policy = policy.to_string();
        flags.log_level = log_level;
        flags.cluster_domain = domain;
        let options = flags.to_options().expect("valid options");
        let text = generate(distribution(), &options).expect("valid options generate");
        let documents = parse_documents(&text).expect("the output parses");
        // Every namespaced object lands in the chosen namespace.
        for doc in &documents {
            if let Some(ns) = doc.pointer(&["metadata", "namespace"]) {
                prop_assert_eq!(ns.as_str(), Some(namespace.as_str()));
            }
        }
        let deployments = documents
            .iter()
            .filter(|d| d.pointer(&["kind"]).and_then(Value::as_str) == Some("Deployment"))
            .count();
        prop_assert_eq!(deployments, options.components.as_slice().len());
    }

    #[test]
    fn any_text_as_a_release_file_gives_a_result_not_a_panic(text in any::<String>()) {
        let _ = parse_documents(&text);
        let _ = Distribution::from_files([("policies.yaml", text.as_bytes()), ("rbac.yaml", b"".as_slice())]);
    }

    #[test]
    fn written_yaml_reads_back_as_the_same_value(doc in value()) {
        let wrapped = Value::Map([("root".to_string(), doc)].into_iter().collect());
        let text = to_yaml(&wrapped);
        let back = parse_documents(&text).expect("the writer's output parses");
        prop_assert_eq!(back, vec![sorted(wrapped)], "written as:\n{}", text);
    }
}
