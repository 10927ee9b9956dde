//! `fluxstrap serve`: the built web app as static files and the JSON API under `/api`
//! ([`crate::api`]), with the relays ([`crate::relay`]), the jobs ([`crate::jobs`]) and the
//! security headers ([`crate::security`]).

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::api::{self, AppState};
use crate::config::ServeConfig;
use crate::error::{Error, Result};
use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::releases::{ReleaseLibrary, ReleaseSource};
use crate::security::{self, Policy};

/// The git relay carries upload-pack negotiations, larger than JSON bodies.
const GIT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Builds what the handlers share: the job store (from the data directory), the releases,
/// the relays. Jobs a previous process left unfinished are marked interrupted.
pub fn state(config: ServeConfig, manifests: Option<PathBuf>) -> Result<Arc<AppState>> {
    let config = Arc::new(config);
    let source = ReleaseSource::new(
        config
            .releases_url
            .as_deref()
            .unwrap_or(crate::releases::DEFAULT_RELEASES_URL),
        config.cache_dir.clone(),
    )?;
    let local = manifests.map(|path| (config.versions[0].clone(), path));
    let releases = Arc::new(ReleaseLibrary::new(source, config.versions.clone(), local));
    let store = Arc::new(fluxstrap_jobs::SqliteStore::open(
        &config.data_dir.join("jobs.sqlite"),
    )?);
    let metrics = Arc::new(Metrics::default());
    let jobs = Arc::new(Jobs::new(
        config.clone(),
        store,
        releases.clone(),
        metrics.clone(),
    ));
    let interrupted = jobs.interrupt_leftovers()?;
    if !interrupted.is_empty() {
        tracing::warn!(jobs = ?interrupted, "jobs of a previous run were interrupted; re-run them");
    }
    Ok(Arc::new(AppState {
        relays: crate::relay::Relays::of(&config)?,
        config,
        releases,
        jobs,
        metrics,
    }))
}

/// The whole HTTP surface, without a socket, so tests can call it directly.
pub fn app(state: Arc<AppState>) -> Router {
    let web_dir = state.config.web_dir.clone();
    let body_limit = state.config.limits.max_body_bytes;
    // Unknown paths fall back to index.html so client-side routes survive a reload.
    let index = web_dir.join("index.html");
    // The page's files go out compressed when the build left a `.gz` beside them (scripts/dev
    // does): the wasm is most of what a first visit downloads, and compressing it once at build
    // time costs no request any CPU.
    let static_files = ServeDir::new(&web_dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(index).precompressed_gzip());
    let policy = Arc::new(Policy::for_web_dir(&web_dir));
    let git = Router::new()
        .route("/api/git/{server}/{*path}", any(crate::relay::git_relay))
        .layer(DefaultBodyLimit::max(GIT_BODY_LIMIT));
    let rest = Router::new()
        .route("/api/health", get(api::health))
        .route("/api/config", get(api::config))
        .route("/api/flux/{version}", get(api::release_index))
        .route(
            "/api/flux/{version}/distribution.json",
            get(api::release_distribution),
        )
        .route("/api/flux/{version}/{file}", get(api::release_file))
        .route("/api/bitbucket/{server}/{*path}", any(crate::relay::relay))
        .route(
            "/api/bootstraps",
            get(api::list_bootstraps).post(api::create_bootstrap),
        )
        .route("/api/bootstraps/{id}", get(api::get_bootstrap))
        .route("/api/bootstraps/{id}/events", get(api::bootstrap_events))
        .route("/api/bootstraps/{id}/rerun", post(api::rerun_bootstrap))
        .route("/metrics", get(api::metrics))
        .layer(DefaultBodyLimit::max(body_limit));
    Router::new()
        .merge(git)
        .merge(rest)
        .with_state(state)
        .fallback_service(static_files)
        .layer(axum::middleware::from_fn(security::same_origin_only))
        .layer(axum::middleware::from_fn_with_state(
            policy,
            security::headers,
        ))
        .layer(TraceLayer::new_for_http())
}

pub async fn run(config: ServeConfig, manifests: Option<PathBuf>) -> Result<()> {
    if !config.web_dir.join("index.html").is_file() {
        // The API works without the page (scripts, the CLI's users); say how to get it.
        tracing::warn!("{}", Error::WebDirMissing(config.web_dir.clone()));
    }
    let listen = config.listen;
    let state = state(config, manifests)?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| Error::Listen {
            addr: listen,
            source,
        })?;
    let local = listener.local_addr().map_err(Error::Serve)?;
    tracing::info!(
        url = %format!("http://{local}/"),
        servers = state.config.servers.len(),
        clusters = state.config.clusters.len(),
        data = %state.config.data_dir.display(),
        "fluxstrap is serving"
    );
    // Scripts and tests read this line to learn the port when --listen used port 0.
    println!("fluxstrap listening on http://{local}/");
    let jobs = state.jobs.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(fluxstrap_runtime::shutdown_signal())
        .await
        .map_err(Error::Serve)?;
    // Jobs still running stop with the process, each recorded as interrupted.
    jobs.stop().await;
    tracing::info!("fluxstrap stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use crate::api::{Health, ReleaseIndex};
    use crate::config::{Overrides, load};

    /// The app over a throw-away data directory, the v2.9.4 release from ../shared, and one
    /// (unreachable) Bitbucket server named `bitbucket`.
    fn app_in(web_dir: &std::path::Path, data: &tempfile::TempDir) -> Router {
        let config = load(
            None,
            Overrides {
                web_dir: Some(web_dir.to_path_buf()),
                data_dir: Some(data.path().to_path_buf()),
                cache_dir: Some(data.path().join("cache")),
                version: Some("v2.9.4".into()),
                bitbucket_url: Some("https://bitbucket.invalid".into()),
                ..Overrides::default()
            },
        )
        .unwrap();
        let manifests = fluxstrap_testkit::paths::release_manifests("v2.9.4");
        app(state(config, Some(manifests)).unwrap())
    }

    async fn body_of(response: Response) -> Vec<u8> {
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    use axum::response::Response;

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn health_reports_the_version_with_the_security_headers() {
        let data = tempfile::tempdir().unwrap();
        let response = app_in(std::path::Path::new("/nonexistent"), &data)
            .oneshot(get("/api/health"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        let health: Health = serde_json::from_slice(&body_of(response).await).unwrap();
        assert_eq!(health.status, "ok");
        assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    }

    #[tokio::test]
    async fn release_files_are_served_by_exact_name_for_offered_versions_only() {
        let data = tempfile::tempdir().unwrap();
        let app = app_in(std::path::Path::new("/nonexistent"), &data);
        let response = app.clone().oneshot(get("/api/flux/v2.9.4")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let index: ReleaseIndex = serde_json::from_slice(&body_of(response).await).unwrap();
        assert_eq!(index.version, "v2.9.4");
        assert!(
            index.files.contains(&"gotk-components.yaml".to_string())
                || index.files.contains(&"source-controller.yaml".to_string()),
            "{:?}",
            index.files
        );

        let first = index.files[0].clone();
        let response = app
            .clone()
            .oneshot(get(&format!("/api/flux/v2.9.4/{first}")))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let expected =
            std::fs::read(fluxstrap_testkit::paths::release_manifests("v2.9.4").join(&first))
                .unwrap();
        assert_eq!(body_of(response).await, expected);

        for uri in [
            "/api/flux/v2.9.4/..%2F..%2Fetc%2Fpasswd",
            "/api/flux/v2.9.4/not-a-release-file.yaml",
        ] {
            let response = app.clone().oneshot(get(uri)).await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        }
        for uri in ["/api/flux/v2.8.0", "/api/flux/latest"] {
            let response = app.clone().oneshot(get(uri)).await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{uri}");
            let error: crate::error::ApiError =
                serde_json::from_slice(&body_of(response).await).unwrap();
            assert!(error.error.contains("not offered"), "{}", error.error);
        }
    }

    #[tokio::test]
    async fn the_relays_are_no_open_proxy() {
        let data = tempfile::tempdir().unwrap();
        let app = app_in(std::path::Path::new("/nonexistent"), &data);
        let response = app
            .clone()
            .oneshot(get("/api/bitbucket/elsewhere/rest/api/1.0/projects"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        for uri in [
            "/api/bitbucket/bitbucket/scm/plat/fleet.git/info/refs",
            "/api/bitbucket/bitbucket/rest/../admin",
            "/api/bitbucket/bitbucket/http://evil.example/rest/x",
            "/api/git/bitbucket/scm/plat/fleet.git/info/refs?service=git-receive-pack",
            "/api/git/bitbucket/rest/api/1.0/projects",
        ] {
            let response = app.clone().oneshot(get(uri)).await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{uri}");
        }
    }

    fn post(uri: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Request<Body> {
        let mut request = Request::post(uri)
            .header("host", "127.0.0.1:8080")
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Body::from(body)).unwrap()
    }

    #[tokio::test]
    async fn job_requests_are_refused_before_anything_is_done() {
        let data = tempfile::tempdir().unwrap();
        let app = app_in(std::path::Path::new("/nonexistent"), &data);
        let token = ("authorization", "Bearer t");
        let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
            (
                post(
                    "/api/bootstraps",
                    &[],
                    br#"{"server":"bitbucket","cluster":"c"}"#.to_vec(),
                ),
                StatusCode::UNAUTHORIZED,
                "Authorization: Bearer",
            ),
            (
                post("/api/bootstraps", &[token], br#"{"server":"#.to_vec()),
                StatusCode::BAD_REQUEST,
                "not a bootstrap request",
            ),
            (
                post(
                    "/api/bootstraps",
                    &[token],
                    br#"{"server":"bitbucket","cluster":"c","extra":1}"#.to_vec(),
                ),
                StatusCode::BAD_REQUEST,
                "unknown field",
            ),
            (
                post(
                    "/api/bootstraps",
                    &[token, ("origin", "http://evil.example")],
                    b"{}".to_vec(),
                ),
                StatusCode::FORBIDDEN,
                "cross-origin",
            ),
            (
                post("/api/bootstraps", &[token], vec![b' '; 200 * 1024]),
                StatusCode::PAYLOAD_TOO_LARGE,
                "",
            ),
            (
                post(
                    "/api/bootstraps",
                    &[token],
                    br#"{"server":"nowhere","cluster":"c"}"#.to_vec(),
                ),
                StatusCode::BAD_REQUEST,
                "no Bitbucket server is named",
            ),
            (
                post(
                    "/api/bootstraps",
                    &[token],
                    br#"{"server":"bitbucket","cluster":"c"}"#.to_vec(),
                ),
                StatusCode::BAD_REQUEST,
                "no cluster is named",
            ),
        ];
        for (request, status, words) in cases {
            let uri = request.uri().clone();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), status, "{uri}");
            let body = String::from_utf8_lossy(&body_of(response).await).into_owned();
            assert!(body.contains(words), "{uri}: {body}");
        }
        let response = app.clone().oneshot(get("/api/bootstraps")).await.unwrap();
        let page: serde_json::Value = serde_json::from_slice(&body_of(response).await).unwrap();
        assert_eq!(page["size"], 0, "nothing was recorded");
    }

    #[tokio::test]
    async fn the_page_goes_out_compressed_when_the_build_compressed_it() {
        let dir = tempfile::tempdir().unwrap();
        let page = format!("<html>{}</html>", "fluxstrap ".repeat(200));
        std::fs::write(dir.path().join("app.js"), &page).unwrap();
        let status = std::process::Command::new("gzip")
            .args(["-9", "-k"])
            .arg(dir.path().join("app.js"))
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::write(dir.path().join("index.html"), "<html>app</html>").unwrap();
        let data = tempfile::tempdir().unwrap();
        let app = app_in(dir.path(), &data);
        let get_with = |uri: &str, encoding: &str| {
            Request::get(uri)
                .header("accept-encoding", encoding)
                .body(Body::empty())
                .unwrap()
        };
        let response = app
            .clone()
            .oneshot(get_with("/app.js", "gzip, br"))
            .await
            .unwrap();
        assert_eq!(response.headers()["content-encoding"], "gzip");
        assert!(body_of(response).await.len() < page.len() / 4);
        let response = app
            .clone()
            .oneshot(get_with("/app.js", "identity"))
            .await
            .unwrap();
        assert!(!response.headers().contains_key("content-encoding"));
        assert_eq!(body_of(response).await, page.as_bytes());
    }

    #[tokio::test]
    async fn unknown_paths_fall_back_to_the_app() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<html>app</html>").unwrap();
        let data = tempfile::tempdir().unwrap();
        let response = app_in(dir.path(), &data)
            .oneshot(get("/some/route"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key("content-security-policy"));
        assert_eq!(body_of(response).await, b"<html>app</html>");
    }
}
