//! Group grants and the deploy key's lifecycle.

use fluxstrap_core::bitbucket::{
    AccessKeyDecision, GroupDecision, RepoPermission, ensure_access_key,
};

use super::common::{PUBLIC_KEY, sandbox};

#[tokio::test(flavor = "multi_thread")]
async fn groups_are_granted_upgraded_and_left_alone() {
    let s = sandbox("groups").await;
    let (key, slug, _) = s.new_repository("fleet").await;

    // `dev`s: no permission yet, though `devops` (a substring match) administers the project.
    assert_eq!(
        s.group(&key, &slug, "devs").await,
        GroupDecision::Grant(RepoPermission::Write)
    );
    let before = s.logged().await;
    assert_eq!(
        s.group(&key, &slug, "devs:push").await,
        GroupDecision::UpToDate(RepoPermission::Write)
    );
    assert!(s.writes_since(before).await.is_empty());
    assert_eq!(
        s.group(&key, &slug, "devs:admin").await,
        GroupDecision::Grant(RepoPermission::Admin)
    );
    // A project-level admin group needs nothing on the repository.
    assert_eq!(
        s.group(&key, &slug, "devops:push").await,
        GroupDecision::UpToDate(RepoPermission::Admin)
    );
    s.bitbucket.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deploy_key_is_added_kept_healed_and_changed() {
    let s = sandbox("keys").await;
    let (key, slug, _) = s.new_repository("fleet").await;
    let label = "flux-system-main-flux-system-./clusters/prod";
    let ensure = |permission| {
        ensure_access_key(
            &s.transport,
            &s.host,
            &key,
            &slug,
            &PUBLIC_KEY,
            label,
            permission,
        )
    };

    assert_eq!(
        ensure(RepoPermission::Read).await.unwrap(),
        AccessKeyDecision::Add
    );
    let before = s.logged().await;
    let AccessKeyDecision::UpToDate { id } = ensure(RepoPermission::Read).await.unwrap() else {
        panic!("the key should be up to date");
    };
    assert!(s.writes_since(before).await.is_empty());
    assert_eq!(
        ensure(RepoPermission::Write).await.unwrap(),
        AccessKeyDecision::ChangePermission {
            id,
            to: RepoPermission::Write
        }
    );

    // Deleted by someone in Bitbucket: the next run adds it again.
    let deleted = s
        .bitbucket
        .admin_curl(
            "DELETE",
            &format!("/rest/keys/1.0/projects/PLAT/repos/fleet/ssh/{id}"),
        )
        .send();
    assert_eq!(deleted.status, 204);
    assert_eq!(
        ensure(RepoPermission::Write).await.unwrap(),
        AccessKeyDecision::Add
    );
    s.bitbucket.stop().await;
}
