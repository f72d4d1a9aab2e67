//! Rows to records.

use sqlx::any::AnyRow;
use sqlx::{Decode, Row, Type};

use super::{
    CancelOutcome, DueWebhook, JobTiming, KeyRecord, StoreError, StoreResult, WebhookOutcome,
};
use crate::jobs::model::{JobRecord, Status};

/// Columns every job query selects, in the order `job_from_row` reads them.
pub const JOB_COLUMNS: &str = "id, user_id, name, batch, priority, status, services, source, \
    destination, notification_url, created, started, completed, attempt, progress, error, \
    error_count, output_path";

fn col<'r, T>(row: &'r AnyRow, name: &'static str) -> StoreResult<T>
where
    T: Decode<'r, sqlx::Any> + Type<sqlx::Any>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Internal(format!("column {name}: {e}")))
}

fn json_col<T: serde::de::DeserializeOwned>(row: &AnyRow, name: &'static str) -> StoreResult<T> {
    let text: String = col(row, name)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Internal(format!("column {name}: {e}")))
}

pub fn job_from_row(row: &AnyRow) -> StoreResult<JobRecord> {
    let status: String = col(row, "status")?;
    Ok(JobRecord {
        id: col(row, "id")?,
        user_id: col(row, "user_id")?,
        name: col(row, "name")?,
        batch: col(row, "batch")?,
        priority: col(row, "priority")?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Internal(format!("unknown status {status}")))?,
        services: json_col(row, "services")?,
        source: json_col(row, "source")?,
        destination: json_col(row, "destination")?,
        notification_url: col(row, "notification_url")?,
        created_ms: col(row, "created")?,
        started_ms: col(row, "started")?,
        completed_ms: col(row, "completed")?,
        attempt: col(row, "attempt")?,
        progress: col(row, "progress")?,
        error: col(row, "error")?,
        error_count: col(row, "error_count")?,
        output_path: col(row, "output_path")?,
    })
}

pub fn key_from_row(row: &AnyRow) -> StoreResult<KeyRecord> {
    Ok(KeyRecord {
        access_key: col(row, "access_key")?,
        user_id: col(row, "user_id")?,
        secret_sealed: col(row, "secret_sealed")?,
        view_only: col::<i64>(row, "view_only")? != 0,
        created_ms: col(row, "created")?,
    })
}

pub fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// `%text%` for LIKE, with the pattern characters escaped (escape character `\`).
pub fn like_pattern(name: &str) -> String {
    format!(
        "%{}%",
        name.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// What a cancel did, from the job as it now is and whether the update took.
pub fn cancel_outcome(job: Option<JobRecord>, user_id: &str, updated: u64) -> CancelOutcome {
    match job {
        Some(j) if j.user_id == user_id && updated == 1 => CancelOutcome::Cancelled(j),
        Some(j) if j.user_id == user_id => CancelOutcome::InvalidState(j),
        _ => CancelOutcome::NotFound,
    }
}

/// `notify_state` and `notify_next_at` for a delivery outcome.
pub fn webhook_state(outcome: WebhookOutcome) -> (&'static str, Option<i64>) {
    match outcome {
        WebhookOutcome::Delivered => ("delivered", None),
        WebhookOutcome::RetryAt(t) => ("pending", Some(t)),
        WebhookOutcome::GaveUp => ("failed", None),
    }
}

/// Rows of `SELECT status, COUNT(*) AS n ... GROUP BY status`.
pub fn status_counts(rows: &[AnyRow]) -> Vec<(Status, i64)> {
    rows.iter()
        .filter_map(|r| {
            let s: String = r.try_get("status").ok()?;
            Some((Status::parse(&s)?, r.try_get("n").ok()?))
        })
        .collect()
}

/// A due webhook: the job columns plus `notify_secret` and `notify_attempts`.
pub fn due_webhook(row: &AnyRow) -> StoreResult<DueWebhook> {
    Ok(DueWebhook {
        job: job_from_row(row)?,
        secret: col(row, "notify_secret")?,
        attempts: col(row, "notify_attempts")?,
    })
}

pub fn job_timing(row: &AnyRow) -> StoreResult<JobTiming> {
    Ok(JobTiming {
        created_ms: col(row, "created")?,
        started_ms: col(row, "started")?,
        completed_ms: col(row, "completed")?,
    })
}
