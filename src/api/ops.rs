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

pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4";

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if let Err(e) = crate::jobs::stats::publish(&*state.jobs.store, crate::time::now_ms()).await {
        tracing::warn!(error = %e, "queue gauges not refreshed");
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
        state.metrics.render(),
    )
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200)))]
pub async fn openapi() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
