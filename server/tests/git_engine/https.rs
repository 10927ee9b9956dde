//! Over HTTPS: first push, no-op syncs (Basic and Bearer), other files kept, a push the branch
//! moved under refused as non-fast-forward, a missing branch, nothing left on disk.

use std::time::Instant;

use fluxstrap_server::git::{GitAuth, Secret, Signing};
use fluxstrap_testkit::{Bitbucket, Git, seed};

use super::common::{Synced, commit, flux_files, native, sync};

#[tokio::test(flavor = "multi_thread")]
async fn https_push_noop_race_and_cleanup() {
    let bitbucket = Bitbucket::loopback("git-https").start().await;
    let root = bitbucket.dir().path().to_path_buf();
    bitbucket.create_repository("fleet");
    let url = bitbucket.scm_url("fleet");
    let ca = bitbucket.ca_file().unwrap().to_path_buf();
    let admin = seed::admin();
    let jobs = bitbucket.dir().subdir("jobs");
    let basic = native(
        GitAuth::Https {
            username: admin.name.clone(),
            token: Secret::new(&admin.token),
            ca_file: Some(ca.clone()),
        },
        Signing::None,
        &jobs,
    );

    // First push into the empty repository creates `main`.
    let started = Instant::now();
    let first = sync(&basic, &url, "main", &flux_files("v1"), &commit(), || {})
        .await
        .unwrap();
    println!(
        "git: full flux-system commit pushed over HTTPS in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let Synced::Pushed {
        commit: first_commit,
    } = first
    else {
        panic!("{first:?}")
    };

    // Unchanged: no commit, no push; the head is the first commit.
    let up_to_date = Synced::UpToDate {
        head: Some(first_commit.clone()),
    };
    let again = sync(&basic, &url, "main", &flux_files("v1"), &commit(), || {}).await;
    assert_eq!(again.unwrap(), up_to_date);

    // A project/repository token authenticates as Bearer; still nothing to commit.
    let bearer = native(
        GitAuth::HttpsBearer {
            token: Secret::new(&admin.token),
            ca_file: Some(ca.clone()),
        },
        Signing::None,
        &jobs,
    );
    let again = sync(&bearer, &url, "main", &flux_files("v1"), &commit(), || {}).await;
    assert_eq!(again.unwrap(), up_to_date);

    // Someone else's file survives the next sync.
    let other = root.join("other");
    let git = bitbucket.admin_git(&root);
    git.run(&["clone", "-q", &url, other.to_str().unwrap()]);
    let in_other = git.in_dir(&other);
    std::fs::write(other.join("README.md"), "mine\n").unwrap();
    in_other.run(&["add", "."]);
    in_other.commit("mine");
    in_other.run(&["push", "-q", "origin", "main"]);

    // The branch moves between our commit and our push: the push is refused, not forced.
    let race = || {
        std::fs::write(other.join("apps.yaml"), "x\n").unwrap();
        in_other.run(&["add", "."]);
        in_other.commit("race");
        in_other.run(&["push", "-q", "origin", "main"]);
    };
    let raced = sync(&basic, &url, "main", &flux_files("v2"), &commit(), race).await;
    assert_eq!(raced.unwrap(), Synced::Rejected);
    // From a fresh clone it goes through.
    let pushed = sync(&basic, &url, "main", &flux_files("v2"), &commit(), || {}).await;
    assert!(matches!(pushed.unwrap(), Synced::Pushed { .. }));

    let check = root.join("check");
    git.run(&["clone", "-q", &url, check.to_str().unwrap()]);
    let read = |path: &str| std::fs::read_to_string(check.join(path)).unwrap();
    assert_eq!(read("README.md"), "mine\n");
    assert_eq!(read("apps.yaml"), "x\n");
    assert_eq!(read("clusters/prod/flux-system/gotk-sync.yaml"), "v2");
    let log = Git::new(&check).run(&["log", "-1", "--format=%an <%ae>%n%B"]);
    assert_eq!(
        log.trim_end(),
        "Flux <>\nAdd Flux v2.9.4 component manifests\n\nSigned-off-by: ops"
    );

    // A branch that does not exist in a non-empty repository is an error, not a new branch.
    let missing = sync(&basic, &url, "develop", &flux_files("v1"), &commit(), || {})
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("the branch \"develop\" does not exist"),
        "{missing}"
    );

    // Nothing of the clones and credentials is left behind.
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 0);
    bitbucket.stop().await;
}
