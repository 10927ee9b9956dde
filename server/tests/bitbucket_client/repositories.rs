//! Identity and error messages, repositories created then adopted, an empty repository's
//! default branch.

use fluxstrap_core::Secret as Token;
use fluxstrap_core::bitbucket::{
    Owner, ProjectKey, RepoSlug, RepositoryOrigin, ensure_default_branch, ensure_description,
    identify, resolve_owner,
};
use fluxstrap_server::bitbucket_http::HttpTransport;

use super::common::{admin_token, sandbox};

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
    let untrusted = HttpTransport::new(Token::new(admin_token()), None).unwrap();
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
    let first = s.repository(&key, "Fleet Infra").await.unwrap();
    assert_eq!(first.origin, RepositoryOrigin::Created);
    assert_eq!(first.repository.slug, "fleet-infra");
    assert_eq!(first.default_branch, None, "a new repository is empty");

    // The description is reconciled, once.
    let slug = RepoSlug::parse(&first.repository.slug).unwrap();
    let describe = || ensure_description(&s.transport, &s.host, &key, &slug, "Flux fleet");
    assert!(describe().await.unwrap());
    assert!(!describe().await.unwrap());

    let before = s.logged().await;
    let again = s.repository(&key, "Fleet Infra").await.unwrap();
    assert_eq!(again.origin, RepositoryOrigin::Adopted);
    let writes = s.writes_since(before).await;
    assert!(writes.is_empty(), "{writes:?}");

    // Personal repositories live under ~user.
    let personal = resolve_owner(&s.transport, &s.host, &Owner::User("admin".into()))
        .await
        .unwrap();
    let mine = s.repository(&personal, "mine").await.unwrap();
    assert_eq!(mine.origin, RepositoryOrigin::Created);
    assert_eq!(mine.repository.project.key, "~ADMIN");
    s.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_repository_takes_any_branch_as_default() {
    let s = sandbox("develop").await;
    let (key, slug, ensured) = s.new_repository("apps").await;
    // The first commit goes straight to `develop` over git.
    let git = s.bitbucket.admin_git(s.bitbucket.dir().subdir("work"));
    git.run(&["init", "-q", "-b", "develop"]);
    git.run(&["commit", "-q", "--allow-empty", "-m", "first"]);
    let clone = ensured.repository.clone_link("http").unwrap();
    git.run(&["push", "-q", &clone, "develop"]);

    let set_default = || ensure_default_branch(&s.transport, &s.host, &key, &slug, "develop");
    assert!(set_default().await.unwrap());
    assert!(!set_default().await.unwrap());
    let adopted = s.repository(&key, "apps").await.unwrap();
    assert_eq!(adopted.default_branch.as_deref(), Some("develop"));
    s.bitbucket.stop().await;
}
