//! `callbroker seed-calls`: generates realistic settled calls fast (multi-row inserts with
//! explicit ids, rollups summed in memory), and `callbroker bench-analytics`: times every
//! analytics query on the database.
//!
//! Generated data only reaches the SQL text as numbers, fixed strings and timestamps this module
//! formats, never anything read from outside.
use std::collections::HashMap;
use std::time::Instant;

use chrono::{NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::schema::{buyers, calls, campaigns, phone_numbers, publishers};
use crate::db::{Db, DbConnection};
use crate::error::Error;
use crate::money::rollup::{Key, Sums};
use crate::money::{compute, reason, Facts, Rules};

/// A campaign id, its rules, its buyers with their price overrides.
type SeedCampaign = (i64, Rules, Vec<(i64, Option<i64>)>);

/// The directory the generated calls belong to.
struct Directory {
    campaigns: Vec<SeedCampaign>,
    /// (number id, number, campaign index, publisher id)
    numbers: Vec<(i64, String, usize, i64)>,
}

fn ts(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S"))
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "NULL".into(), |v| v.to_string())
}

fn create_directory(conn: &mut DbConnection, rng: &mut StdRng) -> Result<Directory, Error> {
    use callbroker_wire::{CampaignBuyer, CampaignPublisher, MoneyRulesPatch, NewBuyer, NewCampaign, NewPhoneNumber, NewPublisher};
    let tag = rng.gen_range(1000..9999);
    let mut buyer_ids = vec![];
    for i in 0..12 {
        let b = crate::store::buyers::BuyerValues::from_new(&NewBuyer {
            name: format!("Seed buyer {tag}-{i}"),
            phone_number: format!("+1415555{:04}", rng.gen_range(0..10_000)),
            status: None,
            priority: Some(i % 3),
            weight: None,
            max_concurrent_calls: Some(5),
            cap_hourly: None,
            cap_daily: None,
            cap_monthly: None,
            timezone: Some("America/New_York".into()),
            schedule: vec![],
            allowed_states: vec![],
            denied_states: vec![],
            sticky_repeat_callers: None,
        })?;
        buyer_ids.push(crate::store::buyers::create(conn, b)?.id);
    }
    let mut publisher_ids = vec![];
    for i in 0..8 {
        let p = crate::store::publishers::PublisherValues::from_new(&NewPublisher {
            name: format!("Seed publisher {tag}-{i}"),
            status: None,
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            payout_terms: None,
            postback_url: None,
            postback_method: None,
        })?;
        publisher_ids.push(crate::store::publishers::create(conn, p)?.id);
    }
    let mut dir = Directory { campaigns: vec![], numbers: vec![] };
    for i in 0..5usize {
        let mine: Vec<i64> = (0..4).map(|k| buyer_ids[(i * 2 + k) % buyer_ids.len()]).collect();
        let assignments: Vec<CampaignBuyer> = mine
            .iter()
            .enumerate()
            .map(|(k, b)| CampaignBuyer {
                buyer_id: *b,
                priority: None,
                weight: None,
                revenue_micros: (k == 0).then_some(45_000_000),
                buffer_secs: None,
            })
            .collect();
        let money = MoneyRulesPatch {
            currency: Some("USD".into()),
            revenue_micros: Some(20_000_000 + 5_000_000 * i as i64),
            payout_micros: Some(8_000_000 + 2_000_000 * i as i64),
            buffer_secs: Some([60, 90, 120, 90, 30][i]),
            duplicate_window_secs: Some([86_400, 0, 3_600, 604_800, 86_400][i]),
            show_full_caller: Some(i == 2),
        };
        let input = crate::store::campaigns::CampaignInput::from_new(&NewCampaign {
            name: format!("Seed campaign {tag}-{i}"),
            status: None,
            greeting: None,
            busy_message: None,
            transcribe: false,
            buyers: assignments,
            money,
            publishers: vec![CampaignPublisher { publisher_id: publisher_ids[i % publisher_ids.len()], payout_micros: 15_000_000 }],
        })?;
        let c = crate::store::campaigns::create(conn, input)?;
        let rules = Rules {
            currency: c.money.currency.clone(),
            revenue_micros: c.money.revenue_micros,
            payout_micros: c.money.payout_micros,
            buffer_secs: c.money.buffer_secs,
            duplicate_window_secs: c.money.duplicate_window_secs,
        };
        let buyers = c.buyers.iter().map(|b| (b.buyer_id, b.revenue_micros)).collect();
        dir.campaigns.push((c.id, rules, buyers));
    }
    for i in 0..40usize {
        let number = format!("+1717{tag:04}{i:03}");
        let campaign_index = i % dir.campaigns.len();
        let publisher = publisher_ids[(i / 5) % publisher_ids.len()];
        let values = crate::store::numbers::validate_new(
            conn,
            &NewPhoneNumber {
                number: number.clone(),
                provider_sid: None,
                friendly_name: None,
                campaign_id: Some(dir.campaigns[campaign_index].0),
                publisher_id: Some(publisher),
            },
        )?;
        let n = crate::store::numbers::create(conn, values)?;
        dir.numbers.push((n.id, number, campaign_index, publisher));
    }
    Ok(dir)
}

/// Inserts `count` settled calls spread over the last `days` days, with their legs and rollups.
/// Returns the seconds it took.
pub fn seed_calls(db: &Db, count: u64, days: u32, seed: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = db.write_blocking(|c| create_directory(c, &mut rng)).map_err(|e| anyhow::anyhow!("seeding the directory: {e}"))?;
    let payout_override: HashMap<(i64, i64), i64> = db
        .write_blocking(|c| {
            Ok(crate::db::schema::campaign_publishers::table
                .select((
                    crate::db::schema::campaign_publishers::campaign_id,
                    crate::db::schema::campaign_publishers::publisher_id,
                    crate::db::schema::campaign_publishers::payout_micros,
                ))
                .load::<(i64, i64, i64)>(c)?)
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|(c, p, v)| ((c, p), v))
        .collect();
    let (first_call, first_leg) = db
        .write_blocking(|c| {
            let call: Option<i64> = calls::table.select(diesel::dsl::max(calls::id)).first(c)?;
            let leg: Option<i64> =
                crate::db::schema::call_legs::table.select(diesel::dsl::max(crate::db::schema::call_legs::id)).first(c)?;
            Ok((call.unwrap_or(0) + 1, leg.unwrap_or(0) + 1))
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let end = Utc::now().timestamp();
    let span = i64::from(days.max(1)) * 86_400;
    // Times: busier in US daytime (a crude diurnal curve), sorted so duplicates can be tracked.
    let mut times: Vec<i64> = (0..count)
        .map(|_| loop {
            let t = end - rng.gen_range(0..span);
            let hour_ny = (t.rem_euclid(86_400) / 3600 + 19) % 24;
            let weight = if (8..20).contains(&hour_ny) { 1.0 } else { 0.25 };
            if rng.gen_bool(weight) {
                break t;
            }
        })
        .collect();
    times.sort_unstable();
    let callers: Vec<String> =
        (0..(count / 3).max(10)).map(|i| format!("+1{}{:07}", [201, 212, 305, 415, 512, 617, 713, 808][(i % 8) as usize], i)).collect();
    let mut last_call: HashMap<(usize, usize), i64> = HashMap::new();
    let mut rollups: HashMap<Key, Sums> = HashMap::new();
    let mut leg_id = first_leg;
    let batch = 1000usize;
    let mut call_sql = String::new();
    let mut leg_sql = String::new();
    let mut in_batch = 0usize;
    let mut pending: Vec<(String, String)> = vec![];
    const CALL_COLS: &str = "INSERT INTO calls (id, call_sid, campaign_id, number_id, publisher_id, buyer_id, caller, dialled, status, outcome, attempts, \
        started_at, answered_at, connected_at, ended_at, duration_secs, billable_secs, updated_at, cost_micros, cost_currency, settled_at, money_buyer_id, \
        answered, no_buyer, talk_secs, duplicate, qualified, qualify_reason, currency, rule_revenue_micros, rule_payout_micros, rule_buffer_secs, \
        rule_duplicate_window_secs, revenue_micros, payout_micros, counted_cost_micros, profit_micros) VALUES ";
    const LEG_COLS: &str = "INSERT INTO call_legs (id, call_id, attempt, buyer_id, status, released, reserved_at, answered_at, ended_at, duration_secs, expires_at, counted, counted_connected) VALUES ";
    let backend_true = match db.backend() {
        crate::db::Backend::Postgres => ("TRUE", "FALSE"),
        crate::db::Backend::Sqlite => ("1", "0"),
    };
    let b = |v: bool| if v { backend_true.0 } else { backend_true.1 };
    for (call_id, &t) in (first_call..).zip(times.iter()) {
        let started_at = chrono::DateTime::from_timestamp(t, 0).map(|d| d.naive_utc()).unwrap_or_default();
        let n = &dir.numbers[rng.gen_range(0..dir.numbers.len())];
        let (campaign_id, campaign_rules, campaign_buyers) = &dir.campaigns[n.2];
        let caller_index = if rng.gen_bool(0.15) { rng.gen_range(0..callers.len().min(500)) } else { rng.gen_range(0..callers.len()) };
        let caller = &callers[caller_index];
        let duplicate = campaign_rules.duplicate_window_secs > 0
            && last_call.get(&(caller_index, n.2)).is_some_and(|prev| t - prev <= i64::from(campaign_rules.duplicate_window_secs));
        last_call.insert((caller_index, n.2), t);
        let roll: f64 = rng.gen();
        let no_buyer = roll < 0.07;
        let connected = !no_buyer && roll >= 0.19;
        let failed_first = !no_buyer && rng.gen_bool(0.15);
        let (buyer, price) = campaign_buyers[rng.gen_range(0..campaign_buyers.len())];
        let other = campaign_buyers.iter().map(|b| b.0).find(|b| *b != buyer).unwrap_or(buyer);
        let talk: i32 = if connected { (-(1.0 - rng.gen::<f64>()).ln() * 150.0) as i32 + 1 } else { 0 };
        let ring = rng.gen_range(3..25);
        let duration = ring + talk + if failed_first { 20 } else { 0 };
        let cost = rng.gen_bool(0.8).then(|| i64::from(duration.max(60) / 60 + 1) * 13_000);
        let mut rules = campaign_rules.clone();
        if let Some(p) = price {
            rules.revenue_micros = p;
        }
        if let Some(p) = payout_override.get(&(*campaign_id, n.3)) {
            rules.payout_micros = *p;
        }
        let s = compute(&rules, &Facts { no_buyer, connected, talk_secs: talk, duplicate, cost_micros: cost });
        let money_buyer = (!no_buyer).then_some(buyer);
        let ended = started_at + chrono::Duration::seconds(i64::from(duration));
        let connected_at = started_at + chrono::Duration::seconds(i64::from(ring + if failed_first { 20 } else { 0 }));
        let outcome = if no_buyer {
            "no_buyer"
        } else if connected {
            "connected"
        } else {
            "abandoned"
        };
        let attempts = if no_buyer {
            0
        } else if failed_first {
            2
        } else {
            1
        };
        if !call_sql.is_empty() {
            call_sql.push(',');
        }
        call_sql.push_str(&format!(
            "({call_id},'CASEED{call_id:012}',{campaign_id},{},{},{},'{caller}','{}','completed','{outcome}',{attempts},{},{},{},{},{duration},{},{},{},{},{},{},{},{},{talk},{},{},'{}','{}',{},{},{},{},{},{},{},{})",
            n.0,
            n.3,
            opt(money_buyer),
            n.1,
            ts(started_at),
            ts(started_at),
            if connected { ts(connected_at) } else { "NULL".into() },
            ts(ended),
            if connected { talk.to_string() } else { "NULL".into() },
            ts(ended),
            opt(cost),
            if cost.is_some() { "'USD'" } else { "NULL" },
            ts(ended),
            opt(money_buyer),
            b(connected),
            b(no_buyer),
            b(duplicate),
            b(s.qualified),
            s.reason,
            rules.currency,
            rules.revenue_micros,
            rules.payout_micros,
            rules.buffer_secs,
            rules.duplicate_window_secs,
            s.revenue_micros,
            s.payout_micros,
            cost.unwrap_or(0),
            s.profit_micros,
        ));
        debug_assert!(s.reason != reason::NO_CAMPAIGN);
        let key = Key {
            hour: t.div_euclid(3600) * 3600,
            campaign_id: *campaign_id,
            publisher_id: n.3,
            buyer_id: money_buyer.unwrap_or(0),
            number_id: n.0,
        };
        rollups.entry(key).or_default().add(&Sums {
            calls: 1,
            answered: i64::from(connected),
            qualified: i64::from(s.qualified),
            duplicates: i64::from(duplicate),
            no_buyer: i64::from(no_buyer),
            talk_secs: i64::from(talk),
            revenue_micros: s.revenue_micros,
            payout_micros: s.payout_micros,
            cost_micros: cost.unwrap_or(0),
            offered: 0,
            connected: 0,
        });
        let mut legs: Vec<(i64, bool, i32)> = vec![];
        if failed_first {
            legs.push((other, false, 0));
        }
        if !no_buyer {
            legs.push((buyer, connected, talk));
        }
        for (attempt, (leg_buyer, answered, talk)) in legs.into_iter().enumerate() {
            if !leg_sql.is_empty() {
                leg_sql.push(',');
            }
            leg_sql.push_str(&format!(
                "({leg_id},{call_id},{},{leg_buyer},'{}',{},{},{},{},{talk},{},{},{})",
                attempt + 1,
                if answered { "completed" } else { "no-answer" },
                b(true),
                ts(started_at),
                if answered { ts(connected_at) } else { "NULL".into() },
                ts(ended),
                ts(ended),
                b(true),
                b(answered)
            ));
            rollups.entry(Key { buyer_id: leg_buyer, ..key }).or_default().add(&Sums {
                offered: 1,
                connected: i64::from(answered),
                ..Default::default()
            });
            leg_id += 1;
        }
        in_batch += 1;
        if in_batch == batch {
            pending.push((std::mem::take(&mut call_sql), std::mem::take(&mut leg_sql)));
            in_batch = 0;
            if pending.len() == 10 {
                flush(db, &mut pending, CALL_COLS, LEG_COLS)?;
            }
        }
    }
    if in_batch > 0 {
        pending.push((call_sql, leg_sql));
    }
    flush(db, &mut pending, CALL_COLS, LEG_COLS)?;
    let full: Vec<(Key, Sums)> = rollups.into_iter().collect();
    let rows = crate::money::rollup::expand(&full);
    db.write_blocking(|c| {
        crate::money::rollup::upsert(c, &rows)?;
        if let DbConnection::Postgres(pg) = c {
            pg.batch_execute(
                "SELECT setval(pg_get_serial_sequence('calls', 'id'), (SELECT MAX(id) FROM calls)); \
                 SELECT setval(pg_get_serial_sequence('call_legs', 'id'), (SELECT MAX(id) FROM call_legs)); ANALYZE;",
            )?;
        } else {
            c.batch_execute("ANALYZE;")?;
        }
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(started.elapsed().as_secs_f64())
}

fn flush(db: &Db, pending: &mut Vec<(String, String)>, call_cols: &str, leg_cols: &str) -> anyhow::Result<()> {
    let work = std::mem::take(pending);
    db.write_blocking(|c| {
        for (calls_values, legs_values) in &work {
            c.batch_execute(&format!("{call_cols}{calls_values}"))?;
            if !legs_values.is_empty() {
                c.batch_execute(&format!("{leg_cols}{legs_values}"))?;
            }
        }
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("inserting calls: {e}"))
}

/// One timed query of the benchmark.
pub struct Timing {
    pub name: String,
    pub rows: usize,
    pub best_ms: f64,
    pub median_ms: f64,
}

/// Times each analytics query `runs` times over the last `days` days.
pub fn bench(db: &Db, days: i64, runs: usize) -> anyhow::Result<(i64, Vec<Timing>)> {
    use callbroker_wire::{AnalyticsQuery, Bucket, GroupBy, PageParams};
    let total: i64 = db.write_blocking(|c| Ok(calls::table.count().get_result(c)?)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (campaign, publisher, buyer, number) = db
        .write_blocking(|c| {
            let campaign: Option<i64> = campaigns::table.select(campaigns::id).order(campaigns::id.desc()).first(c).optional()?;
            let publisher: Option<i64> = publishers::table.select(publishers::id).order(publishers::id.desc()).first(c).optional()?;
            let buyer: Option<i64> = buyers::table.select(buyers::id).order(buyers::id.desc()).first(c).optional()?;
            let number: Option<i64> = phone_numbers::table.select(phone_numbers::id).order(phone_numbers::id.desc()).first(c).optional()?;
            Ok((campaign, publisher, buyer, number))
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = Utc::now();
    let base = AnalyticsQuery { from: Some(now - chrono::Duration::days(days)), to: Some(now), ..Default::default() };
    let week = AnalyticsQuery { from: Some(now - chrono::Duration::days(7)), ..base.clone() };
    let mut cases: Vec<(String, AnalyticsQuery, Option<i64>, bool)> = vec![
        ("summary total".into(), base.clone(), None, false),
        ("summary by campaign".into(), AnalyticsQuery { group_by: Some(GroupBy::Campaign), ..base.clone() }, None, false),
        ("summary by buyer (fill rate)".into(), AnalyticsQuery { group_by: Some(GroupBy::Buyer), ..base.clone() }, None, false),
        ("summary by publisher".into(), AnalyticsQuery { group_by: Some(GroupBy::Publisher), ..base.clone() }, None, false),
        ("summary by number".into(), AnalyticsQuery { group_by: Some(GroupBy::Number), ..base.clone() }, None, false),
        (
            "summary, campaign filter, by buyer".into(),
            AnalyticsQuery { campaign_id: campaign, group_by: Some(GroupBy::Buyer), ..base.clone() },
            None,
            false,
        ),
        ("summary, buyer + number filters".into(), AnalyticsQuery { buyer_id: buyer, number_id: number, ..base.clone() }, None, false),
        ("summary as publisher".into(), base.clone(), publisher, false),
        ("timeseries hour UTC (7 days)".into(), AnalyticsQuery { bucket: Some(Bucket::Hour), ..week.clone() }, None, true),
        (
            "timeseries day America/New_York".into(),
            AnalyticsQuery { bucket: Some(Bucket::Day), tz: Some("America/New_York".into()), ..base.clone() },
            None,
            true,
        ),
        (
            "timeseries day Asia/Kolkata by campaign".into(),
            AnalyticsQuery { tz: Some("Asia/Kolkata".into()), group_by: Some(GroupBy::Campaign), ..base.clone() },
            None,
            true,
        ),
        (
            "timeseries week by buyer".into(),
            AnalyticsQuery { bucket: Some(Bucket::Week), group_by: Some(GroupBy::Buyer), ..base.clone() },
            None,
            true,
        ),
        (
            "timeseries hour by number (7 days)".into(),
            AnalyticsQuery { bucket: Some(Bucket::Hour), group_by: Some(GroupBy::Number), ..week.clone() },
            None,
            true,
        ),
        ("timeseries day UTC by buyer".into(), AnalyticsQuery { group_by: Some(GroupBy::Buyer), ..base.clone() }, None, true),
        ("timeseries day as publisher".into(), base.clone(), publisher, true),
    ];
    let mut out = vec![];
    for (name, q, scope, series) in cases.drain(..) {
        let parsed = crate::analytics::Query::parse(&q, scope, now).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let mut times = vec![];
        let mut rows = 0;
        for _ in 0..runs {
            let t = Instant::now();
            rows = db
                .write_blocking(|c| {
                    Ok(if series {
                        crate::analytics::timeseries(c, &parsed)?.points.len()
                    } else {
                        crate::analytics::summary(c, &parsed)?.groups.len().max(1)
                    })
                })
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        out.push(Timing { name, rows, best_ms: times[0], median_ms: times[times.len() / 2] });
    }
    if let Some(p) = publisher {
        let (from, to) = ((now - chrono::Duration::days(days)).naive_utc(), now.naive_utc());
        let mut times = vec![];
        let mut rows = 0;
        for _ in 0..runs {
            let t = Instant::now();
            rows = db
                .write_blocking(|c| Ok(crate::store::reports::page_of(c, p, from, to, &PageParams { page: 1, per_page: 100 })?.items.len()))
                .map_err(|e| anyhow::anyhow!("report: {e}"))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        out.push(Timing { name: "publisher report, JSON page 1".into(), rows, best_ms: times[0], median_ms: times[times.len() / 2] });
    }
    Ok((total, out))
}
