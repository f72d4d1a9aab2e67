//! The key store shared by the embedded S3 server and the API: one key pair uploads media,
//! submits jobs and reads results.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::crypto::{new_key_pair, MasterKey};
use crate::jobs::ops::Principal;
use crate::store::{KeyRecord, Store, StoreError, StoreResult};

pub struct KeyStore {
    store: Arc<dyn Store>,
    master: MasterKey,
    ttl: Duration,
    /// Successful checks, keyed by a hash of the pair (never the secret itself).
    verified: DashMap<[u8; 32], (Principal, Instant)>,
    /// Keys found in the store, by access key: every S3 request checks its key twice (the
    /// signature, then the bucket's owner), and a job makes several requests.
    found: DashMap<String, (KeyRecord, String, Instant)>,
}

/// A freshly created key pair, shown once.
pub struct NewKey {
    pub user_id: String,
    pub access_key: String,
    pub secret_key: String,
    pub view_only: bool,
}

impl KeyStore {
    pub fn new(store: Arc<dyn Store>, master: MasterKey, ttl: Duration) -> KeyStore {
        KeyStore {
            store,
            master,
            ttl,
            verified: DashMap::new(),
            found: DashMap::new(),
        }
    }

    /// The principal of a key pair, or None when the pair is unknown or wrong.
    pub async fn authenticate(&self, access: &str, secret: &str) -> StoreResult<Option<Principal>> {
        let mut h = Sha256::new();
        h.update(access.as_bytes());
        h.update([0]);
        h.update(secret.as_bytes());
        let digest: [u8; 32] = h.finalize().into();
        if let Some(hit) = self.verified.get(&digest) {
            if hit.1.elapsed() < self.ttl {
                return Ok(Some(hit.0.clone()));
            }
        }
        let Some((record, real_secret)) = self.lookup(access).await? else {
            return Ok(None);
        };
        if !bool::from(real_secret.as_bytes().ct_eq(secret.as_bytes())) {
            return Ok(None);
        }
        let who = Principal {
            user_id: record.user_id,
            access_key: access.to_string(),
            secret_key: real_secret,
            view_only: record.view_only,
        };
        self.verified.insert(digest, (who.clone(), Instant::now()));
        Ok(Some(who))
    }

    /// The record and plain secret of an access key (S3 signature checks need the secret).
    /// Found keys are kept for the cache's time to live, like successful checks.
    pub async fn lookup(&self, access: &str) -> StoreResult<Option<(KeyRecord, String)>> {
        if let Some(hit) = self.found.get(access) {
            if hit.2.elapsed() < self.ttl {
                return Ok(Some((hit.0.clone(), hit.1.clone())));
            }
        }
        let Some(record) = self.store.get_key(access).await? else {
            return Ok(None);
        };
        let secret = self
            .master
            .open(&record.secret_sealed)
            .map_err(|e| StoreError::Internal(format!("key {access}: {e}")))?;
        let secret = String::from_utf8(secret)
            .map_err(|_| StoreError::Internal(format!("key {access}: secret is not UTF-8")))?;
        self.found.insert(
            access.to_string(),
            (record.clone(), secret.clone(), Instant::now()),
        );
        Ok(Some((record, secret)))
    }

    pub async fn create(&self, user_id: &str, view_only: bool) -> StoreResult<NewKey> {
        let (access_key, secret_key) = new_key_pair();
        self.store
            .insert_key(&KeyRecord {
                access_key: access_key.clone(),
                user_id: user_id.to_string(),
                secret_sealed: self.master.seal(secret_key.as_bytes()),
                view_only,
                created_ms: crate::time::now_ms(),
            })
            .await?;
        Ok(NewKey {
            user_id: user_id.to_string(),
            access_key,
            secret_key,
            view_only,
        })
    }

    /// On the very first start there are no keys: create the admin pair.
    pub async fn bootstrap_admin(&self) -> StoreResult<Option<NewKey>> {
        if self.store.count_keys().await? > 0 {
            return Ok(None);
        }
        self.create("admin", false).await.map(Some)
    }
}
