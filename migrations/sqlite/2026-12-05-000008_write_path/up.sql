-- The call row's version: every change to a call or its legs bumps it, and each change is written
-- only if the version is still the one it was computed from.
ALTER TABLE calls ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- The directory's version: numbers, campaigns, buyers, publishers, their assignments and the
-- Twilio account. Every change to them bumps it (triggers, so no writer can forget), and the
-- in-memory copy is checked against it in the statements of the call flow.
CREATE TABLE directory_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);
CREATE TRIGGER publishers_directory_insert AFTER INSERT ON publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER publishers_directory_update AFTER UPDATE ON publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER publishers_directory_delete AFTER DELETE ON publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaigns_directory_insert AFTER INSERT ON campaigns BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaigns_directory_update AFTER UPDATE ON campaigns BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaigns_directory_delete AFTER DELETE ON campaigns BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER buyers_directory_insert AFTER INSERT ON buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER buyers_directory_update AFTER UPDATE ON buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER buyers_directory_delete AFTER DELETE ON buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_buyers_directory_insert AFTER INSERT ON campaign_buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_buyers_directory_update AFTER UPDATE ON campaign_buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_buyers_directory_delete AFTER DELETE ON campaign_buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_publishers_directory_insert AFTER INSERT ON campaign_publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_publishers_directory_update AFTER UPDATE ON campaign_publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_publishers_directory_delete AFTER DELETE ON campaign_publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER phone_numbers_directory_insert AFTER INSERT ON phone_numbers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER phone_numbers_directory_update AFTER UPDATE ON phone_numbers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER phone_numbers_directory_delete AFTER DELETE ON phone_numbers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER twilio_account_directory_insert AFTER INSERT ON twilio_account BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER twilio_account_directory_update AFTER UPDATE ON twilio_account BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER twilio_account_directory_delete AFTER DELETE ON twilio_account BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

-- Rollup rows are spread over shards (a call's shard: its id modulo 16), so concurrent
-- settlements of the same hour add to different rows. Queries sum over the shards.
CREATE TABLE call_rollups_sharded (
    level               BIGINT NOT NULL,
    hour                BIGINT NOT NULL,
    campaign_id         BIGINT NOT NULL,
    publisher_id        BIGINT NOT NULL,
    buyer_id            BIGINT NOT NULL,
    number_id           BIGINT NOT NULL,
    shard               BIGINT NOT NULL DEFAULT 0,
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
    PRIMARY KEY (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard)
);
INSERT INTO call_rollups_sharded (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard, calls, answered, qualified,
    duplicates, no_buyer, talk_secs, revenue_micros, payout_micros, cost_micros, offered, connected)
SELECT level, hour, campaign_id, publisher_id, buyer_id, number_id, 0, calls, answered, qualified, duplicates, no_buyer, talk_secs,
    revenue_micros, payout_micros, cost_micros, offered, connected FROM call_rollups;
DROP TABLE call_rollups;
ALTER TABLE call_rollups_sharded RENAME TO call_rollups;
CREATE INDEX call_rollups_number ON call_rollups (level, number_id, hour);
CREATE INDEX call_rollups_buyer ON call_rollups (level, buyer_id, hour);
