//! Bad input fails with flux's message and exit code 1 before any request; a hostile
//! repository (a committed symbolic link) is refused without writing outside the clone.

use fluxstrap_testkit::{TempDir, blocking};

use super::common::World;

#[tokio::test(flavor = "multi_thread")]
async fn invalid_flags_fail_with_fluxs_messages_before_any_request() {
    let world = World::start("bootstrap-input").await;
    let cases: &[(&[&str], &str)] = &[
        (
            &["--ssh-key-algorithm=dsa"],
            "invalid argument \"dsa\" for \"--ssh-key-algorithm\" flag: unsupported public key algorithm 'dsa', must be one of: rsa, ecdsa, ed25519",
        ),
        (
            &["--ssh-rsa-bits=1000"],
            "invalid argument \"1000\" for \"--ssh-rsa-bits\" flag: RSA key bit size must be at least 1024",
        ),
        (
            &["--ssh-ecdsa-curve=p128"],
            "invalid argument \"p128\" for \"--ssh-ecdsa-curve\" flag: unsupported curve 'p128', must be one of: p256, p384, p521",
        ),
        (
            &["--log-level=trace"],
            "invalid argument \"trace\" for \"--log-level\" flag: unsupported log level 'trace', must be one of: debug, info, error",
        ),
        (
            &["--namespace=Bad_NS"],
            "namespace must be a valid DNS label: \"Bad_NS\"",
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
            &["--registry-creds=u", "--image-pull-secret=s"],
            "invalid --registry-creds format, expected 'user:password'",
        ),
        (
            &["--gpg-key-ring=k", "--ssh-signing-key-file=f"],
            "--gpg-* and --ssh-signing-* are mutually exclusive; pick one signing format",
        ),
        (
            &["--ssh-signing-reuse-private-key"],
            "--ssh-signing-reuse-private-key requires --private-key-file",
        ),
        (
            &["--version=2.9.4"],
            "targeted version '2.9.4' must be prefixed with 'v'",
        ),
        (
            &["--interval=5"],
            "invalid argument \"5\" for \"--interval\" flag: time: missing unit in duration \"5\"",
        ),
        (&["--nope"], "unknown flag: --nope"),
    ];
    let before = world.requests().await;
    for (args, message) in cases {
        let mut all = vec!["--repository=never"];
        all.extend(*args);
        world.run(&all).await.fails_with(message);
    }
    let mut no_host = world.command(&["--repository=never"]);
    no_host.arg("--hostname=");
    let output = blocking(move || no_host.output().unwrap()).await;
    assert!(String::from_utf8_lossy(&output.stderr).ends_with("✗ invalid hostname \"\"\n"));
    assert_eq!(
        world.requests().await,
        before,
        "a bad flag reached Bitbucket"
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_symbolic_link_in_the_repository_is_refused_and_nothing_outside_is_written() {
    let world = World::start("bootstrap-symlink").await;
    world.bitbucket.create_repository("hostile");
    let outside = TempDir::new("outside");
    let work = TempDir::new("hostile-work");
    let git = world.bitbucket.admin_git(work.path());
    let url = world.bitbucket.scm_url("hostile");
    let target = outside.path().to_path_buf();
    let clone = git.in_dir(work.join("r"));
    let root = work.join("r");
    blocking(move || {
        git.run(&["init", "--quiet", "--initial-branch=main", "r"]);
        std::fs::create_dir_all(root.join("clusters/x")).unwrap();
        std::os::unix::fs::symlink(&target, root.join("clusters/x/flux-system")).unwrap();
        clone.run(&["add", "."]);
        clone.commit("a link out of the repository");
        clone.run(&["push", "--quiet", &url, "HEAD:main"]);
    })
    .await;
    world
        .run(&["--repository=hostile", "--path=clusters/x"])
        .await
        .fails_with("symbolic link");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    world.stop().await;
}
