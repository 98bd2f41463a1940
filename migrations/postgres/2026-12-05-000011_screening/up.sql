-- Screening callers before any buyer rings (issue 22).

-- A call's tags (a JSON object of name -> text value), and the screening rule that blocked it.
ALTER TABLE calls ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
ALTER TABLE calls ADD COLUMN blocked_by TEXT;
CREATE INDEX calls_blocked_by ON calls (blocked_by, started_at) WHERE blocked_by IS NOT NULL;

-- A campaign's screening settings (a JSON object; absent keys take their defaults, which screen
-- nobody). Buyers' tag rules (a JSON list), and an assignment's own (NULL: the buyer's).
ALTER TABLE campaigns ADD COLUMN screening TEXT NOT NULL DEFAULT '{}';
ALTER TABLE buyers ADD COLUMN tag_rules TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaign_buyers ADD COLUMN tag_rules TEXT;

-- Blocked calls, summed like the other figures.
ALTER TABLE call_rollups ADD COLUMN blocked BIGINT NOT NULL DEFAULT 0;

-- Blocked caller numbers and prefixes, global (campaign_id NULL) or per campaign. Read into each
-- instance's directory (the version trigger below), so checking a call costs no statement.
CREATE TABLE blocklist (
    id          BIGSERIAL PRIMARY KEY,
    number      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('exact', 'prefix')),
    campaign_id BIGINT REFERENCES campaigns (id) ON DELETE CASCADE,
    note        TEXT,
    expires_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX blocklist_campaign ON blocklist (campaign_id, id);
CREATE TRIGGER blocklist_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON blocklist
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();

-- The buyer a repeat caller was sent back to (the campaign's `same_buyer` repeat rule): a
-- failover never offers the call to anyone else.
ALTER TABLE calls ADD COLUMN repeat_buyer_id BIGINT REFERENCES buyers (id) ON DELETE SET NULL;
