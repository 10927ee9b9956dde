//! Bad input fails with flux's message and exit code 1 before any request; a hostile
//! repository (a committed symbolic link) is refused without writing outside the clone.

use fluxstrap_core::bootstrap::BootstrapFlags;
use fluxstrap_testkit::{TempDir, blocking};

use super::common::World;

#[tokio::test(flavor = "multi_thread")]
async fn invalid_flags_fail_with_fluxs_messages_before_any_request() {
    let world = World::start("bootstrap-input").await;
    // One bad flag each, in the order of spec §1.5; the expected message is core's (whose own
    // tests pin flux's words), the point here is that the CLI prints it, exits 1, and asks
    // nothing of Bitbucket.
    let cases: &[&[&str]] = &[
        &["--ssh-key-algorithm=dsa"],
        &["--ssh-rsa-bits=1000"],
        &["--ssh-rsa-bits=2049"],
        &["--ssh-ecdsa-curve=p128"],
        &["--log-level=trace"],
        &["--interval=5"],
        &["--timeout=soon"],
        &["--personal=yes"],
        &["--namespace=Bad_NS"],
        &["--components=source-controller"],
        &["--components-extra=nope"],
        &["--registry-creds=u:p"],
        &["--registry-creds=u", "--image-pull-secret=s"],
        &["--gpg-key-ring=k", "--ssh-signing-key-file=f"],
        &[
            "--ssh-signing-key-file=f",
            "--ssh-signing-reuse-private-key",
        ],
        &["--ssh-signing-reuse-private-key"],
        &[
            "--ssh-signing-key-file=f",
            "--ssh-signing-password=a",
            "--ssh-signing-passphrase=b",
        ],
        &["--ssh-signing-password=a"],
        &["--version=2.9.4"],
        &["--nope"],
    ];
    let before = world.requests().await;
    for args in cases {
        // The hostname and owner the world's runs pass, then the repository and the bad flag.
        let mut all = vec!["--hostname=h", "--owner=o", "--repository=never"];
        all.extend(*args);
        let mut flags = BootstrapFlags::default();
        let expected = match flags.parse_args(&all) {
            Ok(()) => flags.validate().expect_err("a bad flag").to_string(),
            Err(error) => error.to_string(),
        };
        world.run(&all[2..]).await.fails_with(&expected);
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
}

#[tokio::test(flavor = "multi_thread")]
async fn without_bitbucket_token_the_token_is_asked_for_and_never_echoed() {
    use std::io::Write;
    use std::process::Stdio;
    let world = World::start("bootstrap-prompt").await;
    let mut command = world.command(&["--repository=prompted", "--path=clusters/p", "--dry-run"]);
    command
        .env_remove("BITBUCKET_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let token = fluxstrap_testkit::seed::admin().token.clone();
    let output = blocking(move || {
        let mut child = command.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{token}").unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    })
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // flux's prompt, on stdout; the token itself appears nowhere.
    assert!(
        stdout.starts_with("Please enter your Bitbucket personal access token (PAT): \n"),
        "{stdout}"
    );
    let token = &fluxstrap_testkit::seed::admin().token;
    assert!(!stdout.contains(token.as_str()) && !stderr.contains(token.as_str()));
}
