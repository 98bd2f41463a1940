//! `callbroker seed-calls`: generates realistic settled calls fast (multi-row inserts with
//! explicit ids, rollups summed in memory), and `callbroker bench-analytics`: times every
//! analytics query on the database.
use std::collections::HashMap;
use std::time::Instant;

use chrono::Utc;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::schema::{buyers, campaigns, phone_numbers, publishers};
use crate::db::{Db, DbConnection};
use crate::domain::states::{CallStatus, LegStatus, Outcome, QualifyReason};
use crate::error::Error;
use crate::money::rollup::{Key, Sums};
use crate::money::{compute, Facts, Rules};
use crate::store::calls::{CallRow, LegRow, NewCall};

/// A campaign id, its rules, its buyers with their price overrides.
type SeedCampaign = (i64, Rules, Vec<(i64, Option<i64>)>);

/// The directory the generated calls belong to.
struct Directory {
    campaigns: Vec<SeedCampaign>,
    /// (number id, number, campaign index, publisher id)
    numbers: Vec<(i64, String, usize, i64)>,
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
            tag_rules: vec![],
            labels: vec![],
            whisper: None,
            require_accept: None,
            accept_timeout_secs: None,
        })?;
        buyer_ids.push(crate::store::buyers::create(conn, b)?.id);
    }
    let mut publisher_ids = vec![];
    for i in 0..8 {
        let p = crate::store::publishers::PublisherValues::from_new(
            &NewPublisher {
                name: format!("Seed publisher {tag}-{i}"),
                status: None,
                contact_name: None,
                contact_email: None,
                contact_phone: None,
                payout_terms: None,
                postback_url: None,
                postback_method: None,
            },
            &crate::outbound::AllowList::default(),
        )?;
        publisher_ids.push(crate::store::publishers::create(conn, p, &crate::postback::signature::new_secret())?.id);
    }
    let mut dir = Directory { campaigns: vec![], numbers: vec![] };
    for (i, step) in (0..5usize).zip(0_i64..) {
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
                tag_rules: None,
                whisper: None,
                require_accept: None,
                accept_timeout_secs: None,
            })
            .collect();
        let money = MoneyRulesPatch {
            currency: Some("USD".into()),
            revenue_micros: Some(20_000_000 + 5_000_000 * step),
            payout_micros: Some(8_000_000 + 2_000_000 * step),
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
            screening: None,
            ivr: None,
            routing: None,
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
        .read_blocking(crate::store::calls::query::last_ids)
        .map(|(call, leg)| (call + 1, leg + 1))
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
    let mut calls_batch: Vec<CallRow> = Vec::with_capacity(BATCH);
    let mut legs_batch: Vec<LegRow> = Vec::with_capacity(BATCH * 2);
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
        #[allow(clippy::cast_possible_truncation, reason = "-ln(1 - u) < 37 for u in [0, 1): under 5,600 seconds")]
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
        let s = compute(&rules, &Facts { blocked: false, no_buyer, connected, talk_secs: talk, duplicate, cost_micros: cost });
        let money_buyer = (!no_buyer).then_some(buyer);
        let ended = started_at + chrono::Duration::seconds(i64::from(duration));
        let connected_at = started_at + chrono::Duration::seconds(i64::from(ring + if failed_first { 20 } else { 0 }));
        let outcome = if no_buyer {
            Outcome::NoBuyer
        } else if connected {
            Outcome::Connected
        } else {
            Outcome::Abandoned
        };
        let attempts = if no_buyer {
            0
        } else if failed_first {
            2
        } else {
            1
        };
        let new = NewCall {
            call_sid: format!("CASEED{call_id:012}"),
            campaign_id: Some(*campaign_id),
            number_id: Some(n.0),
            publisher_id: Some(n.3),
            caller: caller.clone(),
            dialled: n.1.clone(),
            caller_state: None,
            caller_state_source: None,
            caller_city: None,
            caller_zip: None,
            status: CallStatus::Completed,
            outcome,
            started_at,
            tags: callbroker_wire::Tags::default(),
        };
        calls_batch.push(CallRow {
            buyer_id: money_buyer,
            attempts,
            answered_at: None,
            connected_at: connected.then_some(connected_at),
            ended_at: Some(ended),
            duration_secs: Some(duration),
            billable_secs: connected.then_some(talk),
            updated_at: ended,
            cost_micros: cost,
            cost_currency: cost.map(|_| "USD".to_string()),
            settled_at: Some(ended),
            money_buyer_id: money_buyer,
            answered: connected,
            no_buyer,
            talk_secs: talk,
            duplicate,
            qualified: Some(s.qualified),
            qualify_reason: Some(s.reason),
            currency: Some(rules.currency.clone()),
            rule_revenue_micros: Some(rules.revenue_micros),
            rule_payout_micros: Some(rules.payout_micros),
            rule_buffer_secs: Some(rules.buffer_secs),
            rule_duplicate_window_secs: Some(rules.duplicate_window_secs),
            revenue_micros: s.revenue_micros,
            payout_micros: s.payout_micros,
            counted_cost_micros: cost.unwrap_or(0),
            profit_micros: Some(s.profit_micros),
            ..new.into_row(call_id)
        });
        debug_assert!(s.reason != QualifyReason::NoCampaign);
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
            blocked: 0,
        });
        let mut legs: Vec<(i64, bool, i32)> = vec![];
        if failed_first {
            legs.push((other, false, 0));
        }
        if !no_buyer {
            legs.push((buyer, connected, talk));
        }
        for (attempt, (leg_buyer, answered, talk)) in (1..).zip(legs) {
            legs_batch.push(LegRow {
                id: leg_id,
                call_id,
                attempt,
                buyer_id: Some(leg_buyer),
                dial_call_sid: None,
                status: LegStatus::Twilio(if answered { CallStatus::Completed } else { CallStatus::NoAnswer }),
                released: true,
                reserved_at: started_at,
                ringing_at: None,
                answered_at: answered.then_some(connected_at),
                ended_at: Some(ended),
                duration_secs: Some(talk),
                last_sequence: None,
                expires_at: ended,
                counted: true,
                counted_connected: answered,
                accept_required: false,
                accepted_at: None,
                bidder_id: None,
                dial_to: None,
                bid_micros: None,
                bid_min_duration_secs: None,
            });
            rollups.entry(Key { buyer_id: leg_buyer, ..key }).or_default().add(&Sums {
                offered: 1,
                connected: i64::from(answered),
                ..Default::default()
            });
            leg_id += 1;
        }
        if calls_batch.len() == BATCH {
            insert(db, &mut calls_batch, &mut legs_batch)?;
        }
    }
    insert(db, &mut calls_batch, &mut legs_batch)?;
    let full: Vec<(Key, Sums)> = rollups.into_iter().collect();
    let rows: Vec<_> =
        crate::money::rollup::expand(&full).into_iter().map(|(level, k, s)| crate::money::rollup::row(level, &k, &s, 0)).collect();
    db.write_blocking(|c| {
        crate::store::rollups::upsert(c, &rows)?;
        crate::store::calls::bulk::after_bulk_insert(c)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(started.elapsed().as_secs_f64())
}

/// Calls written per transaction.
const BATCH: usize = 10_000;

fn insert(db: &Db, calls: &mut Vec<CallRow>, legs: &mut Vec<LegRow>) -> anyhow::Result<()> {
    let (calls, legs) = (std::mem::take(calls), std::mem::take(legs));
    db.write_blocking(|c| crate::store::calls::bulk::insert(c, &calls, &legs)).map_err(|e| anyhow::anyhow!("inserting calls: {e}"))
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
    let total: i64 = db.read_blocking(crate::store::calls::query::count).map_err(|e| anyhow::anyhow!("{e}"))?;
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
