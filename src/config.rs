//! Configuration: documented defaults, then a TOML file, then `AIRSCOPE_*` environment variables
//! (`AIRSCOPE_API__LISTEN=0.0.0.0:8780` sets `api.listen`).

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite store, the embedded storage's objects, the master key and temporary
    /// downloads live.
    pub data_dir: PathBuf,
    pub api: ApiConfig,
    pub store: StoreConfig,
    pub storage: StorageConfig,
    pub worker: WorkerConfig,
    pub limits: LimitsConfig,
    pub models: ModelsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub listen: String,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Requests per second allowed per access key; 0 turns the limit off.
    pub rate_limit_per_second: u32,
    /// Burst above the steady rate.
    pub rate_limit_burst: u32,
    /// How long a successful key check is cached.
    pub key_cache_ttl_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://path` (default: `<data_dir>/airscope.db`).
    pub url: Option<String>,
    /// How long a request waits for a busy or unreachable store before it gets 503.
    pub busy_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Run the embedded S3 server (the default storage of this install).
    pub embedded: bool,
    /// Address of the embedded S3 server.
    pub listen: String,
    /// URL through which workers reach the default storage. Unset: the embedded server at
    /// `listen`. Worker-only machines set it to the serving machine's storage address.
    pub endpoint: Option<String>,
    /// Region reported by the embedded storage.
    pub region: String,
    /// Let jobs name storage endpoints on loopback, private or link-local addresses. Off by
    /// default so that a user cannot make the server fetch from inside its own network.
    pub allow_private_endpoints: bool,
    /// Per-request timeout towards storage.
    pub request_timeout_secs: u64,
    /// Retries of one storage request on timeouts and 5xx before the job-level retry.
    pub max_retries: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Jobs processed at once by this process (0: no workers, API only).
    pub concurrency: usize,
    /// A claimed job belongs to its worker this long after the last heartbeat.
    pub lease_secs: u64,
    /// Heartbeat period; also how quickly a cancel made on another node is noticed.
    pub heartbeat_ms: u64,
    /// Idle workers look for new jobs at least this often.
    pub poll_interval_ms: u64,
    /// Attempts (first run, transient-fault retries and crash recoveries) before a job fails.
    pub max_attempts: u32,
    /// First retry delay; doubles with every attempt.
    pub retry_backoff_ms: u64,
    /// `airscope worker` serves `/metrics` and `/healthz` here when set (e.g. `0.0.0.0:8782`).
    pub metrics_listen: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest source object accepted at preflight.
    pub max_source_bytes: u64,
    /// Longest media accepted at preflight, in seconds.
    pub max_duration_secs: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    /// Cache of model files fetched by `airscope models fetch` (default `<data_dir>/models`).
    pub dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: default_data_dir(),
            api: ApiConfig::default(),
            store: StoreConfig::default(),
            storage: StorageConfig::default(),
            worker: WorkerConfig::default(),
            limits: LimitsConfig::default(),
            models: ModelsConfig::default(),
        }
    }
}

/// `$XDG_DATA_HOME/airscope`, else `~/.local/share/airscope`, else `./airscope-data`.
fn default_data_dir() -> PathBuf {
    let var = |k| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("XDG_DATA_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".local/share")))
        .map(|d| d.join("airscope"))
        .unwrap_or_else(|| PathBuf::from("airscope-data"))
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: "127.0.0.1:8780".into(),
            body_limit_bytes: 1 << 20,
            rate_limit_per_second: 200,
            rate_limit_burst: 400,
            key_cache_ttl_secs: 60,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: None,
            busy_timeout_ms: crate::store::DEFAULT_BUSY_TIMEOUT.as_millis() as u64,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            embedded: true,
            listen: "127.0.0.1:8781".into(),
            endpoint: None,
            region: "us-east-1".into(),
            allow_private_endpoints: false,
            request_timeout_secs: 30,
            max_retries: 3,
        }
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 2,
            lease_secs: 30,
            heartbeat_ms: 1000,
            poll_interval_ms: 1000,
            max_attempts: 3,
            retry_backoff_ms: 2000,
            metrics_listen: None,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_source_bytes: 50 << 30,
            max_duration_secs: 6.0 * 3600.0,
        }
    }
}

impl Config {
    /// Defaults, then the file (when given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            fig = fig.merge(Toml::file_exact(path));
        }
        // Variables that are not configuration keys are read elsewhere.
        fig.merge(Env::prefixed("AIRSCOPE_").split("__").ignore(&[
            "config",
            "master_key",
            "log_format",
        ]))
        .extract()
        .map_err(Box::new)
    }

    pub fn store_url(&self) -> String {
        self.store
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("airscope.db").display()))
    }

    pub fn busy_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.store.busy_timeout_ms)
    }

    pub fn models_dir(&self) -> PathBuf {
        self.models
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("models"))
    }

    /// The URL through which workers reach the default storage.
    pub fn default_storage_endpoint(&self) -> String {
        self.storage
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.storage.listen))
    }
}
