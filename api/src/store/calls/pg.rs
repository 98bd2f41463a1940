//! The call flow's reads and commit on PostgreSQL, each one statement (see [`crate::db::raw`]):
//! no transaction block, so one round trip each. A statement is atomic by itself; the commit's
//! first step locks the call row and checks its version, so everything after it acts on the
//! state the webhook decided from.
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Timestamp};
use diesel::PgConnection;

use super::flow::{Commit, Effects, LoadRow, Loads};
use super::CallRow;
use crate::db::raw::{Param, PgStatement};
use crate::error::Error;
use crate::store::live_events::PayloadRef;
use crate::store::rollups::{RollupRow, UPDATE_SUMS};

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
    last_call_at: Option<chrono::NaiveDateTime>,
}

const LOADS: &str = "\
, head AS (
    SELECT CASE WHEN p.new_call THEN nextval(pg_get_serial_sequence('calls', 'id')) END AS call_id,
           (SELECT version FROM directory_version WHERE id = 1) AS directory_version,
           -- Ordered as the (caller, campaign_id, started_at) index is: the planner does not see
           -- the values (they come from p), and must not walk a busy campaign's calls instead.
           (SELECT c.buyer_id FROM calls c
             WHERE c.caller = p.caller AND c.campaign_id = p.campaign AND c.started_at >= p.repeat_since
               AND c.connected_at IS NOT NULL
             ORDER BY c.caller DESC, c.campaign_id DESC, c.started_at DESC LIMIT 1) AS repeat_buyer
    FROM p
)
SELECT head.call_id, head.directory_version, head.repeat_buyer, l.buyer_id, l.in_progress, l.hour_key, l.hour_count, l.day_key,
       l.day_count, l.month_key, l.month_count, l.total_calls, l.last_call_at
FROM head LEFT JOIN (
    SELECT bl.* FROM buyer_load bl JOIN campaign_buyers cb ON cb.buyer_id = bl.buyer_id, p WHERE cb.campaign_id = p.campaign
) l ON true
ORDER BY l.buyer_id";

pub(super) fn loads(
    c: &mut PgConnection,
    new_call: bool,
    campaign: Option<i64>,
    caller: &str,
    repeat_since: chrono::NaiveDateTime,
) -> Result<(Option<i64>, Loads), Error> {
    let statement = PgStatement::new()
        .body(LOADS)
        .param("new_call", Param::Bool(Some(new_call)))
        .param("campaign", Param::BigInt(campaign))
        .param("caller", Param::Text(Some(caller.to_string())))
        .param("repeat_since", Param::Timestamp(Some(repeat_since)));
    let rows: Vec<LoadsRow> = with_retry(|| Ok(statement.run().load(c)?))?;
    let Some(head) = rows.first() else { return Err(Error::internal(anyhow::anyhow!("the loads statement returned no row"))) };
    let (call_id, directory_version, repeat_buyer) = (head.call_id, head.directory_version, head.repeat_buyer);
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
                last_call_at: r.last_call_at,
            })
        })
        .collect();
    Ok((call_id, Loads { directory_version, loads, repeat_buyer }))
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
const CALL_COLUMNS: [&str; 49] = [
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
];

/// The values of [`CALL_COLUMNS`], in order.
fn call_values(r: &CallRow) -> [Param; 49] {
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
    ]
}

fn texts<'a>(v: impl Iterator<Item = &'a str>) -> Param {
    Param::Texts(v.map(|s| Some(s.to_string())).collect())
}

fn rollup_column(rows: &[RollupRow], f: impl Fn(&RollupRow) -> i64) -> Param {
    Param::BigInts(rows.iter().map(|r| Some(f(r))).collect())
}

/// The commit as one statement, with only the parts this change needs (each shape is prepared
/// once per connection, keyed by its text: a large statement of parts that do nothing costs
/// PostgreSQL more to start than the work itself).
///
/// Its first step holds the call: `ins` records a new call (a copy of its webhook waits there
/// for this statement to commit, then finds the call recorded); `lock` locks the call at the
/// version the change was computed from when a slot is to be claimed; otherwise `upd` changes
/// it at that version. Then `claim` takes the buyer's slot if it still has room, `ok` says both
/// held, and every other part writes only if `ok`. Data-modifying CTEs run in the order their
/// results are needed, so the call is always held before the slot.
fn statement(e: &Effects) -> Result<PgStatement, Error> {
    let r = &e.call;
    let changed = e.insert || e.call != e.read;
    let mut sql = String::with_capacity(4096);
    let mut s = PgStatement::new()
        .param("call_id", Param::BigInt(Some(r.id)))
        .param("version", Param::BigInt(Some(e.version)))
        .param("at", Param::Timestamp(Some(e.at)));
    if changed {
        for (name, value) in CALL_COLUMNS.into_iter().zip(call_values(r)) {
            s = s.param(name, value);
        }
    }
    // What a change of the call row sets, after its version.
    let sets: String = if changed { CALL_COLUMNS.iter().map(|c| format!(", {c} = p.{c}")).collect() } else { String::new() };
    let head = if e.insert {
        s = s.param("call_sid", Param::Text(Some(r.call_sid.clone()))).param("started_at", Param::Timestamp(Some(r.started_at)));
        let columns = CALL_COLUMNS.join(", ");
        let values: String = CALL_COLUMNS.iter().map(|c| format!(", p.{c}")).collect();
        sql.push_str(&format!(
            ", ins AS (INSERT INTO calls (id, call_sid, started_at, version, {columns}) \
             SELECT p.call_id, p.call_sid, p.started_at, 0{values} FROM p ON CONFLICT (call_sid) DO NOTHING RETURNING id)"
        ));
        "ins"
    } else if e.claim.is_some() {
        sql.push_str(", lock AS (SELECT c.id FROM calls c, p WHERE c.id = p.call_id AND c.version = p.version FOR UPDATE OF c)");
        "lock"
    } else {
        sql.push_str(&format!(
            ", upd AS (UPDATE calls c SET version = c.version + 1{sets} FROM p WHERE c.id = p.call_id AND c.version = p.version RETURNING c.id)"
        ));
        "upd"
    };
    if let Some(claim) = &e.claim {
        s = s
            .param("claim_buyer", Param::BigInt(Some(claim.buyer_id)))
            .param("claim_max", Param::Int(Some(claim.max_concurrent)))
            .param("hour_key", Param::BigInt(Some(claim.keys.hour)))
            .param("hour_cap", Param::Int(claim.caps[0]))
            .param("day_key", Param::BigInt(Some(claim.keys.day)))
            .param("day_cap", Param::Int(claim.caps[1]))
            .param("month_key", Param::BigInt(Some(claim.keys.month)))
            .param("month_cap", Param::Int(claim.caps[2]))
            .param("attempt", Param::Int(Some(claim.attempt)))
            .param("expires_at", Param::Timestamp(Some(claim.expires_at)))
            .param("buyer_name", Param::Text(Some(claim.buyer_name.clone())));
        sql.push_str(&format!(
            ", claim AS (UPDATE buyer_load l SET in_progress = l.in_progress + 1, \
             hour_count = CASE WHEN l.hour_key = p.hour_key THEN l.hour_count + 1 ELSE 1 END, hour_key = p.hour_key, \
             day_count = CASE WHEN l.day_key = p.day_key THEN l.day_count + 1 ELSE 1 END, day_key = p.day_key, \
             month_count = CASE WHEN l.month_key = p.month_key THEN l.month_count + 1 ELSE 1 END, month_key = p.month_key, \
             total_calls = l.total_calls + 1, last_call_at = p.at FROM p \
             WHERE l.buyer_id = p.claim_buyer AND l.in_progress < p.claim_max \
             AND (l.hour_key <> p.hour_key OR l.hour_count < COALESCE(p.hour_cap, 2147483647)) \
             AND (l.day_key <> p.day_key OR l.day_count < COALESCE(p.day_cap, 2147483647)) \
             AND (l.month_key <> p.month_key OR l.month_count < COALESCE(p.month_cap, 2147483647)) \
             AND EXISTS (SELECT 1 FROM {head}) RETURNING l.buyer_id)\
             , ok AS (SELECT 1 AS ok FROM {head} WHERE EXISTS (SELECT 1 FROM claim))"
        ));
        if !e.insert {
            sql.push_str(&format!(
                ", upd AS (UPDATE calls c SET version = c.version + 1{sets} FROM p WHERE c.id = p.call_id AND EXISTS (SELECT 1 FROM ok) RETURNING c.id)"
            ));
        }
        sql.push_str(
            ", leg AS (INSERT INTO call_legs (call_id, attempt, buyer_id, status, released, reserved_at, expires_at, counted, counted_connected) \
             SELECT p.call_id, p.attempt, claim.buyer_id, 'reserved', false, p.at, p.expires_at, false, false FROM p, claim, ok RETURNING id)",
        );
    } else {
        sql.push_str(&format!(", ok AS (SELECT 1 AS ok FROM {head})"));
    }
    let legs = &e.legs;
    if !legs.is_empty() {
        s = s
            .param("leg_id", Param::BigInts(legs.iter().map(|l| Some(l.id)).collect()))
            .param("leg_status", texts(legs.iter().map(|l| l.status.as_str())))
            .param("leg_ringing_at", Param::Timestamps(legs.iter().map(|l| l.ringing_at).collect()))
            .param("leg_answered_at", Param::Timestamps(legs.iter().map(|l| l.answered_at).collect()))
            .param("leg_ended_at", Param::Timestamps(legs.iter().map(|l| l.ended_at).collect()))
            .param("leg_duration_secs", Param::Ints(legs.iter().map(|l| l.duration_secs).collect()))
            .param("leg_last_sequence", Param::Ints(legs.iter().map(|l| l.last_sequence).collect()))
            .param("leg_dial_call_sid", Param::Texts(legs.iter().map(|l| l.dial_call_sid.clone()).collect()))
            .param("leg_released", Param::Bools(legs.iter().map(|l| l.released).collect()))
            .param("leg_counted", Param::Bools(legs.iter().map(|l| l.counted).collect()))
            .param("leg_counted_connected", Param::Bools(legs.iter().map(|l| l.counted_connected).collect()));
        sql.push_str(
            ", legs AS (UPDATE call_legs l SET status = v.status, ringing_at = v.ringing_at, answered_at = v.answered_at, \
             ended_at = v.ended_at, duration_secs = v.duration_secs, last_sequence = v.last_sequence, dial_call_sid = v.dial_call_sid, \
             released = v.released, counted = v.counted, counted_connected = v.counted_connected \
             FROM p, unnest(p.leg_id, p.leg_status, p.leg_ringing_at, p.leg_answered_at, p.leg_ended_at, p.leg_duration_secs, \
             p.leg_last_sequence, p.leg_dial_call_sid, p.leg_released, p.leg_counted, p.leg_counted_connected) \
             AS v(id, status, ringing_at, answered_at, ended_at, duration_secs, last_sequence, dial_call_sid, released, counted, counted_connected) \
             WHERE l.id = v.id AND l.call_id = p.call_id AND EXISTS (SELECT 1 FROM ok))",
        );
    }
    if !e.releases.is_empty() {
        s = s.param("release_buyers", Param::BigInts(e.releases.iter().map(|b| Some(*b)).collect()));
        sql.push_str(
            ", released AS (UPDATE buyer_load l SET in_progress = GREATEST(l.in_progress - r.n, 0) \
             FROM (SELECT b AS buyer_id, count(*) AS n FROM p, unnest(p.release_buyers) AS b GROUP BY b) r \
             WHERE l.buyer_id = r.buyer_id AND EXISTS (SELECT 1 FROM ok))",
        );
    }
    if !e.log.is_empty() || e.claim.is_some() {
        s = s.param("log_kinds", texts(e.log.iter().map(|(k, _)| *k))).param("log_data", texts(e.log.iter().map(|(_, d)| d.as_str())));
        let attempt = if e.claim.is_some() {
            " UNION ALL SELECT p.call_id, p.at, 'attempt', \
             json_build_object('attempt', p.attempt, 'leg_id', leg.id, 'buyer_id', p.claim_buyer, 'buyer', p.buyer_name)::text, \
             9223372036854775807 FROM p, leg"
        } else {
            ""
        };
        sql.push_str(&format!(
            ", log AS (INSERT INTO call_events (call_id, at, kind, data) SELECT x.call_id, x.at, x.kind, x.data FROM (\
             SELECT p.call_id, p.at, e.kind, e.data, e.n FROM p, unnest(p.log_kinds, p.log_data) WITH ORDINALITY AS e(kind, data, n) \
             WHERE EXISTS (SELECT 1 FROM ok){attempt}) x ORDER BY x.n)"
        ));
    }
    if !e.live.is_empty() {
        let call = CallRow { version: e.version + 1, ..r.clone() }.into_wire();
        let payloads = e
            .live
            .iter()
            .map(|a| PayloadRef { call: &call, qualification: a.qualification.as_ref() }.to_json().map(Some))
            .collect::<Result<Vec<_>, _>>()?;
        s = s
            .param("publisher_id_live", Param::BigInt(r.publisher_id))
            .param("live_kinds", texts(e.live.iter().map(|a| a.kind.as_str())))
            .param("live_payloads", Param::Texts(payloads));
        sql.push_str(
            ", live AS (INSERT INTO live_events (at, kind, call_id, publisher_id, payload) \
             SELECT p.at, e.kind, p.call_id, p.publisher_id_live, e.payload \
             FROM p, unnest(p.live_kinds, p.live_payloads) WITH ORDINALITY AS e(kind, payload, n) WHERE EXISTS (SELECT 1 FROM ok) ORDER BY e.n)",
        );
    }
    let rows = &e.rollups;
    if !rows.is_empty() {
        s = s
            .param("r_level", rollup_column(rows, |r| r.level))
            .param("r_hour", rollup_column(rows, |r| r.hour))
            .param("r_campaign_id", rollup_column(rows, |r| r.campaign_id))
            .param("r_publisher_id", rollup_column(rows, |r| r.publisher_id))
            .param("r_buyer_id", rollup_column(rows, |r| r.buyer_id))
            .param("r_number_id", rollup_column(rows, |r| r.number_id))
            .param("r_shard", rollup_column(rows, |r| r.shard));
        for (i, name) in ROLLUP_SUMS.iter().enumerate() {
            s = s.param(name, rollup_column(rows, |r| r.sums[i]));
        }
        sql.push_str(
            ", roll AS (INSERT INTO call_rollups (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard, calls, answered, \
             qualified, duplicates, no_buyer, talk_secs, revenue_micros, payout_micros, cost_micros, offered, connected) \
             SELECT r.level, r.hour, r.campaign_id, r.publisher_id, r.buyer_id, r.number_id, r.shard, r.calls, r.answered, r.qualified, \
             r.duplicates, r.no_buyer, r.talk_secs, r.revenue_micros, r.payout_micros, r.cost_micros, r.offered, r.connected \
             FROM p, unnest(p.r_level, p.r_hour, p.r_campaign_id, p.r_publisher_id, p.r_buyer_id, p.r_number_id, p.r_shard, p.r_calls, \
             p.r_answered, p.r_qualified, p.r_duplicates, p.r_no_buyer, p.r_talk_secs, p.r_revenue_micros, p.r_payout_micros, \
             p.r_cost_micros, p.r_offered, p.r_connected) WITH ORDINALITY AS r(level, hour, campaign_id, publisher_id, buyer_id, \
             number_id, shard, calls, answered, qualified, duplicates, no_buyer, talk_secs, revenue_micros, payout_micros, cost_micros, \
             offered, connected, n) WHERE EXISTS (SELECT 1 FROM ok) ORDER BY r.n \
             ON CONFLICT (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard) DO UPDATE SET ",
        );
        sql.push_str(UPDATE_SUMS);
        sql.push(')');
    }
    if !e.jobs.is_empty() {
        s = s
            .param("job_kinds", texts(e.jobs.iter().map(|j| j.kind.as_str())))
            .param("job_payloads", texts(e.jobs.iter().map(|j| j.payload.as_str())))
            .param("job_run_at", Param::Timestamps(e.jobs.iter().map(|j| Some(j.run_at)).collect()))
            .param("job_max_attempts", Param::Ints(e.jobs.iter().map(|j| Some(j.max_attempts)).collect()));
        sql.push_str(
            ", queued AS (INSERT INTO jobs (kind, payload, run_at, attempts, max_attempts, status, created_at, updated_at) \
             SELECT j.kind, j.payload, j.run_at, 0, GREATEST(j.max_attempts, 1), 'pending', p.at, p.at \
             FROM p, unnest(p.job_kinds, p.job_payloads, p.job_run_at, p.job_max_attempts) AS j(kind, payload, run_at, max_attempts) \
             WHERE EXISTS (SELECT 1 FROM ok))",
        );
    }
    let (claimed, leg) =
        if e.claim.is_some() { ("(SELECT count(*) FROM claim)", "(SELECT id FROM leg)") } else { ("0::bigint", "NULL::bigint") };
    sql.push_str(&format!(" SELECT (SELECT count(*) FROM {head}) AS held, {claimed} AS claimed, {leg} AS leg_id"));
    Ok(s.body(sql))
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

/// The parameter names of the rollups' sums, in [`RollupRow::sums`] order.
const ROLLUP_SUMS: [&str; 11] = [
    "r_calls",
    "r_answered",
    "r_qualified",
    "r_duplicates",
    "r_no_buyer",
    "r_talk_secs",
    "r_revenue_micros",
    "r_payout_micros",
    "r_cost_micros",
    "r_offered",
    "r_connected",
];
