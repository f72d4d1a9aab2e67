-- The queue-age gauge now measures from when a job became due (retries included), which this
-- index on the submission time cannot serve; it only cost every submission a write.
DROP INDEX jobs_queued_age;
