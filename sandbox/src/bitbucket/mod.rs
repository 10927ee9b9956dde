//! A Bitbucket Server emulator for tests and demos: the REST API (reference §5, shapes of the
//! recorded real answers), backed by real bare git repositories, with a request log and fault
//! injection. Git over HTTPS/SSH and TLS come next (issue #4).

mod git;
mod git_http;
mod rest;
pub mod state;

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
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}{}", config.context_path);
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
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            shared,
            base_url,
            shutdown: Some(shutdown),
            task: Some(task),
        })
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
