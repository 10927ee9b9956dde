//! Headless Chromium driven through chromedriver (feature `browser`), for the end-to-end
//! tests of the web app.

use std::ops::Deref;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{Process, free_port};
use crate::temp::TempDir;

/// A headless Chromium session with its own chromedriver and profile directory; derefs to
/// the [`fantoccini::Client`]. The browser is kept off the network (the machine has none) and
/// away from any profile of the user.
pub struct Browser {
    client: fantoccini::Client,
    // Declared after the client: chromedriver and the profile outlive the session.
    _driver: Process,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver (`CHROMEDRIVER`, or Debian's) on a free port and opens a session
    /// of Chromium (`CHROMIUM`, or Debian's) through it.
    pub async fn start() -> Self {
        let (driver, port) = start_chromedriver();
        let profile = TempDir::new("chromium");
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": binary,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        // chromedriver speaks plain HTTP on loopback: no TLS connector.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = fantoccini::ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("opening a Chromium session through chromedriver");
        Self {
            client,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Ends the session (then chromedriver stops and the profile is removed).
    pub async fn close(self) {
        self.client
            .close()
            .await
            .expect("closing the browser session");
    }
}

impl Deref for Browser {
    type Target = fantoccini::Client;

    fn deref(&self) -> &fantoccini::Client {
        &self.client
    }
}

/// chromedriver on a free port, ready to accept sessions.
fn start_chromedriver() -> (Process, u16) {
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let process = Process::spawn(
        &format!("{binary} (install Debian's chromium-driver; `scripts/dev test` does)"),
        Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (process, port)
}
