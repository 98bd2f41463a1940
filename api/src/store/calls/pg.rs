//! The call flow's reads and commit on PostgreSQL, each one statement (see [`crate::db::raw`]):
//! no transaction block, so one round trip each. A statement is atomic by itself; the commit's
//! first step locks the call row and checks its version, so everything after it acts on the
//! state the webhook decided from.
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Timestamp};
use diesel::PgConnection;

use super::flow::{Commit, Effects, LoadRow, Loads, Lookback};
use super::CallRow;
use crate::db::raw::{Param, PgStatement};
use crate::error::Error;
use crate::routing::screening::History;
use crate::store::live_events::PayloadRef;
use crate::store::rollups::{RollupRow, SUMS, UPDATE_SUMS};

/// How many times a statement that lost a deadlock to a concurrent one is run again (it was
/// rolled back whole, so running it again is safe).
const ATTEMPTS: u32 = 4;

fn with_retry<T>(mut f: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    let mut attempt = 1;
    loop {
        match f() {
            Err(e) if e.is_contention() && attempt < ATTEMPTS => {
                tracing::debug!(attempt, "statement lost to a concurrent one; running it again");
                std::thread::sleep(std::time::Duration::from_millis(u64::from(attempt)));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// One row of [`loads`]: the head (the same on every row) and one buyer's load, if any.
#[derive(QueryableByName)]
struct LoadsRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    call_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    directory_version: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    repeat_buyer: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    last_call_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = BigInt)]
    rate_calls: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    qualified: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    buyer_id: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    in_progress: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    hour_key: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    hour_count: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    day_key: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    day_count: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    month_key: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    month_count: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    total_calls: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    buyer_last_call_at: Option<chrono::NaiveDateTime>,
}

pub(super) fn loads(
    c: &mut PgConnection,
    new_call: bool,
    campaign: Option<i64>,
    caller: &str,
    back: &Lookback,
) -> Result<(Option<i64>, Loads), Error> {
    let history = back.history;
    let mut q = PgStatement::new();
    q.sql("SELECT head.call_id, head.directory_version, head.repeat_buyer, h.last_call_at, h.rate_calls, h.qualified, l.buyer_id, ")
        .sql("l.in_progress, l.hour_key, l.hour_count, l.day_key, l.day_count, l.month_key, l.month_count, l.total_calls, ")
        .sql("l.last_call_at AS buyer_last_call_at FROM (SELECT CASE WHEN ")
        .bind(Param::Bool(Some(new_call)))
        .sql(" THEN nextval('calls_id_seq') END AS call_id, ")
        .sql("(SELECT version FROM directory_version WHERE id = 1) AS directory_version, ")
        // Ordered as the (caller, campaign_id, started_at) index is, so that it is the one used.
        .sql("(SELECT c.buyer_id FROM calls c WHERE c.caller = ")
        .bind(Param::Text(Some(caller.to_string())))
        .sql(" AND c.campaign_id = ")
        .bind(Param::BigInt(campaign))
        .sql(" AND c.started_at >= ")
        .bind(Param::Timestamp(Some(back.repeat_since)))
        .sql(
            " AND c.connected_at IS NOT NULL ORDER BY c.caller DESC, c.campaign_id DESC, c.started_at DESC LIMIT 1) AS repeat_buyer) head ",
        )
        // The screening's history, over the same index: nothing is read when no rule needs it
        // (`started_at >= NULL` holds for no row).
        .sql("CROSS JOIN (SELECT max(c.started_at) AS last_call_at, count(*) FILTER (WHERE c.started_at >= ")
        .bind(Param::Timestamp(history.and_then(|h| h.rate_since)))
        .sql(") AS rate_calls, coalesce(bool_or(c.qualified) FILTER (WHERE c.started_at >= ")
        .bind(Param::Timestamp(history.and_then(|h| h.qualified_since)))
        .sql("), false) AS qualified FROM calls c WHERE c.caller = ")
        .bind(Param::Text(Some(caller.to_string())))
        .sql(" AND c.campaign_id = ")
        .bind(Param::BigInt(campaign))
        .sql(" AND c.started_at >= ")
        .bind(Param::Timestamp(history.map(|h| h.since)))
        .sql(") h ")
        .sql("LEFT JOIN (SELECT bl.* FROM buyer_load bl JOIN campaign_buyers cb ON cb.buyer_id = bl.buyer_id WHERE cb.campaign_id = ")
        .bind(Param::BigInt(campaign))
        .sql(") l ON true ORDER BY l.buyer_id");
    let rows: Vec<LoadsRow> = with_retry(|| Ok(q.run().load(c)?))?;
    let Some(head) = rows.first() else { return Err(Error::internal(anyhow::anyhow!("the loads statement returned no row"))) };
    let (call_id, directory_version, repeat_buyer) = (head.call_id, head.directory_version, head.repeat_buyer);
    let history = History {
        last_call_at: head.last_call_at.map(|t| t.and_utc()),
        rate_calls: u32::try_from(head.rate_calls).unwrap_or(u32::MAX),
        qualified: head.qualified,
        last_buyer: repeat_buyer,
    };
    let loads = rows
        .into_iter()
        .filter_map(|r| {
            Some(LoadRow {
                buyer_id: r.buyer_id?,
                in_progress: r.in_progress?,
                hour_key: r.hour_key?,
                hour_count: r.hour_count?,
                day_key: r.day_key?,
                day_count: r.day_count?,
                month_key: r.month_key?,
                month_count: r.month_count?,
                total_calls: r.total_calls?,
                last_call_at: r.buyer_last_call_at,
            })
        })
        .collect();
    Ok((call_id, Loads { directory_version, loads, repeat_buyer, history }))
}

/// What the commit statement did.
#[derive(QueryableByName)]
struct Done {
    /// The call row it recorded, locked or changed (0: a duplicate, or a stale version).
    #[diesel(sql_type = BigInt)]
    held: i64,
    #[diesel(sql_type = BigInt)]
    claimed: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    leg_id: Option<i64>,
}

/// The call's columns a commit writes (all but `id`, `call_sid`, `started_at` and `version`).
const CALL_COLUMNS: [&str; 60] = [
    "campaign_id",
    "number_id",
    "publisher_id",
    "buyer_id",
    "caller",
    "dialled",
    "caller_state",
    "caller_state_source",
    "caller_city",
    "caller_zip",
    "status",
    "outcome",
    "attempts",
    "ringing_at",
    "answered_at",
    "connected_at",
    "ended_at",
    "duration_secs",
    "billable_secs",
    "recording_sid",
    "recording_url",
    "recording_duration_secs",
    "recording_channels",
    "last_sequence",
    "updated_at",
    "cost_micros",
    "cost_currency",
    "cost_status",
    "transcript",
    "transcript_status",
    "transcript_sid",
    "settled_at",
    "money_buyer_id",
    "answered",
    "no_buyer",
    "talk_secs",
    "duplicate",
    "qualified",
    "qualify_reason",
    "currency",
    "rule_revenue_micros",
    "rule_payout_micros",
    "rule_buffer_secs",
    "rule_duplicate_window_secs",
    "revenue_micros",
    "payout_micros",
    "counted_cost_micros",
    "profit_micros",
    "postback_at",
    "tags",
    "blocked_by",
    "repeat_buyer_id",
    "ivr_outcome",
    "ivr_question",
    "ivr_attempt",
    "ivr_secs",
    "route_label",
    "money_bidder_id",
    "quote_ping_id",
    "quote_payout_micros",
];

/// The values of [`CALL_COLUMNS`], in order.
fn call_values(r: &CallRow) -> [Param; 60] {
    let text = |v: &Option<String>| Param::Text(v.clone());
    [
        Param::BigInt(r.campaign_id),
        Param::BigInt(r.number_id),
        Param::BigInt(r.publisher_id),
        Param::BigInt(r.buyer_id),
        Param::Text(Some(r.caller.clone())),
        Param::Text(Some(r.dialled.clone())),
        text(&r.caller_state),
        text(&r.caller_state_source),
        text(&r.caller_city),
        text(&r.caller_zip),
        Param::Text(Some(r.status.as_str().to_string())),
        Param::Text(Some(r.outcome.as_str().to_string())),
        Param::Int(Some(r.attempts)),
        Param::Timestamp(r.ringing_at),
        Param::Timestamp(r.answered_at),
        Param::Timestamp(r.connected_at),
        Param::Timestamp(r.ended_at),
        Param::Int(r.duration_secs),
        Param::Int(r.billable_secs),
        text(&r.recording_sid),
        text(&r.recording_url),
        Param::Int(r.recording_duration_secs),
        Param::Int(r.recording_channels),
        Param::Int(r.last_sequence),
        Param::Timestamp(Some(r.updated_at)),
        Param::BigInt(r.cost_micros),
        text(&r.cost_currency),
        Param::Text(r.cost_status.map(|s| s.as_str().to_string())),
        text(&r.transcript),
        Param::Text(r.transcript_status.map(|s| s.as_str().to_string())),
        text(&r.transcript_sid),
        Param::Timestamp(r.settled_at),
        Param::BigInt(r.money_buyer_id),
        Param::Bool(Some(r.answered)),
        Param::Bool(Some(r.no_buyer)),
        Param::Int(Some(r.talk_secs)),
        Param::Bool(Some(r.duplicate)),
        Param::Bool(r.qualified),
        Param::Text(r.qualify_reason.map(|q| q.as_str().to_string())),
        text(&r.currency),
        Param::BigInt(r.rule_revenue_micros),
        Param::BigInt(r.rule_payout_micros),
        Param::Int(r.rule_buffer_secs),
        Param::Int(r.rule_duplicate_window_secs),
        Param::BigInt(Some(r.revenue_micros)),
        Param::BigInt(Some(r.payout_micros)),
        Param::BigInt(Some(r.counted_cost_micros)),
        Param::BigInt(r.profit_micros),
        Param::Timestamp(r.postback_at),
        Param::Text(Some(r.tags.clone())),
        text(&r.blocked_by),
        Param::BigInt(r.repeat_buyer_id),
        text(&r.ivr_outcome),
        Param::Int(r.ivr_question),
        Param::Int(r.ivr_attempt),
        Param::Int(r.ivr_secs),
        text(&r.route_label),
        Param::BigInt(r.money_bidder_id),
        text(&r.quote_ping_id),
        Param::BigInt(r.quote_payout_micros),
    ]
}

fn texts<'a>(v: impl Iterator<Item = &'a str>) -> Param {
    Param::Texts(v.map(|s| Some(s.to_string())).collect())
}

fn rollup_column(rows: &[RollupRow], f: impl Fn(&RollupRow) -> i64) -> Param {
    Param::BigInts(rows.iter().map(|r| Some(f(r))).collect())
}

/// The commit as one statement, with only the parts this change needs (each shape is prepared
/// once per connection, keyed by its text: parts that do nothing still cost PostgreSQL time to
/// set up).
///
/// Its first step holds the call: `ins` records a new call (a copy of its webhook waits there
/// for this statement to commit, then finds the call recorded); `lock` locks the call at the
/// version the change was computed from when a slot is to be claimed; otherwise `upd` changes
/// it at that version. Then `claim` takes the buyer's slot if it still has room, `ok` says both
/// held, and every other part writes only if `ok`. Data-modifying CTEs run in the order their
/// results are needed, so the call is always held before the slot.
fn statement(e: &Effects) -> Result<PgStatement, Error> {
    let r = &e.call;
    let id = || Param::BigInt(Some(r.id));
    let at = || Param::Timestamp(Some(e.at));
    let changed = e.insert || e.call != e.read;
    let mut q = PgStatement::new();
    // `, col = $n` for every column of a changed call row.
    let set_columns = |q: &mut PgStatement| {
        if changed {
            for (name, value) in CALL_COLUMNS.into_iter().zip(call_values(r)) {
                q.sql(format!(", {name} = ")).bind(value);
            }
        }
    };
    let head = if e.insert {
        q.sql("WITH ins AS (INSERT INTO calls (id, call_sid, started_at, version, ").sql(CALL_COLUMNS.join(", ")).sql(") VALUES (");
        q.bind(id()).sql(", ").bind(Param::Text(Some(r.call_sid.clone()))).sql(", ").bind(Param::Timestamp(Some(r.started_at))).sql(", 0");
        for value in call_values(r) {
            q.sql(", ").bind(value);
        }
        q.sql(") ON CONFLICT (call_sid) DO NOTHING RETURNING id)");
        "ins"
    } else if e.claim.is_some() {
        q.sql("WITH lock AS (SELECT id FROM calls WHERE id = ").bind(id()).sql(" AND version = ").bind(Param::BigInt(Some(e.version)));
        q.sql(" FOR UPDATE)");
        "lock"
    } else {
        q.sql("WITH upd AS (UPDATE calls SET version = version + 1");
        set_columns(&mut q);
        q.sql(" WHERE id = ").bind(id()).sql(" AND version = ").bind(Param::BigInt(Some(e.version))).sql(" RETURNING id)");
        "upd"
    };
    if let Some(claim) = &e.claim {
        let keys = claim.keys;
        if claim.bid.is_some() {
            // A bid's leg takes no buyer slot: held with the call.
            q.sql(format!(", claim AS (SELECT NULL::bigint AS buyer_id FROM {head})"));
        } else {
            q.sql(", claim AS (UPDATE buyer_load SET in_progress = in_progress + 1, hour_count = CASE WHEN hour_key = ");
            q.bind(Param::BigInt(Some(keys.hour))).sql(" THEN hour_count + 1 ELSE 1 END, hour_key = ").bind(Param::BigInt(Some(keys.hour)));
            q.sql(", day_count = CASE WHEN day_key = ")
                .bind(Param::BigInt(Some(keys.day)))
                .sql(" THEN day_count + 1 ELSE 1 END, day_key = ");
            q.bind(Param::BigInt(Some(keys.day))).sql(", month_count = CASE WHEN month_key = ").bind(Param::BigInt(Some(keys.month)));
            q.sql(" THEN month_count + 1 ELSE 1 END, month_key = ").bind(Param::BigInt(Some(keys.month)));
            q.sql(", total_calls = total_calls + 1, last_call_at = ").bind(at());
            q.sql(" WHERE buyer_id = ")
                .bind(Param::BigInt(Some(claim.buyer_id)))
                .sql(" AND in_progress < ")
                .bind(Param::Int(Some(claim.max_concurrent)));
            // A missing cap is "no limit": i32::MAX is never reached by a counter.
            let [hourly, daily, monthly] = claim.caps.map(|c| c.unwrap_or(i32::MAX));
            q.sql(" AND (hour_key <> ").bind(Param::BigInt(Some(keys.hour))).sql(" OR hour_count < ").bind(Param::Int(Some(hourly)));
            q.sql(") AND (day_key <> ").bind(Param::BigInt(Some(keys.day))).sql(" OR day_count < ").bind(Param::Int(Some(daily)));
            q.sql(") AND (month_key <> ").bind(Param::BigInt(Some(keys.month))).sql(" OR month_count < ").bind(Param::Int(Some(monthly)));
            q.sql(format!(") AND EXISTS (SELECT 1 FROM {head}) RETURNING buyer_id)"));
        }
        q.sql(format!(", ok AS (SELECT 1 AS ok FROM {head} WHERE EXISTS (SELECT 1 FROM claim))"));
        if !e.insert {
            q.sql(", upd AS (UPDATE calls SET version = version + 1");
            set_columns(&mut q);
            q.sql(" WHERE id = ").bind(id()).sql(" AND EXISTS (SELECT 1 FROM ok) RETURNING id)");
        }
        q.sql(", leg AS (INSERT INTO call_legs (call_id, attempt, buyer_id, status, released, reserved_at, expires_at, counted, ");
        q.sql("counted_connected, accept_required, bidder_id, dial_to, bid_micros, bid_min_duration_secs) SELECT ")
            .bind(id())
            .sql(", ")
            .bind(Param::Int(Some(claim.attempt)))
            .sql(", claim.buyer_id, 'reserved', false, ");
        q.bind(at()).sql(", ").bind(Param::Timestamp(Some(claim.expires_at))).sql(", false, false, ");
        q.bind(Param::Bool(Some(claim.accept_required))).sql(", ");
        let bid = claim.bid.as_ref();
        q.bind(Param::BigInt(bid.map(|b| b.bidder_id))).sql(", ").bind(Param::Text(bid.map(|b| b.dial_to.clone()))).sql(", ");
        q.bind(Param::BigInt(bid.map(|b| b.bid_micros))).sql(", ").bind(Param::Int(bid.and_then(|b| b.min_duration_secs)));
        q.sql(" FROM claim, ok RETURNING id)");
    } else {
        q.sql(format!(", ok AS (SELECT 1 AS ok FROM {head})"));
    }
    let legs = &e.legs;
    if !legs.is_empty() {
        q.sql(", legs AS (UPDATE call_legs l SET status = v.status, ringing_at = v.ringing_at, answered_at = v.answered_at, ");
        q.sql("ended_at = v.ended_at, duration_secs = v.duration_secs, last_sequence = v.last_sequence, dial_call_sid = v.dial_call_sid, ");
        q.sql("released = v.released, counted = v.counted, counted_connected = v.counted_connected, accepted_at = v.accepted_at ");
        q.sql("FROM unnest(");
        q.bind(Param::BigInts(legs.iter().map(|l| Some(l.id)).collect())).sql(", ");
        q.bind(texts(legs.iter().map(|l| l.status.as_str()))).sql(", ");
        q.bind(Param::Timestamps(legs.iter().map(|l| l.ringing_at).collect())).sql(", ");
        q.bind(Param::Timestamps(legs.iter().map(|l| l.answered_at).collect())).sql(", ");
        q.bind(Param::Timestamps(legs.iter().map(|l| l.ended_at).collect())).sql(", ");
        q.bind(Param::Ints(legs.iter().map(|l| l.duration_secs).collect())).sql(", ");
        q.bind(Param::Ints(legs.iter().map(|l| l.last_sequence).collect())).sql(", ");
        q.bind(Param::Texts(legs.iter().map(|l| l.dial_call_sid.clone()).collect())).sql(", ");
        q.bind(Param::Bools(legs.iter().map(|l| l.released).collect())).sql(", ");
        q.bind(Param::Bools(legs.iter().map(|l| l.counted).collect())).sql(", ");
        q.bind(Param::Bools(legs.iter().map(|l| l.counted_connected).collect())).sql(", ");
        q.bind(Param::Timestamps(legs.iter().map(|l| l.accepted_at).collect()));
        q.sql(") AS v(id, status, ringing_at, answered_at, ended_at, duration_secs, last_sequence, dial_call_sid, released, counted, ");
        q.sql("counted_connected, accepted_at) WHERE l.id = v.id AND l.call_id = ").bind(id()).sql(" AND EXISTS (SELECT 1 FROM ok))");
    }
    if !e.releases.is_empty() {
        q.sql(", released AS (UPDATE buyer_load l SET in_progress = GREATEST(l.in_progress - r.n, 0) FROM (SELECT b AS buyer_id, ");
        q.sql("count(*) AS n FROM unnest(").bind(Param::BigInts(e.releases.iter().map(|b| Some(*b)).collect()));
        q.sql(") AS b GROUP BY b) r WHERE l.buyer_id = r.buyer_id AND EXISTS (SELECT 1 FROM ok))");
    }
    if !e.log.is_empty() || e.claim.is_some() {
        q.sql(", log AS (INSERT INTO call_events (call_id, at, kind, data) SELECT ").bind(id()).sql(", ").bind(at());
        q.sql(", x.kind, x.data FROM (SELECT e.kind, e.data, e.n FROM unnest(").bind(texts(e.log.iter().map(|(k, _)| *k))).sql(", ");
        q.bind(texts(e.log.iter().map(|(_, d)| d.as_str()))).sql(") WITH ORDINALITY AS e(kind, data, n) WHERE EXISTS (SELECT 1 FROM ok)");
        if let Some(claim) = &e.claim {
            q.sql(" UNION ALL SELECT 'attempt', json_build_object('attempt', ").bind(Param::Int(Some(claim.attempt)));
            match &claim.bid {
                Some(b) => {
                    q.sql(", 'leg_id', leg.id, 'bidder_id', ").bind(Param::BigInt(Some(b.bidder_id))).sql(", 'bidder', ");
                    q.bind(Param::Text(Some(claim.buyer_name.clone()))).sql(", 'bid_micros', ").bind(Param::BigInt(Some(b.bid_micros)));
                }
                None => {
                    q.sql(", 'leg_id', leg.id, 'buyer_id', ").bind(Param::BigInt(Some(claim.buyer_id))).sql(", 'buyer', ");
                    q.bind(Param::Text(Some(claim.buyer_name.clone())));
                }
            }
            q.sql(")::text, 9223372036854775807 FROM leg");
        }
        q.sql(") x ORDER BY x.n)");
    }
    if !e.live.is_empty() {
        let call = CallRow { version: e.version + 1, ..r.clone() }.into_wire();
        let payloads = e
            .live
            .iter()
            .map(|a| PayloadRef { call: &call, qualification: a.qualification.as_ref() }.to_json().map(Some))
            .collect::<Result<Vec<_>, _>>()?;
        q.sql(", live AS (INSERT INTO live_events (at, kind, call_id, publisher_id, payload) SELECT ").bind(at()).sql(", e.kind, ");
        q.bind(id()).sql(", ").bind(Param::BigInt(r.publisher_id)).sql(", e.payload FROM unnest(");
        q.bind(texts(e.live.iter().map(|a| a.kind.as_str()))).sql(", ").bind(Param::Texts(payloads));
        q.sql(") WITH ORDINALITY AS e(kind, payload, n) WHERE EXISTS (SELECT 1 FROM ok) ORDER BY e.n)");
    }
    let rows = &e.rollups;
    if !rows.is_empty() {
        q.sql(", roll AS (INSERT INTO call_rollups (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard, calls, answered, ");
        q.sql("qualified, duplicates, no_buyer, talk_secs, revenue_micros, payout_micros, cost_micros, offered, connected, blocked) ");
        q.sql(
            "SELECT r.level, r.hour, r.campaign_id, r.publisher_id, r.buyer_id, r.number_id, r.shard, r.calls, r.answered, r.qualified, ",
        );
        q.sql(
            "r.duplicates, r.no_buyer, r.talk_secs, r.revenue_micros, r.payout_micros, r.cost_micros, r.offered, r.connected, r.blocked \
             FROM unnest(",
        );
        let keys: [fn(&RollupRow) -> i64; 7] =
            [|r| r.level, |r| r.hour, |r| r.campaign_id, |r| r.publisher_id, |r| r.buyer_id, |r| r.number_id, |r| r.shard];
        for key in keys {
            q.bind(rollup_column(rows, key)).sql(", ");
        }
        for i in 0..SUMS.len() {
            q.bind(rollup_column(rows, |r| r.sums[i]));
            q.sql(if i + 1 < SUMS.len() { ", " } else { "" });
        }
        q.sql(") WITH ORDINALITY AS r(level, hour, campaign_id, publisher_id, buyer_id, number_id, shard, calls, answered, qualified, ");
        q.sql("duplicates, no_buyer, talk_secs, revenue_micros, payout_micros, cost_micros, offered, connected, blocked, n) ");
        q.sql("WHERE EXISTS (SELECT 1 FROM ok) ORDER BY r.n ON CONFLICT (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard) ");
        q.sql("DO UPDATE SET ").sql(UPDATE_SUMS).sql(")");
    }
    if !e.jobs.is_empty() {
        q.sql(", queued AS (INSERT INTO jobs (kind, payload, run_at, attempts, max_attempts, status, created_at, updated_at) ");
        q.sql("SELECT j.kind, j.payload, j.run_at, 0, GREATEST(j.max_attempts, 1), 'pending', ").bind(at()).sql(", ").bind(at());
        q.sql(" FROM unnest(").bind(texts(e.jobs.iter().map(|j| j.kind.as_str()))).sql(", ");
        q.bind(texts(e.jobs.iter().map(|j| j.payload.as_str()))).sql(", ");
        q.bind(Param::Timestamps(e.jobs.iter().map(|j| Some(j.run_at)).collect())).sql(", ");
        q.bind(Param::Ints(e.jobs.iter().map(|j| Some(j.max_attempts)).collect()));
        q.sql(") AS j(kind, payload, run_at, max_attempts) WHERE EXISTS (SELECT 1 FROM ok))");
    }
    let pings = &e.pings;
    if !pings.is_empty() {
        q.sql(", pinged AS (INSERT INTO bid_pings (campaign_id, bidder_id, bidder_name, call_id, quote_id, at, latency_ms, outcome, ");
        q.sql("detail, bid_micros, dial_to, expires_at, min_duration_secs) SELECT p.campaign_id, p.bidder_id, p.bidder_name, ");
        q.bind(id()).sql(
            ", NULL, p.at, p.latency_ms, p.outcome, p.detail, p.bid_micros, p.dial_to, p.expires_at, p.min_duration_secs FROM unnest(",
        );
        q.bind(Param::BigInts(pings.iter().map(|p| Some(p.campaign_id)).collect())).sql(", ");
        q.bind(Param::BigInts(pings.iter().map(|p| p.bidder_id).collect())).sql(", ");
        q.bind(texts(pings.iter().map(|p| p.bidder_name.as_str()))).sql(", ");
        q.bind(Param::Timestamps(pings.iter().map(|p| Some(p.at)).collect())).sql(", ");
        q.bind(Param::Ints(pings.iter().map(|p| Some(p.latency_ms)).collect())).sql(", ");
        q.bind(texts(pings.iter().map(|p| p.outcome.as_str()))).sql(", ");
        q.bind(Param::Texts(pings.iter().map(|p| p.detail.clone()).collect())).sql(", ");
        q.bind(Param::BigInts(pings.iter().map(|p| p.bid_micros).collect())).sql(", ");
        q.bind(Param::Texts(pings.iter().map(|p| p.dial_to.clone()).collect())).sql(", ");
        q.bind(Param::Timestamps(pings.iter().map(|p| p.expires_at).collect())).sql(", ");
        q.bind(Param::Ints(pings.iter().map(|p| p.min_duration_secs).collect()));
        q.sql(") WITH ORDINALITY AS p(campaign_id, bidder_id, bidder_name, at, latency_ms, outcome, detail, bid_micros, dial_to, ");
        q.sql("expires_at, min_duration_secs, n) WHERE EXISTS (SELECT 1 FROM ok) ORDER BY p.n)");
    }
    if let Some(bidder) = e.won_bidder {
        q.sql(", won AS (UPDATE bid_pings SET outcome = 'won' WHERE call_id = ").bind(id()).sql(" AND bidder_id = ");
        q.bind(Param::BigInt(Some(bidder))).sql(" AND EXISTS (SELECT 1 FROM ok))");
    }
    let (claimed, leg) =
        if e.claim.is_some() { ("(SELECT count(*) FROM claim)", "(SELECT id FROM leg)") } else { ("0::bigint", "NULL::bigint") };
    q.sql(format!(" SELECT (SELECT count(*) FROM {head}) AS held, {claimed} AS claimed, {leg} AS leg_id"));
    Ok(q)
}

pub(super) fn commit(c: &mut PgConnection, e: &Effects) -> Result<Commit, Error> {
    let s = statement(e)?;
    let done: Done = with_retry(|| Ok(s.run().get_result(c)?))?;
    Ok(match (done.held, e.claim.is_some(), done.claimed) {
        (0, _, _) if e.insert => Commit::Duplicate,
        (0, _, _) => Commit::Stale,
        (_, true, 0) => Commit::SlotTaken,
        _ => Commit::Done { leg_id: done.leg_id },
    })
}
