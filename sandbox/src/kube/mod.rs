//! Kubernetes API emulator: an HTTPS server (bearer-token or client-certificate auth) that
//! writes its own kubeconfig, serving discovery (aggregated and legacy), an OpenAPI v3 stub,
//! CRUD, list/watch, kubectl's Tables, merge/JSON/strategic patches and server-side apply with
//! managed fields, with simulated controllers (CRDs Established, Deployments Available with
//! their ReplicaSets and Pods), fault injection, and a small Flux simulator (GitRepository
//! clones from the Bitbucket emulator, Kustomization applies).

mod api;
mod controllers;
mod discovery;
mod fields;
mod flux;
mod patch;
mod schema;
mod selector;
mod ssa;
mod status;
mod store;
mod table;
mod tls;
mod types;
mod watch;
mod workloads;
mod yaml;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use axum_server::tls::TlsInfo;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

pub use flux::FluxSimulation;
use status::ApiError;
use store::Store;

/// Whether `/api` and `/apis` answer the aggregated discovery type when asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    Aggregated,
    /// Only the legacy documents, as servers before 1.26 (clients must fall back).
    LegacyOnly,
}

/// Whether watches accept `sendInitialEvents=true` (client-go's WatchList).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchList {
    Supported,
    /// Answer 422, as servers without the feature do; clients fall back to list+watch.
    Rejected,
}

/// How clients authenticate; the kubeconfig written carries the matching credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// `Authorization: Bearer <token>`; anything else gets 401.
    BearerToken,
    /// A client certificate the emulator's CA signed (verified in the TLS handshake; a request
    /// without one gets 401). The key in the kubeconfig is in this encoding.
    ClientCertificate(ClientKey),
}

/// How the client key is written into the kubeconfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKey {
    /// `BEGIN PRIVATE KEY`
    Pkcs8,
    /// `BEGIN EC PRIVATE KEY`
    Sec1,
}

/// How the emulator behaves.
#[derive(Debug, Clone)]
pub struct Options {
    pub authentication: Authentication,
    pub discovery: Discovery,
    pub watch_list: WatchList,
    pub crd_established_after: Duration,
    pub deployment_available_after: Duration,
    pub flux: FluxSimulation,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            authentication: Authentication::BearerToken,
            discovery: Discovery::Aggregated,
            watch_list: WatchList::Supported,
            crd_established_after: Duration::from_millis(200),
            deployment_available_after: Duration::from_millis(500),
            flux: FluxSimulation::default(),
        }
    }
}

/// Where the emulator listens, where it writes its kubeconfig, and how it behaves.
pub struct Config {
    pub listen: std::net::SocketAddr,
    pub state_dir: PathBuf,
    pub options: Options,
}

impl Config {
    /// A free loopback port with the default [`Options`], the kubeconfig and everything else
    /// kept in `state_dir`: what tests and `up` start.
    pub fn loopback(state_dir: &std::path::Path) -> Self {
        Self {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            state_dir: state_dir.to_path_buf(),
            options: Options::default(),
        }
    }
}

/// What never becomes ready (fault knob).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NeverReady {
    Deployments,
    GitRepositories,
    Kustomizations,
}

/// A fault to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer the `nth` (1-based, counted from now) request with `method` on `resource` (a
    /// plural such as `deployments`) with a Status of this HTTP code.
    FailRequest {
        method: Method,
        resource: String,
        nth: usize,
        code: u16,
    },
    NeverReady(NeverReady),
    /// End every new watch right after its initial events.
    DropWatches,
}

#[derive(Default)]
struct Faults {
    failing: Vec<(Method, String, usize, u16)>,
    never_ready: HashSet<NeverReady>,
    drop_watches: bool,
}

/// One request as the emulator saw it (no bodies, no credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path_and_query: String,
    pub content_type: String,
    pub accept: String,
    /// The HTTP status of the answer.
    pub status: u16,
}

/// A running emulator; [`KubeEmulator::stop`] shuts it down.
pub struct KubeEmulator {
    base_url: String,
    kubeconfig_path: PathBuf,
    token: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    controllers: tokio::task::JoinHandle<()>,
}

pub(crate) struct Shared {
    token: String,
    options: Options,
    store: Mutex<Store>,
    faults: Mutex<Faults>,
    log: Mutex<Vec<LoggedRequest>>,
    sink: Mutex<Option<Arc<crate::request_log::RequestSink>>>,
    /// Wakes the controllers after a write.
    wake: Notify,
}

impl Shared {
    /// The injected error for this request, if one is due.
    fn take_fault(&self, method: &Method, resource: &str) -> Option<ApiError> {
        let mut faults = self.faults.lock().expect("faults lock");
        let index = faults.failing.iter_mut().position(|(m, r, nth, _)| {
            if m == method && r == resource {
                *nth -= 1;
                *nth == 0
            } else {
                false
            }
        })?;
        let (_, _, _, code) = faults.failing.remove(index);
        let reason = match code {
            409 => "Conflict",
            429 => "TooManyRequests",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "InternalError",
        };
        Some(ApiError::new(
            code,
            reason,
            format!("Internal error occurred: injected fault for {method} {resource}"),
        ))
    }

    fn never_ready(&self, what: NeverReady) -> bool {
        self.faults
            .lock()
            .expect("faults lock")
            .never_ready
            .contains(&what)
    }

    fn drop_watches(&self) -> bool {
        self.faults.lock().expect("faults lock").drop_watches
    }
}

/// The string at a JSON pointer, or "" (most object fields the controllers read).
fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.generation`, 1 when absent (as for a new object).
fn generation(object: &Value) -> i64 {
    object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn authorized(shared: &Shared, headers: &HeaderMap, tls: Option<&TlsInfo>) -> bool {
    // A presented client certificate was verified against the CA in the TLS handshake.
    if let Authentication::ClientCertificate(_) = shared.options.authentication {
        return tls.is_some_and(|info| !info.peer_certificates.is_empty());
    }
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == shared.token)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    tls: Option<Extension<Arc<TlsInfo>>>,
    body: Bytes,
) -> Response {
    let header_text = |name: axum::http::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut entry = LoggedRequest {
        method: method.to_string(),
        path_and_query: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        content_type: header_text(axum::http::header::CONTENT_TYPE),
        accept: header_text(axum::http::header::ACCEPT),
        status: 0,
    };
    let response = if authorized(&shared, &headers, tls.as_deref().map(Arc::as_ref)) {
        api::route(shared.clone(), method, uri, headers, body).await
    } else {
        ApiError::unauthorized().into_response()
    };
    entry.status = response.status().as_u16();
    if let Some(sink) = shared.sink.lock().expect("sink lock").as_ref() {
        let (path, query) = entry
            .path_and_query
            .split_once('?')
            .unwrap_or((entry.path_and_query.as_str(), ""));
        sink.record("kube", &entry.method, path, query, entry.status);
    }
    shared.log.lock().expect("log lock").push(entry);
    response
}

/// JSON is YAML, so the kubeconfig is written as JSON.
fn kubeconfig(base_url: &str, ca_pem: &str, user: Value) -> Value {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "fluxstrap-sandbox",
        "clusters": [{"name": "fluxstrap-sandbox",
            "cluster": {"server": base_url, "certificate-authority-data": ca}}],
        "users": [{"name": "fluxstrap-sandbox", "user": user}],
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
    pub async fn start(config: Config) -> crate::Result<Self> {
        use crate::Error;
        let tls = tls::mint()?;
        let token = random_token();
        let (listener, address) = crate::bind(config.listen)?;
        let base_url = format!("https://{address}");
        let kubeconfig_path = config.state_dir.join("kubeconfig");
        let user = {
            use base64::Engine as _;
            let encode = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
            match config.options.authentication {
                Authentication::BearerToken => json!({"token": token}),
                Authentication::ClientCertificate(key) => json!({
                    "client-certificate-data": encode(&tls.client.cert_pem),
                    "client-key-data": encode(match key {
                        ClientKey::Pkcs8 => &tls.client.key_pkcs8_pem,
                        ClientKey::Sec1 => &tls.client.key_sec1_pem,
                    }),
                }),
            }
        };
        let text = serde_json::to_vec_pretty(&kubeconfig(&base_url, &tls.ca_pem, user))
            .expect("a JSON value serialises");
        std::fs::create_dir_all(&config.state_dir)
            .and_then(|()| std::fs::write(&kubeconfig_path, text))
            .map_err(|source| Error::Write {
                path: kubeconfig_path.clone(),
                source,
            })?;
        let shared = Arc::new(Shared {
            token: token.clone(),
            options: config.options.clone(),
            store: Mutex::new(Store::with_system_namespaces()),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(Vec::new()),
            sink: Mutex::new(None),
            wake: Notify::new(),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let controllers = tokio::spawn(run_controllers(shared.clone(), config.state_dir.clone()));
        let _ = rustls::crypto::ring::default_provider().install_default();
        let verify_clients = matches!(
            config.options.authentication,
            Authentication::ClientCertificate(_)
        );
        let rustls_config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(
            tls::server_config(&tls, verify_clients).map_err(Error::Tls)?,
        ));
        let handle = axum_server::Handle::new();
        let server = axum_server::tls_rustls::from_tcp_rustls(listener, rustls_config)
            .map_err(|e| Error::Tls(e.to_string()))?
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
            shared,
            stop: Some(stop),
            task,
            controllers,
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

    /// Injects a fault; see [`Fault`].
    pub fn inject(&self, fault: Fault) {
        let mut faults = self.shared.faults.lock().expect("faults lock");
        match fault {
            Fault::FailRequest {
                method,
                resource,
                nth,
                code,
            } => faults.failing.push((method, resource, nth.max(1), code)),
            Fault::NeverReady(what) => {
                faults.never_ready.insert(what);
            }
            Fault::DropWatches => faults.drop_watches = true,
        }
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        *self.shared.faults.lock().expect("faults lock") = Faults::default();
    }

    /// Also writes every request to `sink` (`up --request-log`).
    pub fn log_requests_to(&self, sink: Arc<crate::request_log::RequestSink>) {
        *self.shared.sink.lock().expect("sink lock") = Some(sink);
    }

    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.log.lock().expect("log lock").clone()
    }

    /// The stored object (storage version), for assertions in tests.
    pub fn object(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let store = self.shared.store.lock().expect("store lock");
        let resource = store.find_kind(group, kind)?;
        store.get(&resource, namespace, name).cloned()
    }

    /// Sets an object's status as a controller would (for tests that play a controller).
    pub fn set_status(
        &self,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        status: Value,
    ) -> Result<Value, String> {
        let mut store = self.shared.store.lock().expect("store lock");
        let resource = store
            .find_kind(group, kind)
            .ok_or_else(|| format!("no kind {kind} in group {group:?}"))?;
        let result = store
            .set_status(&resource, namespace, name, status, "test")
            .map_err(|e| e.message);
        drop(store);
        self.shared.wake.notify_one();
        result
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.controllers.abort();
        let _ = (&mut self.task).await;
    }
}

/// The controllers' loop: after every write, and every 100 ms for timers.
async fn run_controllers(shared: Arc<Shared>, state_dir: PathBuf) {
    let mut timers = controllers::Timers::default();
    let mut simulator = flux::Simulator::new(shared.options.flux.clone(), state_dir.join("flux"));
    loop {
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        controllers::reconcile(&shared, &mut timers);
        simulator.reconcile(&shared).await;
    }
}
