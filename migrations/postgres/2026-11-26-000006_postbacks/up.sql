-- Publisher postbacks: on each qualified call, a request to the publisher's URL (a template with
-- {placeholders}), sent by the job queue with retries; every attempt is kept and shown on the call.
ALTER TABLE publishers ADD COLUMN postback_url TEXT;
ALTER TABLE publishers ADD COLUMN postback_method TEXT NOT NULL DEFAULT 'GET';
-- When the call's postback was queued (at most once per call).
ALTER TABLE calls ADD COLUMN postback_at TIMESTAMP;
CREATE TABLE postback_attempts (
    id           BIGSERIAL PRIMARY KEY,
    call_id      BIGINT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    publisher_id BIGINT NOT NULL,
    attempt      INTEGER NOT NULL,
    method       TEXT NOT NULL,
    url          TEXT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    at           TIMESTAMP NOT NULL
);
CREATE INDEX postback_attempts_call ON postback_attempts (call_id, id);
