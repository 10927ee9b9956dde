//! A Bitbucket Server emulator for tests and demos: the REST API (reference §5, shapes of the
//! recorded real answers), backed by real bare git repositories, with a request log and fault
//! injection. Git over HTTPS/SSH and TLS come next (issue #4).

mod git;
mod git_http;
mod rest;
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
    /// The SSH port advertised in clone links and `/rest/ssh/1.0/settings`.
    pub ssh_port: u16,
    pub transport: Transport,
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
}

struct ArmedFault {
    fault: Fault,
    seen: usize,
}

/// State shared by the handlers.
pub(crate) struct Shared {
    pub(crate) state: Mutex<state::State>,
    pub(crate) base_url: String,
    pub(crate) ssh_url: String,
    pub(crate) ssh_port: u16,
    log: Mutex<Vec<LoggedRequest>>,
    faults: Mutex<Vec<ArmedFault>>,
}

/// A running emulator; stops when [`BitbucketEmulator::stop`] is called or it is dropped.
pub struct BitbucketEmulator {
    shared: Arc<Shared>,
    base_url: String,
    ca_file: Option<PathBuf>,
    shutdown: Option<oneshot::Sender<()>>,
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
        Some(FaultAction::ServerError) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("content-type", "application/json;charset=UTF-8")],
            r#"{"errors":[{"context":null,"message":"An internal error occurred (injected by the sandbox).","exceptionName":null}]}"#,
        )
            .into_response(),
        Some(FaultAction::Delay(duration)) => {
            tokio::time::sleep(duration).await;
            next.run(request).await
        }
        None => next.run(request).await,
    };
    shared.log.lock().await.push(LoggedRequest {
        method,
        path,
        query,
        status: response.status().as_u16(),
    });
    response
}

impl BitbucketEmulator {
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        // The certificate names `localhost`, so HTTPS URLs use it rather than the IP.
        let (base_url, tls) = match &config.transport {
            Transport::Http => (format!("http://{addr}{}", config.context_path), None),
            Transport::Https { certificates } => (
                format!("https://localhost:{}{}", addr.port(), config.context_path),
                Some(tls::ensure_certificates(certificates)?),
            ),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(state::State::new(&config.seed, &config.git_root)),
            base_url: base_url.clone(),
            ssh_url: format!("ssh://git@{}:{}", addr.ip(), config.ssh_port),
            ssh_port: config.ssh_port,
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
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
                let listener = TcpListener::from_std(listener)?;
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
                        .await?;
                let handle = axum_server::Handle::new();
                let server = axum_server::tls_rustls::from_tcp_rustls(listener, config)?
                    .handle(handle.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = server.serve(app.into_make_service()) => {}
                        _ = stopped => handle.graceful_shutdown(Some(std::time::Duration::from_secs(5))),
                    }
                })
            }
        };
        Ok(Self {
            shared,
            base_url,
            ca_file,
            shutdown: Some(shutdown),
            task: Some(task),
        })
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
    pub async fn inject(&self, fault: Fault) {
        self.shared
            .faults
            .lock()
            .await
            .push(ArmedFault { fault, seen: 0 });
    }

    pub async fn stop(mut self) {
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
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
