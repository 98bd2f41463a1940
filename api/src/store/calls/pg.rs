//! The call flow's reads and commit on PostgreSQL, each one statement (see [`crate::db::raw`]):
//! no transaction block, so one round trip each. A statement is atomic by itself; the commit's
//! first step locks the call row and checks its version, so everything after it acts on the
//! state the webhook decided from.
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Timestamp};
use diesel::PgConnection;

use super::flow::{Claim, Commit, Effects, LoadRow, Loads};
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
           (SELECT c.buyer_id FROM calls c
             WHERE c.caller = p.caller AND c.campaign_id = p.campaign AND c.started_at >= p.repeat_since
               AND c.connected_at IS NOT NULL
             ORDER BY c.started_at DESC LIMIT 1) AS repeat_buyer
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
    let statement = PgStatement::new(LOADS)
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
    #[diesel(sql_type = BigInt)]
    inserted: i64,
    #[diesel(sql_type = BigInt)]
    locked: i64,
    #[diesel(sql_type = BigInt)]
    claimed: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    leg_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    updated: i64,
}

/// The commit: record the new call, or lock the call at its version; claim the slot (if any);
/// then everything else only if both held. Data-modifying CTEs run in the order their results
/// are needed: `ins`, `lock` and `head`, then `claim`, `ok`, `upd` and `leg` (read by the final
/// `SELECT`), then the rest. A copy of a new call's webhook waits at `ins` for this statement to
/// commit, then finds the call recorded and routed.
const COMMIT: &str = "\
, ins AS (
    INSERT INTO calls (id, call_sid, campaign_id, number_id, publisher_id, buyer_id, caller, dialled, caller_state, caller_state_source,
        caller_city, caller_zip, status, outcome, attempts, started_at, ringing_at, answered_at, connected_at, ended_at, duration_secs,
        billable_secs, recording_sid, recording_url, recording_duration_secs, recording_channels, last_sequence, updated_at,
        cost_micros, cost_currency, cost_status, transcript, transcript_status, transcript_sid, settled_at, money_buyer_id, answered,
        no_buyer, talk_secs, duplicate, qualified, qualify_reason, currency, rule_revenue_micros, rule_payout_micros, rule_buffer_secs,
        rule_duplicate_window_secs, revenue_micros, payout_micros, counted_cost_micros, profit_micros, postback_at, version)
    SELECT p.call_id, p.call_sid, p.campaign_id, p.number_id, p.publisher_id, p.buyer_id, p.caller, p.dialled, p.caller_state,
        p.caller_state_source, p.caller_city, p.caller_zip, p.status, p.outcome, p.attempts, p.started_at, p.ringing_at, p.answered_at,
        p.connected_at, p.ended_at, p.duration_secs, p.billable_secs, p.recording_sid, p.recording_url, p.recording_duration_secs,
        p.recording_channels, p.last_sequence, p.updated_at, p.cost_micros, p.cost_currency, p.cost_status, p.transcript,
        p.transcript_status, p.transcript_sid, p.settled_at, p.money_buyer_id, p.answered, p.no_buyer, p.talk_secs, p.duplicate,
        p.qualified, p.qualify_reason, p.currency, p.rule_revenue_micros, p.rule_payout_micros, p.rule_buffer_secs,
        p.rule_duplicate_window_secs, p.revenue_micros, p.payout_micros, p.counted_cost_micros, p.profit_micros, p.postback_at, 0
    FROM p WHERE p.insert
    ON CONFLICT (call_sid) DO NOTHING
    RETURNING id
), lock AS (
    SELECT c.id FROM calls c, p WHERE NOT p.insert AND c.id = p.call_id AND c.version = p.version FOR UPDATE OF c
), head AS (
    SELECT id FROM ins UNION ALL SELECT id FROM lock
), claim AS (
    UPDATE buyer_load l SET
        in_progress = l.in_progress + 1,
        hour_count = CASE WHEN l.hour_key = p.hour_key THEN l.hour_count + 1 ELSE 1 END, hour_key = p.hour_key,
        day_count = CASE WHEN l.day_key = p.day_key THEN l.day_count + 1 ELSE 1 END, day_key = p.day_key,
        month_count = CASE WHEN l.month_key = p.month_key THEN l.month_count + 1 ELSE 1 END, month_key = p.month_key,
        total_calls = l.total_calls + 1, last_call_at = p.at
    FROM p
    WHERE l.buyer_id = p.claim_buyer AND l.in_progress < p.claim_max
      AND (l.hour_key <> p.hour_key OR l.hour_count < COALESCE(p.hour_cap, 2147483647))
      AND (l.day_key <> p.day_key OR l.day_count < COALESCE(p.day_cap, 2147483647))
      AND (l.month_key <> p.month_key OR l.month_count < COALESCE(p.month_cap, 2147483647))
      AND EXISTS (SELECT 1 FROM head)
    RETURNING l.buyer_id
), ok AS (
    SELECT 1 AS ok FROM head, p WHERE p.claim_buyer IS NULL OR EXISTS (SELECT 1 FROM claim)
), upd AS (
    UPDATE calls c SET
        version = c.version + 1, campaign_id = p.campaign_id, number_id = p.number_id, publisher_id = p.publisher_id,
        buyer_id = p.buyer_id, caller = p.caller, dialled = p.dialled, caller_state = p.caller_state,
        caller_state_source = p.caller_state_source, caller_city = p.caller_city, caller_zip = p.caller_zip, status = p.status,
        outcome = p.outcome, attempts = p.attempts, ringing_at = p.ringing_at, answered_at = p.answered_at,
        connected_at = p.connected_at, ended_at = p.ended_at, duration_secs = p.duration_secs, billable_secs = p.billable_secs,
        recording_sid = p.recording_sid, recording_url = p.recording_url, recording_duration_secs = p.recording_duration_secs,
        recording_channels = p.recording_channels, last_sequence = p.last_sequence, updated_at = p.updated_at,
        cost_micros = p.cost_micros, cost_currency = p.cost_currency, cost_status = p.cost_status, transcript = p.transcript,
        transcript_status = p.transcript_status, transcript_sid = p.transcript_sid, settled_at = p.settled_at,
        money_buyer_id = p.money_buyer_id, answered = p.answered, no_buyer = p.no_buyer, talk_secs = p.talk_secs,
        duplicate = p.duplicate, qualified = p.qualified, qualify_reason = p.qualify_reason, currency = p.currency,
        rule_revenue_micros = p.rule_revenue_micros, rule_payout_micros = p.rule_payout_micros,
        rule_buffer_secs = p.rule_buffer_secs, rule_duplicate_window_secs = p.rule_duplicate_window_secs,
        revenue_micros = p.revenue_micros, payout_micros = p.payout_micros, counted_cost_micros = p.counted_cost_micros,
        profit_micros = p.profit_micros, postback_at = p.postback_at
    FROM p
    WHERE NOT p.insert AND c.id = p.call_id AND EXISTS (SELECT 1 FROM ok)
    RETURNING c.id
), leg AS (
    INSERT INTO call_legs (call_id, attempt, buyer_id, status, released, reserved_at, expires_at, counted, counted_connected)
    SELECT p.call_id, p.attempt, claim.buyer_id, 'reserved', false, p.at, p.expires_at, false, false FROM p, claim, ok
    RETURNING id
), legs AS (
    UPDATE call_legs l SET
        status = v.status, ringing_at = v.ringing_at, answered_at = v.answered_at, ended_at = v.ended_at,
        duration_secs = v.duration_secs, last_sequence = v.last_sequence, dial_call_sid = v.dial_call_sid,
        released = v.released, counted = v.counted, counted_connected = v.counted_connected
    FROM p, unnest(p.leg_id, p.leg_status, p.leg_ringing_at, p.leg_answered_at, p.leg_ended_at, p.leg_duration_secs,
                   p.leg_last_sequence, p.leg_dial_call_sid, p.leg_released, p.leg_counted, p.leg_counted_connected)
         AS v(id, status, ringing_at, answered_at, ended_at, duration_secs, last_sequence, dial_call_sid, released, counted,
              counted_connected)
    WHERE l.id = v.id AND l.call_id = p.call_id AND EXISTS (SELECT 1 FROM ok)
), released AS (
    UPDATE buyer_load l SET in_progress = GREATEST(l.in_progress - r.n, 0)
    FROM (SELECT b AS buyer_id, count(*) AS n FROM p, unnest(p.release_buyers) AS b GROUP BY b) r
    WHERE l.buyer_id = r.buyer_id AND EXISTS (SELECT 1 FROM ok)
), log AS (
    INSERT INTO call_events (call_id, at, kind, data)
    SELECT x.call_id, x.at, x.kind, x.data FROM (
        SELECT p.call_id, p.at, e.kind, e.data, e.n FROM p, unnest(p.log_kinds, p.log_data) WITH ORDINALITY AS e(kind, data, n)
        WHERE EXISTS (SELECT 1 FROM ok)
        UNION ALL
        SELECT p.call_id, p.at, 'attempt',
               json_build_object('attempt', p.attempt, 'leg_id', leg.id, 'buyer_id', p.claim_buyer, 'buyer', p.buyer_name)::text,
               9223372036854775807
        FROM p, leg
    ) x ORDER BY x.n
), live AS (
    INSERT INTO live_events (at, kind, call_id, publisher_id, payload)
    SELECT p.at, e.kind, p.call_id, p.publisher_id, e.payload
    FROM p, unnest(p.live_kinds, p.live_payloads) WITH ORDINALITY AS e(kind, payload, n)
    WHERE EXISTS (SELECT 1 FROM ok) ORDER BY e.n
), roll AS (
    INSERT INTO call_rollups (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard, calls, answered, qualified,
                              duplicates, no_buyer, talk_secs, revenue_micros, payout_micros, cost_micros, offered, connected)
    SELECT r.level, r.hour, r.campaign_id, r.publisher_id, r.buyer_id, r.number_id, r.shard, r.calls, r.answered, r.qualified,
           r.duplicates, r.no_buyer, r.talk_secs, r.revenue_micros, r.payout_micros, r.cost_micros, r.offered, r.connected
    FROM p, unnest(p.r_level, p.r_hour, p.r_campaign_id, p.r_publisher_id, p.r_buyer_id, p.r_number_id, p.r_shard, p.r_calls,
                   p.r_answered, p.r_qualified, p.r_duplicates, p.r_no_buyer, p.r_talk_secs, p.r_revenue_micros,
                   p.r_payout_micros, p.r_cost_micros, p.r_offered, p.r_connected) WITH ORDINALITY
         AS r(level, hour, campaign_id, publisher_id, buyer_id, number_id, shard, calls, answered, qualified, duplicates, no_buyer,
              talk_secs, revenue_micros, payout_micros, cost_micros, offered, connected, n)
    WHERE EXISTS (SELECT 1 FROM ok)
    ORDER BY r.n
    ON CONFLICT (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard) DO UPDATE SET ";

/// The end of [`COMMIT`], after the rollups' `ON CONFLICT` assignments.
const COMMIT_END: &str = "
), queued AS (
    INSERT INTO jobs (kind, payload, run_at, attempts, max_attempts, status, created_at, updated_at)
    SELECT j.kind, j.payload, j.run_at, 0, GREATEST(j.max_attempts, 1), 'pending', p.at, p.at
    FROM p, unnest(p.job_kinds, p.job_payloads, p.job_run_at, p.job_max_attempts) AS j(kind, payload, run_at, max_attempts)
    WHERE EXISTS (SELECT 1 FROM ok)
)
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM lock) AS locked, (SELECT count(*) FROM claim) AS claimed,
       (SELECT id FROM leg) AS leg_id, (SELECT count(*) FROM upd) + (SELECT count(*) FROM ok, p WHERE p.insert) AS updated";

fn commit_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| format!("{COMMIT}{UPDATE_SUMS}{COMMIT_END}"))
}

fn texts<'a>(v: impl Iterator<Item = &'a str>) -> Param {
    Param::Texts(v.map(|s| Some(s.to_string())).collect())
}

fn rollup_column(rows: &[RollupRow], f: impl Fn(&RollupRow) -> i64) -> Param {
    Param::BigInts(rows.iter().map(|r| Some(f(r))).collect())
}

pub(super) fn commit(c: &mut PgConnection, e: &Effects) -> Result<Commit, Error> {
    let r: &CallRow = &e.call;
    let claim: Option<&Claim> = e.claim.as_ref();
    let call = CallRow { version: e.version + 1, ..r.clone() }.into_wire();
    let payloads = e
        .live
        .iter()
        .map(|a| PayloadRef { call: &call, qualification: a.qualification.as_ref() }.to_json().map(Some))
        .collect::<Result<Vec<_>, _>>()?;
    let mut s = PgStatement::new(commit_sql())
        .param("insert", Param::Bool(Some(e.insert)))
        .param("call_id", Param::BigInt(Some(r.id)))
        .param("call_sid", Param::Text(Some(r.call_sid.clone())))
        .param("started_at", Param::Timestamp(Some(r.started_at)))
        .param("version", Param::BigInt(Some(e.version)))
        .param("at", Param::Timestamp(Some(e.at)))
        .param("claim_buyer", Param::BigInt(claim.map(|c| c.buyer_id)))
        .param("claim_max", Param::Int(claim.map(|c| c.max_concurrent)))
        .param("hour_key", Param::BigInt(claim.map(|c| c.keys.hour)))
        .param("hour_cap", Param::Int(claim.and_then(|c| c.caps[0])))
        .param("day_key", Param::BigInt(claim.map(|c| c.keys.day)))
        .param("day_cap", Param::Int(claim.and_then(|c| c.caps[1])))
        .param("month_key", Param::BigInt(claim.map(|c| c.keys.month)))
        .param("month_cap", Param::Int(claim.and_then(|c| c.caps[2])))
        .param("attempt", Param::Int(claim.map(|c| c.attempt)))
        .param("expires_at", Param::Timestamp(claim.map(|c| c.expires_at)))
        .param("buyer_name", Param::Text(claim.map(|c| c.buyer_name.clone())));
    s = s
        .param("campaign_id", Param::BigInt(r.campaign_id))
        .param("number_id", Param::BigInt(r.number_id))
        .param("publisher_id", Param::BigInt(r.publisher_id))
        .param("buyer_id", Param::BigInt(r.buyer_id))
        .param("caller", Param::Text(Some(r.caller.clone())))
        .param("dialled", Param::Text(Some(r.dialled.clone())))
        .param("caller_state", Param::Text(r.caller_state.clone()))
        .param("caller_state_source", Param::Text(r.caller_state_source.clone()))
        .param("caller_city", Param::Text(r.caller_city.clone()))
        .param("caller_zip", Param::Text(r.caller_zip.clone()))
        .param("status", Param::Text(Some(r.status.as_str().to_string())))
        .param("outcome", Param::Text(Some(r.outcome.as_str().to_string())))
        .param("attempts", Param::Int(Some(r.attempts)))
        .param("ringing_at", Param::Timestamp(r.ringing_at))
        .param("answered_at", Param::Timestamp(r.answered_at))
        .param("connected_at", Param::Timestamp(r.connected_at))
        .param("ended_at", Param::Timestamp(r.ended_at))
        .param("duration_secs", Param::Int(r.duration_secs))
        .param("billable_secs", Param::Int(r.billable_secs))
        .param("recording_sid", Param::Text(r.recording_sid.clone()))
        .param("recording_url", Param::Text(r.recording_url.clone()))
        .param("recording_duration_secs", Param::Int(r.recording_duration_secs))
        .param("recording_channels", Param::Int(r.recording_channels))
        .param("last_sequence", Param::Int(r.last_sequence))
        .param("updated_at", Param::Timestamp(Some(r.updated_at)))
        .param("cost_micros", Param::BigInt(r.cost_micros))
        .param("cost_currency", Param::Text(r.cost_currency.clone()))
        .param("cost_status", Param::Text(r.cost_status.map(|s| s.as_str().to_string())))
        .param("transcript", Param::Text(r.transcript.clone()))
        .param("transcript_status", Param::Text(r.transcript_status.map(|s| s.as_str().to_string())))
        .param("transcript_sid", Param::Text(r.transcript_sid.clone()))
        .param("settled_at", Param::Timestamp(r.settled_at))
        .param("money_buyer_id", Param::BigInt(r.money_buyer_id))
        .param("answered", Param::Bool(Some(r.answered)))
        .param("no_buyer", Param::Bool(Some(r.no_buyer)))
        .param("talk_secs", Param::Int(Some(r.talk_secs)))
        .param("duplicate", Param::Bool(Some(r.duplicate)))
        .param("qualified", Param::Bool(r.qualified))
        .param("qualify_reason", Param::Text(r.qualify_reason.map(|q| q.as_str().to_string())))
        .param("currency", Param::Text(r.currency.clone()))
        .param("rule_revenue_micros", Param::BigInt(r.rule_revenue_micros))
        .param("rule_payout_micros", Param::BigInt(r.rule_payout_micros))
        .param("rule_buffer_secs", Param::Int(r.rule_buffer_secs))
        .param("rule_duplicate_window_secs", Param::Int(r.rule_duplicate_window_secs))
        .param("revenue_micros", Param::BigInt(Some(r.revenue_micros)))
        .param("payout_micros", Param::BigInt(Some(r.payout_micros)))
        .param("counted_cost_micros", Param::BigInt(Some(r.counted_cost_micros)))
        .param("profit_micros", Param::BigInt(r.profit_micros))
        .param("postback_at", Param::Timestamp(r.postback_at));
    let legs = &e.legs;
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
        .param("leg_counted_connected", Param::Bools(legs.iter().map(|l| l.counted_connected).collect()))
        .param("release_buyers", Param::BigInts(e.releases.iter().map(|b| Some(*b)).collect()))
        .param("log_kinds", texts(e.log.iter().map(|(k, _)| *k)))
        .param("log_data", texts(e.log.iter().map(|(_, d)| d.as_str())))
        .param("live_kinds", texts(e.live.iter().map(|a| a.kind.as_str())))
        .param("live_payloads", Param::Texts(payloads));
    let rows = &e.rollups;
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
    s = s
        .param("job_kinds", texts(e.jobs.iter().map(|j| j.kind.as_str())))
        .param("job_payloads", texts(e.jobs.iter().map(|j| j.payload.as_str())))
        .param("job_run_at", Param::Timestamps(e.jobs.iter().map(|j| Some(j.run_at)).collect()))
        .param("job_max_attempts", Param::Ints(e.jobs.iter().map(|j| Some(j.max_attempts)).collect()));
    let done: Done = with_retry(|| Ok(s.run().get_result(c)?))?;
    Ok(if e.insert && done.inserted == 0 {
        Commit::Duplicate
    } else if !e.insert && done.locked == 0 {
        Commit::Stale
    } else if claim.is_some() && done.claimed == 0 {
        Commit::SlotTaken
    } else if done.updated == 1 {
        Commit::Done { leg_id: done.leg_id }
    } else {
        return Err(Error::internal(anyhow::anyhow!("the commit of call {} locked it but did not update it", r.id)));
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

