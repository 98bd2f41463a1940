//! Live events: call changes pushed to dashboards over Server-Sent Events (`GET /api/events`).
//!
//! How an event travels:
//! 1. The call flow calls [`emit`] inside its write transaction. That only notes the event
//!    (per thread: the transaction runs synchronously on one blocking thread).
//! 2. Just before the transaction commits, [`crate::db::Db::write`] calls [`flush`]: each noted
//!    event becomes a row of `live_events` carrying the call as it stands at the end of the
//!    transaction. A rolled-back change publishes nothing. After the commit the instance's pump
//!    is woken in-process.
//! 3. After the commit, one pump per instance ([`pump`]) reads the rows past its cursor and hands
//!    them to the in-process [`Hub`] (a bounded broadcast), in id order. On PostgreSQL the pump
//!    LISTENs, and when woken by its own instance's commits it sends one `NOTIFY` for all of them,
//!    so an event written by any instance reaches the clients of every instance. (A `NOTIFY`
//!    inside each write transaction would take PostgreSQL's notify-queue lock at every commit and
//!    serialise them all.) SQLite has one writer, so ids commit in order. PostgreSQL
//!    commits concurrent transactions in any order, so a later id can become visible before an
//!    earlier one: the pump then waits at the hole until every transaction that was running when
//!    it saw the hole has ended (see [`pump`]). No lock orders the writers, so instances and
//!    transactions never queue behind one another to publish.
//! 4. Each SSE client reads the hub through its own receiver: a client that falls
//!    `client_buffer` events behind is told to reload and disconnected; nobody ever waits for it.
//!    A client resuming with `Last-Event-ID` replays from the database up to what the pump has
//!    published, then follows the hub.
pub mod pump;
pub mod sse;

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use callbroker_wire::{Call, LiveEventKind, LiveQualification};
use chrono::NaiveDateTime;
use diesel::connection::{Connection, TransactionManager};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::db::schema::{calls, live_events};
use crate::db::DbConnection;
use crate::error::Error;
use crate::store::calls::CallRow;

/// The PostgreSQL channel the pumps LISTEN on.
pub const CHANNEL: &str = "callbroker_live";

/// A change to announce, named by the call it concerns.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    Created(i64),
    Ringing(i64),
    Answered(i64),
    Completed(i64),
    /// The money verdict (emitted by the money code once a completed call is judged).
    Qualified {
        call_id: i64,
        qualification: LiveQualification,
    },
}

impl LiveEvent {
    pub fn call_id(&self) -> i64 {
        match self {
            LiveEvent::Created(id) | LiveEvent::Ringing(id) | LiveEvent::Answered(id) | LiveEvent::Completed(id) => *id,
            LiveEvent::Qualified { call_id, .. } => *call_id,
        }
    }
    pub fn kind(&self) -> LiveEventKind {
        match self {
            LiveEvent::Created(_) => LiveEventKind::CallCreated,
            LiveEvent::Ringing(_) => LiveEventKind::CallRinging,
            LiveEvent::Answered(_) => LiveEventKind::CallAnswered,
            LiveEvent::Completed(_) => LiveEventKind::CallCompleted,
            LiveEvent::Qualified { .. } => LiveEventKind::CallQualified,
        }
    }
}

thread_local! {
    static PENDING: RefCell<Vec<LiveEvent>> = const { RefCell::new(Vec::new()) };
}

/// Announces `event` when the current write transaction commits (nothing if it rolls back).
/// Must be called inside [`crate::db::Db::write`] / `write_blocking`, which write it out.
pub fn emit(conn: &mut DbConnection, event: LiveEvent) -> Result<(), Error> {
    let depth = <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn).transaction_depth()?;
    if depth.is_none() {
        return Err(Error::Internal(anyhow::anyhow!("live events must be emitted inside a write transaction")));
    }
    PENDING.with(|p| p.borrow_mut().push(event));
    Ok(())
}

/// Forgets events noted on this thread (a transaction starts, or rolled back).
pub(crate) fn discard() {
    PENDING.with(|p| p.borrow_mut().clear());
}

/// What a row's `payload` holds.
#[derive(Debug, Deserialize)]
struct Payload {
    call: Call,
    #[serde(default)]
    qualification: Option<LiveQualification>,
}

/// A [`Payload`] as written: the call borrowed, for it may carry several events.
#[derive(Serialize)]
struct PayloadRef<'a> {
    call: &'a Call,
    #[serde(skip_serializing_if = "Option::is_none")]
    qualification: Option<LiveQualification>,
}

/// Writes the events noted in this transaction; returns how many. Called by `Db::write` last
/// thing before the commit.
pub(crate) fn flush(conn: &mut DbConnection) -> Result<usize, Error> {
    let mut pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if pending.is_empty() {
        return Ok(0);
    }
    // The same change noted twice in one transaction (e.g. two callbacks folded together) is one event.
    let mut seen = std::collections::HashSet::new();
    pending.retain(|e| matches!(e, LiveEvent::Qualified { .. }) || seen.insert((e.kind(), e.call_id())));
    let at = crate::db::now();
    let mut written = 0;
    // Each call is read once, however many of its events the transaction holds.
    let mut calls_read: Vec<(i64, Option<Call>)> = Vec::new();
    for event in pending {
        let call_id = event.call_id();
        let index = match calls_read.iter().position(|(id, _)| *id == call_id) {
            Some(i) => i,
            None => {
                let row = crate::db::direct::run!(conn, first, calls::table.find(call_id).select(CallRow::as_select())).optional()?;
                calls_read.push((call_id, row.map(CallRow::into_wire)));
                calls_read.len() - 1
            }
        };
        let Some(call) = &calls_read[index].1 else { continue };
        let publisher_id = call.publisher_id;
        let kind = event.kind();
        let qualification = match event {
            LiveEvent::Qualified { qualification, .. } => Some(qualification),
            _ => None,
        };
        let payload = serde_json::to_string(&PayloadRef { call, qualification }).map_err(|e| Error::Internal(e.into()))?;
        let insert = diesel::insert_into(live_events::table).values((
            live_events::at.eq(crate::db::stamp::Stamp(at)),
            live_events::kind.eq(kind.as_str()),
            live_events::call_id.eq(Some(call_id)),
            live_events::publisher_id.eq(publisher_id),
            live_events::payload.eq(payload),
        ));
        crate::db::direct::run!(conn, execute, insert)?;
        written += 1;
    }
    Ok(written)
}

/// A stored event, as read back.
#[derive(Debug, Clone, Queryable)]
pub struct Row {
    pub id: i64,
    #[diesel(deserialize_as = crate::db::stamp::Stamp)]
    pub at: NaiveDateTime,
    pub kind: String,
    pub publisher_id: Option<i64>,
    pub payload: String,
}

fn rows_query() -> live_events::BoxedQuery<
    'static,
    crate::db::DbBackend,
    (
        diesel::sql_types::BigInt,
        diesel::sql_types::Timestamp,
        diesel::sql_types::Text,
        diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        diesel::sql_types::Text,
    ),
> {
    live_events::table
        .select((live_events::id, live_events::at, live_events::kind, live_events::publisher_id, live_events::payload))
        .into_boxed()
}

/// Events after `after`, oldest first, at most `limit`; only one publisher's with `scope`.
pub fn after(conn: &mut DbConnection, after: i64, scope: Option<i64>, limit: i64) -> Result<Vec<Row>, Error> {
    between(conn, after, i64::MAX, scope, limit)
}

/// Events with `after < id <= upto`, oldest first, at most `limit`; only one publisher's with `scope`.
pub fn between(conn: &mut DbConnection, after: i64, upto: i64, scope: Option<i64>, limit: i64) -> Result<Vec<Row>, Error> {
    let mut q = rows_query().filter(live_events::id.gt(after)).filter(live_events::id.le(upto));
    if let Some(p) = scope {
        q = q.filter(live_events::publisher_id.eq(p));
    }
    Ok(q.order(live_events::id.asc()).limit(limit).load(conn)?)
}

/// The newest event id (0 when none).
pub fn last_id(conn: &mut DbConnection) -> Result<i64, Error> {
    Ok(live_events::table.select(diesel::dsl::max(live_events::id)).first::<Option<i64>>(conn)?.unwrap_or(0))
}

/// Whether event `id` is still kept.
pub fn kept(conn: &mut DbConnection, id: i64) -> Result<bool, Error> {
    Ok(diesel::select(diesel::dsl::exists(live_events::table.find(id))).get_result(conn)?)
}

/// Deletes events recorded before `before`; returns how many.
pub fn prune(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, Error> {
    Ok(diesel::delete(live_events::table.filter(live_events::at.lt(before))).execute(conn)?)
}

/// An event ready to send: its SSE frames for staff and (when it has a publisher) for that
/// publisher, rendered once for every client.
#[derive(Debug)]
pub struct Published {
    pub id: i64,
    pub publisher_id: Option<i64>,
    pub staff_frame: actix_web::web::Bytes,
    pub publisher_frame: Option<actix_web::web::Bytes>,
}

impl Published {
    /// Renders a stored event. `full_caller` holds the campaigns whose publishers see full caller
    /// numbers ([`FullCaller::read_for`]).
    pub fn from_row(row: Row, full_caller: &FullCaller) -> Result<Published, Error> {
        let kind =
            LiveEventKind::parse(&row.kind).ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown live event kind {:?}", row.kind)))?;
        let payload: Payload = serde_json::from_str(&row.payload).map_err(|e| Error::Internal(e.into()))?;
        let mut event = callbroker_wire::LiveEvent {
            id: row.id,
            kind,
            at: crate::store::utc(row.at),
            call: payload.call,
            qualification: payload.qualification,
        };
        let staff_frame = sse::event_frame(&event)?;
        let publisher_frame = match row.publisher_id {
            Some(_) => {
                let full = event.call.campaign_id.is_some_and(|c| full_caller.0.contains(&c));
                redact_for_publisher(&mut event, full);
                Some(sse::event_frame(&event)?)
            }
            None => None,
        };
        Ok(Published { id: row.id, publisher_id: row.publisher_id, staff_frame, publisher_frame })
    }

    /// The frame `scope` may see: staff (`None`) see everything, a publisher only its own calls.
    pub fn frame_for(&self, scope: Option<i64>) -> Option<actix_web::web::Bytes> {
        match scope {
            None => Some(self.staff_frame.clone()),
            Some(p) if self.publisher_id == Some(p) => self.publisher_frame.clone(),
            Some(_) => None,
        }
    }
}

/// What a publisher must not see of an event: what it may not see of the call in the API
/// ([`crate::store::calls::hide_from_publisher`]: the buyer, the revenue, cost and profit, and
/// the caller's number beyond its last 4 digits unless `full_caller`), nor the verdict's revenue,
/// cost and profit.
pub fn redact_for_publisher(event: &mut callbroker_wire::LiveEvent, full_caller: bool) {
    crate::store::calls::hide_from_publisher(&mut event.call, full_caller);
    if let Some(q) = event.qualification.as_mut() {
        q.revenue_micros = None;
        q.cost_micros = None;
        q.profit_micros = None;
    }
}

/// The campaigns whose publishers see full caller numbers, read when events are rendered (the
/// setting as it is then, as the API and the reports read it).
#[derive(Debug, Default)]
pub struct FullCaller(std::collections::HashSet<i64>);

impl FullCaller {
    /// The setting for rendering `rows` (nothing is read when there are none).
    pub fn read_for(conn: &mut DbConnection, rows: &[Row]) -> Result<FullCaller, Error> {
        if rows.is_empty() {
            return Ok(FullCaller::default());
        }
        Ok(FullCaller(crate::store::calls::full_caller_campaigns(conn)?))
    }
}

/// Wakes the pump after a local commit wrote events (on PostgreSQL also LISTEN does).
#[derive(Debug, Default)]
pub struct Wake {
    flag: Mutex<bool>,
    cond: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        if let Ok(mut f) = self.flag.lock() {
            *f = true;
            self.cond.notify_all();
        }
    }

    /// Waits until notified or `timeout`; true when notified.
    pub fn wait(&self, timeout: Duration) -> bool {
        let Ok(guard) = self.flag.lock() else { return false };
        let Ok((mut guard, _)) = self.cond.wait_timeout_while(guard, timeout, |f| !*f) else { return false };
        std::mem::replace(&mut *guard, false)
    }
}

/// The in-process fan-out of events to this instance's SSE clients.
pub struct Hub {
    tx: broadcast::Sender<Arc<Published>>,
    /// The id of the last event published (every kept event up to it has been handed out).
    published: AtomicI64,
    stop_tx: watch::Sender<bool>,
    stopped: AtomicBool,
    pub config: crate::config::LiveConfig,
}

impl Hub {
    pub fn new(config: crate::config::LiveConfig) -> Hub {
        let (tx, _) = broadcast::channel(config.client_buffer.max(1));
        let (stop_tx, _) = watch::channel(false);
        Hub { tx, published: AtomicI64::new(0), stop_tx, stopped: AtomicBool::new(false), config }
    }

    /// Hands an event to every connected client; never waits.
    pub fn publish(&self, event: Arc<Published>) {
        self.passed(event.id);
        // An error only means nobody is listening.
        let _ = self.tx.send(event);
    }

    /// Notes that the pump is past `id` (published, skipped, or where it started).
    pub fn passed(&self, id: i64) {
        self.published.fetch_max(id, Ordering::SeqCst);
    }

    /// Every event up to this id has been handed out; replays stop here and the hub goes on.
    pub fn published(&self) -> i64 {
        self.published.load(Ordering::SeqCst)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }

    pub fn clients(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Ends the pump and every open stream (server shutdown).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = self.stop_tx.send(true);
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop_tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, PoolOptions};
    use crate::store::calls::NewCall;

    fn db() -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("cb-live-{}-{}", std::process::id(), crate::auth::random_token(8)));
        let db = Db::connect(&format!("sqlite://{}", dir.join("t.db").display()), &PoolOptions::default()).expect("connect");
        db.migrate().expect("migrate");
        (db, dir)
    }

    fn new_call(sid: &str, publisher_id: Option<i64>) -> NewCall {
        let t = crate::db::now();
        NewCall {
            call_sid: sid.into(),
            campaign_id: None,
            number_id: None,
            publisher_id,
            caller: "+12015550123".into(),
            dialled: "+17175550100".into(),
            caller_state: None,
            caller_state_source: None,
            caller_city: None,
            caller_zip: None,
            status: "ringing".into(),
            outcome: "routed".into(),
            started_at: t,
            updated_at: t,
        }
    }

    fn qualification() -> LiveQualification {
        LiveQualification {
            qualified: true,
            reason: Some("buffer_met".into()),
            currency: "USD".into(),
            payout_micros: 12_000_000,
            revenue_micros: Some(30_000_000),
            cost_micros: Some(150_000),
            profit_micros: Some(17_850_000),
        }
    }

    #[test]
    fn events_are_written_at_commit_only_and_redacted_for_publishers() {
        let (db, dir) = db();
        db.write_blocking(|c| {
            diesel::sql_query("INSERT INTO publishers (name, created_at, updated_at) VALUES ('P', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
                .execute(c)
                .map_err(Error::from)
        })
        .expect("publisher");
        let publisher: i64 = db
            .read_blocking(|c| crate::db::schema::publishers::table.select(crate::db::schema::publishers::id).first(c).map_err(Error::from))
            .expect("publisher id");
        let call = db
            .write_blocking(|c| {
                let id = crate::store::calls::insert(c, &new_call("CA1", Some(publisher)))?.expect("a new call");
                emit(c, LiveEvent::Created(id))?;
                emit(c, LiveEvent::Created(id))?; // noted twice, written once
                emit(c, LiveEvent::Qualified { call_id: id, qualification: qualification() })?;
                Ok(id)
            })
            .expect("write");
        // A rolled-back change publishes nothing, and leaves nothing behind for the next one.
        let failed: Result<(), Error> = db.write_blocking(|c| {
            emit(c, LiveEvent::Completed(call))?;
            Err(Error::bad_request("rolled back"))
        });
        assert!(failed.is_err());
        db.write_blocking(|_| Ok(())).expect("empty write");
        let rows = db.read_blocking(|c| after(c, 0, None, 100)).expect("rows");
        assert_eq!(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(), ["call.created", "call.qualified"]);
        assert!(rows[0].id < rows[1].id);
        assert_eq!(rows[1].publisher_id, Some(publisher));
        let published = Published::from_row(rows[1].clone(), &FullCaller::default()).expect("published");
        let staff = String::from_utf8_lossy(&published.frame_for(None).unwrap_or_default()).into_owned();
        let theirs = String::from_utf8_lossy(&published.frame_for(Some(publisher)).unwrap_or_default()).into_owned();
        assert!(staff.contains("\"revenue_micros\":30000000") && staff.contains("\"payout_micros\":12000000"), "{staff}");
        assert!(theirs.contains("\"payout_micros\":12000000"), "{theirs}");
        // Neither revenue, profit nor cost reaches a publisher, nor the buyer: those keys are absent.
        assert!(!theirs.contains("30000000") && !theirs.contains("17850000") && !theirs.contains("150000"), "{theirs}");
        assert!(!theirs.contains("revenue_micros") && !theirs.contains("profit_micros"), "{theirs}");
        assert!(!theirs.contains("buyer_id") && !theirs.contains("cost_"), "{theirs}");
        assert!(published.frame_for(Some(publisher + 1)).is_none(), "another publisher gets nothing");
        // Scoped reads and pruning.
        assert_eq!(db.read_blocking(|c| after(c, 0, Some(publisher + 1), 100)).expect("scoped").len(), 0);
        let future = crate::db::now() + chrono::Duration::seconds(1);
        assert_eq!(db.write_blocking(move |c| prune(c, future)).expect("prune"), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn emitting_outside_a_transaction_is_refused() {
        let (db, dir) = db();
        let refused = db.read_blocking(|c| emit(c, LiveEvent::Created(1)));
        assert!(refused.is_err());
        discard();
        let _ = std::fs::remove_dir_all(dir);
    }
}
