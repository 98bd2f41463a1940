-- The repeat-caller lookup (caller, campaign, since) on every routed call: with the campaign in
-- the index, the planner can no longer prefer the (campaign_id, started_at) index and read every
-- recent call of a busy campaign to find one caller's.
DROP INDEX calls_caller_started;
CREATE INDEX calls_caller_campaign_started ON calls (caller, campaign_id, started_at);
