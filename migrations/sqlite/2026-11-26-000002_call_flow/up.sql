-- The call flow: live buyer load (the slot counters), calls, their buyer legs and their events.

-- Changed only by routing (reserve/release), so operator edits of a buyer never contend with calls.
CREATE TABLE buyer_load (
    buyer_id     INTEGER PRIMARY KEY REFERENCES buyers (id) ON DELETE CASCADE,
    in_progress  INTEGER NOT NULL DEFAULT 0,
    hour_key     BIGINT NOT NULL DEFAULT 0,
    hour_count   INTEGER NOT NULL DEFAULT 0,
    day_key      BIGINT NOT NULL DEFAULT 0,
    day_count    INTEGER NOT NULL DEFAULT 0,
    month_key    BIGINT NOT NULL DEFAULT 0,
    month_count  INTEGER NOT NULL DEFAULT 0,
    total_calls  BIGINT NOT NULL DEFAULT 0,
    last_call_at TIMESTAMP
);
INSERT INTO buyer_load (buyer_id) SELECT id FROM buyers;

CREATE TABLE calls (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    call_sid                TEXT NOT NULL,
    campaign_id             INTEGER REFERENCES campaigns (id) ON DELETE SET NULL,
    number_id               INTEGER REFERENCES phone_numbers (id) ON DELETE SET NULL,
    publisher_id            INTEGER REFERENCES publishers (id) ON DELETE SET NULL,
    buyer_id                INTEGER REFERENCES buyers (id) ON DELETE SET NULL,
    caller                  TEXT NOT NULL,
    dialled                 TEXT NOT NULL,
    caller_state            TEXT,
    caller_state_source     TEXT,
    caller_city             TEXT,
    caller_zip              TEXT,
    status                  TEXT NOT NULL,
    outcome                 TEXT NOT NULL,
    attempts                INTEGER NOT NULL DEFAULT 0,
    started_at              TIMESTAMP NOT NULL,
    ringing_at              TIMESTAMP,
    answered_at             TIMESTAMP,
    connected_at            TIMESTAMP,
    ended_at                TIMESTAMP,
    duration_secs           INTEGER,
    billable_secs           INTEGER,
    recording_sid           TEXT,
    recording_url           TEXT,
    recording_duration_secs INTEGER,
    recording_channels      INTEGER,
    last_sequence           INTEGER,
    updated_at              TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX calls_call_sid_key ON calls (call_sid);
CREATE INDEX calls_started_at ON calls (started_at);
CREATE INDEX calls_campaign_started ON calls (campaign_id, started_at);
CREATE INDEX calls_publisher_started ON calls (publisher_id, started_at);
CREATE INDEX calls_buyer_started ON calls (buyer_id, started_at);
CREATE INDEX calls_caller_started ON calls (caller, started_at);

-- One row per attempt to put the call through to a buyer: the reserved slot.
CREATE TABLE call_legs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id       INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    attempt       INTEGER NOT NULL,
    buyer_id      INTEGER REFERENCES buyers (id) ON DELETE SET NULL,
    dial_call_sid TEXT,
    status        TEXT NOT NULL,
    released      BOOLEAN NOT NULL DEFAULT 0,
    reserved_at   TIMESTAMP NOT NULL,
    ringing_at    TIMESTAMP,
    answered_at   TIMESTAMP,
    ended_at      TIMESTAMP,
    duration_secs INTEGER,
    last_sequence INTEGER,
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX call_legs_call ON call_legs (call_id);
CREATE INDEX call_legs_unreleased ON call_legs (released, expires_at);

-- What happened to a call, in order: routing decisions with every candidate's reason, attempts,
-- status callbacks, recordings.
CREATE TABLE call_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at      TIMESTAMP NOT NULL,
    kind    TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX call_events_call ON call_events (call_id, id);
