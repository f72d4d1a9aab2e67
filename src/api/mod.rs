//! The HTTP API: routes, shared state, and the layers every request passes (metrics, body
//! limit, panic guard). Errors from the layers below become `ApiError` here.

pub mod auth;
pub mod error;
pub mod galleries;
pub mod jobs;
mod ops;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;

use crate::jobs::gallery::Galleries;
use crate::jobs::JobsService;
use crate::storage::keys::KeyStore;
use error::ApiError;

pub struct AppState {
    pub jobs: JobsService,
    pub galleries: Galleries,
    pub keys: Arc<KeyStore>,
    pub limiter: Option<auth::Limiter>,
    pub metrics: PrometheusHandle,
    pub body_limit: usize,
    /// `host:port` of the storage that `/readyz` checks.
    pub storage_addr: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "airscope jobs API", description = "Wasabi AiR compatible jobs API of airscope"),
    paths(jobs::submit, jobs::list, jobs::get_job, jobs::get_status, jobs::get_metadata,
          jobs::cancel, galleries::enrol_face, galleries::list_faces, galleries::delete_face,
          galleries::enrol_logo, galleries::list_logos, galleries::delete_logo, ops::healthz, ops::readyz, ops::metrics, ops::openapi),
    modifiers(&SecurityAddon),
    tags((name = "jobs"), (name = "galleries"), (name = "operations"))
)]
pub struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "access_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-amz-access-key"))),
        );
        components.add_security_scheme(
            "secret_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-amz-secret-key"))),
        );
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.body_limit;
    Router::new()
        .route("/jobs", post(jobs::submit).get(jobs::list))
        .route("/jobs/{id}", get(jobs::get_job))
        .route("/jobs/{id}/status", get(jobs::get_status))
        .route("/jobs/{id}/metadata", get(jobs::get_metadata))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route(
            "/faces",
            post(galleries::enrol_face).get(galleries::list_faces),
        )
        .route("/faces/{id}", delete(galleries::delete_face))
        .route(
            "/logos",
            post(galleries::enrol_logo).get(galleries::list_logos),
        )
        .route("/logos/{id}", delete(galleries::delete_logo))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(track))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("request handler panicked");
            ApiError::internal().into_response()
        }))
        .with_state(state)
}

/// What a worker-only process serves on `worker.metrics_listen`: its own counters (attempt
/// durations, lease expiries) for Prometheus, and liveness.
pub fn worker_router() -> Router {
    let handle = crate::telemetry::metrics_handle();
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route(
            "/metrics",
            get(move || {
                let text = handle.render();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, ops::PROMETHEUS_TEXT)],
                        text,
                    )
                }
            }),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint") })
}

/// Count and time every request by route and status.
async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("airscope_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("airscope_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}
