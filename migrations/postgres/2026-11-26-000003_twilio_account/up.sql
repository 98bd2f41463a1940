-- The Twilio account: credentials set through the API, number imports, call cost, transcripts,
-- and the durable job queue the background work runs from.

-- Set through the API (admin); the configuration's TWILIO_* are used while this is empty.
-- One row at most (id = 1). Never returned in full.
CREATE TABLE twilio_account (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    account_sid    TEXT NOT NULL,
    auth_token     TEXT NOT NULL,
    api_key_sid    TEXT,
    api_key_secret TEXT,
    updated_at     TIMESTAMP NOT NULL
);

-- Background work that must survive restarts. A worker claims a job with a conditional UPDATE
-- (status and lease checked in the WHERE clause), so two instances never run the same job.
CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    run_at       TIMESTAMP NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    last_error   TEXT,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
    locked_until TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_kind ON jobs (kind, status);

-- One import of the account's numbers, with its progress.
CREATE TABLE number_imports (
    id              BIGSERIAL PRIMARY KEY,
    status          TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    pages           INTEGER NOT NULL DEFAULT 0,
    processed       INTEGER NOT NULL DEFAULT 0,
    new_count       INTEGER NOT NULL DEFAULT 0,
    updated_count   INTEGER NOT NULL DEFAULT 0,
    unchanged_count INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    created_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);

ALTER TABLE calls ADD COLUMN cost_micros BIGINT;
ALTER TABLE calls ADD COLUMN cost_currency TEXT;
ALTER TABLE calls ADD COLUMN cost_status TEXT;
ALTER TABLE calls ADD COLUMN transcript TEXT;
ALTER TABLE calls ADD COLUMN transcript_status TEXT;
ALTER TABLE calls ADD COLUMN transcript_sid TEXT;

ALTER TABLE campaigns ADD COLUMN transcribe BOOLEAN NOT NULL DEFAULT false;
