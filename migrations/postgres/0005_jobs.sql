-- Background jobs (eager transformations, webhook notifications): a durable queue. A job is
-- claimed by setting `state = 'running'` with a lease; a claimer that dies leaves a lease that
-- runs out, and the job is claimed again. Failed jobs stay, with their last error, until they
-- are retried or given up (`state = 'failed'`): nothing is dropped silently.
-- Times are Unix milliseconds.

CREATE TABLE jobs (
    id          TEXT    PRIMARY KEY,
    cloud       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    attempts    BIGINT  NOT NULL,
    run_after   BIGINT  NOT NULL,
    lease_until BIGINT,
    last_error  TEXT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE INDEX jobs_ready ON jobs (state, run_after);
