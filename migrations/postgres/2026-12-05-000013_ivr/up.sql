-- A campaign's IVR (a JSON object: its questions and what their answers do; `{}`: none), and the
-- labels an IVR answer can keep a call to (a JSON list per buyer).
ALTER TABLE campaigns ADD COLUMN ivr TEXT NOT NULL DEFAULT '{}';
ALTER TABLE buyers ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
-- A call's IVR: where it stands or how it ended, the question it is on (or ended on) and the
-- try, the seconds it took (never billable), and the buyer label an answer kept the call to.
ALTER TABLE calls ADD COLUMN ivr_outcome TEXT;
ALTER TABLE calls ADD COLUMN ivr_question INTEGER;
ALTER TABLE calls ADD COLUMN ivr_attempt INTEGER;
ALTER TABLE calls ADD COLUMN ivr_secs INTEGER;
ALTER TABLE calls ADD COLUMN route_label TEXT;
-- The IVR funnel and the calls filter read calls by campaign and IVR outcome.
CREATE INDEX calls_ivr ON calls (campaign_id, started_at, ivr_outcome) WHERE ivr_outcome IS NOT NULL;
