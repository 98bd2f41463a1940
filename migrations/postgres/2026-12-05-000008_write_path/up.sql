-- The call row's version: every change to a call or its legs bumps it, and each change is written
-- only if the version is still the one it was computed from (one statement, no lock held between
-- the read and the write).
ALTER TABLE calls ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- The directory's version: numbers, campaigns, buyers, publishers, their assignments and the
-- Twilio account. Every change to them bumps it (triggers, so no writer can forget), and each
-- instance's in-memory copy is checked against it in the statements of the call flow.
CREATE TABLE directory_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);

CREATE FUNCTION bump_directory_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER publishers_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON publishers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();
CREATE TRIGGER campaigns_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();
CREATE TRIGGER buyers_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON buyers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();
CREATE TRIGGER campaign_buyers_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON campaign_buyers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();
CREATE TRIGGER campaign_publishers_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON campaign_publishers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();
CREATE TRIGGER phone_numbers_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON phone_numbers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();
CREATE TRIGGER twilio_account_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON twilio_account
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();

-- Rollup rows are spread over shards (a call's shard: its id modulo 16), so concurrent
-- settlements of the same hour add to different rows instead of queueing on one row's lock.
-- Queries sum over the shards.
ALTER TABLE call_rollups ADD COLUMN shard BIGINT NOT NULL DEFAULT 0;
ALTER TABLE call_rollups DROP CONSTRAINT call_rollups_pkey;
ALTER TABLE call_rollups ADD PRIMARY KEY (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard);
