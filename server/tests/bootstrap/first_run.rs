//! A first run on a new project repository over SSH, a no-op second run, a healed deploy key.

use fluxstrap_testkit::paths::golden_components;
use fluxstrap_testkit::seed;

use super::common::{World, has_all};

#[tokio::test(flavor = "multi_thread")]
async fn first_run_creates_everything_and_a_second_run_changes_nothing() {
    let world = World::start("bootstrap-first").await;
    let first = world
        .run(&["--repository=fleet", "--path=clusters/prod"])
        .await
        .healthy();
    let stderr = first.stderr();
    has_all(
        &stderr,
        &[
            "✔ downloaded Flux v2.9.4 manifests",
            "✔ repository \"https://",
            "✔ configured deploy key \"flux-system-main-flux-system-./clusters/prod\"",
        ],
    );

    let repo = world.clone("fleet", "main").await;
    assert_eq!(
        repo.read("clusters/prod/flux-system/gotk-components.yaml"),
        golden_components("default"),
        "gotk-components.yaml differs from flux v2.9.4's"
    );
    let sync = String::from_utf8(repo.read("clusters/prod/flux-system/gotk-sync.yaml")).unwrap();
    assert!(
        sync.contains(&format!(
            "url: ssh://git@{}/{}/fleet\n",
            world.ssh_host(),
            seed::project().key
        )),
        "{sync}"
    );
    assert!(sync.contains("path: ./clusters/prod\n"), "{sync}");
    let kustomization =
        String::from_utf8(repo.read("clusters/prod/flux-system/kustomization.yaml")).unwrap();
    assert_eq!(
        kustomization,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-components.yaml\n- gotk-sync.yaml\n"
    );
    assert_eq!(
        repo.subjects(),
        [
            "Add Flux sync manifests",
            "Add Flux v2.9.4 component manifests"
        ]
    );

    let keys = world.access_keys("fleet");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(
        keys[0]["key"]["label"],
        "flux-system-main-flux-system-./clusters/prod"
    );
    assert_eq!(keys[0]["permission"], "REPO_READ");
    let secret = world.secret("flux-system");
    for key in ["identity", "identity.pub", "known_hosts"] {
        assert!(
            secret["data"].get(key).is_some(),
            "the Secret lacks {key}: {secret}"
        );
    }
    assert_eq!(
        world.leftover_job_dirs(),
        0,
        "a job directory (with keys) was left behind"
    );

    let from = world.requests().await;
    let second = world
        .run(&["--repository=fleet", "--path=clusters/prod"])
        .await
        .healthy();
    assert_eq!(world.rest_writes(from).await, Vec::<String>::new());
    let again = world.clone("fleet", "main").await;
    assert_eq!(again.subjects().len(), 2, "the second run committed");
    let stderr = second.stderr();
    has_all(
        &stderr,
        &[
            "✔ component manifests are up to date",
            "✔ sync manifests are up to date",
            "✔ source secret up to date",
        ],
    );
    assert_eq!(world.access_keys("fleet").len(), 1);
    println!(
        "bootstrap (debug build): first run {:.2} s (release download included), no-op re-run {:.2} s",
        first.seconds, second.seconds
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_key_deleted_in_bitbucket_is_registered_again() {
    let world = World::start("bootstrap-heal").await;
    world
        .run(&["--repository=fleet", "--path=clusters/a"])
        .await
        .healthy();
    let id = world.access_keys("fleet")[0]["key"]["id"].as_u64().unwrap();
    world
        .bitbucket
        .admin_curl(
            "DELETE",
            &format!(
                "/rest/keys/1.0/projects/{}/repos/fleet/ssh/{id}",
                seed::project().key
            ),
        )
        .header("X-Atlassian-Token: no-check")
        .send()
        .expect(204);
    assert!(world.access_keys("fleet").is_empty());
    let healed = world
        .run(&["--repository=fleet", "--path=clusters/a"])
        .await
        .healthy();
    let keys = world.access_keys("fleet");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(
        keys[0]["key"]["label"],
        "flux-system-main-flux-system-./clusters/a"
    );
    let stderr = healed.stderr();
    has_all(
        &stderr,
        &["✔ source secret up to date", "✔ configured deploy key"],
    );
}
