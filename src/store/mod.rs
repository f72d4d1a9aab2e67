//! The store: jobs, leases, idempotency keys, storage keys and galleries behind one trait, so that the
//! SQLite backend (one machine) and a Postgres backend (fleets) are interchangeable.

mod dialect;
mod rows;
mod sql;

use std::sync::Arc;

use async_trait::async_trait;

use crate::jobs::model::{Destination, JobRecord, Source, Status};

pub use sql::SqlStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded; callers answer 503.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store error: {0}")]
    Internal(String),
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    #[error("unsupported store URL `{0}` (expected sqlite://PATH or postgres://...)")]
    BadUrl(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A job to insert (already validated).
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub batch: Option<String>,
    pub priority: i64,
    pub services: serde_json::Value,
    pub source: Source,
    pub destination: Destination,
    pub notification_url: Option<String>,
    /// Sealed webhook signing secret; kept until the webhook is delivered or given up.
    pub notify_secret: Option<Vec<u8>>,
    /// Sealed [`crate::jobs::JobSecrets`].
    pub secrets: Vec<u8>,
    pub created_ms: i64,
}

/// `Idempotency-Key` of a submission and the hash of its body.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub body_hash: String,
}

#[derive(Debug)]
pub enum Inserted {
    Created(JobRecord),
    /// The same idempotency key and body were seen before: the first job.
    Existing(JobRecord),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Created,
    Completed,
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page_number: i64,
    pub page_size: i64,
    pub status: Option<Status>,
    pub batch: Option<String>,
    pub name: Option<String>,
    pub sort_by: SortBy,
    pub descending: bool,
    pub created_after_ms: Option<i64>,
    pub created_before_ms: Option<i64>,
}

#[derive(Debug)]
pub enum CancelOutcome {
    Cancelled(JobRecord),
    /// Already terminal, or writing its results.
    InvalidState(JobRecord),
    NotFound,
}

/// The right to work on one attempt of a job. Every write a worker makes is fenced by it.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job_id: String,
    /// Which attempt this is (1 for the first run); counts towards `max_attempts`.
    pub attempt: i64,
    /// Drawn at random by the claim; every write of the holder must carry it.
    pub token: String,
}

#[derive(Debug)]
pub struct Claim {
    pub job: JobRecord,
    pub lease: Lease,
    pub secrets: Option<Vec<u8>>,
    /// Set when an earlier attempt had chosen where the metadata file goes.
    pub output_key: Option<String>,
    /// The job was taken over from a worker whose lease expired.
    pub recovered: bool,
}

/// A terminal outcome written by the lease holder.
#[derive(Debug, Clone)]
pub struct Finish {
    pub status: Status,
    pub error: Option<String>,
    pub error_count: i64,
    pub output_path: Option<String>,
}

/// A webhook to send: the job as it ended, and its sealed signing secret.
#[derive(Debug)]
pub struct DueWebhook {
    pub job: JobRecord,
    pub secret: Option<Vec<u8>>,
    /// Deliveries tried so far, this one included.
    pub attempts: i64,
}

#[derive(Debug, Clone, Copy)]
pub enum WebhookOutcome {
    Delivered,
    RetryAt(i64),
    GaveUp,
}

/// When a recently ended job was submitted, started and ended (ms since the epoch).
#[derive(Debug, Clone, Copy)]
pub struct JobTiming {
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub completed_ms: i64,
}

/// A storage key pair of the embedded storage (also the API's credentials).
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub access_key: String,
    pub user_id: String,
    /// Sealed secret key (S3 signatures need the plain secret, so it cannot be a hash).
    pub secret_sealed: Vec<u8>,
    pub view_only: bool,
    pub created_ms: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn ping(&self) -> StoreResult<()>;

    /// Wake `notify` whenever a job is submitted through another process. The default does
    /// nothing: workers then find such jobs by polling.
    async fn watch_submissions(&self, _notify: Arc<tokio::sync::Notify>) -> StoreResult<()> {
        Ok(())
    }

    async fn insert_job(&self, job: NewJob, idem: Option<Idempotency>) -> StoreResult<Inserted>;
    async fn get_job(&self, user_id: &str, id: &str) -> StoreResult<Option<JobRecord>>;
    async fn list_jobs(&self, user_id: &str, q: &ListQuery) -> StoreResult<(Vec<JobRecord>, i64)>;
    async fn cancel_job(&self, user_id: &str, id: &str, now_ms: i64) -> StoreResult<CancelOutcome>;
    async fn count_by_status(&self) -> StoreResult<Vec<(Status, i64)>>;
    /// Timings of the newest `limit` jobs that ended (any terminal status) after `since_ms`.
    async fn recent_timings(&self, since_ms: i64, limit: i64) -> StoreResult<Vec<JobTiming>>;
    /// Since when the longest-waiting queued job has been due (its submission, or the end of
    /// its retry delay).
    async fn oldest_queued(&self) -> StoreResult<Option<i64>>;

    /// Take the next job: first a job whose lease expired (its worker crashed or stalled; it
    /// had already started), else the highest priority, then the user served least recently,
    /// then the oldest. Expired jobs that used all their attempts fail instead. While queued
    /// jobs are being taken, a process looks for expired leases at most once a second.
    async fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        max_attempts: i64,
    ) -> StoreResult<Option<Claim>>;
    /// Extend the lease and raise the progress (0..100); false when the lease is no longer
    /// ours (expired and taken, or cancelled).
    async fn heartbeat(&self, lease: &Lease, until_ms: i64, progress: i64) -> StoreResult<bool>;
    async fn advance(&self, lease: &Lease, status: Status, progress: i64) -> StoreResult<bool>;
    /// Fix where the metadata file goes and stop cancels from here on. Returns the key to
    /// write (an earlier attempt's choice wins), or None when the lease is lost.
    async fn reserve_output(&self, lease: &Lease, key: &str) -> StoreResult<Option<String>>;
    async fn finish(&self, lease: &Lease, outcome: &Finish, now_ms: i64) -> StoreResult<bool>;
    /// Give the job back to the queue after a transient fault, to run again after `not_before`.
    async fn retry_later(&self, lease: &Lease, not_before_ms: i64) -> StoreResult<bool>;

    /// Webhooks of terminal jobs that are due, each leased for `lease_ms` so that one sender
    /// handles it at a time.
    async fn due_webhooks(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<DueWebhook>>;
    /// Record a delivery outcome: delivered, tried again at `retry_at`, or given up.
    async fn webhook_outcome(&self, job_id: &str, outcome: WebhookOutcome) -> StoreResult<()>;

    async fn insert_key(&self, key: &KeyRecord) -> StoreResult<()>;
    async fn get_key(&self, access_key: &str) -> StoreResult<Option<KeyRecord>>;
    async fn count_keys(&self) -> StoreResult<i64>;

    /// Owner of a bucket of the embedded storage.
    async fn bucket_owner(&self, bucket: &str) -> StoreResult<Option<String>>;
    /// Record the owner of a new bucket; false when the bucket already has one.
    async fn claim_bucket(&self, bucket: &str, user_id: &str, now_ms: i64) -> StoreResult<bool>;

    /// Add an item to the user's gallery entry of that kind and name, creating the entry
    /// (with `new_entry_id`) when there is none.
    async fn add_gallery_item(&self, item: &NewGalleryItem) -> StoreResult<GalleryEntry>;
    /// The user's entries of one gallery, oldest first.
    async fn list_gallery(
        &self,
        kind: GalleryKind,
        user_id: &str,
    ) -> StoreResult<Vec<GalleryEntry>>;
    /// Remove one of the user's entries and every item of it; false when there is none.
    async fn delete_gallery_entry(
        &self,
        kind: GalleryKind,
        user_id: &str,
        id: &str,
    ) -> StoreResult<bool>;
    /// Every item of the user's gallery of one kind, oldest first.
    async fn gallery_items(
        &self,
        kind: GalleryKind,
        user_id: &str,
    ) -> StoreResult<Vec<GalleryItem>>;
}

/// The galleries a user keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GalleryKind {
    /// People, each item a sealed face embedding.
    Faces,
    /// Logos, each item the features of a reference image.
    Logos,
}

impl GalleryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GalleryKind::Faces => "face",
            GalleryKind::Logos => "logo",
        }
    }
}

/// An item to enrol in a user's gallery.
#[derive(Debug, Clone)]
pub struct NewGalleryItem {
    pub kind: GalleryKind,
    pub user_id: String,
    pub name: String,
    pub new_entry_id: String,
    pub item_id: String,
    pub payload: Vec<u8>,
    pub created_ms: i64,
}

/// A named entry of a gallery (a person, a logo) and how many items it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GalleryEntry {
    pub id: String,
    pub name: String,
    pub items: i64,
    pub created_ms: i64,
}

/// One enrolled item, with its entry.
#[derive(Debug, Clone)]
pub struct GalleryItem {
    pub entry_id: String,
    pub name: String,
    pub payload: Vec<u8>,
}

/// How long a write waits for the database before the caller gets `Unavailable`.
pub const DEFAULT_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Open the store a URL names (`sqlite://PATH` or `postgres://...`), applying migrations.
pub async fn open(url: &str, busy_timeout: std::time::Duration) -> StoreResult<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::open(url, busy_timeout).await?))
}
