DROP TABLE postback_attempts;
ALTER TABLE calls DROP COLUMN postback_at;
ALTER TABLE publishers DROP COLUMN postback_method;
ALTER TABLE publishers DROP COLUMN postback_url;
