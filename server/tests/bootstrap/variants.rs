//! Other first runs: a personal repository, token auth, an empty repository on another branch,
//! non-default install options; a user's kustomization.yaml kept; a dry run that writes nothing.

use std::process::Command;

use fluxstrap_testkit::blocking;
use fluxstrap_testkit::seed;

use super::common::{World, has_all};

#[tokio::test(flavor = "multi_thread")]
async fn a_personal_repository_with_token_auth() {
    let world = World::start("bootstrap-personal").await;
    let user = &seed::admin().name;
    world
        .run(&[
            "--personal",
            &format!("--owner={user}"),
            "--repository=mine",
            "--token-auth",
            "--path=clusters/home",
        ])
        .await
        .healthy();
    let secret = world.secret("flux-system");
    let decoded = |key: &str| {
        use base64::Engine;
        let text = secret["data"][key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key}: {secret}"));
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(decoded("username"), *user);
    assert_eq!(decoded("password"), seed::admin().token);
    assert!(decoded("ca.crt").contains("BEGIN CERTIFICATE"));
    assert!(secret["data"].get("identity").is_none(), "{secret}");
    let sync = world
        .kube
        .object(
            "source.toolkit.fluxcd.io",
            "GitRepository",
            "flux-system",
            "flux-system",
        )
        .unwrap();
    let url = sync["spec"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://")
            && url.ends_with(&format!("/scm/~{}/mine.git", user.to_lowercase())),
        "{url}"
    );
    // Token auth registers no deploy key.
    let keys = world
        .bitbucket
        .admin_curl(
            "GET",
            &format!("/rest/keys/1.0/projects/~{user}/repos/mine/ssh"),
        )
        .send()
        .expect(200);
    assert_eq!(keys.body["values"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_existing_repository_is_bootstrapped_on_develop() {
    let world = World::start("bootstrap-develop").await;
    world
        .bitbucket
        .admin_curl(
            "POST",
            &format!("/rest/api/1.0/projects/{}/repos", seed::project().key),
        )
        .json(r#"{"name":"empty"}"#)
        .send()
        .expect(201);
    world
        .run(&[
            "--repository=empty",
            "--branch=develop",
            "--path=clusters/dev",
        ])
        .await
        .healthy();
    let repo = world.clone("empty", "develop").await;
    assert_eq!(repo.subjects().len(), 2);
    let default = world
        .bitbucket
        .admin_curl(
            "GET",
            &format!(
                "/rest/api/1.0/projects/{}/repos/empty/branches/default",
                seed::project().key
            ),
        )
        .send()
        .expect(200);
    assert_eq!(default.body["displayId"], "develop");
}

#[tokio::test(flavor = "multi_thread")]
async fn install_options_give_the_bytes_install_export_gives() {
    let world = World::start("bootstrap-options").await;
    let options = [
        "--namespace=gitops",
        "--components-extra=image-reflector-controller,image-automation-controller",
        "--registry=registry.example.com/fluxcd",
        "--toleration-keys=dedicated,gpu",
        "--watch-all-namespaces=false",
        "--network-policy=false",
        "--log-level=debug",
        "--cluster-domain=cluster.example",
    ];
    let mut args = vec!["--repository=options", "--path=clusters/x"];
    args.extend(options);
    world.run(&args).await.healthy();
    let repo = world.clone("options", "main").await;
    let committed = repo.read("clusters/x/gitops/gotk-components.yaml");
    let mut export = Command::new(env!("CARGO_BIN_EXE_fluxstrap"));
    export
        .args(["install", "--export"])
        .args(options)
        .env("FLUXSTRAP_CACHE_DIR", world.home.subdir("cache"));
    let exported = blocking(move || export.output().unwrap()).await;
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    assert_eq!(
        committed, exported.stdout,
        "the committed components differ from install --export"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_users_kustomization_survives_and_a_dry_run_changes_nothing() {
    let world = World::start("bootstrap-kustomization").await;
    let args = ["--repository=patched", "--path=clusters/p"];
    world.run(&args).await.healthy();
    let repo = world.clone("patched", "main").await;
    let path = "clusters/p/flux-system/kustomization.yaml";
    let patched = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-components.yaml\n- gotk-sync.yaml\npatches:\n- patch: |\n    - op: add\n      path: /spec/template/spec/priorityClassName\n      value: critical\n  target:\n    kind: Deployment\n";
    std::fs::write(repo.root.join(path), patched).unwrap();
    let git = repo.git.clone();
    blocking(move || {
        git.run(&["add", "."]);
        git.commit("patch the controllers");
        git.run(&["push", "--quiet", "origin", "HEAD:main"]);
    })
    .await;
    let from = world.requests().await;
    let plan = world.run(&[&args[..], &["--dry-run"]].concat()).await;
    assert!(plan.output.status.success(), "{}", plan.stderr());
    let stdout = String::from_utf8_lossy(&plan.output.stdout).into_owned();
    has_all(
        &stdout,
        &[
            "Keep clusters/p/flux-system/kustomization.yaml",
            "Unchanged clusters/p/flux-system/gotk-sync.yaml",
            "Bitbucket writes:\n  none",
        ],
    );
    assert_eq!(world.rest_writes(from).await, Vec::<String>::new());
    world.run(&args).await.healthy();
    let again = world.clone("patched", "main").await;
    assert_eq!(again.read(path), patched.as_bytes());
    assert_eq!(
        again.subjects()[0],
        "patch the controllers",
        "a re-run committed over the user's change"
    );
}
