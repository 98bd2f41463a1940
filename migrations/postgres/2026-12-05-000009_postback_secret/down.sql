ALTER TABLE publishers DROP COLUMN postback_secret;
