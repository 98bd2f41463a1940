DROP INDEX calls_caller_campaign_started;
CREATE INDEX calls_caller_started ON calls (caller, started_at);
