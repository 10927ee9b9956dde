//! Git over HTTP against the Bitbucket emulator with the real `git` client: clone and push with
//! a token (Bearer header or Basic password), a reader's push refused, no credentials refused.

use fluxstrap_testkit::{Bitbucket, Git, blocking, seed};

#[tokio::test]
async fn clone_and_push_follow_bitbucket_permissions() {
    let bitbucket = Bitbucket::loopback("bb-git")
        .context_path("/bitbucket")
        .plain_http()
        .without_ssh()
        .start()
        .await;
    let base = bitbucket.base_url().to_string();
    let url = bitbucket.scm_url("fleet");
    let create = bitbucket
        .admin_curl("POST", "/rest/api/1.0/projects/PLAT/repos")
        .json(r#"{"name":"fleet","defaultBranch":"main"}"#);
    let work = bitbucket.dir().subdir("work");
    let admin_git = bitbucket.admin_git(&work);
    blocking(move || {
        assert_eq!(create.send().status, 201);
        let git = Git::new(&work);

        // The admin clones the empty repository and pushes the first commit with a Bearer token.
        admin_git.run(&["clone", "-q", &url, "admin"]);
        let admin = admin_git.in_dir(work.join("admin"));
        std::fs::write(admin.dir().join("README.md"), "fleet\n").unwrap();
        admin.run(&["add", "README.md"]);
        admin.commit("first");
        admin.run(&["push", "-q", "origin", "HEAD:main"]);

        // The reader clones with Basic user:token (upper-case key works too) …
        let reader_url = url
            .replace(
                "http://",
                &format!("http://{}:{}@", seed::reader().name, seed::reader().token),
            )
            .replace("/plat/", "/PLAT/");
        git.run(&["clone", "-q", &reader_url, "reader"]);
        let reader = git.in_dir(work.join("reader"));
        assert_eq!(
            std::fs::read_to_string(reader.dir().join("README.md")).unwrap(),
            "fleet\n"
        );
        // … but may not push.
        std::fs::write(reader.dir().join("x"), "x").unwrap();
        reader.run(&["add", "x"]);
        reader.commit("x");
        let refused = reader.output(&["push", "-q", "origin", "HEAD:main"]);
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("403"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );

        // Without credentials git is challenged and, unable to prompt, gives up.
        let anonymous = git.output(&["clone", "-q", &url, "anonymous"]);
        assert!(!anonymous.status.success());
        assert!(
            String::from_utf8_lossy(&anonymous.stderr).contains("Authentication failed")
                || String::from_utf8_lossy(&anonymous.stderr).contains("could not read Username"),
            "{}",
            String::from_utf8_lossy(&anonymous.stderr)
        );
        // A repository that does not exist.
        let missing =
            admin_git.output(&["clone", "-q", &format!("{base}/scm/plat/nope.git"), "nope"]);
        assert!(!missing.status.success());
    })
    .await;
    let log = bitbucket.request_log().await;
    assert!(
        log.iter()
            .any(|r| r.path.ends_with("/git-receive-pack") && r.status == 200)
    );
    bitbucket.stop().await;
}
