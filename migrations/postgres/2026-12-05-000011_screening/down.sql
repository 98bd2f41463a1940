ALTER TABLE calls DROP COLUMN repeat_buyer_id;
DROP TABLE blocklist;
ALTER TABLE call_rollups DROP COLUMN blocked;
ALTER TABLE campaign_buyers DROP COLUMN tag_rules;
ALTER TABLE buyers DROP COLUMN tag_rules;
ALTER TABLE campaigns DROP COLUMN screening;
DROP INDEX calls_blocked_by;
ALTER TABLE calls DROP COLUMN blocked_by;
ALTER TABLE calls DROP COLUMN tags;
