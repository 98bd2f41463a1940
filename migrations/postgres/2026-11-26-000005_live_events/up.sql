-- Live events (`GET /api/events`): one row per call change pushed to dashboards. The id is the
-- SSE event id: global and increasing in commit order (writers take an advisory lock before
-- inserting), so `Last-Event-ID` works on any instance. Rows older than the retention are pruned.
CREATE TABLE live_events (
    id           BIGSERIAL PRIMARY KEY,
    at           TIMESTAMP NOT NULL,
    kind         TEXT NOT NULL,
    call_id      BIGINT,
    publisher_id BIGINT,
    payload      TEXT NOT NULL
);
CREATE INDEX live_events_at ON live_events (at);
CREATE INDEX live_events_publisher ON live_events (publisher_id, id);
