-- Claims look at the head of each user's queue (one index probe per user) instead of sorting
-- the whole queue, and at leased jobs through an index of their own. The predicates repeat
-- the queries' exact terms so that SQLite uses the partial indexes.
DROP INDEX jobs_queue;
CREATE INDEX jobs_user_queue ON jobs (user_id, priority DESC, created, id)
    WHERE status = 'submitted';
CREATE INDEX jobs_leased ON jobs (lease_expires) WHERE status IN ('preflight', 'in_progress');
CREATE INDEX jobs_queued_age ON jobs (created) WHERE status = 'submitted';
-- Every user with jobs has a place in the round robin. (`WHERE true` keeps SQLite from
-- reading ON CONFLICT as a join constraint.)
INSERT INTO fairness (user_id, last_claim) SELECT DISTINCT user_id, 0 FROM jobs WHERE true
    ON CONFLICT (user_id) DO NOTHING;
