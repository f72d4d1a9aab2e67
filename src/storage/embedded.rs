//! The embedded S3 server (s3s over a directory): the default storage of a single-machine
//! install, reachable by any S3 tool. Keys come from the shared [`KeyStore`]; a bucket
//! belongs to the user who created it, and view-only keys can only read.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::path::S3Path;
use s3s::service::S3ServiceBuilder;
use s3s::{s3_error, S3Result};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::keys::KeyStore;
use crate::store::Store;

/// The user who may reach every bucket of the embedded storage.
pub const ADMIN_USER: &str = "admin";

struct Auth(Arc<KeyStore>);

#[async_trait::async_trait]
impl S3Auth for Auth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.lookup(access_key).await {
            Ok(Some((_, secret))) => Ok(SecretKey::from(secret)),
            Ok(None) => Err(s3_error!(InvalidAccessKeyId)),
            Err(e) => {
                tracing::error!(error = %e, "key lookup failed");
                Err(s3_error!(ServiceUnavailable))
            }
        }
    }
}

struct Access {
    keys: Arc<KeyStore>,
    store: Arc<dyn Store>,
    /// A bucket's owner never changes once recorded, so it is read from the store once.
    owners: dashmap::DashMap<String, String>,
}

impl Access {
    async fn owner(&self, bucket: &str) -> Result<Option<String>, crate::store::StoreError> {
        if let Some(owner) = self.owners.get(bucket) {
            return Ok(Some(owner.clone()));
        }
        let owner = self.store.bucket_owner(bucket).await?;
        if let Some(o) = &owner {
            self.owners.insert(bucket.to_string(), o.clone());
        }
        Ok(owner)
    }
}

#[async_trait::async_trait]
impl S3Access for Access {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(creds) = cx.credentials() else {
            return Err(s3_error!(AccessDenied, "signed requests only"));
        };
        let Some((key, _)) = self.keys.lookup(&creds.access_key).await.map_err(|e| {
            tracing::error!(error = %e, "key lookup failed");
            s3_error!(ServiceUnavailable)
        })?
        else {
            return Err(s3_error!(InvalidAccessKeyId));
        };
        let reading = matches!(cx.method().as_str(), "GET" | "HEAD");
        if key.view_only && !reading {
            return Err(s3_error!(AccessDenied, "this key is view-only"));
        }
        let bucket = match cx.s3_path() {
            S3Path::Root => return Ok(()),
            S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => bucket,
        };
        let internal = |e| {
            tracing::error!(error = %e, "bucket owner lookup failed");
            s3_error!(ServiceUnavailable)
        };
        if cx.s3_op().name() == "CreateBucket" {
            self.store
                .claim_bucket(bucket, &key.user_id, crate::time::now_ms())
                .await
                .map_err(internal)?;
        }
        let owner = self.owner(bucket).await.map_err(internal)?;
        if key.user_id == ADMIN_USER || owner.as_deref() == Some(key.user_id.as_str()) {
            Ok(())
        } else {
            Err(s3_error!(AccessDenied, "bucket belongs to another user"))
        }
    }
}

/// Serve S3 on `listener` from `root` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    root: &Path,
    keys: Arc<KeyStore>,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    std::fs::create_dir_all(root)?;
    let fs = s3s_fs::FileSystem::new(root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(Auth(keys.clone()));
    builder.set_access(Access {
        keys,
        store,
        owners: Default::default(),
    });
    let service = builder.build();
    let http = ConnBuilder::new(TokioExecutor::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (socket, _): (_, SocketAddr) = tokio::select! {
            res = listener.accept() => match res {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "storage accept failed");
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        // Responses go out as several writes; without this, Nagle's algorithm holds the last
        // one until the client's delayed ACK (40 ms per request on Linux).
        let _ = socket.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(socket), service.clone());
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {},
    }
    Ok(())
}
