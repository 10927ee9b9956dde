//! The generator in the browser: headless Chromium (wasm-bindgen-test-runner) fetches the v2.9.4
//! release files over HTTP from `fluxstrap serve`, generates the default install, and compares
//! its sha256 with flux's own output listed in `../shared/flux/goldens/v2.9.4/cases.tsv`.
//!
//! `scripts/dev test` starts the server and sets `FLUXSTRAP_RELEASE_URL` when building this test.
#![cfg(target_arch = "wasm32")]

use fluxstrap_core::install::{Distribution, InstallFlags, RELEASE_FILES, generate};
use sha2::{Digest, Sha256};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Where the release files are served, fixed when the test is built.
const RELEASE_URL: Option<&str> = option_env!("FLUXSTRAP_RELEASE_URL");
/// The index of flux's outputs with their sha256 (no manifest text), read when the test is built.
const CASES: &str = include_str!("../../../shared/flux/goldens/v2.9.4/cases.tsv");

async fn fetch_bytes(url: &str) -> Vec<u8> {
    let window = web_sys::window().expect("a browser window");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .unwrap_or_else(|e| panic!("fetching {url}: {e:?}"))
        .dyn_into()
        .expect("a Response");
    assert!(response.ok(), "{url} answered {}", response.status());
    let buffer = JsFuture::from(response.array_buffer().expect("a body"))
        .await
        .expect("reading the body");
    js_sys::Uint8Array::new(&buffer).to_vec()
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[wasm_bindgen_test]
async fn default_install_generated_in_the_browser_matches_flux() {
    let base = RELEASE_URL.expect(
        "FLUXSTRAP_RELEASE_URL was not set when this test was built: run it through `scripts/dev test`",
    );
    let mut files = Vec::new();
    for name in RELEASE_FILES {
        files.push((name, fetch_bytes(&format!("{base}/{name}")).await));
    }
    let want = CASES
        .lines()
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .find(|columns| columns[0] == "default")
        .map(|columns| columns[2].to_string())
        .expect("the default case in cases.tsv");
    let options = InstallFlags::defaults("v2.9.4").to_options().unwrap();

    let started = now_ms();
    let distribution = Distribution::from_files(files.clone()).unwrap();
    let parsed = now_ms();
    let output = generate(&distribution, &options).unwrap();
    let generated = now_ms();
    // A second run, with the JIT warm, is what the page sees on every keystroke.
    let again = generate(&distribution, &options).unwrap();
    let warm = now_ms() - generated;

    let got: String = Sha256::digest(output.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(got, want);
    assert_eq!(again, output);
    console_log!(
        "wasm: parse {:.1} ms, generate {:.1} ms (warm {:.1} ms), {} bytes",
        parsed - started,
        generated - parsed,
        warm,
        output.len()
    );
}
