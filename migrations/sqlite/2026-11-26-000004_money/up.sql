-- Money rules, their snapshot on each call, and hourly analytics rollups.

-- Campaign rules: buyer price (revenue) and publisher payout per qualified call, the
-- qualification buffer, the duplicate-caller window, the currency; whether reports show callers'
-- full numbers.
ALTER TABLE campaigns ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
ALTER TABLE campaigns ADD COLUMN revenue_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN payout_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN buffer_secs INTEGER NOT NULL DEFAULT 90;
ALTER TABLE campaigns ADD COLUMN duplicate_window_secs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN show_full_caller BOOLEAN NOT NULL DEFAULT 0;

-- Per-buyer overrides of the campaign's price and buffer.
ALTER TABLE campaign_buyers ADD COLUMN revenue_micros BIGINT;
ALTER TABLE campaign_buyers ADD COLUMN buffer_secs INTEGER;

-- Telephony cost (calls.cost_micros, cost_currency) comes from migration 000003.

-- What the money computation settled, with the rule in force (written only by money::settle).
ALTER TABLE calls ADD COLUMN settled_at TIMESTAMP;
ALTER TABLE calls ADD COLUMN money_buyer_id BIGINT;
ALTER TABLE calls ADD COLUMN answered BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN no_buyer BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN talk_secs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN duplicate BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN qualified BOOLEAN;
ALTER TABLE calls ADD COLUMN qualify_reason TEXT;
ALTER TABLE calls ADD COLUMN currency TEXT;
ALTER TABLE calls ADD COLUMN rule_revenue_micros BIGINT;
ALTER TABLE calls ADD COLUMN rule_payout_micros BIGINT;
ALTER TABLE calls ADD COLUMN rule_buffer_secs INTEGER;
ALTER TABLE calls ADD COLUMN rule_duplicate_window_secs INTEGER;
ALTER TABLE calls ADD COLUMN revenue_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN payout_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN counted_cost_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN profit_micros BIGINT;
CREATE INDEX calls_settled_started ON calls (settled_at, started_at);

-- Whether a leg is counted in the rollups as offered / connected.
ALTER TABLE call_legs ADD COLUMN counted BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE call_legs ADD COLUMN counted_connected BOOLEAN NOT NULL DEFAULT 0;

-- Per-publisher payout overrides.
CREATE TABLE campaign_publishers (
    campaign_id   INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    publisher_id  INTEGER NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    payout_micros BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, publisher_id)
);

-- Settled calls summed per UTC hour (epoch seconds) and dimension (0 = none), kept in the same
-- transaction as the call updates. Legs count in `offered`/`connected` under their own buyer.
-- Each call is summed at several levels: `level` is a bit mask of the dimensions kept (1 campaign,
-- 2 publisher, 4 buyer, 8 number; the others are 0), so a query reads the smallest level that
-- has the dimensions it groups or filters by (see money::rollup::LEVELS). Each level also has
-- rows per UTC day (`level` + 16, `hour` = the day's start) for whole days inside a query.
CREATE TABLE call_rollups (
    level               BIGINT NOT NULL,
    hour                BIGINT NOT NULL,
    campaign_id         BIGINT NOT NULL,
    publisher_id        BIGINT NOT NULL,
    buyer_id            BIGINT NOT NULL,
    number_id           BIGINT NOT NULL,
    calls               BIGINT NOT NULL DEFAULT 0,
    answered            BIGINT NOT NULL DEFAULT 0,
    qualified           BIGINT NOT NULL DEFAULT 0,
    duplicates          BIGINT NOT NULL DEFAULT 0,
    no_buyer            BIGINT NOT NULL DEFAULT 0,
    talk_secs           BIGINT NOT NULL DEFAULT 0,
    revenue_micros      BIGINT NOT NULL DEFAULT 0,
    payout_micros       BIGINT NOT NULL DEFAULT 0,
    cost_micros         BIGINT NOT NULL DEFAULT 0,
    offered             BIGINT NOT NULL DEFAULT 0,
    connected           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (level, hour, campaign_id, publisher_id, buyer_id, number_id)
);
CREATE INDEX call_rollups_number ON call_rollups (level, number_id, hour);
CREATE INDEX call_rollups_buyer ON call_rollups (level, buyer_id, hour);
