//! fluxstrap's own binaries as child processes, as a user or a script runs them: started on
//! free loopback ports, killed when dropped so a failing assertion never leaves one behind.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Lines};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::commands::{Curl, Kubectl};
use crate::paths;
use crate::temp::TempDir;

/// A free TCP port on 127.0.0.1 (bound, then released for a child to take).
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
    /// Spawns `command`; `name` says what it is in messages.
    pub fn spawn(name: &str, command: &mut Command) -> Self {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Self {
            name: name.to_string(),
            child,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (10 s at most) for the exit status.
    pub fn terminate(mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the child") {
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

    fn stdout_lines(&mut self) -> Lines<BufReader<ChildStdout>> {
        let stdout = self
            .child
            .stdout
            .take()
            .expect("the child's stdout is piped");
        BufReader::new(stdout).lines()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Keeps reading a child's stdout so it never blocks on a full pipe.
fn drain(lines: Lines<BufReader<ChildStdout>>) {
    std::thread::spawn(move || for _ in lines {});
}

/// Numbers the data directories of the servers a test process starts.
static SERVE_COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `fluxstrap serve` on a free port with the built web app in `web_dir`, offering the
/// [`paths::FLUX_VERSION`] release files for in-browser generation, plus `extra` arguments
/// (e.g. `--bitbucket-url`); returns it with its base URL (from the line it prints once it
/// listens).
pub fn start_fluxstrap_serve(web_dir: &Path, extra: &[&str]) -> (Process, String) {
    serve_with_stderr(web_dir, extra, Stdio::inherit())
}

/// [`start_fluxstrap_serve`] with its log (stderr) appended to `log`, for tests that read it.
pub fn start_fluxstrap_serve_logged(
    web_dir: &Path,
    extra: &[&str],
    log: &Path,
) -> (Process, String) {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("opening {}: {e}", log.display()));
    serve_with_stderr(web_dir, extra, Stdio::from(file))
}

fn serve_with_stderr(web_dir: &Path, extra: &[&str], stderr: Stdio) -> (Process, String) {
    let mut process = Process::spawn(
        "fluxstrap serve",
        Command::new(paths::workspace_binary("fluxstrap"))
            .args(["serve", "--listen", "127.0.0.1:0", "--web-dir"])
            .arg(web_dir)
            .arg("--manifests")
            .arg(paths::release_manifests(paths::FLUX_VERSION))
            // Each server its own job history, unless the test names one.
            .args(if extra.contains(&"--data-dir") {
                Vec::new()
            } else {
                vec![
                    "--data-dir".into(),
                    std::env::temp_dir().join(format!(
                        "fluxstrap-serve-data-{}-{}",
                        std::process::id(),
                        SERVE_COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    )),
                ]
            })
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr),
    );
    let mut lines = process.stdout_lines();
    let url = loop {
        let line = lines
            .next()
            .expect("fluxstrap serve exited before it listened")
            .expect("reading fluxstrap's stdout");
        if let Some(url) = line.strip_prefix("fluxstrap listening on ") {
            break url.trim().to_string();
        }
    };
    drain(lines);
    (process, url)
}

/// The `KEY=VALUE` settings `fluxstrap-sandbox up` prints before `READY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings(BTreeMap<String, String>);

impl Settings {
    /// The setting `key`, if it was printed.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

impl std::ops::Index<&str> for Settings {
    type Output = str;

    fn index(&self, key: &str) -> &str {
        self.get(key)
            .unwrap_or_else(|| panic!("{key} missing from the sandbox's settings {:?}", self.0))
    }
}

/// `fluxstrap-sandbox up` running, with the settings it printed. Its stderr (the log) goes
/// to `up.log` in the state directory, which a panic before `READY` shows.
pub struct SandboxUp {
    /// What it printed before `READY`.
    pub settings: Settings,
    process: Process,
    state: PathBuf,
    // Declared last: removed after the process is killed.
    _fresh_state: Option<TempDir>,
}

impl SandboxUp {
    /// `<binary> up --state <state> <extra…>`, returned once it printed `READY`.
    pub fn start(binary: &Path, state: &Path, extra: &[&str]) -> Self {
        Self::start_in(binary, state.to_path_buf(), extra, None)
    }

    /// [`SandboxUp::start`] with a fresh state directory, removed when this is dropped.
    pub fn start_fresh(binary: &Path, extra: &[&str]) -> Self {
        let state = TempDir::new("sandbox-up");
        Self::start_in(binary, state.path().to_path_buf(), extra, Some(state))
    }

    fn start_in(binary: &Path, state: PathBuf, extra: &[&str], fresh: Option<TempDir>) -> Self {
        std::fs::create_dir_all(&state)
            .unwrap_or_else(|e| panic!("creating {}: {e}", state.display()));
        let log_path = state.join("up.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|e| panic!("opening {}: {e}", log_path.display()));
        let mut process = Process::spawn(
            "fluxstrap-sandbox up",
            Command::new(binary)
                .arg("up")
                .args(extra)
                .arg("--state")
                .arg(&state)
                .stdout(Stdio::piped())
                .stderr(log),
        );
        let mut lines = process.stdout_lines();
        let mut settings = BTreeMap::new();
        loop {
            let line = lines
                .next()
                .unwrap_or_else(|| {
                    panic!(
                        "fluxstrap-sandbox exited before READY; its log:\n{}",
                        std::fs::read_to_string(&log_path).unwrap_or_default()
                    )
                })
                .expect("reading the sandbox's stdout");
            if line == "READY" {
                break;
            }
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("not a KEY=VALUE line before READY: {line:?}"));
            settings.insert(key.to_string(), value.to_string());
        }
        drain(lines);
        Self {
            settings: Settings(settings),
            process,
            state,
            _fresh_state: fresh,
        }
    }

    /// The state directory.
    pub fn state(&self) -> &Path {
        &self.state
    }

    /// A request to `<BITBUCKET_URL><path>` with `BITBUCKET_TOKEN`, trusting
    /// `BITBUCKET_CA_FILE`.
    pub fn bitbucket_curl(&self, method: &str, path: &str) -> Curl {
        Curl::new(method, format!("{}{path}", &self.settings["BITBUCKET_URL"]))
            .bearer(&self.settings["BITBUCKET_TOKEN"])
            .cacert(Path::new(&self.settings["BITBUCKET_CA_FILE"]))
    }

    /// kubectl with the printed `KUBECONFIG` and a HOME in the state directory.
    pub fn kubectl(&self) -> Kubectl {
        Kubectl::new(
            Path::new(&self.settings["KUBECONFIG"]),
            &self.state.join("home"),
        )
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(self) -> ExitStatus {
        self.process.terminate()
    }
}
