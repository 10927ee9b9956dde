//! The web app in a real browser: `fluxstrap serve` on loopback, headless Chromium through
//! chromedriver, assertions on the DOM that the wasm core produced.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use fluxstrap_tests::{
    artifacts_dir, headless_chromium, start_chromedriver, start_fluxstrap_serve, web_dir,
};

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} is not on the page: {e}"))
        .text()
        .await
        .expect("element text")
}

/// Polls until `css` has `expected` as its text (the DOM updates asynchronously after input).
async fn wait_for_text(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let current = match client.find(Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::from("<absent>"),
        };
        if current == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css}: expected {expected:?}, still {current:?} after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    let path = artifacts_dir().join(name);
    std::fs::write(&path, png).expect("saving the screenshot");
    println!("browser: screenshot saved to {}", path.display());
}

async fn replace_input(client: &Client, id: &str, value: &str) {
    let input = client.find(Locator::Id(id)).await.expect("input field");
    input.clear().await.expect("clearing the field");
    input.send_keys(value).await.expect("typing");
}

#[tokio::test(flavor = "multi_thread")]
async fn form_validates_with_core_and_previews_in_wasm() {
    let (server, url) = start_fluxstrap_serve(&web_dir());
    let (_driver, driver_port) = start_chromedriver();
    let client = headless_chromium(driver_port).await;

    let started = Instant::now();
    client.goto(&url).await.expect("navigating to the app");
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Id("preview-label"))
        .await
        .expect("the wasm app rendered its first preview");
    let first_preview = started.elapsed();
    println!(
        "browser: navigation to first preview took {:.0} ms",
        first_preview.as_secs_f64() * 1e3
    );

    // The defaults: computed in wasm by fluxstrap-core.
    assert_eq!(
        text(&client, "#preview-label").await,
        "flux-system-main-flux-system-./clusters/my-cluster"
    );
    assert_eq!(text(&client, "#namespace-error").await, "");

    // An invalid namespace: flux's own message, and no preview.
    replace_input(&client, "namespace", "Bad_NS").await;
    wait_for_text(
        &client,
        "#namespace-error",
        "namespace must be a valid DNS label: \"Bad_NS\"",
    )
    .await;
    wait_for_text(
        &client,
        "#preview-invalid",
        "Fix the highlighted fields to see the preview.",
    )
    .await;

    // A valid one: the message goes away and the preview follows.
    replace_input(&client, "namespace", "gitops").await;
    wait_for_text(&client, "#namespace-error", "").await;
    wait_for_text(
        &client,
        "#preview-label",
        "gitops-main-flux-system-./clusters/my-cluster",
    )
    .await;

    // The path is normalised like flux's --path, and the interval printed the Go way.
    replace_input(&client, "path", "/a/../b/").await;
    wait_for_text(&client, "#preview-path", "./b").await;
    wait_for_text(&client, "#preview-label", "gitops-main-flux-system-./b").await;
    replace_input(&client, "interval", "90s").await;
    wait_for_text(&client, "#preview-interval", "1m30s").await;
    save_screenshot(&client, "browser-form-valid.png").await;
    replace_input(&client, "interval", "5").await;
    wait_for_text(
        &client,
        "#interval-error",
        "invalid argument \"5\" for \"--interval\" flag: time: missing unit in duration \"5\"",
    )
    .await;

    save_screenshot(&client, "browser-form-invalid.png").await;

    client.close().await.expect("closing the browser session");
    let status = server.terminate();
    assert!(
        status.success(),
        "fluxstrap serve should exit cleanly on SIGTERM, got {status}"
    );
}
