-- Worker writes are fenced by a token drawn afresh at every claim. Unlike the attempt number,
-- a token cannot repeat when a claim is lost in a database crash (worker writes commit
-- without waiting for the disk on Postgres), so two workers never hold the same lease.
ALTER TABLE jobs ADD COLUMN lease_token TEXT;
