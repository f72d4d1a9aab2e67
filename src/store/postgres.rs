//! Postgres backend, for fleets of workers on many machines: claims lock the chosen row with
//! `FOR UPDATE SKIP LOCKED` so concurrent workers never wait on each other, and every write a
//! worker makes is fenced by its attempt number, as in SQLite.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::rows::{
    cancel_outcome, due_webhook, job_from_row, key_from_row, like_pattern, status_counts, to_json,
    webhook_state, JOB_COLUMNS,
};
use super::*;

pub struct PostgresStore {
    pool: PgPool,
}

const LIVE: &str = "('preflight', 'in_progress')";

/// LISTEN/NOTIFY channel announcing submissions.
const CHANNEL: &str = "airscope_jobs";

/// Set with every terminal status: queue the job's webhook, if it has one.
const NOTIFY_ON_END: &str = "notify_state = CASE WHEN notification_url IS NULL THEN NULL \
    ELSE 'pending' END, notify_next_at = 0";

fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        // Connection exceptions, shutdowns, too many connections, lock timeouts.
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| {
                c.starts_with("08") || c.starts_with("57P") || c == "53300" || c == "55P03"
            }) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

impl PostgresStore {
    pub async fn open(url: &str, timeout: Duration) -> StoreResult<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(timeout + Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(map_err)?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration: {e}")))?;
        Ok(PostgresStore { pool })
    }

    async fn job_by_id(conn: &mut PgConnection, id: &str) -> StoreResult<Option<JobRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// One attempt at inserting; `Err(None)` when a concurrent insert took the same
    /// idempotency key first (the caller looks again).
    async fn try_insert(
        &self,
        job: &NewJob,
        idem: &Option<Idempotency>,
    ) -> Result<Inserted, Option<StoreError>> {
        let mut tx = self.pool.begin().await.map_err(|e| Some(map_err(e)))?;
        if let Some(idem) = idem {
            let seen = sqlx::query(
                "SELECT body_hash, job_id FROM idempotency WHERE user_id = $1 AND key = $2",
            )
            .bind(&job.user_id)
            .bind(&idem.key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| Some(map_err(e)))?;
            if let Some(row) = seen {
                let hash: String = row.try_get("body_hash").map_err(|e| Some(map_err(e)))?;
                if hash != idem.body_hash {
                    return Err(Some(StoreError::IdempotencyMismatch));
                }
                let id: String = row.try_get("job_id").map_err(|e| Some(map_err(e)))?;
                let first = Self::job_by_id(&mut tx, &id)
                    .await
                    .map_err(Some)?
                    .ok_or_else(|| Some(StoreError::Internal("idempotent job vanished".into())))?;
                return Ok(Inserted::Existing(first));
            }
        }
        sqlx::query(
            "INSERT INTO jobs (id, user_id, name, batch, priority, status, services, source, \
             destination, notification_url, notify_secret, secrets, created) \
             VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $7, $8, $9, $10, $11, $12)",
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
        .map_err(|e| Some(map_err(e)))?;
        if let Some(idem) = idem {
            let r = sqlx::query(
                "INSERT INTO idempotency (user_id, key, body_hash, job_id, created) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&job.user_id)
            .bind(&idem.key)
            .bind(&idem.body_hash)
            .bind(&job.id)
            .bind(job.created_ms)
            .execute(&mut *tx)
            .await;
            match r {
                Err(e) if is_unique_violation(&e) => return Err(None),
                other => other.map_err(|e| Some(map_err(e)))?,
            };
        }
        let created = Self::job_by_id(&mut tx, &job.id)
            .await
            .map_err(Some)?
            .ok_or_else(|| Some(StoreError::Internal("inserted job not found".into())))?;
        // Delivered at commit to every listening worker.
        sqlx::query(sqlx::AssertSqlSafe(format!("NOTIFY {CHANNEL}")))
            .execute(&mut *tx)
            .await
            .map_err(|e| Some(map_err(e)))?;
        tx.commit().await.map_err(|e| Some(map_err(e)))?;
        Ok(Inserted::Created(created))
    }

    async fn fenced(
        &self,
        sql: String,
        lease: &Lease,
        binds: FencedBinds<'_>,
    ) -> StoreResult<bool> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds.0 {
            q = match b {
                Bind::I64(v) => q.bind(*v),
                Bind::Str(v) => q.bind(*v),
                Bind::OptStr(v) => q.bind(*v),
            };
        }
        let n = q
            .bind(&lease.job_id)
            .bind(lease.attempt)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(n.rows_affected() == 1)
    }
}

/// Values bound before the fencing `id` and `attempt` of a worker's update.
struct FencedBinds<'a>(&'a [Bind<'a>]);

enum Bind<'a> {
    I64(i64),
    Str(&'a str),
    OptStr(&'a Option<String>),
}

#[async_trait]
impl Store for PostgresStore {
    async fn watch_submissions(&self, notify: Arc<tokio::sync::Notify>) -> StoreResult<()> {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            // Reconnects after a lost connection; polling covers the gap.
            loop {
                match PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if listener.listen(CHANNEL).await.is_ok() {
                            while listener.recv().await.is_ok() {
                                notify.notify_waiters();
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot listen for submissions"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn insert_job(&self, job: NewJob, idem: Option<Idempotency>) -> StoreResult<Inserted> {
        // A concurrent submission with the same key can win the race once; then the key exists.
        for _ in 0..2 {
            match self.try_insert(&job, &idem).await {
                Ok(done) => return Ok(done),
                Err(Some(e)) => return Err(e),
                Err(None) => continue,
            }
        }
        Err(StoreError::Internal(
            "idempotency key race did not settle".into(),
        ))
    }

    async fn get_job(&self, user_id: &str, id: &str) -> StoreResult<Option<JobRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND user_id = $2"
        )))
        .bind(id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, user_id: &str, q: &ListQuery) -> StoreResult<(Vec<JobRecord>, i64)> {
        fn filters(b: &mut QueryBuilder<Postgres>, user_id: &str, q: &ListQuery) {
            b.push(" WHERE user_id = ").push_bind(user_id.to_string());
            if let Some(s) = q.status {
                b.push(" AND status = ").push_bind(s.as_str());
            }
            if let Some(batch) = &q.batch {
                b.push(" AND batch = ").push_bind(batch.clone());
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET status = 'cancelled', completed = $1, secrets = NULL, \
             lease_expires = NULL, {NOTIFY_ON_END} \
             WHERE id = $2 AND user_id = $3 AND output_key IS NULL \
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET status = 'failed', completed = $1, secrets = NULL, \
             lease_expires = NULL, error = 'the job was interrupted ' || attempt || \
             ' times (worker crashed or stalled); giving up', {NOTIFY_ON_END} \
             WHERE status IN {LIVE} AND lease_expires < $1 AND attempt >= $2"
        )))
        .bind(now_ms)
        .bind(max_attempts)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let next = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT j.id, j.status FROM jobs j LEFT JOIN fairness f ON f.user_id = j.user_id \
             WHERE (j.status = 'submitted' AND j.not_before <= $1) \
                OR (j.status IN {LIVE} AND j.lease_expires < $1) \
             ORDER BY j.priority DESC, COALESCE(f.last_claim, 0) ASC, j.created ASC, j.id ASC \
             LIMIT 1 FOR UPDATE OF j SKIP LOCKED"
        )))
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
            "UPDATE jobs SET status = 'preflight', attempt = attempt + 1, lease_expires = $1, \
             started = COALESCE(started, $2), progress = 0 WHERE id = $3 \
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
            "INSERT INTO fairness (user_id, last_claim) VALUES ($1, nextval('fairness_seq')) \
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
        let sql = format!(
            "UPDATE jobs SET lease_expires = $1, progress = GREATEST(progress, $2) \
             WHERE id = $3 AND attempt = $4 AND status IN {LIVE}"
        );
        let binds = [Bind::I64(until_ms), Bind::I64(progress)];
        self.fenced(sql, lease, FencedBinds(&binds)).await
    }

    async fn advance(&self, lease: &Lease, status: Status, progress: i64) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE jobs SET status = $1, progress = $2 WHERE id = $3 AND attempt = $4 \
             AND status IN {LIVE}"
        );
        let binds = [Bind::Str(status.as_str()), Bind::I64(progress)];
        self.fenced(sql, lease, FencedBinds(&binds)).await
    }

    async fn reserve_output(&self, lease: &Lease, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET output_key = COALESCE(output_key, $1) WHERE id = $2 AND attempt = $3 \
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
        let sql = format!(
            "UPDATE jobs SET status = $1, error = $2, error_count = $3, output_path = $4, \
             completed = $5, secrets = NULL, lease_expires = NULL, \
             progress = CASE WHEN $1 = 'completed' THEN 100 ELSE progress END, {NOTIFY_ON_END} \
             WHERE id = $6 AND attempt = $7 AND status IN {LIVE}"
        );
        let binds = [
            Bind::Str(outcome.status.as_str()),
            Bind::OptStr(&outcome.error),
            Bind::I64(outcome.error_count),
            Bind::OptStr(&outcome.output_path),
            Bind::I64(now_ms),
        ];
        self.fenced(sql, lease, FencedBinds(&binds)).await
    }

    async fn retry_later(&self, lease: &Lease, not_before_ms: i64) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE jobs SET status = 'submitted', not_before = $1, lease_expires = NULL, \
             progress = 0 WHERE id = $2 AND attempt = $3 AND status IN {LIVE}"
        );
        self.fenced(sql, lease, FencedBinds(&[Bind::I64(not_before_ms)]))
            .await
    }

    async fn due_webhooks(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<DueWebhook>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE jobs SET notify_next_at = $1, notify_attempts = notify_attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE notify_state = 'pending' \
                          AND notify_next_at <= $2 ORDER BY notify_next_at LIMIT $3 \
                          FOR UPDATE SKIP LOCKED) \
             RETURNING {JOB_COLUMNS}, notify_secret, notify_attempts"
        )))
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(due_webhook).collect()
    }

    async fn webhook_outcome(&self, job_id: &str, outcome: WebhookOutcome) -> StoreResult<()> {
        let (state, next_at) = webhook_state(outcome);
        sqlx::query(
            "UPDATE jobs SET notify_state = $1, notify_next_at = $2, \
             notify_secret = CASE WHEN $1 = 'pending' THEN notify_secret END \
             WHERE id = $3 AND notify_state = 'pending'",
        )
        .bind(state)
        .bind(next_at)
        .bind(job_id)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn insert_key(&self, key: &KeyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO access_keys (access_key, user_id, secret_sealed, view_only, created) \
             VALUES ($1, $2, $3, $4, $5)",
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
        let row = sqlx::query("SELECT * FROM access_keys WHERE access_key = $1")
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
        let row = sqlx::query("SELECT user_id FROM buckets WHERE name = $1")
            .bind(bucket)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(|r| r.try_get("user_id").map_err(map_err))
            .transpose()
    }

    async fn claim_bucket(&self, bucket: &str, user_id: &str, now_ms: i64) -> StoreResult<bool> {
        let n = sqlx::query(
            "INSERT INTO buckets (name, user_id, created) VALUES ($1, $2, $3) \
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
