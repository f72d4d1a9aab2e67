CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    batch         TEXT,
    priority      BIGINT NOT NULL,
    status        TEXT NOT NULL,
    services      TEXT NOT NULL,
    source        TEXT NOT NULL,
    destination   TEXT NOT NULL,
    notification_url TEXT,
    secrets       BYTEA,
    created       BIGINT NOT NULL,
    started       BIGINT,
    completed     BIGINT,
    attempt       BIGINT NOT NULL DEFAULT 0,
    lease_expires BIGINT,
    not_before    BIGINT NOT NULL DEFAULT 0,
    progress      BIGINT NOT NULL DEFAULT 0,
    error         TEXT,
    error_count   BIGINT NOT NULL DEFAULT 0,
    output_key    TEXT,
    output_path   TEXT,
    -- Webhook outbox: set to 'pending' with the terminal status, delivered at least once.
    notify_secret   BYTEA,
    notify_state    TEXT,
    notify_attempts BIGINT NOT NULL DEFAULT 0,
    notify_next_at  BIGINT
);

CREATE INDEX jobs_user_created ON jobs (user_id, created);
CREATE INDEX jobs_webhooks ON jobs (notify_next_at) WHERE notify_state = 'pending';
CREATE INDEX jobs_queue ON jobs (status, priority DESC, created)
    WHERE status IN ('submitted', 'preflight', 'in_progress');

-- Round-robin between users: the user served least recently goes first.
CREATE TABLE fairness (
    user_id    TEXT PRIMARY KEY,
    last_claim BIGINT NOT NULL
);

CREATE TABLE idempotency (
    user_id   TEXT NOT NULL,
    key       TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    job_id    TEXT NOT NULL,
    created   BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE access_keys (
    access_key    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    view_only     BIGINT NOT NULL,
    created       BIGINT NOT NULL
);

-- Owner of each bucket of the embedded storage (the user whose key created it).
CREATE TABLE buckets (
    name    TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created BIGINT NOT NULL
);

-- Claim order between users: the user served least recently goes first.
CREATE SEQUENCE fairness_seq;
