//! What differs between the SQLite and Postgres backends: connecting, migrations, how a
//! write transaction starts, row locking for claims, and which errors mean "try later".
//! Everything else is one SQL text, written with `$N` placeholders that both accept.

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

use super::{StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// One file in WAL mode; SQLite serialises writers itself.
    Sqlite,
    /// Many workers on many machines; claims skip rows other workers hold.
    Postgres,
}

impl Dialect {
    /// Opens a write transaction. SQLite takes the write lock up front, so two writers never
    /// deadlock on a lock upgrade.
    pub fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Appended to a queue `SELECT` so concurrent workers never wait on each other's rows.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The id of the next queued job (`$1` is now): the highest priority first, then the user
    /// served least recently, then the oldest. Only the head of each user's queue is looked
    /// at, one index probe per user, so a claim costs the same with ten jobs queued or a
    /// million. On Postgres each head is locked and skipped when another claim holds it.
    pub fn next_queued(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "SELECT j.id FROM fairness f JOIN jobs j ON j.id = ( \
                   SELECT id FROM jobs WHERE user_id = f.user_id AND status = 'submitted' \
                   AND not_before <= $1 ORDER BY priority DESC, created, id LIMIT 1) \
                 ORDER BY j.priority DESC, f.last_claim, j.created, j.id LIMIT 1"
            }
            Dialect::Postgres => {
                "SELECT q.id FROM fairness f CROSS JOIN LATERAL ( \
                   SELECT id, priority, created FROM jobs WHERE user_id = f.user_id \
                   AND status = 'submitted' AND not_before <= $1 \
                   ORDER BY priority DESC, created, id LIMIT 1 FOR UPDATE SKIP LOCKED) q \
                 ORDER BY q.priority DESC, f.last_claim, q.created, q.id LIMIT 1"
            }
        }
    }

    /// The next value of the round-robin clock between users. Postgres uses a sequence, so
    /// concurrent claims do not contend on reading the maximum.
    pub fn next_fairness(self) -> &'static str {
        match self {
            Dialect::Sqlite => "(SELECT COALESCE(MAX(last_claim), 0) + 1 FROM fairness)",
            Dialect::Postgres => "nextval('fairness_seq')",
        }
    }

    pub async fn connect(self, url: &str, busy_timeout: Duration) -> StoreResult<AnyPool> {
        sqlx::any::install_default_drivers();
        let options = pool_options(busy_timeout);
        let pool = match self {
            Dialect::Sqlite => {
                let busy_ms = busy_timeout.as_millis();
                options
                    // Readers run on one thread per connection; more than a few only adds
                    // switching on small machines (measured with bench/api.sh: 4 beat 8 on
                    // 2 cores).
                    .max_connections(4)
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            conn.execute(sqlx::AssertSqlSafe(format!(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {busy_ms};"
                            )))
                            .await
                            .map(|_| ())
                        })
                    })
                    .connect(&format!("{url}?mode=rwc"))
                    .await
            }
            Dialect::Postgres => options.max_connections(8).connect(url).await,
        }
        .map_err(map_err)?;
        self.migrate(&pool).await?;
        Ok(pool)
    }

    /// A second pool for the writes workers make under a lease (claims, heartbeats, progress,
    /// outcomes). On Postgres they commit without waiting for the WAL flush: a write lost in a
    /// database crash only means the lease expires and the job runs again, and the random
    /// lease token keeps the old holder fenced. Everything users are told (submissions,
    /// cancels) and the output key reservation stay durable on the main pool.
    ///
    /// These statements always run on generic plans. Left to choose, Postgres sometimes kept
    /// planning the claim afresh on every call, which cost more than running it (0.59 ms of
    /// planning and 0.57 ms of execution per claim); the generic plan is the same index walk.
    pub async fn connect_worker_pool(
        self,
        main: &AnyPool,
        url: &str,
        busy_timeout: Duration,
    ) -> StoreResult<AnyPool> {
        match self {
            Dialect::Sqlite => Ok(main.clone()),
            Dialect::Postgres => {
                let mut url = url::Url::parse(url)
                    .map_err(|_| StoreError::BadUrl("unparsable postgres URL".into()))?;
                url.query_pairs_mut().append_pair(
                    "options",
                    "-c synchronous_commit=off -c plan_cache_mode=force_generic_plan",
                );
                pool_options(busy_timeout)
                    .max_connections(8)
                    .connect(url.as_str())
                    .await
                    .map_err(map_err)
            }
        }
    }

    async fn migrate(self, pool: &AnyPool) -> StoreResult<()> {
        let migrator = match self {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration: {e}")))
    }
}

fn pool_options(busy_timeout: Duration) -> AnyPoolOptions {
    // Opening a connection can be slow on a loaded machine; waiting for a lock is what
    // `busy_timeout` bounds. No ping before each use: it was a round trip per statement
    // (sqlx still checks a connection when it goes back to the pool), and a connection that
    // died meanwhile fails its statement as `Unavailable`, which every caller retries.
    AnyPoolOptions::new()
        .acquire_timeout(busy_timeout + Duration::from_secs(10))
        .test_before_acquire(false)
}

/// Unreachable, overloaded or locked databases are `Unavailable` (callers answer 503 or retry);
/// anything else is a bug or corruption.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(db) if db.code().is_some_and(|c| unavailable_code(&c)) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

fn unavailable_code(code: &str) -> bool {
    // SQLite: BUSY, LOCKED. Postgres: connection exceptions, shutdowns, too many
    // connections, lock timeouts.
    matches!(code, "5" | "6" | "53300" | "55P03")
        || code.starts_with("08")
        || code.starts_with("57P")
}

pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
