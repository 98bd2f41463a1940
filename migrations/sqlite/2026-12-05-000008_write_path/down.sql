CREATE TABLE call_rollups_one (
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
INSERT INTO call_rollups_one SELECT level, hour, campaign_id, publisher_id, buyer_id, number_id, SUM(calls), SUM(answered),
    SUM(qualified), SUM(duplicates), SUM(no_buyer), SUM(talk_secs), SUM(revenue_micros), SUM(payout_micros), SUM(cost_micros),
    SUM(offered), SUM(connected)
FROM call_rollups GROUP BY level, hour, campaign_id, publisher_id, buyer_id, number_id;
DROP TABLE call_rollups;
ALTER TABLE call_rollups_one RENAME TO call_rollups;
CREATE INDEX call_rollups_number ON call_rollups (level, number_id, hour);
CREATE INDEX call_rollups_buyer ON call_rollups (level, buyer_id, hour);
DROP TRIGGER publishers_directory_insert;
DROP TRIGGER publishers_directory_update;
DROP TRIGGER publishers_directory_delete;
DROP TRIGGER campaigns_directory_insert;
DROP TRIGGER campaigns_directory_update;
DROP TRIGGER campaigns_directory_delete;
DROP TRIGGER buyers_directory_insert;
DROP TRIGGER buyers_directory_update;
DROP TRIGGER buyers_directory_delete;
DROP TRIGGER campaign_buyers_directory_insert;
DROP TRIGGER campaign_buyers_directory_update;
DROP TRIGGER campaign_buyers_directory_delete;
DROP TRIGGER campaign_publishers_directory_insert;
DROP TRIGGER campaign_publishers_directory_update;
DROP TRIGGER campaign_publishers_directory_delete;
DROP TRIGGER phone_numbers_directory_insert;
DROP TRIGGER phone_numbers_directory_update;
DROP TRIGGER phone_numbers_directory_delete;
DROP TRIGGER twilio_account_directory_insert;
DROP TRIGGER twilio_account_directory_update;
DROP TRIGGER twilio_account_directory_delete;
DROP TABLE directory_version;
ALTER TABLE calls DROP COLUMN version;
