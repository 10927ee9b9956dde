//! fluxstrap's Bitbucket steps against the sandbox emulator over HTTPS (its own CA): create vs
//! adopt, personal repositories, an empty repository on `develop`, group grants, the deploy key
//! lifecycle, injected failures followed by a good re-run, error messages, and no writes at all
//! when nothing changed (checked on the emulator's request log).

use std::collections::BTreeMap;
use std::path::PathBuf;

use fluxstrap_core::Secret as Token;
use fluxstrap_core::bitbucket::{
    AccessKeyDecision, BitbucketHost, GroupDecision, GroupGrant, Owner, ProjectKey,
    RETRY_DELAYS_MS, RepoName, RepoPermission, RepoSlug, RepositoryOrigin, Visibility,
    ensure_access_key, ensure_default_branch, ensure_description, ensure_group, ensure_repository,
    identify, resolve_owner,
};
use fluxstrap_sandbox::bitbucket::{
    BitbucketEmulator, Config, Fault, FaultAction, Level, Seed, SeedGroup, Ssh, Transport as Tls,
};
use fluxstrap_server::bitbucket_http::HttpTransport;

const ADMIN: &str = "admin-token-0123456789abcdef";
const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

struct Sandbox {
    bitbucket: BitbucketEmulator,
    host: BitbucketHost,
    transport: HttpTransport,
    root: PathBuf,
}

async fn sandbox(name: &str) -> Sandbox {
    let root = std::env::temp_dir().join(format!("fluxstrap-client-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mut seed = Seed::default();
    // `devs` has no permission yet; `devops` contains it as a substring.
    seed.groups.push(SeedGroup {
        name: "devs".into(),
        members: vec!["reader".into()],
    });
    seed.groups.push(SeedGroup {
        name: "devops".into(),
        members: vec![],
    });
    seed.projects[0]
        .groups
        .insert("devops".into(), Level::Admin);
    let bitbucket = BitbucketEmulator::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        context_path: "/bitbucket".into(),
        git_root: root.join("git"),
        seed,
        ssh_port: 7999,
        transport: Tls::Https {
            certificates: root.join("tls"),
        },
        ssh: Ssh::Disabled,
    })
    .await
    .unwrap();
    let host = BitbucketHost::parse(bitbucket.base_url()).unwrap();
    let transport = HttpTransport::new(Token::new(ADMIN), bitbucket.ca_file()).unwrap();
    Sandbox {
        bitbucket,
        host,
        transport,
        root,
    }
}

fn writes(log: &[fluxstrap_sandbox::bitbucket::LoggedRequest]) -> Vec<String> {
    log.iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_and_error_messages() {
    let s = sandbox("identity").await;
    let (version, user) = identify(&s.transport, &s.host).await.unwrap();
    assert_eq!(user, "admin");
    assert!(!version.is_empty());

    let wrong = HttpTransport::new(Token::new("wrong"), s.bitbucket.ca_file()).unwrap();
    let err = identify(&wrong, &s.host).await.unwrap_err().to_string();
    assert!(
        err.contains("localhost:") && err.contains("401") && err.contains("Authentication failed"),
        "{err}"
    );

    let missing = resolve_owner(
        &s.transport,
        &s.host,
        &Owner::ProjectKey(ProjectKey::parse("NOPE").unwrap()),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(missing.contains("project NOPE does not exist"), "{missing}");

    // Without the sandbox's CA the server's certificate is refused.
    let untrusted = HttpTransport::new(Token::new(ADMIN), None).unwrap();
    assert!(identify(&untrusted, &s.host).await.is_err());
    s.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn repositories_are_created_then_adopted_without_writes() {
    let s = sandbox("repos").await;
    let key = resolve_owner(
        &s.transport,
        &s.host,
        &Owner::ProjectName("Platform".into()),
    )
    .await
    .unwrap();
    assert_eq!(key.as_str(), "PLAT");
    let name = RepoName::parse("Fleet Infra").unwrap();
    let first = ensure_repository(&s.transport, &s.host, &key, &name, Visibility::Private)
        .await
        .unwrap();
    assert_eq!(first.origin, RepositoryOrigin::Created);
    assert_eq!(first.repository.slug, "fleet-infra");
    assert_eq!(first.default_branch, None, "a new repository is empty");

    // The description is reconciled, once.
    let slug = RepoSlug::parse(&first.repository.slug).unwrap();
    assert!(
        ensure_description(&s.transport, &s.host, &key, &slug, "Flux fleet")
            .await
            .unwrap()
    );
    assert!(
        !ensure_description(&s.transport, &s.host, &key, &slug, "Flux fleet")
            .await
            .unwrap()
    );

    let before = s.bitbucket.request_log().await.len();
    let again = ensure_repository(&s.transport, &s.host, &key, &name, Visibility::Private)
        .await
        .unwrap();
    assert_eq!(again.origin, RepositoryOrigin::Adopted);
    let log = s.bitbucket.request_log().await;
    assert!(
        writes(&log[before..]).is_empty(),
        "{:?}",
        writes(&log[before..])
    );

    // Personal repositories live under ~user.
    let personal = resolve_owner(&s.transport, &s.host, &Owner::User("admin".into()))
        .await
        .unwrap();
    let mine = ensure_repository(
        &s.transport,
        &s.host,
        &personal,
        &RepoName::parse("mine").unwrap(),
        Visibility::Private,
    )
    .await
    .unwrap();
    assert_eq!(mine.origin, RepositoryOrigin::Created);
    assert_eq!(mine.repository.project.key, "~ADMIN");
    s.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_repository_takes_any_branch_as_default() {
    let s = sandbox("develop").await;
    let key = ProjectKey::parse("PLAT").unwrap();
    let ensured = ensure_repository(
        &s.transport,
        &s.host,
        &key,
        &RepoName::parse("apps").unwrap(),
        Visibility::Private,
    )
    .await
    .unwrap();
    let slug = RepoSlug::parse(&ensured.repository.slug).unwrap();
    // The first commit goes straight to `develop` over git.
    let work = s.root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&work)
            .args(args)
            .env("GIT_SSL_CAINFO", s.bitbucket.ca_file().unwrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q", "-b", "develop"]);
    git(&[
        "-c",
        "user.name=F",
        "-c",
        "user.email=f@x",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "first",
    ]);
    let clone = ensured.repository.clone_link("http").unwrap();
    git(&[
        "-c",
        &format!("http.extraHeader=Authorization: Bearer {ADMIN}"),
        "push",
        "-q",
        &clone,
        "develop",
    ]);

    assert!(
        ensure_default_branch(&s.transport, &s.host, &key, &slug, "develop")
            .await
            .unwrap()
    );
    assert!(
        !ensure_default_branch(&s.transport, &s.host, &key, &slug, "develop")
            .await
            .unwrap()
    );
    let adopted = ensure_repository(
        &s.transport,
        &s.host,
        &key,
        &RepoName::parse("apps").unwrap(),
        Visibility::Private,
    )
    .await
    .unwrap();
    assert_eq!(adopted.default_branch.as_deref(), Some("develop"));
    s.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_are_granted_upgraded_and_left_alone() {
    let s = sandbox("groups").await;
    let key = ProjectKey::parse("PLAT").unwrap();
    let repo = ensure_repository(
        &s.transport,
        &s.host,
        &key,
        &RepoName::parse("fleet").unwrap(),
        Visibility::Private,
    )
    .await
    .unwrap();
    let slug = RepoSlug::parse(&repo.repository.slug).unwrap();
    let grant = |entry: &str| GroupGrant::parse(entry).unwrap();

    // `dev`s: no permission yet, though `devops` (a substring match) administers the project.
    assert_eq!(
        ensure_group(&s.transport, &s.host, &key, &slug, &grant("devs"))
            .await
            .unwrap(),
        GroupDecision::Grant(RepoPermission::Write)
    );
    let before = s.bitbucket.request_log().await.len();
    assert_eq!(
        ensure_group(&s.transport, &s.host, &key, &slug, &grant("devs:push"))
            .await
            .unwrap(),
        GroupDecision::UpToDate(RepoPermission::Write)
    );
    let log = s.bitbucket.request_log().await;
    assert!(writes(&log[before..]).is_empty());
    assert_eq!(
        ensure_group(&s.transport, &s.host, &key, &slug, &grant("devs:admin"))
            .await
            .unwrap(),
        GroupDecision::Grant(RepoPermission::Admin)
    );
    // A project-level admin group needs nothing on the repository.
    assert_eq!(
        ensure_group(&s.transport, &s.host, &key, &slug, &grant("devops:push"))
            .await
            .unwrap(),
        GroupDecision::UpToDate(RepoPermission::Admin)
    );
    s.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deploy_key_is_added_kept_healed_and_changed() {
    let s = sandbox("keys").await;
    let key = ProjectKey::parse("PLAT").unwrap();
    let repo = ensure_repository(
        &s.transport,
        &s.host,
        &key,
        &RepoName::parse("fleet").unwrap(),
        Visibility::Private,
    )
    .await
    .unwrap();
    let slug = RepoSlug::parse(&repo.repository.slug).unwrap();
    let label = "flux-system-main-flux-system-./clusters/prod";
    let ensure = |permission| {
        ensure_access_key(
            &s.transport,
            &s.host,
            &key,
            &slug,
            PUBLIC_KEY,
            label,
            permission,
        )
    };

    assert_eq!(
        ensure(RepoPermission::Read).await.unwrap(),
        AccessKeyDecision::Add
    );
    let before = s.bitbucket.request_log().await.len();
    let AccessKeyDecision::UpToDate { id } = ensure(RepoPermission::Read).await.unwrap() else {
        panic!("the key should be up to date");
    };
    let log = s.bitbucket.request_log().await;
    assert!(writes(&log[before..]).is_empty());
    assert_eq!(
        ensure(RepoPermission::Write).await.unwrap(),
        AccessKeyDecision::ChangePermission {
            id,
            to: RepoPermission::Write
        }
    );

    // Deleted by someone in Bitbucket: the next run adds it again.
    let url = format!(
        "{}/rest/keys/1.0/projects/PLAT/repos/fleet/ssh/{id}",
        s.bitbucket.base_url()
    );
    let deleted = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "DELETE",
            "--cacert",
        ])
        .arg(s.bitbucket.ca_file().unwrap())
        .args(["-H", &format!("Authorization: Bearer {ADMIN}"), &url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&deleted.stdout), "204");
    assert_eq!(
        ensure(RepoPermission::Write).await.unwrap(),
        AccessKeyDecision::Add
    );
    s.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_at_each_step_is_followed_by_a_good_rerun() {
    let s = sandbox("faults").await;
    let key = ProjectKey::parse("PLAT").unwrap();
    let grant = GroupGrant::parse("devs:push").unwrap();
    let label = "flux-system-main-flux-system";
    // The writes of a full run, each failing once on its first attempt.
    let steps: BTreeMap<&str, (&str, &str)> = BTreeMap::from([
        ("1 create", ("POST", "/projects/PLAT/repos")),
        ("2 grant", ("PUT", "/permissions/groups")),
        ("3 key", ("POST", "/ssh")),
    ]);
    let mut name = RepoName::parse("fleet").unwrap();
    for (i, (step, (method, path))) in steps.iter().enumerate() {
        // A fresh repository per step, so the run reaches the failing write.
        name = RepoName::parse(&format!("fleet{i}")).unwrap();
        // PUTs are retried (idempotent), so their fault must outlast the retries; POSTs are not.
        let attempts = if *method == "PUT" {
            1 + RETRY_DELAYS_MS.len()
        } else {
            1
        };
        for nth in 1..=attempts {
            s.bitbucket
                .inject(Fault {
                    method: Some(method.to_string()),
                    path_contains: path.to_string(),
                    nth,
                    action: FaultAction::ServerError,
                })
                .await;
        }
        let run = async {
            let repo =
                ensure_repository(&s.transport, &s.host, &key, &name, Visibility::Private).await?;
            let slug = RepoSlug::parse(&repo.repository.slug)?;
            ensure_group(&s.transport, &s.host, &key, &slug, &grant).await?;
            ensure_access_key(
                &s.transport,
                &s.host,
                &key,
                &slug,
                PUBLIC_KEY,
                label,
                RepoPermission::Read,
            )
            .await
        };
        let err = match run.await {
            Ok(outcome) => panic!("{step}: the injected failure did not happen ({outcome:?})"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains("500"), "{step}: {err}");
        // Reads retried through a 500 on the way, too: a GET fault is absorbed.
        s.bitbucket
            .inject(Fault {
                method: Some("GET".into()),
                path_contains: format!("/repos/{}", name.slug()),
                nth: 1,
                action: FaultAction::ServerError,
            })
            .await;
        let repo = ensure_repository(&s.transport, &s.host, &key, &name, Visibility::Private)
            .await
            .unwrap();
        let slug = RepoSlug::parse(&repo.repository.slug).unwrap();
        ensure_group(&s.transport, &s.host, &key, &slug, &grant)
            .await
            .unwrap();
        ensure_access_key(
            &s.transport,
            &s.host,
            &key,
            &slug,
            PUBLIC_KEY,
            label,
            RepoPermission::Read,
        )
        .await
        .unwrap();
    }
    // Everything is in place now: a last run writes nothing.
    let before = s.bitbucket.request_log().await.len();
    let repo = ensure_repository(&s.transport, &s.host, &key, &name, Visibility::Private)
        .await
        .unwrap();
    let slug = RepoSlug::parse(&repo.repository.slug).unwrap();
    ensure_group(&s.transport, &s.host, &key, &slug, &grant)
        .await
        .unwrap();
    ensure_access_key(
        &s.transport,
        &s.host,
        &key,
        &slug,
        PUBLIC_KEY,
        label,
        RepoPermission::Read,
    )
    .await
    .unwrap();
    let log = s.bitbucket.request_log().await;
    assert!(
        writes(&log[before..]).is_empty(),
        "{:?}",
        writes(&log[before..])
    );
    s.bitbucket.stop().await;
}
