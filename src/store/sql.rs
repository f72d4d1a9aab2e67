//! The store on a SQL database: SQLite for one machine, Postgres for fleets. Both run the
//! same statements through sqlx's `Any` driver; [`Dialect`] holds the few differences.
//! Every write a worker makes is fenced by the token drawn when it claimed the job.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, AnyPool, Arguments, AssertSqlSafe, Row};

use super::dialect::{is_unique_violation, map_err, Dialect};
use super::rows::{
    cancel_outcome, due_webhook, job_from_row, job_timing, key_from_row, like_pattern,
    status_counts, to_json, webhook_state, JOB_COLUMNS,
};
use super::*;

pub struct SqlStore {
    pool: AnyPool,
    /// For writes under a lease; see [`Dialect::connect_worker_pool`].
    worker_pool: AnyPool,
    dialect: Dialect,
    /// Postgres URL for LISTEN (a listener needs its own connection).
    listen_url: Option<String>,
    /// When a claim of this process last looked for expired leases (store time, ms).
    expiry_checked_ms: AtomicI64,
}

/// How often claims look for expired leases while the queue has work. Finished jobs leave
/// index entries behind in the lease index until vacuum, so looking on every claim made each
/// claim walk them; a lease lasts tens of seconds, so a second's delay is immaterial.
const EXPIRY_CHECK_MS: i64 = 1_000;

/// Statuses of a job some worker holds a lease on.
const LIVE: &str = "('preflight', 'in_progress')";

/// LISTEN/NOTIFY channel announcing submissions (Postgres).
const CHANNEL: &str = "airscope_jobs";

/// Set with every terminal status: queue the job's webhook, if it has one, from now.
const NOTIFY_ON_END: &str = "notify_state = CASE WHEN notification_url IS NULL THEN NULL \
    ELSE 'pending' END, notify_next_at = 0";

fn add<'q, T>(args: &mut AnyArguments, value: T) -> String
where
    T: sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + 'q,
{
    args.add(value).expect("plain values encode");
    format!("${}", args.len())
}

impl SqlStore {
    pub async fn open(url: &str, busy_timeout: Duration) -> StoreResult<SqlStore> {
        let dialect = if let Some(path) = url.strip_prefix("sqlite://") {
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
                }
            }
            Dialect::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        let pool = dialect.connect(url, busy_timeout).await?;
        Ok(SqlStore {
            worker_pool: dialect
                .connect_worker_pool(&pool, url, busy_timeout)
                .await?,
            pool,
            dialect,
            listen_url: (dialect == Dialect::Postgres).then(|| url.to_string()),
            expiry_checked_ms: AtomicI64::new(i64::MIN),
        })
    }

    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        self.pool
            .begin_with(self.dialect.begin_write())
            .await
            .map_err(map_err)
    }

    async fn job_by_id(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<JobRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
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
        let mut tx = self.begin().await.map_err(Some)?;
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
        // Claims walk the users in the round robin; a new user joins it as never served.
        sqlx::query(
            "INSERT INTO fairness (user_id, last_claim) VALUES ($1, 0) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(&job.user_id)
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
        if self.dialect == Dialect::Postgres {
            // Delivered at commit to every listening worker.
            sqlx::query(AssertSqlSafe(format!("NOTIFY {CHANNEL}")))
                .execute(&mut *tx)
                .await
                .map_err(|e| Some(map_err(e)))?;
        }
        tx.commit().await.map_err(|e| Some(map_err(e)))?;
        Ok(Inserted::Created(created))
    }

    /// One claim attempt; `expired` also looks at expired leases (and gives up exhausted
    /// jobs) first.
    async fn claim_once(
        &self,
        now_ms: i64,
        lease_ms: i64,
        max_attempts: i64,
        token: &str,
        expired: bool,
    ) -> StoreResult<Option<sqlx::any::AnyRow>> {
        match self.dialect {
            Dialect::Postgres => {
                let sql = if expired { &CLAIM_ANY } else { &CLAIM_QUEUED };
                claim_query(sql.as_str(), now_ms, lease_ms, max_attempts, token)
                    .fetch_optional(&self.worker_pool)
                    .await
                    .map_err(map_err)
            }
            Dialect::Sqlite => {
                self.claim_in_steps(now_ms, lease_ms, max_attempts, token, expired)
                    .await
            }
        }
    }

    /// The claim as a transaction of several statements (SQLite cannot modify data inside a
    /// `WITH`); the same steps as [`claim_statement`].
    async fn claim_in_steps(
        &self,
        now_ms: i64,
        lease_ms: i64,
        max_attempts: i64,
        token: &str,
        expired: bool,
    ) -> StoreResult<Option<sqlx::any::AnyRow>> {
        let mut tx = self.begin().await?;
        let bind = |sql: String| claim_query(sql, now_ms, lease_ms, max_attempts, token);
        let mut picks = vec![(self.dialect.next_queued().to_string(), 0)];
        if expired {
            bind(give_up_exhausted())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            picks.insert(0, (expired_lease(self.dialect), 1));
        }
        let mut taken = None;
        for (pick, recovered) in picks {
            // `$3` and `$4` are bound but not all used; SQLite allows that.
            taken = bind(format!(
                "UPDATE jobs SET {TAKE} WHERE id = ({pick}) \
                 RETURNING {JOB_COLUMNS}, secrets, output_key, {recovered} AS recovered"
            ))
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            if taken.is_some() {
                break;
            }
        }
        if let Some(row) = &taken {
            let user: String = row.try_get("user_id").map_err(map_err)?;
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE fairness SET last_claim = {} WHERE user_id = $1",
                self.dialect.next_fairness()
            )))
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(taken)
    }

    /// Runs a worker's `UPDATE jobs SET {set}`, fenced by its lease; `set` uses the
    /// placeholders of `args`, and the lease is bound after them.
    async fn fenced(&self, set: &str, mut args: AnyArguments, lease: &Lease) -> StoreResult<bool> {
        let sql = format!("UPDATE jobs SET {set} {}", fence(args.len() + 1));
        add(&mut args, lease.job_id.clone());
        add(&mut args, lease.token.clone());
        let n = sqlx::query_with(AssertSqlSafe(sql), args)
            .execute(&self.worker_pool)
            .await
            .map_err(map_err)?;
        Ok(n.rows_affected() == 1)
    }
}

/// Progress never goes back: `$n` unless more was reported already.
fn at_least_progress(n: usize) -> String {
    format!("progress = CASE WHEN progress > ${n} THEN progress ELSE ${n} END")
}

/// `WHERE id = $n AND lease_token = $n+1 ...` for a fenced update whose own values take
/// `$1..$n-1`.
fn fence(first: usize) -> String {
    format!(
        "WHERE id = ${first} AND lease_token = ${} AND status IN {LIVE}",
        first + 1
    )
}

/// The `WHERE` clause of a job listing and its values.
fn list_filter(user_id: &str, q: &ListQuery) -> (String, AnyArguments) {
    let mut args = AnyArguments::default();
    let mut filter = format!(" WHERE user_id = {}", add(&mut args, user_id.to_string()));
    if let Some(s) = q.status {
        filter += &format!(" AND status = {}", add(&mut args, s.as_str()));
    }
    if let Some(batch) = &q.batch {
        filter += &format!(" AND batch = {}", add(&mut args, batch.clone()));
    }
    if let Some(name) = &q.name {
        let p = add(&mut args, like_pattern(name));
        filter += &format!(" AND lower(name) LIKE {p} ESCAPE '\\'");
    }
    if let Some(t) = q.created_after_ms {
        filter += &format!(" AND created > {}", add(&mut args, t));
    }
    if let Some(t) = q.created_before_ms {
        filter += &format!(" AND created < {}", add(&mut args, t));
    }
    (filter, args)
}

/// A claim statement with its values: `$1` now, `$2` lease end, `$3` max attempts, `$4` the
/// new lease token.
fn claim_query<'q, S>(
    sql: S,
    now_ms: i64,
    lease_ms: i64,
    max_attempts: i64,
    token: &str,
) -> sqlx::query::Query<'q, sqlx::Any, AnyArguments>
where
    AssertSqlSafe<S>: sqlx::SqlSafeStr,
{
    sqlx::query(AssertSqlSafe(sql))
        .bind(now_ms)
        .bind(now_ms + lease_ms)
        .bind(max_attempts)
        .bind(token.to_string())
}

/// Sets the claimed job's lease; `$1` now, `$2` lease end, `$4` token.
const TAKE: &str = "status = 'preflight', attempt = attempt + 1, lease_expires = $2, \
    lease_token = $4, started = COALESCE(started, $1), progress = 0";

/// Fails the jobs whose lease expired after their last allowed attempt (`$1` now, `$3`
/// max attempts).
fn give_up_exhausted() -> String {
    format!(
        "UPDATE jobs SET status = 'failed', completed = $1, secrets = NULL, \
         lease_expires = NULL, error = 'the job was interrupted ' || attempt || \
         ' times (worker crashed or stalled); giving up', {NOTIFY_ON_END} \
         WHERE status IN {LIVE} AND lease_expires < $1 AND attempt >= $3"
    )
}

/// A job whose worker crashed or stalled; it goes first, as it had already been started.
fn expired_lease(dialect: Dialect) -> String {
    format!(
        "SELECT id FROM jobs WHERE status IN {LIVE} AND lease_expires < $1 AND attempt < $3 \
         ORDER BY priority DESC, lease_expires LIMIT 1{}",
        dialect.skip_locked()
    )
}

/// The whole claim as one Postgres statement (one round trip, one commit): when `expired`,
/// give up exhausted jobs and pick an expired lease, else the next queued job; take it, and
/// move its user to the back of the round robin. When a concurrent claim is moving the same
/// user, this one leaves it to that one: waiting on its row lock would serialize each user's
/// claims.
fn claim_statement(expired: bool) -> String {
    let (exhausted, pick) = if expired {
        (
            format!("exhausted AS ({}), ", give_up_exhausted()),
            format!(
                "SELECT id AS picked, 1::BIGINT AS recovered FROM ({}) e \
                 UNION ALL SELECT id, 0 FROM ({}) q LIMIT 1",
                expired_lease(Dialect::Postgres),
                Dialect::Postgres.next_queued()
            ),
        )
    } else {
        (
            String::new(),
            format!(
                "SELECT id AS picked, 0::BIGINT AS recovered FROM ({}) q",
                Dialect::Postgres.next_queued()
            ),
        )
    };
    format!(
        "WITH {exhausted}pick AS ({pick}), \
         claimed AS (UPDATE jobs SET {TAKE} FROM pick WHERE id = picked \
                     RETURNING {JOB_COLUMNS}, secrets, output_key, recovered), \
         fair AS (UPDATE fairness SET last_claim = {next} WHERE user_id IN \
                  (SELECT f.user_id FROM fairness f JOIN claimed c ON c.user_id = f.user_id \
                   FOR UPDATE OF f SKIP LOCKED)) \
         SELECT * FROM claimed",
        next = Dialect::Postgres.next_fairness(),
    )
}

// Built once: they are on every claim's path.
static CLAIM_ANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| claim_statement(true));
static CLAIM_QUEUED: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| claim_statement(false));

#[async_trait]
impl Store for SqlStore {
    async fn watch_submissions(&self, notify: Arc<tokio::sync::Notify>) -> StoreResult<()> {
        let Some(url) = self.listen_url.clone() else {
            return Ok(());
        };
        tokio::spawn(async move {
            // Reconnects after a lost connection; polling covers the gap.
            loop {
                match sqlx::postgres::PgListener::connect(&url).await {
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
        let row = sqlx::query(AssertSqlSafe(format!(
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
        let (filter, args) = list_filter(user_id, q);
        let total: i64 = sqlx::query_with(
            AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM jobs{filter}")),
            args,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?
        .try_get("n")
        .map_err(map_err)?;

        let dir = if q.descending { "DESC" } else { "ASC" };
        let order = match q.sort_by {
            SortBy::Created => format!("created {dir}, id {dir}"),
            SortBy::Completed => format!("completed IS NULL, completed {dir}, id {dir}"),
        };
        let (filter, mut args) = list_filter(user_id, q);
        let limit = add(&mut args, q.page_size);
        let offset = add(&mut args, (q.page_number - 1) * q.page_size);
        let rows = sqlx::query_with(
            AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM jobs{filter} ORDER BY {order} \
                 LIMIT {limit} OFFSET {offset}"
            )),
            args,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let jobs = rows.iter().map(job_from_row).collect::<StoreResult<_>>()?;
        Ok((jobs, total))
    }

    async fn cancel_job(&self, user_id: &str, id: &str, now_ms: i64) -> StoreResult<CancelOutcome> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(AssertSqlSafe(format!(
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

    async fn recent_timings(&self, since_ms: i64, limit: i64) -> StoreResult<Vec<JobTiming>> {
        let rows = sqlx::query(
            "SELECT created, started, completed FROM jobs WHERE completed > $1 \
             AND status IN ('completed', 'failed') ORDER BY completed DESC LIMIT $2",
        )
        .bind(since_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(job_timing).collect()
    }

    async fn oldest_queued(&self) -> StoreResult<Option<i64>> {
        // A job sent back by a retry has waited since it became due, not since submission.
        sqlx::query(
            "SELECT MIN(CASE WHEN not_before > created THEN not_before ELSE created END) AS t \
             FROM jobs WHERE status = 'submitted'",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?
        .try_get("t")
        .map_err(map_err)
    }

    async fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        max_attempts: i64,
    ) -> StoreResult<Option<Claim>> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        // Expired leases are looked for at most every EXPIRY_CHECK_MS while queued jobs are
        // being taken, and always when the queue has nothing to give. A clock that went back
        // (another time base) counts as due.
        let last = self.expiry_checked_ms.load(Ordering::Relaxed);
        let due = now_ms < last || now_ms.saturating_sub(last) >= EXPIRY_CHECK_MS;
        let mut taken = None;
        for expired in [due, true] {
            if expired {
                self.expiry_checked_ms.store(now_ms, Ordering::Relaxed);
            }
            taken = self
                .claim_once(now_ms, lease_ms, max_attempts, &token, expired)
                .await?;
            if taken.is_some() || expired {
                break;
            }
        }
        let Some(row) = taken else {
            return Ok(None);
        };
        let job = job_from_row(&row)?;
        Ok(Some(Claim {
            lease: Lease {
                job_id: job.id.clone(),
                attempt: job.attempt,
                token,
            },
            secrets: row.try_get("secrets").map_err(map_err)?,
            output_key: row.try_get("output_key").map_err(map_err)?,
            recovered: row.try_get::<i64, _>("recovered").map_err(map_err)? != 0,
            job,
        }))
    }

    async fn heartbeat(&self, lease: &Lease, until_ms: i64, progress: i64) -> StoreResult<bool> {
        let mut args = AnyArguments::default();
        add(&mut args, until_ms);
        add(&mut args, progress);
        let set = format!("lease_expires = $1, {}", at_least_progress(2));
        self.fenced(&set, args, lease).await
    }

    async fn advance(&self, lease: &Lease, status: Status, progress: i64) -> StoreResult<bool> {
        let mut args = AnyArguments::default();
        add(&mut args, status.as_str());
        add(&mut args, progress);
        // It may land after a heartbeat has reported more.
        let set = format!("status = $1, {}", at_least_progress(2));
        self.fenced(&set, args, lease).await
    }

    async fn reserve_output(&self, lease: &Lease, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "UPDATE jobs SET output_key = COALESCE(output_key, $1) {} RETURNING output_key",
            fence(2)
        )))
        .bind(key)
        .bind(&lease.job_id)
        .bind(&lease.token)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(|r| r.try_get("output_key").map_err(map_err))
            .transpose()
    }

    async fn finish(&self, lease: &Lease, outcome: &Finish, now_ms: i64) -> StoreResult<bool> {
        let mut args = AnyArguments::default();
        add(&mut args, outcome.status.as_str());
        add(&mut args, outcome.error.clone());
        add(&mut args, outcome.error_count);
        add(&mut args, outcome.output_path.clone());
        add(&mut args, now_ms);
        let set = format!(
            "status = $1, error = $2, error_count = $3, output_path = $4, completed = $5, \
             secrets = NULL, lease_expires = NULL, \
             progress = CASE WHEN $1 = 'completed' THEN 100 ELSE progress END, {NOTIFY_ON_END}"
        );
        self.fenced(&set, args, lease).await
    }

    async fn retry_later(&self, lease: &Lease, not_before_ms: i64) -> StoreResult<bool> {
        let mut args = AnyArguments::default();
        add(&mut args, not_before_ms);
        let set = "status = 'submitted', not_before = $1, lease_expires = NULL, progress = 0";
        self.fenced(set, args, lease).await
    }

    async fn due_webhooks(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<DueWebhook>> {
        let mut tx = self.begin().await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE jobs SET notify_next_at = $1, notify_attempts = notify_attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE notify_state = 'pending' \
                          AND notify_next_at <= $2 ORDER BY notify_next_at LIMIT $3{}) \
             RETURNING {JOB_COLUMNS}, notify_secret, notify_attempts",
            self.dialect.skip_locked()
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

    async fn add_gallery_item(&self, item: &NewGalleryItem) -> StoreResult<GalleryEntry> {
        let kind = item.kind.as_str();
        let mut tx = self.begin().await?;
        // The update locks the entry, so a concurrent delete either waits and removes this
        // item too, or commits first: then the update finds nothing (Postgres reads each
        // statement afresh) and the entry is created again.
        let mut entry = None;
        for _ in 0..2 {
            sqlx::query(
                "INSERT INTO gallery_entries (id, user_id, kind, name, created) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, kind, name) DO NOTHING",
            )
            .bind(&item.new_entry_id)
            .bind(&item.user_id)
            .bind(kind)
            .bind(&item.name)
            .bind(item.created_ms)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            entry = sqlx::query(
                "UPDATE gallery_entries SET name = name \
                 WHERE user_id = $1 AND kind = $2 AND name = $3 RETURNING id, created",
            )
            .bind(&item.user_id)
            .bind(kind)
            .bind(&item.name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            if entry.is_some() {
                break;
            }
        }
        let row = entry.ok_or_else(|| {
            StoreError::Unavailable("the entry was deleted while enrolling; retry".into())
        })?;
        let id: String = row.try_get("id").map_err(map_err)?;
        let created_ms: i64 = row.try_get("created").map_err(map_err)?;
        sqlx::query(
            "INSERT INTO gallery_items (id, entry_id, user_id, kind, payload, created) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&item.item_id)
        .bind(&id)
        .bind(&item.user_id)
        .bind(kind)
        .bind(&item.payload)
        .bind(item.created_ms)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let items: i64 = sqlx::query("SELECT COUNT(*) AS n FROM gallery_items WHERE entry_id = $1")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?
            .try_get("n")
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(GalleryEntry {
            id,
            name: item.name.clone(),
            items,
            created_ms,
        })
    }

    async fn list_gallery(
        &self,
        kind: GalleryKind,
        user_id: &str,
    ) -> StoreResult<Vec<GalleryEntry>> {
        let rows = sqlx::query(
            "SELECT e.id, e.name, e.created, COUNT(i.id) AS items FROM gallery_entries e \
             LEFT JOIN gallery_items i ON i.entry_id = e.id \
             WHERE e.user_id = $1 AND e.kind = $2 \
             GROUP BY e.id, e.name, e.created ORDER BY e.created, e.id",
        )
        .bind(user_id)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(GalleryEntry {
                    id: r.try_get("id").map_err(map_err)?,
                    name: r.try_get("name").map_err(map_err)?,
                    items: r.try_get("items").map_err(map_err)?,
                    created_ms: r.try_get("created").map_err(map_err)?,
                })
            })
            .collect()
    }

    async fn delete_gallery_entry(
        &self,
        kind: GalleryKind,
        user_id: &str,
        id: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let gone =
            sqlx::query("DELETE FROM gallery_entries WHERE id = $1 AND user_id = $2 AND kind = $3")
                .bind(id)
                .bind(user_id)
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        sqlx::query("DELETE FROM gallery_items WHERE entry_id = $1 AND user_id = $2 AND kind = $3")
            .bind(id)
            .bind(user_id)
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(gone > 0)
    }

    async fn gallery_items(
        &self,
        kind: GalleryKind,
        user_id: &str,
    ) -> StoreResult<Vec<GalleryItem>> {
        let rows = sqlx::query(
            "SELECT e.id, e.name, i.payload FROM gallery_items i \
             JOIN gallery_entries e ON e.id = i.entry_id \
             WHERE i.user_id = $1 AND i.kind = $2 ORDER BY i.created, i.id",
        )
        .bind(user_id)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(GalleryItem {
                    entry_id: r.try_get("id").map_err(map_err)?,
                    name: r.try_get("name").map_err(map_err)?,
                    payload: r.try_get("payload").map_err(map_err)?,
                })
            })
            .collect()
    }
}
