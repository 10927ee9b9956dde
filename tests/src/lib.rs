//! Harness for the end-to-end tests: locating the built binaries and web app, starting them on
//! free loopback ports, and driving headless Chromium through chromedriver.
//!
//! Every process started here is killed when its handle is dropped, so a failing assertion never
//! leaves a server behind.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the workspace")
        .to_path_buf()
}

/// Where tests leave screenshots and logs for a human to look at.
pub fn artifacts_dir() -> PathBuf {
    let dir = target_dir().join("e2e-artifacts");
    std::fs::create_dir_all(&dir).expect("creating target/e2e-artifacts");
    dir
}

/// Cargo's target directory, derived from this test binary's location
/// (`<target>/<profile>/deps/<test>`), so `CARGO_TARGET_DIR` is honoured.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    exe.ancestors()
        .nth(3)
        .expect("test binaries live in <target>/<profile>/deps")
        .to_path_buf()
}

/// A binary of this workspace built in the same profile as the tests.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    let path = exe
        .ancestors()
        .nth(2)
        .expect("test binaries live in <target>/<profile>/deps")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first (`cargo build -p fluxstrap-server -p fluxstrap-sandbox`; the README's test command does)",
        path.display()
    );
    path
}

/// The built web app: `FLUXSTRAP_WEB_DIR`, or `dist/` at the workspace root.
pub fn web_dir() -> PathBuf {
    let dir = std::env::var_os("FLUXSTRAP_WEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("dist"));
    assert!(
        dir.join("index.html").is_file(),
        "the web app is not built in {}: run `trunk build` (the README's test command does)",
        dir.display()
    );
    dir
}

/// A free TCP port on 127.0.0.1 (bound, then released for the child to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral loopback port")
}

/// A child process that is killed when dropped.
pub struct Process {
    name: String,
    child: Child,
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for child") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop within 10 s of SIGTERM",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `../shared/flux` next to the workspace: Flux releases and real outputs, read by tests.
pub fn shared_flux() -> PathBuf {
    let dir = workspace_root().join("../shared/flux");
    assert!(
        dir.is_dir(),
        "{} is missing: the tests read Flux data from ../shared",
        dir.display()
    );
    dir
}

/// The sha256 flux's own output has for a case of `goldens/v2.9.4/cases.tsv`.
pub fn golden_sha256(case: &str) -> String {
    let cases = std::fs::read_to_string(shared_flux().join("goldens/v2.9.4/cases.tsv"))
        .expect("reading cases.tsv");
    cases
        .lines()
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .find(|columns| columns[0] == case)
        .map(|columns| columns[2].to_string())
        .unwrap_or_else(|| panic!("no case {case} in cases.tsv"))
}

/// Starts `fluxstrap serve` on a free port, serving the v2.9.4 release for in-browser
/// generation, and returns it with its base URL (read from the line it prints once it listens).
pub fn start_fluxstrap_serve(web_dir: &Path) -> (Process, String) {
    start_fluxstrap_serve_with(web_dir, &[])
}

/// [`start_fluxstrap_serve`] with more arguments (e.g. `--bitbucket-url`).
pub fn start_fluxstrap_serve_with(web_dir: &Path, extra: &[&str]) -> (Process, String) {
    let mut child = Command::new(workspace_binary("fluxstrap"))
        .args(["serve", "--listen", "127.0.0.1:0", "--web-dir"])
        .arg(web_dir)
        .arg("--manifests")
        .arg(shared_flux().join("releases/v2.9.4/manifests"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting fluxstrap serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("fluxstrap serve exited before it listened")
            .expect("reading fluxstrap's stdout");
        if let Some(url) = line.strip_prefix("fluxstrap listening on ") {
            break url.trim().to_string();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (
        Process {
            name: "fluxstrap serve".into(),
            child,
        },
        url,
    )
}

/// `fluxstrap-sandbox up` with a fresh state directory, and the settings it printed.
pub fn start_sandbox() -> (Process, std::collections::HashMap<String, String>) {
    let state = std::env::temp_dir().join(format!("fluxstrap-e2e-sandbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let mut child = Command::new(workspace_binary("fluxstrap-sandbox"))
        .args(["up", "--state"])
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting fluxstrap-sandbox up");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut settings = std::collections::HashMap::new();
    loop {
        let line = lines
            .next()
            .expect("fluxstrap-sandbox exited before READY")
            .expect("reading the sandbox's stdout");
        if line == "READY" {
            break;
        }
        if let Some((key, value)) = line.split_once('=') {
            settings.insert(key.to_string(), value.to_string());
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (
        Process {
            name: "fluxstrap-sandbox".into(),
            child,
        },
        settings,
    )
}

/// chromedriver on a free port, ready to accept sessions.
pub fn start_chromedriver() -> (Process, u16) {
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("starting {binary}: {e} (install Debian's chromium-driver; the README's test command does)")
        });
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        Process {
            name: "chromedriver".into(),
            child,
        },
        port,
    )
}

/// A headless Chromium session. The flags keep it off the network (this machine has none) and
/// away from any profile of the user.
pub async fn headless_chromium(driver_port: u16) -> fantoccini::Client {
    // Several rustls providers are compiled into the workspace; choose one explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let profile = std::env::temp_dir().join(format!(
        "fluxstrap-chromium-{}-{}",
        std::process::id(),
        driver_port
    ));
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": binary,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal")
    };
    fantoccini::ClientBuilder::rustls()
        .expect("rustls client")
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("opening a Chromium session through chromedriver")
}
