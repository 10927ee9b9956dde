//! Signed commits pushed to the sandbox over HTTPS, checked with `git verify-commit` against the
//! matching public key: SSH signing (ed25519 key with a passphrase) and OpenPGP signing (an
//! armored key ring with a passphrase, with and without a key id).

use std::path::{Path, PathBuf};
use std::process::Command;

use fluxstrap_core::bootstrap::ports::{Checkout, CommitRequest, Git as _, PushResult};
use fluxstrap_server::git::{GitAuth, NativeGit, Secret, Signing};
use fluxstrap_testkit::{Bitbucket, Git, TempDir, seed, ssh_keygen};

/// Runs a command that must succeed; returns its stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Pushes a commit signed with `signing` to a new repository `repo` of a fresh sandbox, and
/// clones it into `root`; returns the clone and the commit.
async fn push_signed(root: &Path, repo: &str, signing: Signing) -> (PathBuf, String) {
    let bitbucket = Bitbucket::loopback(repo).start().await;
    let ca = bitbucket.ca_file().unwrap().to_path_buf();
    bitbucket.create_repository(repo);
    let url = bitbucket.scm_url(repo);
    let jobs = bitbucket.dir().subdir("jobs");
    let git = NativeGit::new(
        GitAuth::Https {
            username: seed::admin().name.clone(),
            token: Secret::new(&seed::admin().token),
            ca_file: Some(ca.clone()),
        },
        signing,
        jobs.clone(),
    );
    let mut checkout = git.clone(&url, "main").await.unwrap();
    checkout
        .write("clusters/prod/flux-system/gotk-sync.yaml", b"sync\n")
        .await
        .unwrap();
    let commit = checkout
        .commit(&CommitRequest {
            message: "Add Flux sync manifests".into(),
            author_name: "Flux".into(),
            author_email: "flux@example.com".into(),
        })
        .await
        .unwrap()
        .expect("a new file is a change");
    assert_eq!(checkout.push().await.unwrap(), PushResult::Pushed);
    drop(checkout);
    // No key, passphrase or GnuPG home of the job is left.
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 0);
    let check = root.join(format!("check-{repo}"));
    bitbucket
        .admin_git(root)
        .run(&["clone", "-q", &url, check.to_str().unwrap()]);
    bitbucket.stop().await;
    (check, commit)
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_signed_commit_verifies() {
    let root = TempDir::new("git-sshsig");
    let key = ssh_keygen(root.path(), "signer", "ed25519", &["-N", "sesame"]);
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let (check, commit) = push_signed(
        root.path(),
        "sshsig",
        Signing::Ssh {
            private_key: Secret::new(std::fs::read_to_string(&key).unwrap()),
            passphrase: Some(Secret::new("sesame")),
        },
    )
    .await;
    let allowed = root.join("allowed_signers");
    std::fs::write(&allowed, format!("* {}", public.trim())).unwrap();
    let allowed_signers = format!("gpg.ssh.allowedSignersFile={}", allowed.display());
    let verified = Git::new(&check).output(&["-c", &allowed_signers, "verify-commit", &commit]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(String::from_utf8_lossy(&verified.stderr).contains("Good \"git\" signature"));
}

#[tokio::test(flavor = "multi_thread")]
async fn openpgp_signed_commit_verifies() {
    let root = TempDir::new("git-pgpsig");
    let home = root.subdir("gnupg");
    restrict(&home);
    let gpg = |args: &[&str]| {
        run(Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args([
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "sesame",
            ])
            .args(args))
    };
    gpg(&[
        "--quick-gen-key",
        "Flux Signer <signer@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    let ring = gpg(&["--armor", "--export-secret-keys"]);
    let fingerprint = gpg(&["--with-colons", "--list-secret-keys"])
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .unwrap()
        .to_string();
    for (repo, key_id) in [
        ("pgp-first", None),
        ("pgp-by-id", Some(fingerprint.clone())),
    ] {
        let (check, commit) = push_signed(
            root.path(),
            repo,
            Signing::OpenPgp {
                key_ring: Secret::new(ring.clone()),
                passphrase: Some(Secret::new("sesame")),
                key_id,
            },
        )
        .await;
        let verified =
            Git::new(&check)
                .env("GNUPGHOME", &home)
                .output(&["verify-commit", "--raw", &commit]);
        let status = String::from_utf8_lossy(&verified.stderr);
        assert!(verified.status.success(), "{status}");
        assert!(
            status.contains(&format!("VALIDSIG {fingerprint}")),
            "{status}"
        );
    }
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "gpg-agent"])
        .status();
}

fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
}
