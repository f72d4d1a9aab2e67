//! What the API can do with jobs: submit, read, list, cancel. Owns the rules that sit between
//! a validated request and the store (ids, sealing secrets, idempotency, ownership).

use std::sync::Arc;

use dashmap::DashMap;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::model::{JobRecord, JobSecrets};
use super::request::{parse_job_request, RequestError};
use crate::crypto::MasterKey;
use crate::store::{CancelOutcome, Idempotency, Inserted, ListQuery, NewJob, Store, StoreError};

/// Who is calling: the identity behind an authenticated key pair.
#[derive(Clone)]
pub struct Principal {
    pub user_id: String,
    pub access_key: String,
    pub secret_key: String,
    pub view_only: bool,
}

impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal")
            .field("user_id", &self.user_id)
            .field("view_only", &self.view_only)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    UnsupportedService(String),
    #[error("job not found")]
    NotFound,
    #[error("{0}")]
    InvalidState(String),
    #[error("Idempotency-Key was already used with a different request body")]
    IdempotencyMismatch,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for JobsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::IdempotencyMismatch => JobsError::IdempotencyMismatch,
            other => JobsError::Store(other),
        }
    }
}

/// Signals between the API and the workers of one process: a wake-up when work arrives and
/// the cancel handle of every job running here.
#[derive(Default)]
pub struct JobSignals {
    /// Shared with the store, which also wakes it for jobs submitted elsewhere.
    pub work_available: Arc<Notify>,
    pub running: DashMap<String, CancellationToken>,
}

pub struct JobsService {
    pub store: Arc<dyn Store>,
    pub master_key: MasterKey,
    pub signals: Arc<JobSignals>,
}

/// Outcome of a submission: `true` when an idempotent replay returned the first job.
pub struct Submitted {
    pub job: JobRecord,
    pub replayed: bool,
}

impl JobsService {
    pub async fn submit(
        &self,
        who: &Principal,
        body: &[u8],
        idempotency_key: Option<&str>,
    ) -> Result<Submitted, JobsError> {
        let req = parse_job_request(body).map_err(|e| match e {
            RequestError::Invalid(m) => JobsError::Validation(m),
            RequestError::Unsupported(m) => JobsError::UnsupportedService(m),
        })?;
        let idem = idempotency_key
            .map(|key| {
                if key.is_empty() || key.len() > 255 {
                    return Err(JobsError::Validation(
                        "Idempotency-Key must be 1..255 characters".into(),
                    ));
                }
                Ok(Idempotency {
                    key: key.to_string(),
                    body_hash: canonical_hash(body),
                })
            })
            .transpose()?;
        let secrets = JobSecrets {
            access_key: who.access_key.clone(),
            secret_key: who.secret_key.clone(),
            source_access_key: req.source_keys.as_ref().map(|k| k.0.clone()),
            source_secret_key: req.source_keys.as_ref().map(|k| k.1.clone()),
        };
        let sealed = self
            .master_key
            .seal(&serde_json::to_vec(&secrets).expect("secrets serialise"));
        let job = NewJob {
            id: uuid::Uuid::now_v7().simple().to_string(),
            user_id: who.user_id.clone(),
            name: req.name,
            batch: req.batch,
            priority: req.priority,
            services: req.services,
            source: req.source,
            destination: req.destination,
            notify_secret: req
                .notification
                .as_ref()
                .and_then(|n| n.secret.as_ref())
                .map(|secret| self.master_key.seal(secret.as_bytes())),
            notification_url: req.notification.map(|n| n.url),
            secrets: sealed,
            created_ms: crate::time::now_ms(),
        };
        let out = match self.store.insert_job(job, idem).await? {
            Inserted::Created(job) => {
                metrics::counter!("airscope_jobs_submitted_total").increment(1);
                self.signals.work_available.notify_waiters();
                Submitted {
                    job,
                    replayed: false,
                }
            }
            Inserted::Existing(job) => Submitted {
                job,
                replayed: true,
            },
        };
        Ok(out)
    }

    pub async fn get(&self, who: &Principal, id: &str) -> Result<JobRecord, JobsError> {
        if !is_job_id(id) {
            return Err(JobsError::NotFound);
        }
        self.store
            .get_job(&who.user_id, id)
            .await?
            .ok_or(JobsError::NotFound)
    }

    pub async fn list(
        &self,
        who: &Principal,
        q: &ListQuery,
    ) -> Result<(Vec<JobRecord>, i64), JobsError> {
        Ok(self.store.list_jobs(&who.user_id, q).await?)
    }

    pub async fn cancel(&self, who: &Principal, id: &str) -> Result<JobRecord, JobsError> {
        if !is_job_id(id) {
            return Err(JobsError::NotFound);
        }
        match self
            .store
            .cancel_job(&who.user_id, id, crate::time::now_ms())
            .await?
        {
            CancelOutcome::Cancelled(job) => {
                if let Some((_, token)) = self.signals.running.remove(id) {
                    token.cancel();
                }
                metrics::counter!("airscope_jobs_finished_total", "status" => "cancelled")
                    .increment(1);
                Ok(job)
            }
            CancelOutcome::InvalidState(job) if job.status.is_terminal() => Err(
                JobsError::InvalidState(format!("job is already {}", job.status.as_str())),
            ),
            CancelOutcome::InvalidState(_) => Err(JobsError::InvalidState(
                "job is writing its results and can no longer be cancelled".into(),
            )),
            CancelOutcome::NotFound => Err(JobsError::NotFound),
        }
    }
}

/// 32 lower-case hex digits.
pub fn is_job_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Hash of the body as JSON with sorted keys, so that key order and white space do not make
/// two equal requests differ.
fn canonical_hash(body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| sorted(v).to_string().into_bytes())
        .unwrap_or_else(|_| body.to_vec());
    hex::encode(Sha256::digest(canonical))
}

fn sorted(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_hash_ignores_key_order_and_spacing() {
        assert_eq!(
            canonical_hash(br#"{"a":1,"b":[1,2]}"#),
            canonical_hash(br#"{ "b": [1, 2], "a": 1 }"#)
        );
        assert_ne!(canonical_hash(br#"{"a":1}"#), canonical_hash(br#"{"a":2}"#));
    }

    #[test]
    fn job_ids_are_32_lower_hex() {
        assert!(is_job_id(&uuid::Uuid::now_v7().simple().to_string()));
        assert!(!is_job_id("0192F1C2A4B87C3E9D0F5A6B7C8D9E0F"));
        assert!(!is_job_id("../etc"));
    }
}
