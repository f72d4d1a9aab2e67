//! Operations endpoints: no keys needed, no user data revealed.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use utoipa::OpenApi;

use super::error::ApiError;
use super::{ApiDoc, AppState};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200)))]
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// The store and the storage are reachable.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200), (status = 503, body = super::error::ErrorBody)))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Result<impl IntoResponse, ApiError> {
    state.jobs.store.ping().await?;
    if let Some(addr) = &state.storage_addr {
        let connect = tokio::net::TcpStream::connect(addr.as_str());
        match tokio::time::timeout(Duration::from_secs(2), connect).await {
            Ok(Ok(_)) => {}
            _ => {
                return Err(ApiError {
                    message: "the storage is unreachable; retry later".into(),
                    ..ApiError::unavailable()
                })
            }
        }
    }
    Ok(Json(json!({"status": "ready"})))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if let Ok(counts) = state.jobs.store.count_by_status().await {
        for status in crate::jobs::Status::ALL {
            let n = counts
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n);
            metrics::gauge!("airscope_jobs", "status" => status.as_str()).set(n as f64);
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200)))]
pub async fn openapi() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
