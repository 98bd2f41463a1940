-- The call row's version: every change to a call or its legs bumps it, and each change is written
-- only if the version is still the one it was computed from.
ALTER TABLE calls ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- The directory's version: numbers, campaigns, buyers, publishers, their assignments and the
-- Twilio account. Every change to them bumps it (triggers, so no writer can forget), and the
-- in-memory copy is checked against it in the statements of the call flow.
CREATE TABLE directory_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);
CREATE TRIGGER publishers_directory_insert AFTER INSERT ON publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER publishers_directory_update AFTER UPDATE ON publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER publishers_directory_delete AFTER DELETE ON publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaigns_directory_insert AFTER INSERT ON campaigns BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaigns_directory_update AFTER UPDATE ON campaigns BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaigns_directory_delete AFTER DELETE ON campaigns BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER buyers_directory_insert AFTER INSERT ON buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER buyers_directory_update AFTER UPDATE ON buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER buyers_directory_delete AFTER DELETE ON buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_buyers_directory_insert AFTER INSERT ON campaign_buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_buyers_directory_update AFTER UPDATE ON campaign_buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_buyers_directory_delete AFTER DELETE ON campaign_buyers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_publishers_directory_insert AFTER INSERT ON campaign_publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_publishers_directory_update AFTER UPDATE ON campaign_publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_publishers_directory_delete AFTER DELETE ON campaign_publishers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER phone_numbers_directory_insert AFTER INSERT ON phone_numbers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER phone_numbers_directory_update AFTER UPDATE ON phone_numbers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER phone_numbers_directory_delete AFTER DELETE ON phone_numbers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER twilio_account_directory_insert AFTER INSERT ON twilio_account BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER twilio_account_directory_update AFTER UPDATE ON twilio_account BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER twilio_account_directory_delete AFTER DELETE ON twilio_account BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
