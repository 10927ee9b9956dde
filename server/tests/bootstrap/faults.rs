//! The fault matrix: a Bitbucket 500 at each write, an apply that fails halfway, a run killed
//! with SIGKILL, a push race — each followed by a run that finishes with nothing lost.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use fluxstrap_core::bootstrap::{self, BootstrapFlags, Event, Inputs, Ports, Subject};
use fluxstrap_sandbox::bitbucket::{Fault, FaultAction};
use fluxstrap_sandbox::kube;
use fluxstrap_server::bitbucket_http::HttpTransport;
use fluxstrap_server::bootstrap::NativeSystem;
use fluxstrap_server::cluster::{Cluster, KubeconfigSource};
use fluxstrap_server::git::{GitAuth, NativeGit, Signing};
use fluxstrap_testkit::paths::release_files;
use fluxstrap_testkit::{TempDir, blocking, seed};

use super::common::World;

#[tokio::test(flavor = "multi_thread")]
async fn a_bitbucket_error_at_each_write_is_followed_by_a_good_run() {
    let world = World::start("bootstrap-bitbucket-faults").await;
    let writes = [
        ("POST", "/repos"),
        ("PUT", "/permissions/groups"),
        ("POST", "/ssh"),
        ("PUT", "/branches/default"),
    ];
    for (i, (method, path)) in writes.iter().enumerate() {
        let repository = format!("--repository=faulty{i}");
        let args = [
            repository.as_str(),
            "--path=clusters/f",
            "--group=developers",
        ];
        world
            .bitbucket
            .inject(Fault {
                method: Some(method.to_string()),
                path_contains: path.to_string(),
                nth: 1,
                action: FaultAction::Status(500),
            })
            .await;
        let faulty = world.run(&args).await;
        if !faulty.output.status.success() {
            // Writes that are not idempotent are not retried: the run stops and says where.
            faulty.fails_with("500");
        }
        world.run(&args).await.healthy();
        let repo = world.clone(&format!("faulty{i}"), "main").await;
        assert_eq!(repo.subjects().len(), 2, "after a 500 on {method} {path}");
        assert_eq!(
            world.access_keys(&format!("faulty{i}")).len(),
            1,
            "after a 500 on {method} {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_failing_halfway_and_a_killed_run_are_finished_by_the_next_run() {
    let world = World::start("bootstrap-cluster-faults").await;
    world.kube.inject(kube::Fault::FailRequest {
        method: axum::http::Method::PATCH,
        resource: "deployments".into(),
        nth: 3,
        code: 500,
    });
    let args = ["--repository=interrupted", "--path=clusters/i"];
    world
        .run(&args)
        .await
        .fails_with("failed to apply the manifests");
    world.run(&args).await.healthy();

    // SIGKILL while the components are pushed to a second repository: no handler runs.
    let mut command = world.command(&["--repository=killed", "--path=clusters/i"]);
    command.stderr(Stdio::piped()).stdout(Stdio::null());
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let killed = blocking(move || {
        let pushing = BufReader::new(stderr)
            .lines()
            .any(|line| line.unwrap().starts_with("► pushing component manifests"));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(pushing, "the run ended before pushing");
        status
    })
    .await;
    assert!(!killed.success());
    world
        .run(&["--repository=killed", "--path=clusters/i"])
        .await
        .healthy();
    let repo = world.clone("killed", "main").await;
    assert_eq!(repo.subjects().len(), 2);
    assert_eq!(
        world.leftover_job_dirs(),
        0,
        "the killed run's job directory (with keys) stayed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_race_is_retried_from_a_fresh_clone_and_keeps_the_other_commit() {
    let world = World::start("bootstrap-race").await;
    world.bitbucket.create_repository("raced");
    let mut flags = BootstrapFlags::default();
    let ca = world.bitbucket.ca_file().unwrap().to_path_buf();
    let hostname = format!("--hostname={}", world.bitbucket.base_url());
    let ssh_host = format!("--ssh-hostname={}", world.ssh_host());
    flags
        .parse_args(&[
            hostname.as_str(),
            &ssh_host,
            "--owner=Platform",
            "--repository=raced",
            "--path=clusters/r",
        ])
        .unwrap();
    let options = flags
        .validate()
        .unwrap()
        .with_version(fluxstrap_core::install::FluxVersion::parse("v2.9.4").unwrap());
    let token = fluxstrap_core::Secret::new(&seed::admin().token);
    let inputs = Inputs {
        token: token.clone(),
        ca_bundle: None,
        private_key: None,
        distribution: fluxstrap_core::install::Distribution::from_files(release_files("v2.9.4"))
            .unwrap(),
    };
    let transport = HttpTransport::new(token.clone(), Some(&ca)).unwrap();
    let jobs = TempDir::new("race-jobs");
    let git = NativeGit::new(
        GitAuth::HttpsBearer {
            token,
            ca_file: Some(ca),
        },
        Signing::None,
        jobs.path().to_path_buf(),
    );
    let cluster = Cluster::connect(&KubeconfigSource::File {
        path: world.kube.kubeconfig_path().to_path_buf(),
        context: None,
    })
    .await
    .unwrap();
    let system = NativeSystem::default();
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    // Someone else pushes to the branch between the sync commit and its push.
    let racer = TempDir::new("racer");
    let racer_git = world.bitbucket.admin_git(racer.path());
    let url = world.bitbucket.scm_url("raced");
    let mut raced = false;
    let mut events = Vec::new();
    let outcome = bootstrap::run(
        &options,
        &inputs,
        Ports {
            bitbucket: &transport,
            git: &git,
            cluster: &cluster,
            system: &system,
            rng: &mut rng,
        },
        &mut |event| {
            if matches!(
                event,
                Event::Committed {
                    subject: Subject::Sync,
                    ..
                }
            ) && !raced
            {
                raced = true;
                racer_git.run(&["clone", "--quiet", &url, "r"]);
                let clone = racer_git.in_dir(racer.join("r"));
                std::fs::write(racer.join("r/README.md"), "someone else's change\n").unwrap();
                clone.run(&["add", "README.md"]);
                clone.commit("someone else's change");
                clone.run(&["push", "--quiet", "origin", "HEAD:main"]);
            }
            events.push(event.to_string());
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", events.join("\n")));
    assert!(
        events.contains(&"◎ git conflict detected, retrying with a fresh clone".to_string()),
        "{events:#?}"
    );
    assert!(outcome.revision.is_some());
    let repo = world.clone("raced", "main").await;
    assert_eq!(
        repo.subjects(),
        [
            "Add Flux sync manifests",
            "someone else's change",
            "Add Flux v2.9.4 component manifests"
        ]
    );
    assert_eq!(std::fs::read_dir(jobs.path()).unwrap().count(), 0);
}
