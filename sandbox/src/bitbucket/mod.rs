//! A Bitbucket Server emulator for tests and demos: the REST API (reference §5, shapes of the
//! recorded real answers), backed by real bare git repositories; git over HTTP(S) through
//! `git http-backend` and over SSH (russh, access keys and users' keys); HTTPS with the
//! sandbox's own CA; a request log and fault injection.

mod git;
mod git_http;
mod keys;
mod names;
mod rest;
mod ssh;
pub mod state;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State as AxumState};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, oneshot};

pub use state::{Level, Seed, SeedGroup, SeedProject, SeedUser};

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// e.g. `/bitbucket`, or empty.
    pub context_path: String,
    /// Where the bare repositories live.
    pub git_root: PathBuf,
    pub seed: Seed,
    /// The SSH port advertised in clone links and `/rest/ssh/1.0/settings` when SSH is off.
    pub ssh_port: u16,
    pub transport: Transport,
    pub ssh: Ssh,
}

impl Config {
    /// HTTPS and SSH on free loopback ports with the default seed, everything kept below
    /// `root` (repositories, certificates, host key): what tests and `up` start.
    pub fn loopback(root: &std::path::Path) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            context_path: String::new(),
            git_root: root.join("repos"),
            seed: Seed::default(),
            ssh_port: 7999,
            transport: Transport::Https {
                certificates: root.join("tls"),
            },
            ssh: Ssh::Enabled {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                host_key_dir: root.join("ssh"),
            },
        }
    }
}

/// Git over SSH: off, or listening with a host key kept in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ssh {
    Disabled,
    Enabled {
        listen: SocketAddr,
        host_key_dir: PathBuf,
    },
}

/// Plain HTTP, or HTTPS with the sandbox's own CA (whose certificates live in this directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Http,
    Https { certificates: PathBuf },
}

/// One request as the emulator saw it (never with its credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
}

/// A fault to inject into the `nth` (1-based) request whose method and path match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub method: Option<String>,
    pub path_contains: String,
    pub nth: usize,
    pub action: FaultAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer 500 with Bitbucket's error envelope.
    ServerError,
    /// Wait this long before handling the request.
    Delay(std::time::Duration),
    /// Start the answer, then break the connection.
    DropConnection,
    /// Answer with this HTTP status and Bitbucket's error envelope.
    Status(u16),
}

impl Fault {
    /// Reads `METHOD:PATH_SUBSTRING:NTH:STATUS` (`fluxstrap-sandbox up --bitbucket-fault`): the
    /// NTH request (1-based) whose method is METHOD (`*` for any) and whose path contains
    /// PATH_SUBSTRING is answered with STATUS.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        let [method, path, nth, status] = parts.as_slice() else {
            return Err(format!(
                "\"{spec}\" is not METHOD:PATH_SUBSTRING:NTH:STATUS (e.g. POST:/repos:1:500)"
            ));
        };
        let nth: usize = nth
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("NTH in \"{spec}\" must be a number from 1"))?;
        let status: u16 = status
            .parse()
            .ok()
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| format!("STATUS in \"{spec}\" must be an HTTP status"))?;
        Ok(Self {
            method: (*method != "*").then(|| method.to_ascii_uppercase()),
            path_contains: path.to_string(),
            nth,
            action: FaultAction::Status(status),
        })
    }
}

/// Bitbucket's XSRF check: a bodiless or form POST to the REST API needs
/// `X-Atlassian-Token: no-check` (reference §2.4).
fn fails_xsrf_check(request: &Request) -> bool {
    if request.method() != axum::http::Method::POST || !request.uri().path().contains("/rest/") {
        return false;
    }
    let headers = request.headers();
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let bodiless = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|l| l == "0");
    let simple = content_type.starts_with("application/x-www-form-urlencoded")
        || content_type.starts_with("multipart/form-data")
        || content_type.starts_with("text/plain");
    let token = headers
        .get("x-atlassian-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("no-check"));
    (bodiless || simple) && !token
}

struct ArmedFault {
    fault: Fault,
    seen: usize,
}

/// State shared by the handlers.
pub(crate) struct Shared {
    /// In an `Arc` so that a REST request can hold the lock from its extractor to its answer.
    pub(crate) state: Arc<Mutex<state::State>>,
    pub(crate) base_url: String,
    pub(crate) ssh_url: String,
    pub(crate) ssh_port: u16,
    log: Mutex<Vec<LoggedRequest>>,
    faults: Mutex<Vec<ArmedFault>>,
    sink: Mutex<Option<Arc<crate::request_log::RequestSink>>>,
}

/// A running emulator; stops when [`BitbucketEmulator::stop`] is called or it is dropped.
pub struct BitbucketEmulator {
    shared: Arc<Shared>,
    base_url: String,
    ca_file: Option<PathBuf>,
    ssh_url: Option<String>,
    ssh_known_hosts: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    ssh_shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn log_and_inject(
    AxumState(shared): AxumState<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or_default().to_string();
    let mut action = None;
    for armed in shared.faults.lock().await.iter_mut() {
        let fault = &armed.fault;
        let matches = fault.method.as_ref().is_none_or(|m| *m == method)
            && path.contains(&fault.path_contains);
        if matches {
            armed.seen += 1;
            if armed.seen == fault.nth {
                action = Some(fault.action);
            }
        }
    }
    let response = match action {
        _ if fails_xsrf_check(&request) => (
            StatusCode::FORBIDDEN,
            [("content-type", "text/html;charset=UTF-8")],
            "XSRF check failed",
        )
            .into_response(),
        Some(FaultAction::DropConnection) => {
            let broken = futures_util::stream::once(async {
                Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
                    "connection dropped by the sandbox",
                ))
            });
            Response::new(axum::body::Body::from_stream(broken))
        }
        Some(FaultAction::ServerError) => injected_error(StatusCode::INTERNAL_SERVER_ERROR),
        Some(FaultAction::Status(status)) => injected_error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        ),
        Some(FaultAction::Delay(duration)) => {
            tokio::time::sleep(duration).await;
            next.run(request).await
        }
        None => next.run(request).await,
    };
    let status = response.status().as_u16();
    if let Some(sink) = shared.sink.lock().await.as_ref() {
        sink.record("bitbucket", &method, &path, &query, status);
    }
    shared.log.lock().await.push(LoggedRequest {
        method,
        path,
        query,
        status,
    });
    response
}

/// An injected failure, in Bitbucket's error envelope.
fn injected_error(status: StatusCode) -> Response {
    (
        status,
        [("content-type", "application/json;charset=UTF-8")],
        format!(
            r#"{{"errors":[{{"context":null,"message":"{} (injected by the sandbox).","exceptionName":null}}]}}"#,
            status.canonical_reason().unwrap_or("An error occurred")
        ),
    )
        .into_response()
}

impl BitbucketEmulator {
    pub async fn start(config: Config) -> crate::Result<Self> {
        use crate::Error;
        let (listener, addr) = crate::bind(config.listen)?;
        // The certificate names `localhost`, so HTTPS URLs use it rather than the IP.
        let (base_url, tls) = match &config.transport {
            Transport::Http => (format!("http://{addr}{}", config.context_path), None),
            Transport::Https { certificates } => (
                format!("https://localhost:{}{}", addr.port(), config.context_path),
                Some(tls::ensure_certificates(certificates)?),
            ),
        };
        let ssh = match &config.ssh {
            Ssh::Disabled => None,
            Ssh::Enabled {
                listen,
                host_key_dir,
            } => {
                let key = ssh::host_key(host_key_dir).map_err(|e| Error::HostKey {
                    dir: host_key_dir.clone(),
                    reason: e.to_string(),
                })?;
                let listener = TcpListener::bind(listen)
                    .await
                    .map_err(|source| Error::Listen {
                        address: *listen,
                        source,
                    })?;
                Some((key, listener))
            }
        };
        let ssh_port = match &ssh {
            Some((_, listener)) => listener
                .local_addr()
                .map_err(Error::io("preparing the SSH listener"))?
                .port(),
            None => config.ssh_port,
        };
        let ssh_url = format!("ssh://git@127.0.0.1:{ssh_port}");
        let shared = Arc::new(Shared {
            state: Arc::new(Mutex::new(state::State::new(
                &config.seed,
                &config.git_root,
            ))),
            base_url: base_url.clone(),
            ssh_url: ssh_url.clone(),
            ssh_port,
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            sink: Mutex::new(None),
        });
        let app = rest::router(&config.context_path)
            .layer(middleware::from_fn_with_state(
                shared.clone(),
                log_and_inject,
            ))
            .with_state(shared.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let ca_file = tls.as_ref().map(|t| t.ca_file.clone());
        let task = match tls {
            None => {
                let listener = TcpListener::from_std(listener)
                    .map_err(Error::io("preparing the HTTP listener"))?;
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                })
            }
            Some(tls) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let config =
                    axum_server::tls_rustls::RustlsConfig::from_pem(tls.cert_pem, tls.key_pem)
                        .await
                        .map_err(|e| Error::Tls(e.to_string()))?;
                let handle = axum_server::Handle::new();
                let server = axum_server::tls_rustls::from_tcp_rustls(listener, config)
                    .map_err(|e| Error::Tls(e.to_string()))?
                    .handle(handle.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = server.serve(app.into_make_service()) => {}
                        _ = stopped => handle.graceful_shutdown(Some(std::time::Duration::from_secs(5))),
                    }
                })
            }
        };
        let mut ssh_known_hosts = None;
        let mut ssh_shutdown = None;
        if let Some((key, listener)) = ssh {
            let public = key.public_key().to_openssh().map_err(|e| Error::HostKey {
                dir: PathBuf::new(),
                reason: e.to_string(),
            })?;
            let mut fields = public.split_whitespace();
            ssh_known_hosts = Some(format!(
                "[127.0.0.1]:{ssh_port} {} {}",
                fields.next().unwrap_or_default(),
                fields.next().unwrap_or_default()
            ));
            let config = Arc::new(russh::server::Config {
                keys: vec![key],
                // Bitbucket offers public-key authentication only.
                methods: russh::MethodSet::from(&[russh::MethodKind::PublicKey][..]),
                auth_rejection_time: std::time::Duration::from_millis(50),
                auth_rejection_time_initial: Some(std::time::Duration::ZERO),
                inactivity_timeout: Some(std::time::Duration::from_secs(300)),
                ..Default::default()
            });
            let (stop, stopped) = oneshot::channel::<()>();
            ssh_shutdown = Some(stop);
            let shared = shared.clone();
            tokio::spawn(async move {
                use russh::server::Server as _;
                let mut server = ssh::SshServer { shared };
                let running = server.run_on_socket(config, &listener);
                let handle = running.handle();
                tokio::select! {
                    _ = running => {}
                    _ = stopped => handle.shutdown("the sandbox is stopping".into()),
                }
            });
        }
        Ok(Self {
            shared,
            base_url,
            ca_file,
            ssh_url: ssh_known_hosts.as_ref().map(|_| ssh_url),
            ssh_known_hosts,
            shutdown: Some(shutdown),
            ssh_shutdown,
            task: Some(task),
        })
    }

    /// `ssh://git@127.0.0.1:PORT` when SSH is on.
    pub fn ssh_url(&self) -> Option<&str> {
        self.ssh_url.as_deref()
    }

    /// The `known_hosts` line of the SSH host key (`[127.0.0.1]:PORT ssh-ed25519 …`).
    pub fn ssh_known_hosts(&self) -> Option<&str> {
        self.ssh_known_hosts.as_deref()
    }

    /// The CA file clients trust in HTTPS mode (`--ca-file`, `GIT_SSL_CAINFO`).
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.ca_file.as_deref()
    }

    /// `http://127.0.0.1:PORT[/context]`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every request so far, oldest first.
    pub async fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.log.lock().await.clone()
    }

    /// Arms a fault for a later request.
    /// Also writes every request to `sink` (`up --request-log`).
    pub async fn log_requests_to(&self, sink: Arc<crate::request_log::RequestSink>) {
        *self.shared.sink.lock().await = Some(sink);
    }

    pub async fn inject(&self, fault: Fault) {
        self.shared
            .faults
            .lock()
            .await
            .push(ArmedFault { fault, seen: 0 });
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.ssh_shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for BitbucketEmulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.ssh_shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
