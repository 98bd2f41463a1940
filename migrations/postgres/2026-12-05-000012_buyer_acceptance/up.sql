-- Buyer acceptance (#22): a whisper said to the buyer's agent before the bridge and, optionally,
-- "press 1 to accept". Set per buyer; a campaign assignment may override each setting (NULL:
-- the buyer's; an empty whisper on an assignment: none on that campaign).
ALTER TABLE buyers ADD COLUMN whisper TEXT;
ALTER TABLE buyers ADD COLUMN require_accept BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE buyers ADD COLUMN accept_timeout_secs INTEGER NOT NULL DEFAULT 10;
ALTER TABLE campaign_buyers ADD COLUMN whisper TEXT;
ALTER TABLE campaign_buyers ADD COLUMN require_accept BOOLEAN;
ALTER TABLE campaign_buyers ADD COLUMN accept_timeout_secs INTEGER;
-- Whether a leg's agent had to accept (fixed when the leg is dialled) and when they did: the
-- leg's talk time, and so the buffer, starts there.
ALTER TABLE call_legs ADD COLUMN accept_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE call_legs ADD COLUMN accepted_at TIMESTAMP;
