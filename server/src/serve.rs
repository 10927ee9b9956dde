//! `fluxstrap serve`: the built web app as static files and the JSON API under `/api`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::error::{Error, Result};

pub struct Config {
    pub listen: SocketAddr,
    pub web_dir: PathBuf,
    /// The Flux release the page generates from, if one is available.
    pub release: Option<Release>,
    /// The Bitbucket Server the page may reach through `/api/bitbucket`.
    pub bitbucket: Option<crate::relay::BitbucketRelay>,
}

/// A Flux release's manifest files, served to the page so it can generate in the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: String,
    pub files: Vec<(String, Vec<u8>)>,
}

#[derive(Serialize, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct ReleaseIndex {
    pub version: String,
    pub files: Vec<String>,
}

/// Release manifests are public data; any origin may read them (the wasm tests do).
fn public(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

async fn release_index(State(release): State<Arc<Option<Release>>>) -> Response {
    let index = release
        .as_ref()
        .as_ref()
        .ok_or(Error::NoRelease)
        .map(|release| {
            Json(ReleaseIndex {
                version: release.version.clone(),
                files: release.files.iter().map(|(name, _)| name.clone()).collect(),
            })
        });
    public(index.into_response())
}

async fn release_file(
    State(release): State<Arc<Option<Release>>>,
    Path(name): Path<String>,
) -> Response {
    let file = release
        .as_ref()
        .as_ref()
        .ok_or(Error::NoRelease)
        .and_then(|release| {
            // Only the release's own files, by exact name: nothing else on disk is reachable.
            release
                .files
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, content)| {
                    (
                        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
                        content.clone(),
                    )
                })
                .ok_or_else(|| Error::NotAReleaseFile {
                    name: name.clone(),
                    version: release.version.clone(),
                })
        });
    public(file.into_response())
}

#[derive(Serialize, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// The whole HTTP surface, without a socket, so tests can call it directly.
pub fn app(web_dir: PathBuf, release: Option<Release>) -> Router {
    app_with(web_dir, release, None)
}

/// [`app`], with the Bitbucket relay.
pub fn app_with(
    web_dir: PathBuf,
    release: Option<Release>,
    bitbucket: Option<crate::relay::BitbucketRelay>,
) -> Router {
    // Unknown paths fall back to index.html so client-side routes survive a reload.
    let index = web_dir.join("index.html");
    let static_files = ServeDir::new(&web_dir).fallback(ServeFile::new(index));
    let relay = Router::new()
        .route(
            "/api/bitbucket/{*path}",
            axum::routing::any(crate::relay::relay),
        )
        .with_state(Arc::new(bitbucket));
    Router::new()
        .merge(relay)
        .route("/api/health", get(health))
        .route("/api/flux/release", get(release_index))
        .route("/api/flux/release/{file}", get(release_file))
        .with_state(Arc::new(release))
        .fallback_service(static_files)
        .layer(TraceLayer::new_for_http())
}

pub async fn run(config: Config) -> Result<()> {
    if !config.web_dir.join("index.html").is_file() {
        return Err(Error::WebDirMissing(config.web_dir));
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Listen {
            addr: config.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(Error::Serve)?;
    tracing::info!(url = %format!("http://{local}/"), "fluxstrap is serving");
    // Scripts and tests read this line to learn the port when --listen used port 0.
    println!("fluxstrap listening on http://{local}/");
    match &config.release {
        Some(release) => {
            tracing::info!(version = %release.version, "serving Flux release manifests")
        }
        None => tracing::warn!(
            "no Flux release manifests: the page cannot preview gotk-components.yaml (pass --manifests)"
        ),
    }
    axum::serve(
        listener,
        app_with(config.web_dir, config.release, config.bitbucket),
    )
    .with_graceful_shutdown(fluxstrap_runtime::shutdown_signal())
    .await
    .map_err(Error::Serve)?;
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

    #[tokio::test]
    async fn health_reports_the_version() {
        let response = app(PathBuf::from("/nonexistent"), None)
            .oneshot(Request::get("/api/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let health: Health = serde_json::from_slice(&body).unwrap();
        assert_eq!(health.status, "ok");
        assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    }

    #[tokio::test]
    async fn release_files_are_served_by_exact_name_only() {
        let release = Release {
            version: "v2.9.4".into(),
            files: vec![("rbac.yaml".into(), b"kind: ClusterRole\n".to_vec())],
        };
        let app = app(PathBuf::from("/nonexistent"), Some(release));
        let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(get("/api/flux/release")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let index: ReleaseIndex = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            index,
            ReleaseIndex {
                version: "v2.9.4".into(),
                files: vec!["rbac.yaml".into()]
            }
        );

        let response = app
            .clone()
            .oneshot(get("/api/flux/release/rbac.yaml"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"kind: ClusterRole\n");

        for uri in [
            "/api/flux/release/..%2F..%2Fetc%2Fpasswd",
            "/api/flux/release/policies.yaml",
        ] {
            let response = app.clone().oneshot(get(uri)).await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        }
    }

    #[tokio::test]
    async fn without_a_release_the_api_says_how_to_configure_one() {
        let response = app(PathBuf::from("/nonexistent"), None)
            .oneshot(
                Request::get("/api/flux/release")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let error: crate::error::ApiError = serde_json::from_slice(&body).unwrap();
        assert!(error.error.contains("--manifests"), "{}", error.error);
    }

    #[tokio::test]
    async fn the_bitbucket_relay_is_no_open_proxy() {
        let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
        let unconfigured = app(PathBuf::from("/nonexistent"), None);
        let response = unconfigured
            .oneshot(get("/api/bitbucket/rest/api/1.0/projects"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        // Configured for one (unreachable) host: only REST paths, only to that host.
        let relay = crate::relay::BitbucketRelay::new("https://bitbucket.invalid", None).unwrap();
        let configured = app_with(PathBuf::from("/nonexistent"), None, Some(relay));
        for uri in [
            "/api/bitbucket/scm/plat/fleet.git/info/refs",
            "/api/bitbucket/rest/../admin",
            "/api/bitbucket/http://evil.example/rest/x",
        ] {
            let response = configured.clone().oneshot(get(uri)).await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{uri}");
        }
    }

    #[tokio::test]
    async fn unknown_paths_fall_back_to_the_app() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<html>app</html>").unwrap();
        let response = app(dir.path().to_path_buf(), None)
            .oneshot(Request::get("/some/route").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"<html>app</html>");
    }
}
