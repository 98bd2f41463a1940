//! Live events: call changes pushed to dashboards over Server-Sent Events (`GET /api/events`).
//!
//! How an event travels:
//! 1. A webhook's change ([`crate::store::calls::flow::Effects`]) lists the events it announces.
//!    Its commit writes each as a row of `live_events` carrying the call as the commit leaves it,
//!    in the same statement (PostgreSQL) or transaction (SQLite) as the change: a change that is
//!    not written announces nothing. After the commit the call flow wakes this instance's pump
//!    ([`Hub::wake`]).
//! 2. One pump per instance ([`pump`]) reads the rows past its cursor and hands them to the
//!    in-process [`Hub`] (a bounded broadcast), in id order. On PostgreSQL the pump LISTENs, and
//!    when woken by its own instance's commits it sends one `NOTIFY` for all of them, so an event
//!    written by any instance reaches the clients of every instance. (A `NOTIFY` in each commit
//!    would take PostgreSQL's notify-queue lock at every commit and serialise them all.) SQLite
//!    has one writer, so ids commit in order. PostgreSQL commits concurrent statements in any
//!    order, so a later id can become visible before an earlier one: the pump then waits at the
//!    hole until every transaction that was running when it saw the hole has ended (see
//!    [`pump`]). No lock orders the writers, so instances never queue behind one another to
//!    publish.
//! 3. Each SSE client reads the hub through its own receiver: a client that falls
//!    `client_buffer` events behind is told to reload and disconnected; nobody ever waits for it.
//!    A client resuming with `Last-Event-ID` replays from the database up to what the pump has
//!    published, then follows the hub.
pub mod pump;
pub mod sse;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use callbroker_wire::LiveEventKind;
use tokio::sync::{broadcast, watch};

use crate::db::DbConnection;
use crate::error::Error;
pub use crate::store::live_events::{after, between, kept, last_id, prune, Payload, Row};

/// The PostgreSQL channel the pumps LISTEN on.
pub const CHANNEL: &str = "callbroker_live";

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
    /// Wakes the pump after a local commit that wrote events.
    wake: Arc<Wake>,
    pub config: crate::config::LiveConfig,
}

impl Hub {
    pub fn new(config: crate::config::LiveConfig) -> Hub {
        let (tx, _) = broadcast::channel(config.client_buffer.max(1));
        let (stop_tx, _) = watch::channel(false);
        Hub { tx, published: AtomicI64::new(0), stop_tx, stopped: AtomicBool::new(false), wake: Arc::default(), config }
    }

    /// Tells the pump that a local commit wrote events (it reads them at once).
    pub fn wake(&self) {
        self.wake.notify();
    }

    /// What the pump waits on.
    pub fn waker(&self) -> Arc<Wake> {
        self.wake.clone()
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
    use callbroker_wire::{Call, LiveQualification};
    use diesel::prelude::*;

    use crate::db::{Db, PoolOptions};
    use crate::domain::states::{CallStatus, Outcome};
    use crate::store::calls::NewCall;
    use crate::store::live_events::PayloadRef;

    fn db() -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()), &PoolOptions::default()).expect("connect");
        db.migrate().expect("migrate");
        (db, dir)
    }

    fn call(id: i64, publisher_id: Option<i64>) -> Call {
        let t = crate::db::now();
        NewCall {
            call_sid: format!("CA{id}"),
            campaign_id: None,
            number_id: None,
            publisher_id,
            caller: "+12015550123".into(),
            dialled: "+17175550100".into(),
            caller_state: None,
            caller_state_source: None,
            caller_city: None,
            caller_zip: None,
            status: CallStatus::Ringing,
            outcome: Outcome::Routed,
            started_at: t,
            tags: callbroker_wire::Tags::default(),
        }
        .into_row(id)
        .into_wire()
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
    fn stored_events_are_redacted_for_their_publisher_only() {
        let (db, _dir) = db();
        let publisher = 7;
        let c = call(1, Some(publisher));
        db.write_blocking(move |conn| {
            let created = PayloadRef { call: &c, qualification: None }.to_json()?;
            crate::store::live_events::insert(conn, crate::db::now(), LiveEventKind::CallCreated, 1, Some(publisher), &created)?;
            let q = qualification();
            let qualified = PayloadRef { call: &c, qualification: Some(&q) }.to_json()?;
            crate::store::live_events::insert(conn, crate::db::now(), LiveEventKind::CallQualified, 1, Some(publisher), &qualified)
        })
        .expect("write");
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
        assert_eq!(db.read_blocking(move |c| after(c, 0, Some(publisher + 1), 100)).expect("scoped").len(), 0);
        let future = crate::db::now() + chrono::Duration::seconds(1);
        assert_eq!(db.write_blocking(move |c| prune(c, future)).expect("prune"), 2);
        let left: i64 = db.read_blocking(|c| Ok(crate::db::schema::live_events::table.count().get_result(c)?)).expect("count");
        assert_eq!(left, 0);
    }
}
