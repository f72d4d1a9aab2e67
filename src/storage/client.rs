//! The S3 client side: one bucket on one endpoint with one key pair, and a classification
//! of its faults into transient (retry the job later) and permanent (fail it now).

use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutOptions,
    PutPayload, RetryConfig,
};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use super::guard;
use crate::config::StorageConfig;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Denied(String),
    /// Timeouts, connection failures, 5xx: worth another attempt later.
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
    #[error("cancelled")]
    Cancelled,
}

impl StorageError {
    pub fn is_transient(&self) -> bool {
        matches!(self, StorageError::Transient(_))
    }
}

/// Where a bucket is and which keys open it.
#[derive(Clone)]
pub struct BucketLocation {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// The endpoint was named by a user: refuse internal addresses.
    pub user_endpoint: bool,
}

pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    pub bucket: String,
}

impl Bucket {
    pub fn open(loc: &BucketLocation, cfg: &StorageConfig) -> Result<Bucket, StorageError> {
        let url = url::Url::parse(&loc.endpoint)
            .map_err(|_| StorageError::Permanent(format!("bad endpoint URL {}", loc.endpoint)))?;
        let allow_http = url.scheme() == "http";
        let mut options = ClientOptions::new()
            .with_timeout(Duration::from_secs(cfg.request_timeout_secs))
            .with_connect_timeout(Duration::from_secs(10))
            .with_allow_http(allow_http);
        let public_only = loc.user_endpoint && !cfg.allow_private_endpoints;
        if public_only {
            let literal = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            };
            if literal.is_some_and(|ip| !guard::is_public(ip)) {
                return Err(StorageError::Permanent(format!(
                    "endpoint {} is a private, loopback or link-local address, which this server does not allow",
                    loc.endpoint
                )));
            }
            options = options.with_dns_resolver(Arc::new(guard::PublicOnly));
        }
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: cfg.max_retries,
            retry_timeout: Duration::from_secs(cfg.request_timeout_secs * 2),
        };
        let store = AmazonS3Builder::new()
            .with_endpoint(loc.endpoint.trim_end_matches('/'))
            .with_region(&loc.region)
            .with_bucket_name(&loc.bucket)
            .with_access_key_id(&loc.access_key)
            .with_secret_access_key(&loc.secret_key)
            .with_virtual_hosted_style_request(false)
            .with_client_options(options)
            .with_http_connector(super::http::Shared {
                allow_http,
                public_only,
            })
            .with_retry(retry)
            .build()
            .map_err(|e| StorageError::Permanent(format!("storage client: {e}")))?;
        Ok(Bucket {
            store: Arc::new(store),
            bucket: loc.bucket.clone(),
        })
    }

    fn describe(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, key)
    }

    /// Start reading an object: one GET, whose answer gives the size before any byte is read.
    pub async fn get(&self, key: &str) -> Result<Reading, StorageError> {
        let what = self.describe(key);
        let got = self
            .store
            .get(&Path::from(key))
            .await
            .map_err(|e| classify(e, &what))?;
        Ok(Reading {
            size: got.meta.size,
            stream: got.into_stream(),
            first: Vec::new(),
            what,
        })
    }

    /// One PUT: the object appears complete or not at all.
    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.to_string().into());
        let opts = PutOptions {
            attributes,
            ..Default::default()
        };
        self.store
            .put_opts(&Path::from(key), PutPayload::from(body), opts)
            .await
            .map(|_| ())
            .map_err(|e| classify(e, &self.describe(key)))
    }
}

/// An object being read. Its first bytes can be looked at before the rest is fetched, so a
/// source of the wrong type costs one request and a few KiB, not a download.
pub struct Reading {
    pub size: u64,
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    /// Bytes already read by `first_bytes`, not yet saved.
    first: Vec<u8>,
    what: String,
}

impl Reading {
    async fn next(&mut self, cancel: &CancellationToken) -> Result<Option<Bytes>, StorageError> {
        let chunk = tokio::select! {
            c = self.stream.next() => c,
            () = cancel.cancelled() => return Err(StorageError::Cancelled),
        };
        chunk.transpose().map_err(|e| classify(e, &self.what))
    }

    /// The first `len` bytes (fewer when the object is shorter); `save` still writes them.
    pub async fn first_bytes(
        &mut self,
        len: usize,
        cancel: &CancellationToken,
    ) -> Result<&[u8], StorageError> {
        while self.first.len() < len {
            let Some(chunk) = self.next(cancel).await? else {
                break;
            };
            self.first.extend_from_slice(&chunk);
        }
        Ok(&self.first[..len.min(self.first.len())])
    }

    /// Stream the whole object to `dest` (its folder is created if missing) and return its
    /// length; stops at once when `cancel` fires. A local disk fault is transient: another
    /// attempt, maybe on another machine, may not meet it.
    pub async fn save(
        mut self,
        dest: &FsPath,
        cancel: &CancellationToken,
    ) -> Result<u64, StorageError> {
        let local = |e: std::io::Error| StorageError::Transient(format!("local file: {e}"));
        let mut file = create_file(dest).await.map_err(local)?;
        let first = std::mem::take(&mut self.first);
        file.write_all(&first).await.map_err(local)?;
        let mut written = first.len() as u64;
        while let Some(chunk) = self.next(cancel).await? {
            file.write_all(&chunk).await.map_err(local)?;
            written += chunk.len() as u64;
        }
        file.flush().await.map_err(local)?;
        Ok(written)
    }
}

async fn create_file(path: &FsPath) -> std::io::Result<tokio::fs::File> {
    match tokio::fs::File::create(path).await {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(folder) = path.parent() {
                tokio::fs::create_dir_all(folder).await?;
            }
            tokio::fs::File::create(path).await
        }
        r => r,
    }
}

/// Sort an object_store error into what the job should do about it. The message keeps the
/// object's address and the server's answer, never credentials.
fn classify(e: object_store::Error, what: &str) -> StorageError {
    use object_store::Error as E;
    match e {
        E::NotFound { .. } => StorageError::NotFound(format!("source object {what} not found")),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => StorageError::Denied(format!(
            "access to {what} denied: the keys cannot read or write it"
        )),
        other => {
            let chain = error_chain(&other);
            match http_status(&chain) {
                Some(403) | Some(401) => StorageError::Denied(format!(
                    "access to {what} denied: the keys cannot read or write it"
                )),
                Some(404) => {
                    StorageError::NotFound(format!("{what} not found (no such bucket or object)"))
                }
                Some(s) if (400..500).contains(&s) && s != 408 && s != 429 => {
                    StorageError::Permanent(format!("storage refused {what}: HTTP {s}"))
                }
                _ if chain.contains("private, loopback or link-local") => {
                    StorageError::Permanent(format!(
                        "storage endpoint refused: {}",
                        chain.split(": ").last().unwrap_or_default()
                    ))
                }
                _ => {
                    StorageError::Transient(format!("storage error on {what}: {}", summary(&chain)))
                }
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

/// The HTTP status in "Server returned non-2xx status code: 503 Service Unavailable".
fn http_status(chain: &str) -> Option<u16> {
    let marker = "status code: ";
    let i = chain.find(marker)? + marker.len();
    chain[i..].get(..3)?.parse().ok()
}

/// The error without the request line (which names the endpoint and path, already in `what`).
fn summary(chain: &str) -> String {
    let tail = chain.rsplit(" - ").next().unwrap_or(chain);
    tail.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_status_codes() {
        assert_eq!(
            http_status("Error performing GET x in 1ms - Server returned non-2xx status code: 503 Service Unavailable: "),
            Some(503)
        );
        assert_eq!(http_status("connection refused"), None);
    }
}
