-- External bidders of a campaign (ring trees): where a ping goes, what it sends and where the bid
-- sits in the answer. `headers` is a JSON object of sealed values (never returned in full).
CREATE TABLE bidders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    url           TEXT NOT NULL,
    method        TEXT NOT NULL DEFAULT 'POST' CHECK (method IN ('GET', 'POST')),
    headers       TEXT NOT NULL DEFAULT '{}',
    body_template TEXT NOT NULL DEFAULT '',
    timeout_ms    INTEGER NOT NULL DEFAULT 1000,
    mapping       TEXT NOT NULL DEFAULT '{}',
    allow_private BOOLEAN NOT NULL DEFAULT 0,
    expose_caller BOOLEAN NOT NULL DEFAULT 0,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX bidders_name_key ON bidders (campaign_id, name);
CREATE TRIGGER bidders_directory_insert AFTER INSERT ON bidders BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bidders_directory_update AFTER UPDATE ON bidders BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bidders_directory_delete AFTER DELETE ON bidders BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

-- Quotes given to publishers through the ping API; a call from the caller to the quoted number
-- before `expires_at` is matched to its quote (`calls.quote_ping_id`).
CREATE TABLE rtb_quotes (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    ping_id           TEXT NOT NULL,
    publisher_id      INTEGER NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    campaign_id       INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    number_id         INTEGER REFERENCES phone_numbers (id) ON DELETE SET NULL,
    caller            TEXT NOT NULL,
    accepted          BOOLEAN NOT NULL,
    reason            TEXT,
    payout_micros     BIGINT,
    currency          TEXT NOT NULL,
    min_duration_secs INTEGER,
    created_at        TIMESTAMP NOT NULL,
    expires_at        TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX rtb_quotes_ping_id ON rtb_quotes (ping_id);
CREATE INDEX rtb_quotes_caller ON rtb_quotes (caller, campaign_id, expires_at);
CREATE INDEX rtb_quotes_publisher ON rtb_quotes (publisher_id, created_at);

-- Every ping of a bidder: for a call (`call_id`) or a publisher's quote (`quote_id`).
CREATE TABLE bid_pings (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id       INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    bidder_id         INTEGER REFERENCES bidders (id) ON DELETE SET NULL,
    bidder_name       TEXT NOT NULL,
    call_id           INTEGER REFERENCES calls (id) ON DELETE CASCADE,
    quote_id          INTEGER REFERENCES rtb_quotes (id) ON DELETE CASCADE,
    at                TIMESTAMP NOT NULL,
    latency_ms        INTEGER NOT NULL,
    outcome           TEXT NOT NULL,
    detail            TEXT,
    bid_micros        BIGINT,
    dial_to           TEXT,
    expires_at        TIMESTAMP,
    min_duration_secs INTEGER
);
CREATE INDEX bid_pings_call ON bid_pings (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX bid_pings_quote ON bid_pings (quote_id) WHERE quote_id IS NOT NULL;
CREATE INDEX bid_pings_campaign ON bid_pings (campaign_id, at);

-- A leg dialled on a bid: the bidder, what was dialled, the bid and its minimum duration.
ALTER TABLE call_legs ADD COLUMN bidder_id INTEGER REFERENCES bidders (id) ON DELETE SET NULL;
ALTER TABLE call_legs ADD COLUMN dial_to TEXT;
ALTER TABLE call_legs ADD COLUMN bid_micros BIGINT;
ALTER TABLE call_legs ADD COLUMN bid_min_duration_secs INTEGER;
-- The bidder credited with a settled call's money, and the publisher's quote the call matched.
ALTER TABLE calls ADD COLUMN money_bidder_id BIGINT;
ALTER TABLE calls ADD COLUMN quote_ping_id TEXT;
ALTER TABLE calls ADD COLUMN quote_payout_micros BIGINT;
CREATE INDEX calls_quote ON calls (quote_ping_id) WHERE quote_ping_id IS NOT NULL;
