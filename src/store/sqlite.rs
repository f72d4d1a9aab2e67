//! SQLite backend: one file in WAL mode. Writers are serialised by SQLite itself; every
//! multi-statement write runs in a `BEGIN IMMEDIATE` transaction so it never deadlocks on
//! a lock upgrade.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};

use super::rows::{
    cancel_outcome, due_webhook, job_from_row, key_from_row, like_pattern, status_counts, to_json,
    webhook_state, JOB_COLUMNS,
};
use super::*;

pub struct SqliteStore {
    pool: SqlitePool,
}

const LIVE: &str = "('preflight', 'in_progress')";

/// Set with every terminal status: queue the job's webhook, if it has one, from now.
const NOTIFY_ON_END: &str = "notify_state = CASE WHEN notification_url IS NULL THEN NULL \
    ELSE 'pending' END, notify_next_at = 0";

fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("5") | Some("6")) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

impl SqliteStore {
    pub async fn open(path: &str, busy_timeout: Duration) -> StoreResult<SqliteStore> {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
            }
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(map_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(busy_timeout)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            // Readers run on one thread per connection; more than a few only adds switching on
            // small machines (measured with bench/api.sh: 4 beat 8 on 2 cores).
            .max_connections(4)
            // Opening a connection can be slow on a loaded machine; waiting for a lock is
            // what `busy_timeout` bounds.
            .acquire_timeout(busy_timeout + Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(map_err)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration: {e}")))?;
        Ok(SqliteStore { pool })
    }

    async fn job_by_id(
        conn: &mut sqlx::SqliteConnection,
        id: &str,
    ) -> StoreResult<Option<JobRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
        row.as_ref().map(job_from_row).transpose()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn insert_job(&self, job: NewJob, idem: Option<Idempotency>) -> StoreResult<Inserted> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        if let Some(idem) = &idem {
            let seen = sqlx::query(
                "SELECT body_hash, job_id FROM idempotency WHERE user_id = ? AND key = ?",
            )
            .bind(&job.user_id)
            .bind(&idem.key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(row) = seen {
                let hash: String = row.try_get("body_hash").map_err(map_err)?;
                if hash != idem.body_hash {
                    return Err(StoreError::IdempotencyMismatch);
                }
                let id: String = row.try_get("job_id").map_err(map_err)?;
                let first = Self::job_by_id(&mut tx, &id)
                    .await?
                    .ok_or_else(|| StoreError::Internal("idempotent job vanished".into()))?;
                return Ok(Inserted::Existing(first));
            }
        }
        sqlx::query(
            "INSERT INTO jobs (id, user_id, name, batch, priority, status, services, source, \
             destination, notification_url, notify_secret, secrets, created) \
             VALUES (?, ?, ?, ?, ?, 'submitted', ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&job.id)
        .bind(&job.user_id)
        .bind(&job.name)
        .bind(&job.batch)
        .bind(job.priority)
        .bind(to_json(&job.services))
        .bind(to_json(&job.source))
        .bind(to_json(&job.destination))
        .bind(&job.notification_url)
        .bind(&job.notify_secret)
        .bind(&job.secrets)
        .bind(job.created_ms)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if let Some(idem) = &idem {
            sqlx::query(
                "INSERT INTO idempotency (user_id, key, body_hash, job_id, created) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&job.user_id)
            .bind(&idem.key)
            .bind(&idem.body_hash)
            .bind(&job.id)
            .bind(job.created_ms)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        let created = Self::job_by_id(&mut tx, &job.id)
            .await?
            .ok_or_else(|| StoreError::Internal("inserted job not found".into()))?;
        tx.commit().await.map_err(map_err)?;
        Ok(Inserted::Created(created))
    }

    async fn get_job(&self, user_id: &str, id: &str) -> StoreResult<Option<JobRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND user_id = ?"
        )))
        .bind(id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, user_id: &str, q: &ListQuery) -> StoreResult<(Vec<JobRecord>, i64)> {
        fn filters(b: &mut QueryBuilder<Sqlite>, user_id: &str, q: &ListQuery) {
            b.push(" WHERE user_id = ").push_bind(user_id);
            if let Some(s) = q.status {
                b.push(" AND status = ").push_bind(s.as_str());
            }
            if let Some(batch) = &q.batch {
                b.push(" AND batch = ").push_bind(batch);
            }
            if let Some(name) = &q.name {
                b.push(" AND lower(name) LIKE ")
                    .push_bind(like_pattern(name))
                    .push(" ESCAPE '\\'");
            }
            if let Some(t) = q.created_after_ms {
                b.push(" AND created > ").push_bind(t);
            }
            if let Some(t) = q.created_before_ms {
                b.push(" AND created < ").push_bind(t);
            }
        }
        let mut count = QueryBuilder::new("SELECT COUNT(*) AS n FROM jobs");
        filters(&mut count, user_id, q);
        let total: i64 = count
            .build()
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?
            .try_get("n")
            .map_err(map_err)?;

        let mut page = QueryBuilder::new(format!("SELECT {JOB_COLUMNS} FROM jobs"));
        filters(&mut page, user_id, q);
        let dir = if q.descending { "DESC" } else { "ASC" };
        match q.sort_by {
            SortBy::Created => page.push(format!(" ORDER BY created {dir}, id {dir}")),
            SortBy::Completed => page.push(format!(
                " ORDER BY completed IS NULL, completed {dir}, id {dir}"
            )),
        };
        page.push(" LIMIT ")
            .push_bind(q.page_size)
            .push(" OFFSET ")
            .push_bind((q.page_number - 1) * q.page_size);
        let rows = page.build().fetch_all(&self.pool).await.map_err(map_err)?;
        let jobs = rows.iter().map(job_from_row).collect::<StoreResult<_>>()?;
        Ok((jobs, total))
    }

    async fn cancel_job(&self, user_id: &str, id: &str, now_ms: i64) -> StoreResult<CancelOutcome> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET status = 'cancelled', completed = ?, secrets = NULL, \
             lease_expires = NULL, {NOTIFY_ON_END} \
             WHERE id = ? AND user_id = ? AND output_key IS NULL \
             AND status IN ('submitted', 'preflight', 'in_progress')"
        )))
        .bind(now_ms)
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        let job = Self::job_by_id(&mut tx, id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(cancel_outcome(job, user_id, done))
    }

    async fn count_by_status(&self) -> StoreResult<Vec<(Status, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(status_counts(&rows))
    }

    async fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        max_attempts: i64,
    ) -> StoreResult<Option<Claim>> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET status = 'failed', completed = ?, secrets = NULL, \
             lease_expires = NULL, error = 'the job was interrupted ' || attempt || \
             ' times (worker crashed or stalled); giving up', {NOTIFY_ON_END} \
             WHERE status IN {LIVE} AND lease_expires < ? AND attempt >= ?"
        )))
        .bind(now_ms)
        .bind(now_ms)
        .bind(max_attempts)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let next = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT j.id, j.status FROM jobs j LEFT JOIN fairness f ON f.user_id = j.user_id \
             WHERE (j.status = 'submitted' AND j.not_before <= ?) \
                OR (j.status IN {LIVE} AND j.lease_expires < ?) \
             ORDER BY j.priority DESC, COALESCE(f.last_claim, 0) ASC, j.created ASC, j.id ASC \
             LIMIT 1"
        )))
        .bind(now_ms)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(next) = next else {
            tx.commit().await.map_err(map_err)?;
            return Ok(None);
        };
        let id: String = next.try_get("id").map_err(map_err)?;
        let prev_status: String = next.try_get("status").map_err(map_err)?;
        let row = sqlx::query(
            "UPDATE jobs SET status = 'preflight', attempt = attempt + 1, lease_expires = ?, \
             started = COALESCE(started, ?), progress = 0 WHERE id = ? \
             RETURNING user_id, attempt, secrets, output_key",
        )
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(&id)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let user_id: String = row.try_get("user_id").map_err(map_err)?;
        sqlx::query(
            "INSERT INTO fairness (user_id, last_claim) \
             VALUES (?, (SELECT COALESCE(MAX(last_claim), 0) + 1 FROM fairness)) \
             ON CONFLICT (user_id) DO UPDATE SET last_claim = excluded.last_claim",
        )
        .bind(&user_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let job = Self::job_by_id(&mut tx, &id)
            .await?
            .ok_or_else(|| StoreError::Internal("claimed job vanished".into()))?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(Claim {
            lease: Lease {
                job_id: id,
                attempt: row.try_get("attempt").map_err(map_err)?,
            },
            job,
            secrets: row.try_get("secrets").map_err(map_err)?,
            output_key: row.try_get("output_key").map_err(map_err)?,
            recovered: prev_status != "submitted",
        }))
    }

    async fn heartbeat(&self, lease: &Lease, until_ms: i64, progress: i64) -> StoreResult<bool> {
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET lease_expires = ?, progress = MAX(progress, ?) \
             WHERE id = ? AND attempt = ? AND status IN {LIVE}"
        )))
        .bind(until_ms)
        .bind(progress)
        .bind(&lease.job_id)
        .bind(lease.attempt)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(n.rows_affected() == 1)
    }

    async fn advance(&self, lease: &Lease, status: Status, progress: i64) -> StoreResult<bool> {
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET status = ?, progress = ? WHERE id = ? AND attempt = ? \
             AND status IN {LIVE}"
        )))
        .bind(status.as_str())
        .bind(progress)
        .bind(&lease.job_id)
        .bind(lease.attempt)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(n.rows_affected() == 1)
    }

    async fn reserve_output(&self, lease: &Lease, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET output_key = COALESCE(output_key, ?) WHERE id = ? AND attempt = ? \
             AND status IN {LIVE} RETURNING output_key"
        )))
        .bind(key)
        .bind(&lease.job_id)
        .bind(lease.attempt)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(|r| r.try_get("output_key").map_err(map_err))
            .transpose()
    }

    async fn finish(&self, lease: &Lease, outcome: &Finish, now_ms: i64) -> StoreResult<bool> {
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET status = ?, error = ?, error_count = ?, output_path = ?, \
             completed = ?, secrets = NULL, lease_expires = NULL, \
             progress = CASE WHEN ? = 'completed' THEN 100 ELSE progress END, {NOTIFY_ON_END} \
             WHERE id = ? AND attempt = ? AND status IN {LIVE}"
        )))
        .bind(outcome.status.as_str())
        .bind(&outcome.error)
        .bind(outcome.error_count)
        .bind(&outcome.output_path)
        .bind(now_ms)
        .bind(outcome.status.as_str())
        .bind(&lease.job_id)
        .bind(lease.attempt)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(n.rows_affected() == 1)
    }

    async fn retry_later(&self, lease: &Lease, not_before_ms: i64) -> StoreResult<bool> {
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET status = 'submitted', not_before = ?, lease_expires = NULL, \
             progress = 0 WHERE id = ? AND attempt = ? AND status IN {LIVE}"
        )))
        .bind(not_before_ms)
        .bind(&lease.job_id)
        .bind(lease.attempt)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(n.rows_affected() == 1)
    }

    async fn due_webhooks(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<DueWebhook>> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET notify_next_at = ?, notify_attempts = notify_attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE notify_state = 'pending' \
                          AND notify_next_at <= ? ORDER BY notify_next_at LIMIT ?) \
             RETURNING {JOB_COLUMNS}, notify_secret, notify_attempts"
        )))
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter().map(due_webhook).collect()
    }

    async fn webhook_outcome(&self, job_id: &str, outcome: WebhookOutcome) -> StoreResult<()> {
        let (state, next_at) = webhook_state(outcome);
        sqlx::query(
            "UPDATE jobs SET notify_state = ?, notify_next_at = ?, \
             notify_secret = CASE WHEN ? = 'pending' THEN notify_secret END \
             WHERE id = ? AND notify_state = 'pending'",
        )
        .bind(state)
        .bind(next_at)
        .bind(state)
        .bind(job_id)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn insert_key(&self, key: &KeyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO access_keys (access_key, user_id, secret_sealed, view_only, created) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&key.access_key)
        .bind(&key.user_id)
        .bind(&key.secret_sealed)
        .bind(key.view_only as i64)
        .bind(key.created_ms)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_key(&self, access_key: &str) -> StoreResult<Option<KeyRecord>> {
        let row = sqlx::query("SELECT * FROM access_keys WHERE access_key = ?")
            .bind(access_key)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn count_keys(&self) -> StoreResult<i64> {
        sqlx::query("SELECT COUNT(*) AS n FROM access_keys")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?
            .try_get("n")
            .map_err(map_err)
    }

    async fn bucket_owner(&self, bucket: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT user_id FROM buckets WHERE name = ?")
            .bind(bucket)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(|r| r.try_get("user_id").map_err(map_err))
            .transpose()
    }

    async fn claim_bucket(&self, bucket: &str, user_id: &str, now_ms: i64) -> StoreResult<bool> {
        let n = sqlx::query(
            "INSERT INTO buckets (name, user_id, created) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(bucket)
        .bind(user_id)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(n.rows_affected() == 1)
    }
}
