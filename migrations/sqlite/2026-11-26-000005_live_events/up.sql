-- Live events (`GET /api/events`): one row per call change pushed to dashboards. The id is the
-- SSE event id (AUTOINCREMENT: never reused, even after pruning), so `Last-Event-ID` works.
CREATE TABLE live_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TIMESTAMP NOT NULL,
    kind         TEXT NOT NULL,
    call_id      INTEGER,
    publisher_id INTEGER,
    payload      TEXT NOT NULL
);
CREATE INDEX live_events_at ON live_events (at);
CREATE INDEX live_events_publisher ON live_events (publisher_id, id);
