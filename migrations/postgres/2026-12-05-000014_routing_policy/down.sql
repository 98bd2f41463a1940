ALTER TABLE campaigns DROP COLUMN routing;
