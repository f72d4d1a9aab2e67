//! The jobs endpoints of the AiR contract, plus cancel.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::jobs::model::{JobRecord, Status};
use crate::store::{ListQuery, SortBy};
use crate::time::{parse_rfc3339_ms, rfc3339_ms};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SourceView {
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: Option<String>,
    pub object_key: String,
    pub provider: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationView {
    pub bucket: String,
    pub region: String,
    pub prefix: String,
}

/// A job. Lists leave out `Services`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct JobView {
    pub id: String,
    pub name: String,
    pub source: SourceView,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub services: Option<serde_json::Value>,
    pub user_id: String,
    pub created: String,
    pub completed: Option<String>,
    pub priority: i64,
    pub batch: Option<String>,
    pub status: Status,
    pub destination: DestinationView,
    pub error_count: i64,
    pub error: Option<String>,
    pub progress: i64,
    pub started: Option<String>,
}

impl JobView {
    fn of(job: JobRecord, with_services: bool) -> JobView {
        JobView {
            id: job.id,
            name: job.name,
            source: SourceView {
                endpoint: job.source.endpoint,
                bucket: job.source.bucket,
                region: job.source.region,
                object_key: job.source.object_key,
                provider: job.source.provider,
            },
            services: with_services.then_some(job.services),
            user_id: job.user_id,
            created: rfc3339_ms(job.created_ms),
            completed: job.completed_ms.map(rfc3339_ms),
            priority: job.priority,
            batch: job.batch,
            status: job.status,
            destination: DestinationView {
                bucket: job.destination.bucket,
                region: job.destination.region,
                prefix: job.destination.prefix,
            },
            error_count: job.error_count,
            error: job.error,
            progress: job.progress,
            started: job.started_ms.map(rfc3339_ms),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SubmitResponse {
    pub job: JobView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct StatusView {
    pub id: String,
    pub status: Status,
    pub error_count: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct MetadataDestination {
    pub bucket: String,
    pub region: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct MetadataView {
    pub id: String,
    pub user_id: String,
    pub destination: MetadataDestination,
    pub destination_path: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct JobPage {
    pub records: Vec<JobView>,
    pub page_number: i64,
    pub page_size: i64,
    pub total_records: i64,
    pub total_pages: i64,
}

/// Submit a job.
#[utoipa::path(post, path = "/jobs", tag = "jobs",
    request_body = crate::jobs::request::JobRequestBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body from the same user returns the first job")),
    responses(
        (status = 200, body = SubmitResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn submit(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SubmitResponse>, ApiError> {
    let body = super::error::read_body(body, state.body_limit)?;
    let idem = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::validation("Idempotency-Key must be visible ASCII"))
        })
        .transpose()?;
    let out = state.jobs.submit(&who, &body, idem).await?;
    Ok(Json(SubmitResponse {
        job: JobView::of(out.job, true),
    }))
}

/// Job details.
#[utoipa::path(get, path = "/jobs/{Id}", tag = "jobs",
    params(("Id" = String, Path, description = "32 hex digits")),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn get_job(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.get(&who, &id).await?;
    Ok(Json(JobView::of(job, true)))
}

/// Job status.
#[utoipa::path(get, path = "/jobs/{Id}/status", tag = "jobs",
    params(("Id" = String, Path)),
    responses((status = 200, body = StatusView), (status = 404, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn get_status(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<StatusView>, ApiError> {
    let job = state.jobs.get(&who, &id).await?;
    Ok(Json(StatusView {
        id: job.id,
        status: job.status,
        error_count: job.error_count,
    }))
}

/// Where the metadata file of a completed job is.
#[utoipa::path(get, path = "/jobs/{Id}/metadata", tag = "jobs",
    params(("Id" = String, Path)),
    responses((status = 200, body = MetadataView), (status = 404, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn get_metadata(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<MetadataView>, ApiError> {
    let job = state.jobs.get(&who, &id).await?;
    let path = match (job.status, job.output_path) {
        (Status::Completed, Some(p)) => p,
        _ => {
            return Err(ApiError::not_found(
                "metadata is available once the job is completed",
            ))
        }
    };
    Ok(Json(MetadataView {
        id: job.id,
        user_id: job.user_id,
        destination: MetadataDestination {
            bucket: job.destination.bucket,
            region: job.destination.region,
        },
        destination_path: path,
    }))
}

/// Cancel a job that is not terminal.
#[utoipa::path(post, path = "/jobs/{Id}/cancel", tag = "jobs",
    params(("Id" = String, Path)),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.cancel(&who, &id).await?;
    Ok(Json(JobView::of(job, true)))
}

/// List the caller's jobs.
#[utoipa::path(get, path = "/jobs", tag = "jobs",
    params(
        ("pageNumber" = Option<i64>, Query), ("pageSize" = Option<i64>, Query),
        ("status" = Option<String>, Query), ("batch" = Option<String>, Query),
        ("name" = Option<String>, Query), ("sortBy" = Option<String>, Query),
        ("sortOrder" = Option<String>, Query), ("createdAfter" = Option<String>, Query),
        ("createdBefore" = Option<String>, Query)),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<JobPage>, ApiError> {
    let q = parse_list_query(&params)?;
    let (jobs, total) = state.jobs.list(&who, &q).await?;
    Ok(Json(JobPage {
        records: jobs.into_iter().map(|j| JobView::of(j, false)).collect(),
        page_number: q.page_number,
        page_size: q.page_size,
        total_records: total,
        total_pages: (total + q.page_size - 1) / q.page_size,
    }))
}

fn parse_list_query(p: &HashMap<String, String>) -> Result<ListQuery, ApiError> {
    let int = |name: &str, default: i64, max: i64| -> Result<i64, ApiError> {
        match p.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::validation(format!(
                    "{name} must be an integer from 1 to {max}"
                ))),
            },
        }
    };
    let time = |name: &str| -> Result<Option<i64>, ApiError> {
        p.get(name)
            .map(|v| {
                parse_rfc3339_ms(v).ok_or_else(|| {
                    ApiError::validation(format!("{name} must be an RFC 3339 timestamp"))
                })
            })
            .transpose()
    };
    let status = p
        .get("status")
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                ApiError::validation(
                    "status must be one of submitted, preflight, in_progress, completed, failed, cancelled",
                )
            })
        })
        .transpose()?;
    let sort_by = match p.get("sortBy").map(String::as_str) {
        None | Some("Created") => SortBy::Created,
        Some("Completed") => SortBy::Completed,
        Some(_) => return Err(ApiError::validation("sortBy must be Created or Completed")),
    };
    let descending = match p.get("sortOrder").map(String::as_str) {
        None | Some("Asc") => false,
        Some("Desc") => true,
        Some(_) => return Err(ApiError::validation("sortOrder must be Asc or Desc")),
    };
    Ok(ListQuery {
        page_number: int("pageNumber", 1, i64::from(i32::MAX))?,
        page_size: int("pageSize", 25, 100)?,
        status,
        batch: p.get("batch").cloned(),
        name: p.get("name").cloned().filter(|n| !n.is_empty()),
        sort_by,
        descending,
        created_after_ms: time("createdAfter")?,
        created_before_ms: time("createdBefore")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<ListQuery, ApiError> {
        parse_list_query(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn list_query_defaults_and_rules() {
        let d = q(&[]).unwrap();
        assert_eq!((d.page_number, d.page_size, d.descending), (1, 25, false));
        assert!(q(&[("pageSize", "101")]).is_err());
        assert!(q(&[("pageNumber", "0")]).is_err());
        assert!(q(&[("sortBy", "Name")]).is_err());
        assert!(q(&[("status", "done")]).is_err());
        assert!(q(&[("createdAfter", "yesterday")]).is_err());
        let x = q(&[("sortBy", "Completed"), ("sortOrder", "Desc")]).unwrap();
        assert_eq!((x.sort_by, x.descending), (SortBy::Completed, true));
    }
}
