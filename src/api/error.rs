//! The error body of every failed request: `{"Error": "...", "ErrorCode": "..."}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;

use crate::jobs::gallery::GalleryError;
use crate::jobs::JobsError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorBody {
    pub error: String,
    pub error_code: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn validation(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", m)
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "missing or invalid access key and secret key",
        )
    }
    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "this key is view-only and cannot make changes",
        )
    }
    pub fn not_found(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", m)
    }
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("request body is larger than {limit} bytes"),
        )
    }
    pub fn rate_limited(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "too many requests for this key; retry later",
            )
        }
    }
    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "internal error",
        )
    }
    pub fn unavailable() -> ApiError {
        ApiError {
            retry_after: Some(5),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "the job store is unavailable; retry later",
            )
        }
    }
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "method not allowed on this endpoint",
        )
    }
}

/// A request body as read, or the error for one that could not be read (too large, cut off).
pub fn read_body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(limit)
        } else {
            ApiError::validation(format!("request body: {}", e.body_text()))
        }
    })
}

impl From<GalleryError> for ApiError {
    fn from(e: GalleryError) -> Self {
        match e {
            GalleryError::Invalid(m) => ApiError::validation(m),
            e @ GalleryError::NotFound(_) => ApiError::not_found(e.to_string()),
            GalleryError::Unavailable(m) => ApiError {
                retry_after: Some(5),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", m)
            },
            GalleryError::Broken(kind, detail) => {
                let gallery = kind.as_str();
                tracing::error!(%detail, gallery, "gallery cannot enrol");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    format!("this server cannot enrol into {gallery} galleries; see its log"),
                )
            }
            GalleryError::Store(s) => s.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "store unavailable");
                ApiError::unavailable()
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::internal()
            }
        }
    }
}

impl From<JobsError> for ApiError {
    fn from(e: JobsError) -> Self {
        match e {
            JobsError::Validation(m) => ApiError::validation(m),
            JobsError::UnsupportedService(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "UNSUPPORTED_SERVICE", m)
            }
            JobsError::NotFound => ApiError::not_found("job not found"),
            JobsError::InvalidState(m) => ApiError::new(StatusCode::CONFLICT, "INVALID_STATE", m),
            e @ JobsError::IdempotencyMismatch => {
                ApiError::new(StatusCode::CONFLICT, "IDEMPOTENCY_MISMATCH", e.to_string())
            }
            JobsError::Store(s) => s.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.message,
            error_code: self.code.to_string(),
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(e: ApiError) -> (StatusCode, Option<String>, serde_json::Value) {
        let resp = e.into_response();
        let status = resp.status();
        let retry = resp
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, retry, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn internal_errors_carry_no_internals() {
        let e = ApiError::from(StoreError::Internal("disk I/O error at /var/lib/x".into()));
        let (status, _, b) = body(e).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            b,
            serde_json::json!({"Error": "internal error", "ErrorCode": "INTERNAL_ERROR"})
        );
    }

    #[tokio::test]
    async fn unavailable_and_conflicts_have_their_codes() {
        let (status, retry, b) =
            body(StoreError::Unavailable("pool timed out".into()).into()).await;
        assert_eq!((status.as_u16(), retry.as_deref()), (503, Some("5")));
        assert_eq!(b["ErrorCode"], "UNAVAILABLE");
        let (status, _, b) = body(JobsError::IdempotencyMismatch.into()).await;
        assert_eq!(
            (status.as_u16(), b["ErrorCode"].as_str()),
            (409, Some("IDEMPOTENCY_MISMATCH"))
        );
        let (status, retry, _) = body(ApiError::rate_limited(3)).await;
        assert_eq!((status.as_u16(), retry.as_deref()), (429, Some("3")));
    }
}
