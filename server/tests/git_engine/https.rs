//! Over HTTPS: first push, no-op runs (Basic and Bearer), other files kept, a concurrent push,
//! a missing branch, nothing left on disk.

use std::time::Instant;

use fluxstrap_server::git::{GitAuth, Secret, SyncOutcome, sync_files};
use fluxstrap_testkit::{Bitbucket, Git, seed};

use super::common::{commit, flux_files, push_flux_files};

#[tokio::test(flavor = "multi_thread")]
async fn https_push_noop_concurrency_and_cleanup() {
    let bitbucket = Bitbucket::loopback("git-https").start().await;
    let root = bitbucket.dir().path().to_path_buf();
    bitbucket.create_repository("fleet");
    let url = bitbucket.scm_url("fleet");
    let ca = bitbucket.ca_file().unwrap().to_path_buf();
    let admin = seed::admin();
    let auth = GitAuth::Https {
        username: admin.name.clone(),
        token: Secret::new(&admin.token),
        ca_file: Some(ca.clone()),
    };
    let jobs = bitbucket.dir().subdir("jobs");

    // First push into the empty repository creates `main`.
    let started = Instant::now();
    let first = push_flux_files(&url, &auth, "main", "v1", &jobs)
        .await
        .unwrap();
    println!(
        "git: full flux-system commit pushed over HTTPS in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let SyncOutcome::Pushed {
        commit: first_commit,
        attempts: 1,
    } = first
    else {
        panic!("{first:?}")
    };

    // Unchanged: no commit, no push.
    let again = push_flux_files(&url, &auth, "main", "v1", &jobs)
        .await
        .unwrap();
    let up_to_date = SyncOutcome::UpToDate {
        head: first_commit.clone(),
    };
    assert_eq!(again, up_to_date);

    // A project/repository token authenticates as Bearer; still nothing to commit.
    let bearer = GitAuth::HttpsBearer {
        token: Secret::new(&admin.token),
        ca_file: Some(ca.clone()),
    };
    let mut bearer_events = Vec::new();
    let again = sync_files(
        &url,
        &bearer,
        "main",
        &flux_files("v1"),
        &commit(),
        &jobs,
        &mut |event| bearer_events.push(event.to_string()),
    )
    .await
    .unwrap();
    assert_eq!(again, up_to_date);
    assert_eq!(
        bearer_events.last().map(String::as_str),
        Some("✔ component manifests are up to date")
    );

    // Someone else's file, and an edited kustomization.yaml, survive the next run.
    let other = root.join("other");
    let git = bitbucket.admin_git(&root);
    git.run(&["clone", "-q", &url, other.to_str().unwrap()]);
    let in_other = git.in_dir(&other);
    std::fs::write(other.join("README.md"), "mine\n").unwrap();
    std::fs::write(
        other.join("clusters/prod/flux-system/kustomization.yaml"),
        "edited\n",
    )
    .unwrap();
    in_other.run(&["add", "."]);
    in_other.commit("mine");
    in_other.run(&["push", "-q", "origin", "main"]);

    // The branch moves between our commit and our push: the engine starts again.
    let mut moved = false;
    let mut events = Vec::new();
    let mut move_branch = |event: fluxstrap_server::git::Progress| {
        let first_commit =
            matches!(event, fluxstrap_server::git::Progress::Committed { .. }) && !moved;
        events.push(event.to_string());
        if first_commit {
            std::fs::write(other.join("apps.yaml"), "x\n").unwrap();
            in_other.run(&["add", "."]);
            in_other.commit("race");
            in_other.run(&["push", "-q", "origin", "main"]);
            moved = true;
        }
    };
    let raced = sync_files(
        &url,
        &auth,
        "main",
        &flux_files("v2"),
        &commit(),
        &jobs,
        &mut move_branch,
    )
    .await
    .unwrap();
    assert!(moved);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.as_str() == "◎ git conflict detected, retrying with a fresh clone")
            .count(),
        1,
        "{events:#?}"
    );
    assert_eq!(
        events.first().map(String::as_str),
        Some(format!("► cloning branch \"main\" from Git repository \"{url}\"").as_str())
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some(format!("► pushing component manifests to \"{url}\"").as_str())
    );
    let SyncOutcome::Pushed { attempts: 2, .. } = raced else {
        panic!("{raced:?}")
    };

    let check = root.join("check");
    git.run(&["clone", "-q", &url, check.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(check.join("README.md")).unwrap(),
        "mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(check.join("apps.yaml")).unwrap(),
        "x\n"
    );
    assert_eq!(
        std::fs::read_to_string(check.join("clusters/prod/flux-system/kustomization.yaml"))
            .unwrap(),
        "edited\n"
    );
    assert_eq!(
        std::fs::read_to_string(check.join("clusters/prod/flux-system/gotk-sync.yaml")).unwrap(),
        "v2"
    );
    let log = Git::new(&check).run(&["log", "-1", "--format=%an <%ae>%n%B"]);
    assert_eq!(
        log.trim_end(),
        "Flux <>\nAdd Flux v2.9.4 component manifests\n\nSigned-off-by: ops"
    );

    // A branch that does not exist in a non-empty repository is an error, not a new branch.
    let missing = push_flux_files(&url, &auth, "develop", "v1", &jobs)
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("the branch \"develop\" does not exist"),
        "{missing}"
    );

    // Nothing of the jobs (clones, credentials) is left behind.
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 0);
    bitbucket.stop().await;
}
