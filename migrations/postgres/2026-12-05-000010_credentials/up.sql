-- Credentials that die with a change: a session token carries its user's token version and is
-- refused once the version moved on (a password change bumps it).
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
-- API keys are revoked when their creator is deleted or loses the right to grant them.
CREATE INDEX api_keys_created_by ON api_keys (created_by);
