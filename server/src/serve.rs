//! `fluxstrap serve`: the built web app as static files and the JSON API under `/api`.

use std::net::SocketAddr;
use std::path::PathBuf;

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
pub fn app(web_dir: PathBuf) -> Router {
    // Unknown paths fall back to index.html so client-side routes survive a reload.
    let index = web_dir.join("index.html");
    let static_files = ServeDir::new(&web_dir).fallback(ServeFile::new(index));
    Router::new()
        .route("/api/health", get(health))
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
    axum::serve(listener, app(config.web_dir))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(Error::Serve)?;
    tracing::info!("fluxstrap stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler cannot fail on Unix");
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutdown requested");
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
        let response = app(PathBuf::from("/nonexistent"))
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
    async fn unknown_paths_fall_back_to_the_app() {
        let dir = std::env::temp_dir().join(format!("fluxstrap-serve-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<html>app</html>").unwrap();
        let response = app(dir.clone())
            .oneshot(Request::get("/some/route").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"<html>app</html>");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
