//! Job records as the store keeps them.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::storage::BucketLocation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Preflight,
    InProgress,
    Completed,
    Failed,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Submitted,
        Status::Preflight,
        Status::InProgress,
        Status::Completed,
        Status::Failed,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Preflight => "preflight",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Cancelled)
    }
}

/// Where the source object lives. Secrets are kept apart, in [`JobSecrets`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub bucket: String,
    pub object_key: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub provider: Option<String>,
}

impl Source {
    /// The bucket that holds the object, opened with `keys` (access, secret): the named
    /// endpoint or provider, else the default storage.
    pub fn location(&self, keys: (String, String), config: &Config) -> BucketLocation {
        let region = self
            .region
            .clone()
            .unwrap_or_else(|| config.storage.region.clone());
        let provider_endpoint = match self.provider.as_deref().map(str::to_ascii_lowercase) {
            Some(p) if p == "aws" => Some(format!("https://s3.{region}.amazonaws.com")),
            Some(p) if p == "wasabi" => Some(format!("https://s3.{region}.wasabisys.com")),
            _ => None,
        };
        let (endpoint, user_endpoint) = match (&self.endpoint, provider_endpoint) {
            (Some(e), _) => (e.clone(), true),
            (None, Some(e)) => (e, true),
            (None, None) => (config.default_storage_endpoint(), false),
        };
        BucketLocation {
            endpoint,
            region,
            bucket: self.bucket.clone(),
            access_key: keys.0,
            secret_key: keys.1,
            user_endpoint,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    pub bucket: String,
    pub region: String,
    pub prefix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub url: String,
    pub secret: Option<String>,
}

/// Credentials a job needs while it runs: the submitter's key pair on the default storage and,
/// when the source is elsewhere, the source's own pair. Sealed at rest, erased when terminal.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSecrets {
    pub access_key: String,
    pub secret_key: String,
    pub source_access_key: Option<String>,
    pub source_secret_key: Option<String>,
}

impl std::fmt::Debug for JobSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobSecrets(..)")
    }
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub batch: Option<String>,
    pub priority: i64,
    pub status: Status,
    /// `Services` as submitted (validated).
    pub services: serde_json::Value,
    pub source: Source,
    pub destination: Destination,
    pub notification_url: Option<String>,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub completed_ms: Option<i64>,
    pub attempt: i64,
    pub progress: i64,
    pub error: Option<String>,
    pub error_count: i64,
    /// `s3://bucket/key` of the metadata file once completed.
    pub output_path: Option<String>,
}
