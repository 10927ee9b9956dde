//! The web app in a real browser: `fluxstrap serve` on loopback (against `fluxstrap-sandbox up`
//! for the whole flow), headless Chromium through chromedriver, assertions on the DOM through
//! the page's `data-testid`s.

use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use fluxstrap_testkit::browser::Browser;
use fluxstrap_testkit::paths::{artifacts_dir, golden_sha256, shared, web_dir, workspace_binary};
use fluxstrap_testkit::process::{SandboxUp, start_fluxstrap_serve};
use fluxstrap_testkit::{Curl, CuttableLink, Git, TempDir};

/// WebDriver's Tab key: typing it leaves the field (a change event, then blur).
const TAB: &str = "\u{e004}";

fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// The element `css` finds; it must be there.
async fn element(client: &Client, css: &str) -> Element {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} is not on the page: {e}"))
}

async fn text(client: &Client, css: &str) -> String {
    element(client, css)
        .await
        .text()
        .await
        .expect("element text")
}

async fn attr(client: &Client, css: &str, name: &str) -> Option<String> {
    element(client, css)
        .await
        .attr(name)
        .await
        .expect("attribute")
}

/// Polls up to `seconds` until `check` holds for the text of `css` (absent: `<absent>`).
async fn wait_until(
    client: &Client,
    css: &str,
    seconds: u64,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let current = match client.find(Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::from("<absent>"),
        };
        if check(&current) {
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "{css}: expected {what}, still {current:?} after {seconds} s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn wait_for_text(client: &Client, css: &str, expected: &str) {
    wait_until(client, css, 10, &format!("{expected:?}"), |t| t == expected).await;
}

async fn wait_for_contains(client: &Client, css: &str, part: &str, seconds: u64) -> String {
    wait_until(client, css, seconds, &format!("text with {part:?}"), |t| {
        t.contains(part)
    })
    .await
}

/// Waits up to `seconds` for `css` to appear; `meaning` says what its appearing means.
async fn wait_for_element(client: &Client, css: &str, seconds: u64, meaning: &str) -> Element {
    client
        .wait()
        .at_most(Duration::from_secs(seconds))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{meaning} ({css}): {e}"))
}

/// The `data-sha256` of the previewed file whose path ends with `name`, once it is there and
/// equal to `expected` (the preview follows the options asynchronously).
async fn wait_for_sha256(client: &Client, name: &str, expected: &str) {
    let css = format!("{}[data-path$=\"/{name}\"]", testid("file"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = match client.find(Locator::Css(&css)).await {
            Ok(el) => el.attr("data-sha256").await.ok().flatten(),
            Err(_) => None,
        };
        if current.as_deref() == Some(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: sha256 {current:?}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A duration as the timings are printed.
fn millis(elapsed: Duration) -> String {
    format!("{:.0} ms", elapsed.as_secs_f64() * 1e3)
}

async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    let path = artifacts_dir().join(name);
    std::fs::write(&path, png).expect("saving the screenshot");
    println!("browser: screenshot saved to {}", path.display());
}

async fn click(client: &Client, id: &str) {
    element(client, &testid(id))
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {id}: {e}"));
}

/// Replaces the text of the input `id` with `value` (typed key by key).
async fn replace_input(client: &Client, id: &str, value: &str) {
    let input = element(client, &testid(id)).await;
    input.clear().await.expect("clearing the field");
    input.send_keys(value).await.expect("typing");
}

async fn choose(client: &Client, id: &str, label: &str) {
    element(client, &testid(id))
        .await
        .select_by_label(label)
        .await
        .unwrap_or_else(|e| panic!("choosing {label:?} in {id}: {e}"));
}

async fn count(client: &Client, css: &str) -> usize {
    client
        .find_all(Locator::Css(css))
        .await
        .expect("find_all")
        .len()
}

async fn is_disabled(client: &Client, id: &str) -> bool {
    attr(client, &testid(id), "disabled").await.is_some()
}

/// Whether the page fetched the git reader (`/git.js`), which it may only do for a diff.
async fn git_reader_loaded(client: &Client) -> bool {
    client
        .execute(
            "return performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname === '/git.js');",
            vec![],
        )
        .await
        .expect("reading the resource timings")
        .as_bool()
        .unwrap_or(false)
}

/// Pushes a commit to `main` of the sandbox's repository `slug` (in its seeded project) that
/// replaces `old` by `new` in `path`, with the real git as the sandbox's user.
fn push_edit(
    settings: &fluxstrap_testkit::process::Settings,
    slug: &str,
    path: &str,
    old: &str,
    new: &str,
) {
    let work = TempDir::new("browser-edit");
    let git = Git::new(work.path())
        .bearer(&settings["BITBUCKET_TOKEN"])
        .ca_file(std::path::Path::new(&settings["BITBUCKET_CA_FILE"]));
    let url = format!(
        "{}/scm/{}/{slug}.git",
        settings["BITBUCKET_URL"].trim_end_matches('/'),
        settings["BITBUCKET_PROJECT"].to_lowercase()
    );
    git.run(&["clone", "-q", "--branch", "main", &url, "."]);
    let file = work.join(path);
    let text = std::fs::read_to_string(&file).expect("the bootstrap wrote the file");
    assert!(text.contains(old), "{path} has no {old:?}:\n{text}");
    std::fs::write(&file, text.replacen(old, new, 1)).unwrap();
    git.run(&[
        "commit",
        "-q",
        "-a",
        "-m",
        "Change the sync interval by hand",
    ]);
    git.run(&["push", "-q", "origin", "HEAD:main"]);
}

/// Without a configuration: the preview, computed in the browser by core in wasm from the
/// release the server offers, equals flux's own output; every field is validated as typed.
#[tokio::test(flavor = "multi_thread")]
async fn preview_equals_flux_and_fields_validate_as_typed() {
    let (server, url) = start_fluxstrap_serve(&web_dir(), &[]);
    let client = Browser::start().await;

    let started = Instant::now();
    client.goto(&url).await.expect("navigating to the app");
    let components = format!("{}[data-path$=\"/gotk-components.yaml\"]", testid("file"));
    wait_for_element(
        &client,
        &components,
        60,
        "the wasm app generated the first preview",
    )
    .await;
    println!(
        "browser: navigation to first preview took {}",
        millis(started.elapsed())
    );
    wait_for_sha256(&client, "gotk-components.yaml", &golden_sha256("default")).await;
    assert_eq!(count(&client, &testid("file")).await, 3);
    assert_eq!(
        attr(
            &client,
            &format!("{}[data-path$=\"gotk-sync.yaml\"]", testid("file")),
            "data-path"
        )
        .await
        .as_deref(),
        Some("flux-system/gotk-sync.yaml")
    );
    let sync = text(&client, &testid("file-content")).await;
    assert!(
        sync.starts_with("# This manifest was generated by flux. DO NOT EDIT.\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository"),
        "{sync}"
    );
    // Flux's defaults are in the fields; nothing is said about the empty owner until it is left.
    assert_eq!(
        element(&client, &testid("opt-namespace"))
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("flux-system")
    );
    assert_eq!(text(&client, "#opt-owner-error").await, "");
    assert!(is_disabled(&client, "bootstrap").await);
    wait_for_text(
        &client,
        &testid("bootstrap-reason"),
        "Connect to Bitbucket first.",
    )
    .await;

    // An invalid namespace: flux's message next to the field, marked invalid.
    replace_input(&client, "opt-namespace", "Bad_NS").await;
    wait_for_text(
        &client,
        "#opt-namespace-error",
        "namespace must be a valid DNS label: \"Bad_NS\"",
    )
    .await;
    assert_eq!(
        attr(&client, &testid("opt-namespace"), "aria-invalid")
            .await
            .as_deref(),
        Some("true")
    );
    assert!(
        attr(&client, &testid("opt-namespace"), "aria-describedby")
            .await
            .unwrap()
            .contains("opt-namespace-error")
    );
    save_screenshot(&client, "browser-invalid-field.png").await;

    // A valid one: flux's own output for --namespace=gitops, and the path follows.
    let started = Instant::now();
    replace_input(&client, "opt-namespace", "gitops").await;
    wait_for_text(&client, "#opt-namespace-error", "").await;
    wait_for_sha256(
        &client,
        "gotk-components.yaml",
        &golden_sha256("namespace-gitops"),
    )
    .await;
    println!(
        "browser: preview regenerated {} after the namespace change",
        millis(started.elapsed())
    );
    replace_input(&client, "opt-path", "/a/../b/").await;
    wait_for_element(
        &client,
        &format!("{}[data-path=\"b/gitops/gotk-sync.yaml\"]", testid("file")),
        10,
        "the path is normalised like flux's --path",
    )
    .await;
    replace_input(&client, "opt-interval", "5").await;
    wait_for_text(
        &client,
        "#opt-interval-error",
        "invalid argument \"5\" for \"--interval\" flag: time: missing unit in duration \"5\"",
    )
    .await;
    replace_input(&client, "opt-interval", "90s").await;
    wait_for_text(&client, "#opt-interval-error", "").await;
    let command = text(&client, &testid("flux-command")).await;
    assert!(command.contains("BITBUCKET_TOKEN"), "{command}");
    assert!(
        command.contains("--interval=90s --path=/a/../b/"),
        "{command}"
    );
    assert!(command.contains("--namespace=gitops"), "{command}");

    client.close().await;
    let status = server.terminate();
    assert!(
        status.success(),
        "fluxstrap serve should exit cleanly on SIGTERM, got {status}"
    );
}

fn jobs_recorded(url: &str) -> usize {
    let answer = Curl::get(format!("{}/api/bootstraps", url.trim_end_matches('/'))).send();
    answer.expect(200).body["values"]
        .as_array()
        .map_or(0, Vec::len)
}

/// How many progress events the server recorded for job `id` (its stream, replayed by curl).
fn events_recorded(url: &str, id: &str) -> u64 {
    let answer = Curl::get(format!(
        "{}/api/bootstraps/{id}/events",
        url.trim_end_matches('/')
    ))
    .send();
    let text = answer.expect(200).text;
    text.lines().filter(|l| *l == "event: progress").count() as u64
}

/// The whole flow against the sandbox: connect (a bad token first), choose the project by its
/// name, the repository, the path and the cluster, preview, plan, bootstrap, follow the run to
/// "healthy", and find it in the history.
#[tokio::test(flavor = "multi_thread")]
async fn the_whole_flow_from_connect_to_healthy() {
    let sandbox = SandboxUp::start_fresh(
        &workspace_binary("fluxstrap-sandbox"),
        &[
            "--clusters",
            "2",
            "--releases",
            &shared().join("flux/releases").display().to_string(),
        ],
    );
    let settings = &sandbox.settings;
    // A data directory of the test's own, so a restarted serve finds the history.
    let data = fluxstrap_testkit::TempDir::new("browser-serve-data");
    let data_dir = data.path().display().to_string();
    let serve_args = [
        "--config",
        &settings["FLUXSTRAP_CONFIG"],
        "--data-dir",
        &data_dir,
    ];
    let (server, serve_url) = start_fluxstrap_serve(&web_dir(), &serve_args);
    // The browser reaches serve through a link the test can cut, to drop the event stream.
    let link = CuttableLink::start(
        serve_url
            .trim_start_matches("http://")
            .trim_end_matches('/'),
    )
    .await;
    let url = link.url();
    let client = Browser::start().await;

    let started = Instant::now();
    client.goto(&url).await.expect("navigating to the app");
    wait_for_element(&client, &testid("file"), 60, "the first preview").await;
    println!(
        "browser: navigation to first preview took {}",
        millis(started.elapsed())
    );
    wait_for_sha256(&client, "gotk-components.yaml", &golden_sha256("default")).await;
    assert_eq!(
        text(&client, &format!("{} option:checked", testid("server"))).await,
        "sandbox"
    );
    assert!(
        !git_reader_loaded(&client).await,
        "the page loaded the git reader before a diff was needed"
    );
    save_screenshot(&client, "browser-1-start.png").await;

    // A bad token: the page says so and what to do; nothing starts.
    replace_input(&client, "token", "not-a-token").await;
    click(&client, "connect").await;
    let refused = wait_for_contains(
        &client,
        &testid("connect-error"),
        "did not accept this token",
        20,
    )
    .await;
    assert!(refused.contains("HTTP access token"), "{refused}");
    assert_eq!(count(&client, &testid("identity")).await, 0);
    assert!(is_disabled(&client, "bootstrap").await);
    assert_eq!(jobs_recorded(&url), 0);
    save_screenshot(&client, "browser-2-bad-token.png").await;

    let started = Instant::now();
    replace_input(&client, "token", &settings["BITBUCKET_TOKEN"]).await;
    click(&client, "connect").await;
    let identity = wait_for_contains(
        &client,
        &testid("identity"),
        &settings["BITBUCKET_USER"],
        20,
    )
    .await;
    assert!(identity.contains("Bitbucket 8."), "{identity}");
    println!(
        "browser: connected through the relay in {}",
        millis(started.elapsed())
    );

    // The project by its name, then a new repository, a path and the second cluster.
    let project = &settings["BITBUCKET_PROJECT_NAME"];
    replace_input(&client, "opt-owner", &format!("{project}{TAB}")).await;
    wait_for_contains(
        &client,
        "#opt-owner-hint",
        &format!("({})", &settings["BITBUCKET_PROJECT"]),
        10,
    )
    .await;
    replace_input(&client, "opt-repository", &format!("Page Fleet{TAB}")).await;
    let note = wait_for_contains(&client, "#opt-repository-hint", "does not exist yet", 15).await;
    assert!(note.contains("Slug: page-fleet"), "{note}");
    replace_input(&client, "opt-path", "clusters/page").await;
    let clusters: Vec<String> = {
        let mut names = Vec::new();
        for option in client
            .find_all(Locator::Css(&format!("{} option", testid("cluster"))))
            .await
            .unwrap()
        {
            names.push(option.text().await.unwrap());
        }
        names
    };
    assert_eq!(clusters, ["sandbox-1", "sandbox-2"]);
    choose(&client, "cluster", "sandbox-2").await;

    // An invalid field blocks the bootstrap, with its message next to it.
    replace_input(&client, "opt-namespace", "Bad_NS").await;
    wait_for_contains(&client, "#opt-namespace-error", "valid DNS label", 10).await;
    wait_for_contains(&client, &testid("bootstrap-reason"), "--namespace", 10).await;
    assert!(is_disabled(&client, "bootstrap").await);
    replace_input(&client, "opt-namespace", "flux-system").await;
    wait_for_text(&client, &testid("bootstrap-reason"), "").await;

    // The preview follows the target: the sync file names the repository and the path.
    let sync_row = format!(
        "{}[data-path=\"clusters/page/flux-system/gotk-sync.yaml\"]",
        testid("file")
    );
    wait_for_element(&client, &sync_row, 10, "the preview follows the path").await;
    let sync = wait_for_contains(&client, &testid("file-content"), "/PLAT/page-fleet", 10).await;
    assert!(sync.contains("path: ./clusters/page"), "{sync}");
    wait_for_sha256(&client, "gotk-components.yaml", &golden_sha256("default")).await;
    let command = text(&client, &testid("flux-command")).await;
    assert!(
        command.contains(&format!(
            "--owner={project} --repository='Page Fleet' --path=clusters/page"
        )),
        "{command}"
    );
    assert!(command.contains("BITBUCKET_TOKEN"), "{command}");
    assert!(
        !command.contains(&settings["BITBUCKET_TOKEN"]),
        "the token is in the command: {command}"
    );
    // A repository that does not exist yet: every file is new, and nothing needs reading.
    wait_for_contains(
        &client,
        &testid("diff-counts"),
        "+ 3 added · ~ 0 changed · − 0 removed · = 0 unchanged",
        10,
    )
    .await;
    assert!(
        !git_reader_loaded(&client).await,
        "the page loaded the git reader for a repository that does not exist"
    );
    save_screenshot(&client, "browser-3-target.png").await;

    // The plan: the server's dry run, nothing recorded.
    click(&client, "plan-button").await;
    wait_for_element(&client, &testid("plan"), 60, "the dry run's plan").await;
    assert!(count(&client, &testid("plan-write")).await > 0);
    assert!(count(&client, &testid("plan-object")).await > 0);
    assert_eq!(jobs_recorded(&url), 0);
    save_screenshot(&client, "browser-4-plan.png").await;

    // Bootstrap, clicked twice: one job.
    let started = Instant::now();
    let button = element(&client, &testid("bootstrap")).await;
    button.click().await.expect("clicking bootstrap");
    let _ = button.click().await;
    let job = wait_for_element(&client, &testid("job"), 20, "the run page").await;
    let current = client.current_url().await.unwrap();
    assert!(current.path().starts_with("/runs/"), "{current}");
    let id = current.path().trim_start_matches("/runs/").to_string();
    let state = job.attr("data-state").await.unwrap().unwrap_or_default();
    assert!(
        ["queued", "running", "succeeded"].contains(&state.as_str()),
        "{state}"
    );
    wait_for_element(&client, &testid("step"), 30, "the first step").await;
    save_screenshot(&client, "browser-5-running.png").await;
    // The network drops the event stream mid-run (and refuses new connections for a while):
    // the page says it is reconnecting, then resumes without showing any step twice.
    link.cut().await;
    wait_for_element(
        &client,
        &testid("reconnecting"),
        10,
        "the page says the stream dropped",
    )
    .await;
    save_screenshot(&client, "browser-5-reconnecting.png").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    link.restore();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let state = attr(&client, &testid("job"), "data-state")
            .await
            .unwrap_or_default();
        if state == "succeeded" {
            break;
        }
        assert!(
            state != "failed" && state != "interrupted" && Instant::now() < deadline,
            "the job ended {state}: {}",
            text(&client, &testid("job")).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healthy =
        wait_for_contains(&client, &testid("job"), "all components are healthy", 10).await;
    println!(
        "browser: Bootstrap to healthy took {}",
        millis(started.elapsed())
    );
    assert!(
        healthy.contains("Open the repository in Bitbucket"),
        "{healthy}"
    );
    let mut seqs = Vec::new();
    for step in client
        .find_all(Locator::Css(&testid("step")))
        .await
        .unwrap()
    {
        let seq: u64 = step
            .attr("data-seq")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        let level = step.attr("data-level").await.unwrap().unwrap();
        assert!(
            [
                "action", "generate", "waiting", "success", "warning", "failure"
            ]
            .contains(&level.as_str()),
            "{level}"
        );
        seqs.push(seq);
    }
    assert!(seqs.len() >= 10, "{seqs:?}");
    assert_eq!(
        seqs,
        (1..=events_recorded(&url, &id)).collect::<Vec<_>>(),
        "after the dropped stream, steps are duplicated or missing"
    );
    assert_eq!(count(&client, &testid("reconnecting")).await, 0);
    assert_eq!(
        jobs_recorded(&url),
        1,
        "a double click started more than one job"
    );
    save_screenshot(&client, "browser-6-healthy.png").await;

    // Someone edits a file the bootstrap wrote; back on the form (same options), the preview's
    // diff shows that change, read from the branch by isomorphic-git over the relay.
    let sync_path = "clusters/page/flux-system/gotk-sync.yaml";
    let (generated_line, edited_line) = ("  interval: 1m0s\n", "  interval: 5m0s\n");
    push_edit(
        settings,
        "page-fleet",
        sync_path,
        generated_line,
        edited_line,
    );
    let started = Instant::now();
    element(&client, "header nav a[href=\"/\"]")
        .await
        .click()
        .await
        .unwrap();
    let sync_button = format!("{sync_row} button");
    wait_for_element(&client, &sync_button, 20, "the form again").await;
    element(&client, &sync_button).await.click().await.unwrap();
    let diff = wait_for_contains(&client, &testid("diff"), "-  interval: 5m0s", 120).await;
    println!(
        "browser: the first diff (git reader loaded, branch cloned) took {}",
        millis(started.elapsed())
    );
    assert!(git_reader_loaded(&client).await);
    assert!(diff.contains("+  interval: 1m0s"), "{diff}");
    assert!(
        diff.contains("+ 0 added · ~ 1 changed · − 0 removed · = 2 unchanged"),
        "{diff}"
    );
    assert_eq!(
        attr(&client, &testid("diff"), "data-change")
            .await
            .as_deref(),
        Some("changed")
    );
    assert_eq!(
        attr(&client, &sync_row, "data-change").await.as_deref(),
        Some("changed")
    );
    for line in client
        .find_all(Locator::Css(&format!("{} .line.del", testid("diff"))))
        .await
        .unwrap()
    {
        assert_eq!(line.text().await.unwrap(), "-  interval: 5m0s");
    }
    client
        .execute(
            "document.querySelector('[data-testid=\"diff\"]').scrollIntoView({block: 'center'});",
            vec![],
        )
        .await
        .expect("scrolling to the diff");
    save_screenshot(&client, "browser-diff.png").await;
    // The files nobody changed are folded away until asked for, and say so.
    let components_row = format!("{}[data-path$=\"/gotk-components.yaml\"]", testid("file"));
    assert!(
        !element(&client, &components_row)
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    let show = text(&client, &testid("show-unchanged")).await;
    assert_eq!(show, "Show 2 unchanged files");
    click(&client, "show-unchanged").await;
    element(&client, &format!("{components_row} button"))
        .await
        .click()
        .await
        .unwrap();
    wait_for_contains(&client, &testid("diff"), "No change", 20).await;
    assert_eq!(
        attr(&client, &testid("diff"), "data-change")
            .await
            .as_deref(),
        Some("unchanged")
    );
    assert_eq!(
        attr(&client, &components_row, "data-change")
            .await
            .as_deref(),
        Some("unchanged")
    );

    // The history lists it, and its row leads back to the run.
    element(&client, "header nav a[href=\"/history\"]")
        .await
        .click()
        .await
        .unwrap();
    wait_for_element(&client, &testid("job-row"), 10, "the history").await;
    assert_eq!(count(&client, &testid("job-row")).await, 1);
    let row = text(&client, &testid("job-row")).await;
    assert!(
        row.contains(&id)
            && row.contains("sandbox-2")
            && row.contains("PLAT/page-fleet#main:./clusters/page"),
        "{row}"
    );
    assert!(row.contains(&settings["BITBUCKET_USER"]), "{row}");
    assert_eq!(
        attr(&client, &testid("job-row"), "data-state")
            .await
            .as_deref(),
        Some("succeeded")
    );
    save_screenshot(&client, "browser-7-history.png").await;
    element(&client, &format!("{} a", testid("job-row")))
        .await
        .click()
        .await
        .unwrap();
    wait_for_element(
        &client,
        &format!("{}[data-state=\"succeeded\"]", testid("job")),
        20,
        "the run replayed",
    )
    .await;
    wait_for_contains(&client, &testid("job"), "all components are healthy", 20).await;

    // serve restarted: the history still lists the job.
    assert!(server.terminate().success());
    let (_server, url) = start_fluxstrap_serve(&web_dir(), &serve_args);
    client.goto(&format!("{url}history")).await.unwrap();
    wait_for_element(
        &client,
        &testid("job-row"),
        20,
        "the history after a restart",
    )
    .await;
    let row = text(&client, &testid("job-row")).await;
    assert!(row.contains(&id), "the job after serve restarted: {row}");

    // A phone's width.
    client.set_window_size(360, 800).await.unwrap();
    client.goto(&url).await.unwrap();
    wait_for_element(&client, &testid("file"), 60, "the preview on a phone").await;
    save_screenshot(&client, "browser-8-phone.png").await;
    client.close().await;
}

/// A project that no configured cluster allows: the page says so, offers no cluster, and
/// nothing can be started.
#[tokio::test(flavor = "multi_thread")]
async fn a_project_no_cluster_allows_cannot_be_bootstrapped() {
    let sandbox = SandboxUp::start_fresh(&workspace_binary("fluxstrap-sandbox"), &[]);
    let settings = &sandbox.settings;
    let written = std::fs::read_to_string(&settings["FLUXSTRAP_CONFIG"]).unwrap();
    let project_rule = format!("projects = [\"{}\"]", &settings["BITBUCKET_PROJECT"]);
    assert!(written.contains(&project_rule), "{written}");
    let dir = fluxstrap_testkit::TempDir::new("browser-closed-config");
    let config = dir.join("fluxstrap.toml");
    std::fs::write(
        &config,
        written.replace(&project_rule, "projects = [\"NOBODY\"]"),
    )
    .unwrap();
    let config = config.display().to_string();
    let (_server, url) = start_fluxstrap_serve(&web_dir(), &["--config", &config]);
    let client = Browser::start().await;
    client.goto(&url).await.expect("navigating to the app");
    wait_for_element(&client, &testid("file"), 60, "the first preview").await;
    replace_input(&client, "token", &settings["BITBUCKET_TOKEN"]).await;
    click(&client, "connect").await;
    wait_for_contains(
        &client,
        &testid("identity"),
        &settings["BITBUCKET_USER"],
        20,
    )
    .await;
    let project = &settings["BITBUCKET_PROJECT_NAME"];
    replace_input(&client, "opt-owner", &format!("{project}{TAB}")).await;
    replace_input(&client, "opt-repository", &format!("closed{TAB}")).await;
    wait_for_contains(
        &client,
        &testid("bootstrap-reason"),
        "No cluster accepts this project",
        15,
    )
    .await;
    assert_eq!(
        count(&client, &format!("{} option", testid("cluster"))).await,
        0
    );
    assert!(is_disabled(&client, "bootstrap").await);
    assert_eq!(jobs_recorded(&url), 0);
    save_screenshot(&client, "browser-no-cluster.png").await;
    client.close().await;
}
