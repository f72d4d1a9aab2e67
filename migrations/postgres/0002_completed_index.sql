-- Job latency percentiles on /metrics read the newest ended jobs.
CREATE INDEX jobs_completed ON jobs (completed) WHERE completed IS NOT NULL;
