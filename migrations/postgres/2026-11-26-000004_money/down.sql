DROP TABLE call_rollups;
DROP TABLE campaign_publishers;
DROP INDEX calls_settled_started;
ALTER TABLE call_legs DROP COLUMN counted_connected;
ALTER TABLE call_legs DROP COLUMN counted;
ALTER TABLE calls DROP COLUMN profit_micros, DROP COLUMN counted_cost_micros, DROP COLUMN payout_micros,
    DROP COLUMN revenue_micros, DROP COLUMN rule_duplicate_window_secs, DROP COLUMN rule_buffer_secs,
    DROP COLUMN rule_payout_micros, DROP COLUMN rule_revenue_micros, DROP COLUMN currency,
    DROP COLUMN qualify_reason, DROP COLUMN qualified, DROP COLUMN duplicate, DROP COLUMN talk_secs,
    DROP COLUMN no_buyer, DROP COLUMN answered, DROP COLUMN money_buyer_id, DROP COLUMN settled_at;
ALTER TABLE campaign_buyers DROP COLUMN buffer_secs, DROP COLUMN revenue_micros;
ALTER TABLE campaigns DROP COLUMN show_full_caller, DROP COLUMN duplicate_window_secs, DROP COLUMN buffer_secs,
    DROP COLUMN payout_micros, DROP COLUMN revenue_micros, DROP COLUMN currency;
