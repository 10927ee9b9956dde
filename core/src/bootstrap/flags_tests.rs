//! Tests of [`super`].

use super::*;

fn parsed(args: &[&str]) -> Result<BootstrapFlags> {
    let mut flags = BootstrapFlags::default();
    flags.parse_args(args)?;
    Ok(flags)
}

#[test]
fn every_flag_of_flux_is_in_the_table_once() {
    // spec §1.2 and §1.3 (bitbucket-server and bootstrap flags), plus the root flags taken.
    let flux = [
        "owner",
        "repository",
        "group",
        "personal",
        "username",
        "private",
        "interval",
        "hostname",
        "path",
        "read-write-key",
        "reconcile",
        "version",
        "components",
        "components-extra",
        "registry",
        "registry-creds",
        "image-pull-secret",
        "branch",
        "recurse-submodules",
        "sparse-checkout",
        "manifests",
        "watch-all-namespaces",
        "network-policy",
        "token-auth",
        "log-level",
        "cluster-domain",
        "toleration-keys",
        "secret-name",
        "ssh-key-algorithm",
        "ssh-rsa-bits",
        "ssh-ecdsa-curve",
        "ssh-hostkey-algos",
        "ssh-hostname",
        "ca-file",
        "private-key-file",
        "author-name",
        "author-email",
        "gpg-key-ring",
        "gpg-passphrase",
        "gpg-key-id",
        "ssh-signing-key-file",
        "ssh-signing-password",
        "ssh-signing-passphrase",
        "ssh-signing-reuse-private-key",
        "commit-message-appendix",
        "force",
        "timeout",
        "namespace",
        "kubeconfig",
        "context",
    ];
    for name in flux {
        assert!(spec(name).is_some(), "--{name} is missing");
    }
    let mut names: Vec<&str> = FLAGS.iter().map(|f| f.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), FLAGS.len(), "a flag is listed twice");
}

#[test]
fn arguments_are_read_as_pflag_reads_them() {
    let flags = parsed(&[
        "--owner=Platform",
        "--repository",
        "fleet",
        "-u",
        "alice",
        "--personal",
        "--private=false",
        "--group=devs",
        "--group",
        "ops:admin,qa",
        "-vv2.8.1",
        "-n=gitops",
    ])
    .unwrap();
    assert_eq!(flags.text("owner"), "Platform");
    assert_eq!(flags.text("repository"), "fleet");
    assert_eq!(flags.text("username"), "alice");
    assert!(flags.bool("personal").unwrap());
    assert!(!flags.bool("private").unwrap());
    assert_eq!(flags.list("group"), ["devs", "ops:admin", "qa"]);
    assert_eq!(flags.text("version"), "v2.8.1");
    assert_eq!(flags.text("namespace"), "gitops");
    // Untouched flags keep flux's defaults.
    assert_eq!(flags.text("branch"), "main");
    assert_eq!(flags.list("components").len(), 4);
    assert_eq!(flags.text("timeout"), "5m0s");
}

#[test]
fn bad_arguments_get_pflags_messages() {
    let message = |args: &[&str]| parsed(args).unwrap_err().to_string();
    assert_eq!(message(&["--nope=1"]), "unknown flag: --nope");
    assert_eq!(message(&["-x"]), "unknown shorthand flag: 'x' in -x");
    assert_eq!(message(&["--owner"]), "flag needs an argument: --owner");
    assert_eq!(message(&["-u"]), "flag needs an argument: 'u' in -u");
    assert_eq!(
        message(&["--personal=yes"]),
        "invalid argument \"yes\" for \"--personal\" flag: strconv.ParseBool: parsing \"yes\": invalid syntax"
    );
    assert_eq!(
        message(&["fleet"]),
        "unexpected argument \"fleet\": bootstrap bitbucket-server takes flags only"
    );
}

#[test]
fn json_bodies_take_strings_booleans_and_lists_but_no_operator_flags() {
    let body = serde_json::json!({
        "owner": "Platform",
        "token-auth": true,
        "components-extra": ["image-reflector-controller", "image-automation-controller"],
        "toleration-keys": "a,b",
        "ssh-rsa-bits": 4096,
    });
    let mut flags = BootstrapFlags::default();
    flags
        .apply_json(body.as_object().unwrap(), Audience::Anyone)
        .unwrap();
    assert!(flags.bool("token-auth").unwrap());
    assert_eq!(flags.list("components-extra").len(), 2);
    assert_eq!(flags.list("toleration-keys"), ["a", "b"]);
    assert_eq!(flags.text("ssh-rsa-bits"), "4096");
    let refused = serde_json::json!({ "private-key-file": "/etc/shadow" });
    let error = BootstrapFlags::default()
        .apply_json(refused.as_object().unwrap(), Audience::Anyone)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "--private-key-file cannot be set here: the server's configuration supplies it"
    );
    let unknown = serde_json::json!({ "visibility": "public" });
    assert_eq!(
        BootstrapFlags::default()
            .apply_json(unknown.as_object().unwrap(), Audience::Anyone)
            .unwrap_err()
            .to_string(),
        "unknown flag: --visibility"
    );
}

#[test]
fn the_equivalent_command_line_holds_what_differs_and_hides_secrets() {
    let flags = parsed(&[
        "--owner=Platform Team",
        "--repository=fleet",
        "--token-auth",
        "--gpg-passphrase=s3cret",
        "--components-extra=image-reflector-controller",
    ])
    .unwrap();
    assert_eq!(
        flags.to_args(),
        [
            "--owner='Platform Team'",
            "--repository=fleet",
            "--components-extra=image-reflector-controller",
            "--token-auth",
            "--gpg-passphrase='***'",
        ]
    );
    assert!(!format!("{flags:?}").contains("s3cret"));
}

#[test]
fn the_namespace_environment_variable_is_used_when_it_is_a_label() {
    let (flags, taken) = BootstrapFlags::with_namespace_environment(Some("gitops"));
    assert_eq!(flags.text("namespace"), "gitops");
    assert_eq!(taken, NamespaceEnvironment::Used("gitops".into()));
    let (flags, taken) = BootstrapFlags::with_namespace_environment(Some("Not_A_Label"));
    assert_eq!(flags.text("namespace"), "flux-system");
    assert_eq!(taken, NamespaceEnvironment::Ignored("Not_A_Label".into()));
}

#[test]
fn help_lists_visible_flags_with_defaults() {
    let help = help();
    assert!(help.contains("  -u, --username string"), "{help}");
    assert!(help.contains("(default \"git\")"), "{help}");
    assert!(help.contains("(default 5m0s)"), "{help}");
    assert!(!help.contains("ssh-signing-passphrase"), "{help}");
    assert!(!help.contains("--manifests"), "{help}");
}
