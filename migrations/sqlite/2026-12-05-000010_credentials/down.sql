DROP INDEX api_keys_created_by;
ALTER TABLE users DROP COLUMN token_version;
