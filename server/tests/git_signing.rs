//! Signed commits pushed to the sandbox over HTTPS, checked with `git verify-commit` against the
//! matching public key: SSH signing (ed25519 key with a passphrase) and OpenPGP signing (an
//! armored key ring with a passphrase, with and without a key id).

use std::path::Path;
use std::process::Command;

use fluxstrap_sandbox::bitbucket::{BitbucketEmulator, Config};
use fluxstrap_server::git::{
    CommitSpec, FileWrite, GitAuth, Secret, Signing, SyncOutcome, WriteMode, sync_files,
};

const ADMIN: &str = "admin-token-0123456789abcdef";

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn push_signed(root: &Path, repo: &str, signing: Signing) -> (std::path::PathBuf, String) {
    let bitbucket = BitbucketEmulator::start(Config::loopback(root))
        .await
        .unwrap();
    let ca = bitbucket.ca_file().unwrap().to_path_buf();
    run(Command::new("curl")
        .args(["-sf", "-X", "POST", "--cacert"])
        .arg(&ca)
        .args([
            "-H",
            &format!("Authorization: Bearer {ADMIN}"),
            "-H",
            "Content-Type: application/json",
            "--data",
            &format!(r#"{{"name":"{repo}","defaultBranch":"main"}}"#),
        ])
        .arg(format!(
            "{}/rest/api/1.0/projects/PLAT/repos",
            bitbucket.base_url()
        )));
    let url = format!("{}/scm/plat/{repo}.git", bitbucket.base_url());
    let jobs = root.join("jobs");
    std::fs::create_dir_all(&jobs).unwrap();
    let outcome = sync_files(
        &url,
        &GitAuth::Https {
            username: "admin".into(),
            token: Secret::new(ADMIN),
            ca_file: Some(ca.clone()),
        },
        "main",
        &[FileWrite {
            path: "clusters/prod/flux-system/gotk-sync.yaml".into(),
            content: b"sync\n".to_vec(),
            mode: WriteMode::Overwrite,
        }],
        &CommitSpec {
            subject: "sync manifests".into(),
            message: "Add Flux sync manifests".into(),
            appendix: None,
            author_name: "Flux".into(),
            author_email: "flux@example.com".into(),
            signing,
        },
        &jobs,
        &mut |_| {},
    )
    .await
    .unwrap();
    let SyncOutcome::Pushed { commit, .. } = outcome else {
        panic!("{outcome:?}")
    };
    // No key, passphrase or GnuPG home of the job is left.
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 0);
    let check = root.join(format!("check-{repo}"));
    run(Command::new("git")
        .env("GIT_SSL_CAINFO", &ca)
        .args([
            "-c",
            &format!("http.extraHeader=Authorization: Bearer {ADMIN}"),
            "clone",
            "-q",
            &url,
        ])
        .arg(&check));
    bitbucket.stop().await;
    (check, commit)
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_signed_commit_verifies() {
    let root = std::env::temp_dir().join(format!("fluxstrap-git-sshsig-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let key = root.join("signer");
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "sesame", "-f"])
        .arg(&key));
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let (check, commit) = push_signed(
        &root,
        "sshsig",
        Signing::Ssh {
            private_key: Secret::new(std::fs::read_to_string(&key).unwrap()),
            passphrase: Some(Secret::new("sesame")),
        },
    )
    .await;
    let allowed = root.join("allowed_signers");
    std::fs::write(&allowed, format!("* {}", public.trim())).unwrap();
    let verified = Command::new("git")
        .arg("-C")
        .arg(&check)
        .arg("-c")
        .arg(format!("gpg.ssh.allowedSignersFile={}", allowed.display()))
        .args(["verify-commit", &commit])
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(String::from_utf8_lossy(&verified.stderr).contains("Good \"git\" signature"));
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test(flavor = "multi_thread")]
async fn openpgp_signed_commit_verifies() {
    let root = std::env::temp_dir().join(format!("fluxstrap-git-pgpsig-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let home = root.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
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
            &root,
            repo,
            Signing::OpenPgp {
                key_ring: Secret::new(ring.clone()),
                passphrase: Some(Secret::new("sesame")),
                key_id,
            },
        )
        .await;
        let verified = Command::new("git")
            .env("GNUPGHOME", &home)
            .arg("-C")
            .arg(&check)
            .args(["verify-commit", "--raw", &commit])
            .output()
            .unwrap();
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
    let _ = std::fs::remove_dir_all(root);
}

fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
}
