//! Kubernetes API emulator: an HTTPS server with bearer-token auth that writes its own
//! kubeconfig. This first increment serves /version and (empty) legacy discovery; resources,
//! watch, apply and the simulated controllers are still to come.

mod tls;

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Where the emulator listens and where it writes its kubeconfig.
pub struct Config {
    pub listen: std::net::SocketAddr,
    pub state_dir: PathBuf,
}

/// A running emulator; [`KubeEmulator::stop`] shuts it down.
pub struct KubeEmulator {
    base_url: String,
    kubeconfig_path: PathBuf,
    token: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    token: String,
}

/// The Status object Kubernetes returns for every error, so kubectl prints its usual text.
fn status_error(code: StatusCode, reason: &str, message: &str) -> Response {
    (
        code,
        axum::Json(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code.as_u16(),
        })),
    )
        .into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == shared.token)
}

async fn version(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    if !authorized(&shared, &headers) {
        return status_error(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    axum::Json(json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-fluxstrap-emulator",
        "gitCommit": "", "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64",
    }))
    .into_response()
}

async fn core_versions(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    if !authorized(&shared, &headers) {
        return status_error(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    axum::Json(json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}))
        .into_response()
}

async fn group_list(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    if !authorized(&shared, &headers) {
        return status_error(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    axum::Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})).into_response()
}

async fn not_found(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    if !authorized(&shared, &headers) {
        return status_error(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    status_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// JSON is YAML, so the kubeconfig is written as JSON.
fn kubeconfig(base_url: &str, ca_pem: &str, token: &str) -> Value {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "fluxstrap-sandbox",
        "clusters": [{"name": "fluxstrap-sandbox",
            "cluster": {"server": base_url, "certificate-authority-data": ca}}],
        "users": [{"name": "fluxstrap-sandbox", "user": {"token": token}}],
        "contexts": [{"name": "fluxstrap-sandbox",
            "context": {"cluster": "fluxstrap-sandbox", "user": "fluxstrap-sandbox", "namespace": "default"}}],
    })
}

fn random_token() -> String {
    // Not a secret worth protecting: the emulator only listens on loopback.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("emulator-{nanos:x}-{:x}", std::process::id())
}

impl KubeEmulator {
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let tls = tls::mint()?;
        let token = random_token();
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let base_url = format!("https://{}", listener.local_addr()?);
        std::fs::create_dir_all(&config.state_dir)?;
        let kubeconfig_path = config.state_dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig_path,
            serde_json::to_vec_pretty(&kubeconfig(&base_url, &tls.ca_pem, &token))?,
        )?;
        let shared = Shared {
            token: token.clone(),
        };
        let app = Router::new()
            .route("/version", get(version))
            .route("/api", get(core_versions))
            .route("/apis", get(group_list))
            .fallback(not_found)
            .with_state(shared);
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rustls_config = axum_server::tls_rustls::RustlsConfig::from_pem(
            tls.cert_pem.into_bytes(),
            tls.key_pem.into_bytes(),
        )
        .await?;
        let handle = axum_server::Handle::new();
        let server = axum_server::tls_rustls::from_tcp_rustls(listener, rustls_config)?
            .handle(handle.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            tokio::select! {
                _ = server.serve(app.into_make_service()) => {}
                _ = stopped => handle.graceful_shutdown(Some(std::time::Duration::from_secs(2))),
            }
        });
        Ok(Self {
            base_url,
            kubeconfig_path,
            token,
            stop: Some(stop),
            task,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
