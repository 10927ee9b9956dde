//! Tests of [`super`].

use super::*;

fn validated(args: &[&str]) -> Result<BootstrapOptions> {
    let mut flags = BootstrapFlags::default();
    flags.parse_args(args)?;
    flags.validate()
}

const MINIMAL: [&str; 3] = [
    "--hostname=bitbucket.example.com",
    "--owner=Platform",
    "--repository=fleet",
];

fn with(extra: &[&str]) -> Vec<String> {
    MINIMAL.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn error_of(args: &[&str]) -> String {
    validated(args).unwrap_err().to_string()
}

fn error(extra: &[&str]) -> String {
    let args = with(extra);
    validated(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .unwrap_err()
        .to_string()
}

#[test]
fn defaults_are_fluxs() {
    let options = validated(&MINIMAL).unwrap();
    assert_eq!(options.owner, Owner::ProjectName("Platform".into()));
    assert_eq!(options.git_user, None);
    assert_eq!(options.branch.as_str(), "main");
    assert_eq!(options.path, None);
    assert_eq!(options.secret_name, "flux-system");
    assert_eq!(options.sync_transport, SyncTransport::Ssh);
    assert_eq!(
        options.key,
        KeySource::Generate(KeySpec::Ecdsa(EcdsaCurve::P384))
    );
    assert_eq!(options.key_permission, RepoPermission::Read);
    assert_eq!(options.visibility, Visibility::Private);
    assert_eq!(options.timeout, GoDuration::from_secs(300));
    assert_eq!(options.interval.to_string(), "1m0s");
    assert_eq!(options.mode, Mode::Apply);
    assert_eq!(
        options.version,
        VersionRequest::Exact(FluxVersion::parse("v2.9.4").unwrap())
    );
    assert_eq!(
        options.install.components.joined(),
        "source-controller,kustomize-controller,helm-controller,notification-controller"
    );
}

#[test]
fn flux_messages_in_fluxs_order() {
    // Step 1 (typed values) comes before step 2 (namespace) and step 4 (hostname).
    let mut flags = BootstrapFlags::default();
    flags
        .parse_args(&["--ssh-key-algorithm=dsa", "--namespace=Bad_NS"])
        .unwrap();
    assert_eq!(
        flags.validate().unwrap_err().to_string(),
        "invalid argument \"dsa\" for \"--ssh-key-algorithm\" flag: unsupported public key algorithm 'dsa', must be one of: rsa, ecdsa, ed25519"
    );
    let mut flags = BootstrapFlags::default();
    flags.parse_args(&["--namespace=Bad_NS"]).unwrap();
    assert_eq!(
        flags.validate().unwrap_err().to_string(),
        "namespace must be a valid DNS label: \"Bad_NS\""
    );
    assert_eq!(
        BootstrapFlags::default()
            .validate()
            .unwrap_err()
            .to_string(),
        "invalid hostname \"\""
    );
    let cases: &[(&[&str], &str)] = &[
        (
            &["--ssh-rsa-bits=1000"],
            "invalid argument \"1000\" for \"--ssh-rsa-bits\" flag: RSA key bit size must be at least 1024",
        ),
        (
            &["--ssh-rsa-bits=2049"],
            "invalid argument \"2049\" for \"--ssh-rsa-bits\" flag: RSA key bit size must be a multiples of 8",
        ),
        (
            &["--ssh-rsa-bits=16384"],
            "invalid argument \"16384\" for \"--ssh-rsa-bits\" flag: RSA key bit size must be at most 8192",
        ),
        (
            &["--ssh-ecdsa-curve=p999"],
            "invalid argument \"p999\" for \"--ssh-ecdsa-curve\" flag: unsupported curve 'p999', must be one of: p256, p384, p521",
        ),
        (
            &["--log-level=trace"],
            "invalid argument \"trace\" for \"--log-level\" flag: unsupported log level 'trace', must be one of: debug, info, error",
        ),
        (
            &["--timeout=soon"],
            "invalid argument \"soon\" for \"--timeout\" flag: time: invalid duration \"soon\"",
        ),
        (
            &["--components=source-controller"],
            "component kustomize-controller is required",
        ),
        (
            &["--components-extra=nope"],
            "component nope is not available",
        ),
        (
            &["--registry-creds=u:p"],
            "--registry-creds requires --image-pull-secret to be set",
        ),
        (
            &["--registry-creds=u:p:q", "--image-pull-secret=pull"],
            "invalid --registry-creds format, expected 'user:password'",
        ),
        (
            &["--gpg-key-ring=ring.asc", "--ssh-signing-key-file=key"],
            "--gpg-* and --ssh-signing-* are mutually exclusive; pick one signing format",
        ),
        (
            &[
                "--ssh-signing-key-file=key",
                "--ssh-signing-reuse-private-key",
            ],
            "--ssh-signing-key-file and --ssh-signing-reuse-private-key are mutually exclusive",
        ),
        (
            &["--ssh-signing-reuse-private-key"],
            "--ssh-signing-reuse-private-key requires --private-key-file",
        ),
        (
            &[
                "--ssh-signing-key-file=k",
                "--ssh-signing-password=a",
                "--ssh-signing-passphrase=b",
            ],
            "--ssh-signing-password and --ssh-signing-passphrase are aliases; do not pass both",
        ),
        (
            &["--ssh-signing-password=a"],
            "--ssh-signing-password requires --ssh-signing-key-file",
        ),
        (
            &["--version=2.9.4"],
            "targeted version '2.9.4' must be prefixed with 'v'",
        ),
    ];
    for (extra, message) in cases {
        assert_eq!(error(extra), *message, "{extra:?}");
    }
}

#[test]
fn fluxstrap_refuses_early_what_flux_refuses_late() {
    assert!(error_of(&["--hostname=h", "--repository=r"]).starts_with("--owner is required"));
    assert!(error_of(&["--hostname=h", "--owner=o"]).starts_with("--repository is required"));
    assert_eq!(
        error(&["--repository=team/fleet"]),
        "--repository \"team/fleet\" names a sub-organization, which Bitbucket Server does not have: give the repository name only"
    );
    assert!(error(&["--branch=a..b"]).starts_with("invalid branch name \"a..b\""));
    assert!(error(&["--group=devs:maintain"]).contains("invalid permission \"maintain\""));
}

#[test]
fn personal_repositories_use_the_owner_as_user_and_ignore_groups() {
    let options = validated(
        &with(&["--personal", "--owner=alice", "--group=devs", "-u", "bob"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(options.owner, Owner::User("alice".into()));
    assert_eq!(options.git_user.as_deref(), Some("alice"));
    assert!(options.groups.is_empty());
    assert_eq!(options.personal_user(), Some("alice"));
}

#[test]
fn latest_is_left_to_the_edge_and_signing_is_typed() {
    let args = with(&[
        "--version=latest",
        "--ssh-signing-key-file=/k",
        "--ssh-signing-passphrase=pw",
    ]);
    let options = validated(&args.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
    assert_eq!(options.version, VersionRequest::Latest);
    assert_eq!(
        options.signing,
        SigningRequest::Ssh {
            key: SshSigningKey::File("/k".into()),
            passphrase: Some(Secret::new("pw")),
        }
    );
    let resolved = options.with_version(FluxVersion::parse("v2.8.1").unwrap());
    assert_eq!(resolved.install.version.to_string(), "v2.8.1");
}
