-- Foundation: the directory (publishers, campaigns, buyers, numbers) and access (users, API keys).
-- Timestamps are UTC. Lists of values (schedule, states) are JSON text.

CREATE TABLE publishers (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    contact_name  TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    payout_terms  TEXT,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX publishers_name_key ON publishers (name);

CREATE TABLE campaigns (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    greeting     TEXT NOT NULL,
    busy_message TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX campaigns_name_key ON campaigns (name);

CREATE TABLE buyers (
    id                    BIGSERIAL PRIMARY KEY,
    name                  TEXT NOT NULL,
    phone_number          TEXT NOT NULL,
    status                TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    priority              INTEGER NOT NULL DEFAULT 0,
    weight                INTEGER NOT NULL DEFAULT 1,
    max_concurrent_calls  INTEGER NOT NULL DEFAULT 1,
    cap_hourly            INTEGER,
    cap_daily             INTEGER,
    cap_monthly           INTEGER,
    timezone              TEXT NOT NULL DEFAULT 'UTC',
    schedule              TEXT NOT NULL DEFAULT '[]',
    allowed_states        TEXT NOT NULL DEFAULT '[]',
    denied_states         TEXT NOT NULL DEFAULT '[]',
    sticky_repeat_callers BOOLEAN NOT NULL DEFAULT TRUE,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX buyers_name_key ON buyers (name);

CREATE TABLE campaign_buyers (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    buyer_id    BIGINT NOT NULL REFERENCES buyers (id) ON DELETE CASCADE,
    priority    INTEGER,
    weight      INTEGER,
    PRIMARY KEY (campaign_id, buyer_id)
);
CREATE INDEX campaign_buyers_buyer ON campaign_buyers (buyer_id);

CREATE TABLE phone_numbers (
    id            BIGSERIAL PRIMARY KEY,
    number        TEXT NOT NULL,
    provider_sid  TEXT,
    friendly_name TEXT,
    campaign_id   BIGINT REFERENCES campaigns (id) ON DELETE SET NULL,
    publisher_id  BIGINT REFERENCES publishers (id) ON DELETE SET NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX phone_numbers_number_key ON phone_numbers (number);
CREATE UNIQUE INDEX phone_numbers_provider_sid_key ON phone_numbers (provider_sid);
CREATE INDEX phone_numbers_campaign ON phone_numbers (campaign_id);
CREATE INDEX phone_numbers_publisher ON phone_numbers (publisher_id);

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'publisher')),
    publisher_id  BIGINT REFERENCES publishers (id) ON DELETE RESTRICT,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    CHECK ((role = 'publisher') = (publisher_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'publisher')),
    publisher_id BIGINT REFERENCES publishers (id) ON DELETE CASCADE,
    created_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    CHECK ((role = 'publisher') = (publisher_id IS NOT NULL))
);
CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash);
