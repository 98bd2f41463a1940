DROP INDEX calls_ivr;
ALTER TABLE calls DROP COLUMN route_label;
ALTER TABLE calls DROP COLUMN ivr_secs;
ALTER TABLE calls DROP COLUMN ivr_attempt;
ALTER TABLE calls DROP COLUMN ivr_question;
ALTER TABLE calls DROP COLUMN ivr_outcome;
ALTER TABLE buyers DROP COLUMN labels;
ALTER TABLE campaigns DROP COLUMN ivr;
