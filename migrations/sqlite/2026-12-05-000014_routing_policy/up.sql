-- How a campaign orders the buyers of each priority tier: by weight, by price per call, or by
-- earnings per call measured from the rollups (a JSON object; `{}`: every tier by weight).
ALTER TABLE campaigns ADD COLUMN routing TEXT NOT NULL DEFAULT '{}';
