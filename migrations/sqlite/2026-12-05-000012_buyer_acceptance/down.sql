ALTER TABLE call_legs DROP COLUMN accepted_at;
ALTER TABLE call_legs DROP COLUMN accept_required;
ALTER TABLE campaign_buyers DROP COLUMN accept_timeout_secs;
ALTER TABLE campaign_buyers DROP COLUMN require_accept;
ALTER TABLE campaign_buyers DROP COLUMN whisper;
ALTER TABLE buyers DROP COLUMN accept_timeout_secs;
ALTER TABLE buyers DROP COLUMN require_accept;
ALTER TABLE buyers DROP COLUMN whisper;
