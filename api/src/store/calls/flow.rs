//! What the call flow reads and writes on each webhook.
//!
//! A webhook reads what it needs (one statement on PostgreSQL), decides in Rust, and writes its
//! [`Effects`] with [`commit`]: the call's new row, its changed and new legs, the buyer slot it
//! claims or gives back, its log entries, its live events, its rollup changes and its jobs. The
//! commit is all or nothing and is guarded by the call's version: if anything changed the call
//! or its legs since the read, nothing is written and the webhook reads again ([`Commit::Stale`]).
//! Every change to a call goes through here and bumps that version, so a decision is never made
//! from a state that is no longer true, without any lock held between the read and the write.
//!
//! On PostgreSQL each read and each commit is one statement, outside any transaction block (a
//! single statement is atomic): a webhook costs two or three round trips. On SQLite the same
//! reads and writes are statement sequences run in the writer's transaction.
use callbroker_wire::{LiveEventKind, LiveQualification, Tags};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{CallRow, LegRow};
use crate::db::schema::{buyer_load, call_legs, calls, directory_version};
use crate::db::stamp::{MaybeStamp, Stamp};
use crate::db::{direct, Batch, DbConnection};
use crate::error::Error;
use crate::routing::screening::{History, Windows};
use crate::routing::PeriodKeys;
use crate::store::jobs::NewJob;
use crate::store::rollups::RollupRow;

/// A call with its legs (in attempt order), as one read saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallState {
    pub call: CallRow,
    pub legs: Vec<LegRow>,
}

impl CallState {
    pub fn leg(&self, id: i64) -> Option<&LegRow> {
        self.legs.iter().find(|l| l.id == id)
    }
}

/// A buyer's live load: calls in progress and cap counters of its current periods.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = buyer_load)]
pub struct LoadRow {
    pub buyer_id: i64,
    pub in_progress: i32,
    pub hour_key: i64,
    pub hour_count: i32,
    pub day_key: i64,
    pub day_count: i32,
    pub month_key: i64,
    pub month_count: i32,
    pub total_calls: i64,
    #[diesel(deserialize_as = MaybeStamp)]
    pub last_call_at: Option<NaiveDateTime>,
}

/// What the voice webhook reads before routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loads {
    pub directory_version: i64,
    /// The campaign's buyers' loads, by buyer id.
    pub loads: Vec<LoadRow>,
    /// The buyer that took this caller's last connected call on the campaign since
    /// [`Lookback::repeat_since`].
    pub repeat_buyer: Option<i64>,
    /// The caller's earlier calls on the campaign over [`Lookback::history`] (empty when it is
    /// `None`); `last_buyer` is `repeat_buyer`.
    pub history: History,
}

/// How far back the voice webhook's read looks at the caller's calls on the campaign: for the
/// repeat buyer, and for the screening's history (a window per rule that is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookback {
    pub repeat_since: NaiveDateTime,
    pub history: Option<HistoryWindows>,
}

/// The screening's windows as the statement binds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryWindows {
    /// The earliest of the others: calls before it are not read.
    pub since: NaiveDateTime,
    pub rate_since: Option<NaiveDateTime>,
    pub qualified_since: Option<NaiveDateTime>,
}

impl Lookback {
    /// The repeat buyer since `repeat_since`; no history.
    pub fn repeat_only(repeat_since: NaiveDateTime) -> Lookback {
        Lookback { repeat_since, history: None }
    }

    /// The repeat buyer since `repeat_since` (or since the start of the screening's repeat
    /// window, when it has one), and the history the screening's `windows` need.
    pub fn screening(repeat_since: NaiveDateTime, windows: &Windows) -> Lookback {
        let naive = |t: chrono::DateTime<chrono::Utc>| t.naive_utc();
        Lookback {
            repeat_since: windows.repeat_since.map_or(repeat_since, naive),
            history: windows.since().map(|since| HistoryWindows {
                since: naive(since),
                rate_since: windows.rate_since.map(naive),
                qualified_since: windows.qualified_since.map(naive),
            }),
        }
    }
}

/// What the voice webhook reads before routing a new call: an id for it (the call is recorded by
/// the [`commit`] that routes it, so that a copy of the webhook sent meanwhile waits for that
/// commit and finds the call routed), the directory's version, the loads of `campaign`'s buyers,
/// the caller's repeat buyer and its history on the campaign (see [`Lookback`]). One statement
/// on PostgreSQL.
pub fn prepare_call(conn: &mut DbConnection, campaign: Option<i64>, caller: &str, back: &Lookback) -> Result<(i64, Loads), Error> {
    let (id, loads) = match conn {
        DbConnection::Postgres(c) => super::pg::loads(c, true, campaign, caller, back)?,
        DbConnection::Sqlite(c) => super::sqlite::loads(c, true, campaign, caller, back)?,
    };
    Ok((id.ok_or_else(|| Error::internal(anyhow::anyhow!("no id for the new call")))?, loads))
}

/// [`prepare_call`] without an id for a new call (routing again, or a directory reloaded).
pub fn loads(conn: &mut DbConnection, campaign: Option<i64>, caller: &str, back: &Lookback) -> Result<Loads, Error> {
    let (_, loads) = match conn {
        DbConnection::Postgres(c) => super::pg::loads(c, false, campaign, caller, back)?,
        DbConnection::Sqlite(c) => super::sqlite::loads(c, false, campaign, caller, back)?,
    };
    Ok(loads)
}

/// Which call to read.
#[derive(Debug, Clone, Copy)]
pub enum Find<'a> {
    Id(i64),
    Sid(&'a str),
    /// The call of this leg.
    Leg(i64),
}

/// The call with its legs and the directory's version; `None` when there is no such call. One
/// statement, prepared once per connection and looked up by its type (no SQL rendered per call).
pub fn read(conn: &mut DbConnection, find: Find<'_>) -> Result<Option<(CallState, i64)>, Error> {
    type Row = (CallRow, Option<LegRow>, Option<i64>);
    // Written out per backend by `run!` (a selection made with `as_select()` has a type of its
    // own on each).
    macro_rules! by {
        ($filter:expr) => {{
            direct::run!(
                conn,
                load,
                calls::table.left_join(call_legs::table).filter($filter).order(call_legs::id.asc()).select((
                    CallRow::as_select(),
                    Option::<LegRow>::as_select(),
                    directory_version::table.find(1).select(directory_version::version).single_value()
                ))
            )?
        }};
    }
    let rows: Vec<Row> = match find {
        Find::Id(id) => by!(calls::id.eq(id)),
        Find::Sid(sid) => by!(calls::call_sid.eq(sid)),
        Find::Leg(leg) => {
            let of_leg = diesel::alias!(call_legs as of_leg);
            by!(calls::id
                .nullable()
                .eq(of_leg.filter(of_leg.field(call_legs::id).eq(leg)).select(of_leg.field(call_legs::call_id)).single_value()))
        }
    };
    let mut rows = rows.into_iter();
    let Some((call, first, version)) = rows.next() else { return Ok(None) };
    let legs = first.into_iter().chain(rows.filter_map(|(_, leg, _)| leg)).collect();
    Ok(Some((CallState { call, legs }, version.unwrap_or(0))))
}

/// Whether `caller` called `campaign` at or after `since` (a publisher's ping inside the
/// campaign's duplicate window).
pub fn called_since(conn: &mut DbConnection, caller: &str, campaign: i64, since: NaiveDateTime) -> Result<bool, Error> {
    let earlier = diesel::select(diesel::dsl::exists(
        calls::table.filter(calls::caller.eq(caller)).filter(calls::campaign_id.eq(campaign)).filter(calls::started_at.ge(Stamp(since))),
    ));
    Ok(direct::run!(conn, get_result, earlier)?)
}

/// Whether a call with this `CallSid` is recorded (Twilio sent its voice webhook again).
pub fn recorded(conn: &mut DbConnection, sid: &str) -> Result<bool, Error> {
    let found = diesel::select(diesel::dsl::exists(calls::table.filter(calls::call_sid.eq(sid))));
    Ok(direct::run!(conn, get_result, found)?)
}

/// Whether the caller called the campaign in `[since, call.started_at]` before `call` (the money
/// rule for duplicates).
pub fn has_earlier_call(conn: &mut DbConnection, call: &CallRow, since: NaiveDateTime) -> Result<bool, Error> {
    let Some(campaign) = call.campaign_id else { return Ok(false) };
    let earlier = diesel::select(diesel::dsl::exists(
        calls::table
            .filter(calls::caller.eq(&call.caller))
            .filter(calls::started_at.ge(Stamp(since)))
            .filter(calls::started_at.le(Stamp(call.started_at)))
            .filter(calls::campaign_id.eq(campaign))
            .filter(calls::id.lt(call.id)),
    ));
    Ok(direct::run!(conn, get_result, earlier)?)
}

/// A buyer slot to claim: one more call in progress and in each cap period, if the buyer still
/// has room. Claimed by a conditional update in the commit, so a burst of calls never puts more
/// on a buyer than it takes, with any number of instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub buyer_id: i64,
    pub buyer_name: String,
    pub max_concurrent: i32,
    /// Hourly, daily, monthly; `None` is no limit.
    pub caps: [Option<i32>; 3],
    /// The buyer's current local periods.
    pub keys: PeriodKeys,
    /// The attempt this claim is for (1 for the first buyer of a call).
    pub attempt: i32,
    /// Past this, the leg's slot is given back by the reaper if no callback ended it.
    pub expires_at: NaiveDateTime,
    /// The buyer's agent must press 1 to take the call (recorded on the new leg).
    pub accept_required: bool,
    /// A leg dialled on a bidder's bid: no buyer slot is taken (the buyer fields are unused).
    pub bid: Option<BidLeg>,
}

/// What a leg dialled on a bid records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidLeg {
    pub bidder_id: i64,
    pub dial_to: String,
    pub bid_micros: i64,
    pub min_duration_secs: Option<i32>,
}

/// A change to announce on the live stream (the call is sent as the commit leaves it).
#[derive(Debug, Clone, PartialEq)]
pub struct Announce {
    pub kind: LiveEventKind,
    pub qualification: Option<LiveQualification>,
}

/// Everything one webhook changes, written by [`commit`] all or nothing.
#[derive(Debug, Clone)]
pub struct Effects {
    /// The call is new: it is recorded (with the id [`prepare_call`] gave it) unless a call with
    /// its `CallSid` is recorded already ([`Commit::Duplicate`]). Otherwise the call is changed.
    pub insert: bool,
    /// The version of the call the change was computed from.
    pub version: i64,
    /// The call's new row (its version is the commit's to set).
    pub call: CallRow,
    /// The call's row as read (SQLite's commit leaves an unchanged row alone).
    pub read: CallRow,
    /// A buyer slot to claim and a new leg for it (with an `attempt` log entry). When the slot
    /// is no longer free, nothing else is written ([`Commit::SlotTaken`]) but a new call's row.
    pub claim: Option<Claim>,
    /// Legs whose row changed, as they are now.
    pub legs: Vec<LegRow>,
    /// Buyers whose slot is given back (once per leg: the leg's `released` turns true in `legs`).
    pub releases: Vec<i64>,
    /// Call log entries: kind and JSON text.
    pub log: Vec<(&'static str, String)>,
    pub live: Vec<Announce>,
    /// Rollup changes, one per key, in key order.
    pub rollups: Vec<RollupRow>,
    pub jobs: Vec<NewJob>,
    /// The bidders' pings of the call, written with its first routing.
    pub pings: Vec<crate::store::bidders::PingRow>,
    /// A bidder whose stored ping is now `won` (a failover dialled its bid).
    pub won_bidder: Option<i64>,
    /// When it happens: the log's and the live events' time, and the slot's.
    pub at: NaiveDateTime,
}

impl Effects {
    /// No change yet to `state`, at `at`.
    pub fn new(state: &CallState, at: NaiveDateTime) -> Effects {
        Effects {
            insert: false,
            version: state.call.version,
            call: state.call.clone(),
            read: state.call.clone(),
            claim: None,
            legs: vec![],
            releases: vec![],
            log: vec![],
            live: vec![],
            rollups: vec![],
            jobs: vec![],
            pings: vec![],
            won_bidder: None,
            at,
        }
    }

    /// Sets a leg's new row.
    pub fn set_leg(&mut self, leg: LegRow) {
        match self.legs.iter_mut().find(|l| l.id == leg.id) {
            Some(l) => *l = leg,
            None => self.legs.push(leg),
        }
    }

    pub fn log(&mut self, kind: &'static str, data: serde_json::Value) {
        self.log.push((kind, data.to_string()));
    }

    /// Adds `tags` to the call's (a name already set takes the new value), written with the rest
    /// of the change. Later steps of a call (an IVR's answers) tag it through here; names and
    /// values are the caller's to check ([`crate::routing::tags::valid_name`], `valid_value`).
    pub fn merge_tags<'a>(&mut self, tags: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut all: Tags = self.call.tags();
        let mut changed = false;
        for (name, value) in tags {
            if all.get(name).map(String::as_str) != Some(value) {
                all.insert(name.to_string(), value.to_string());
                changed = true;
            }
        }
        if changed {
            self.call.tags = serde_json::to_string(&all).unwrap_or_else(|_| "{}".into());
        }
    }

    /// Announces `kind` (once per commit, but for verdicts, which carry their own figures).
    pub fn announce(&mut self, kind: LiveEventKind, qualification: Option<LiveQualification>) {
        if qualification.is_none() && self.live.iter().any(|a| a.kind == kind) {
            return;
        }
        self.live.push(Announce { kind, qualification });
    }

    /// Whether the commit would change nothing but the version.
    pub fn is_empty(&self, before: &CallState) -> bool {
        self.call == before.call
            && self.claim.is_none()
            && self.legs.iter().all(|l| before.leg(l.id) == Some(l))
            && self.releases.is_empty()
            && self.log.is_empty()
            && self.live.is_empty()
            && self.rollups.is_empty()
            && self.jobs.is_empty()
            && self.pings.is_empty()
            && self.won_bidder.is_none()
    }
}

/// What [`commit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Written; with the claimed slot's new leg.
    Done { leg_id: Option<i64> },
    /// The call changed since it was read: nothing written.
    Stale,
    /// The buyer's slot was no longer free: nothing written but a new call's row (which the
    /// next change then finds at version 0).
    SlotTaken,
    /// A new call's `CallSid` is recorded already (Twilio sent the webhook again): nothing written.
    Duplicate,
}

/// Writes `e`, all or nothing, if the call is still at `e.version` (or is new and not yet
/// recorded), and the claimed slot is free. On SQLite the rollup additions go to the end of the
/// writer's batch (`batch`), summed with the other settlements committed with it.
pub fn commit(conn: &mut DbConnection, batch: &mut Batch, e: &Effects) -> Result<Commit, Error> {
    match conn {
        DbConnection::Postgres(c) => super::pg::commit(c, e),
        DbConnection::Sqlite(_) => super::sqlite::commit(conn, batch, e),
    }
}

/// Creates the load row of a new buyer.
pub fn init_buyer_load(conn: &mut DbConnection, buyer_id: i64) -> Result<(), Error> {
    diesel::insert_into(buyer_load::table).values(buyer_load::buyer_id.eq(buyer_id)).execute(conn)?;
    Ok(())
}

/// Legs past their expiry that still hold a slot (their callbacks never came), at most `limit`:
/// (leg id, call id).
pub fn expired_legs(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> Result<Vec<(i64, i64)>, Error> {
    Ok(call_legs::table
        .filter(call_legs::released.eq(false))
        .filter(call_legs::expires_at.lt(Stamp(now)))
        .select((call_legs::id, call_legs::call_id))
        .limit(limit)
        .load(conn)?)
}

/// Ids of settled calls started in `[from, to)` after `after_id`, at most `limit`, in id order.
pub fn settled_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    after_id: i64,
    limit: i64,
) -> Result<Vec<i64>, Error> {
    Ok(calls::table
        .filter(calls::started_at.ge(from))
        .filter(calls::started_at.lt(to))
        .filter(calls::settled_at.is_not_null())
        .filter(calls::id.gt(after_id))
        .order(calls::id.asc())
        .select(calls::id)
        .limit(limit)
        .load(conn)?)
}

/// The `CallSid`s Twilio priced a call under: the inbound call's and each dialled leg's.
pub fn priced_sids(conn: &mut DbConnection, call_id: i64) -> Result<(String, Vec<String>), Error> {
    let sid: String = calls::table.find(call_id).select(calls::call_sid).first(conn)?;
    let legs: Vec<String> = call_legs::table
        .filter(call_legs::call_id.eq(call_id))
        .filter(call_legs::dial_call_sid.is_not_null())
        .select(call_legs::dial_call_sid.assume_not_null())
        .load(conn)?;
    Ok((sid, legs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::states::{CallStatus, Outcome};
    use crate::store::calls::NewCall;

    #[test]
    fn tags_merge_into_the_call_written_with_the_change() {
        let t = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default().naive_utc();
        let arrived: Tags = [("FromState".to_string(), "CA".to_string())].into_iter().collect();
        let call = NewCall {
            call_sid: "CA1".into(),
            campaign_id: Some(1),
            number_id: None,
            publisher_id: None,
            caller: "+12015550123".into(),
            dialled: "+17175550100".into(),
            caller_state: None,
            caller_state_source: None,
            caller_city: None,
            caller_zip: None,
            status: CallStatus::Ringing,
            outcome: Outcome::Routed,
            started_at: t,
            tags: arrived,
        }
        .into_row(7);
        let state = CallState { call, legs: vec![] };
        let mut e = Effects::new(&state, t);
        e.merge_tags([("FromState", "CA")]);
        assert!(e.is_empty(&state), "the same value changes nothing");
        e.merge_tags([("Age", "70"), ("FromState", "NV")]);
        assert!(!e.is_empty(&state));
        let tags = e.call.tags();
        assert_eq!(tags.get("Age").map(String::as_str), Some("70"));
        assert_eq!(tags.get("FromState").map(String::as_str), Some("NV"), "a later answer wins");
        assert_eq!(e.read.tags(), state.call.tags(), "the row as read is kept for the commit");
    }
}
