//! One pump per instance: reads newly committed `live_events` rows in id order and publishes
//! them to the [`Hub`]. On PostgreSQL it runs on a dedicated connection that LISTENs (so events
//! written by other instances arrive too), reconnecting with backoff and catching up from its
//! cursor; on SQLite it is woken in-process after each commit. It also prunes old rows.
//!
//! **Holes (PostgreSQL).** Writers take event ids from a sequence inside their transactions and
//! commit in any order, so the pump may see id 8 before id 7. It never publishes past a hole it
//! cannot explain: when it first sees one it notes the snapshot's `xmax` (every transaction that
//! could hold the missing id started before it), and it waits until the oldest running
//! transaction (`xmin`) is past that mark. By then the missing ids are visible, or they belonged
//! to a transaction that rolled back and will never appear. A hole older than [`HOLE_WAIT`] (a
//! transaction left open elsewhere) is passed over with a warning, so one stuck session cannot
//! stop the feed.
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;

use super::{Hub, Published, Wake, CHANNEL};
use crate::db::{Backend, Db, DbConnection};
use crate::error::Error;

/// Rows read per query.
const BATCH: i64 = 500;
/// Read even without a wake-up this often (a missed notification costs at most this).
const SAFETY_POLL: Duration = Duration::from_secs(2);
/// How often the PostgreSQL connection is checked for notifications.
const LISTEN_POLL: Duration = Duration::from_millis(20);
/// The shortest time between two reads woken by commits. The first event after a quiet spell is
/// read at once; under load, the commits of each interval are read (and, on PostgreSQL,
/// announced) together instead of one round of queries per commit.
const MIN_READ_GAP: Duration = Duration::from_millis(10);

/// Sleeps until `MIN_READ_GAP` has passed since `last_read`.
fn pace(last_read: Instant) {
    if let Some(rest) = MIN_READ_GAP.checked_sub(last_read.elapsed()) {
        std::thread::sleep(rest);
    }
}
/// The longest the pump waits at a hole before passing over it.
pub const HOLE_WAIT: Duration = Duration::from_secs(5);

/// Starts the pump thread; it ends when the hub is stopped.
pub fn start(db: Db, database_url: String, hub: Arc<Hub>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("live-events".into()).spawn(move || run(&db, &database_url, &hub))
}

fn run(db: &Db, url: &str, hub: &Hub) {
    // Only events committed from now on are pushed live; older ones are for `Last-Event-ID` replay.
    let mut cursor = loop {
        match db.read_blocking(super::last_id) {
            Ok(id) => break id,
            Err(e) => {
                tracing::warn!(error = %e, "live events: cannot read the last event id; retrying");
                if hub.is_stopped() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    };
    hub.passed(cursor);
    let wake = hub.waker();
    let mut pruner = Pruner::new(hub);
    match db.backend() {
        Backend::Sqlite => {
            let mut last_read = Instant::now();
            while !hub.is_stopped() {
                let woke = wake.wait(Duration::from_millis(250));
                if woke || last_read.elapsed() >= SAFETY_POLL {
                    pace(last_read);
                    last_read = Instant::now();
                    let read = db.read_blocking(move |c| {
                        let rows = super::after(c, cursor, None, BATCH)?;
                        let full_caller = super::FullCaller::read_for(c, &rows)?;
                        Ok((rows, full_caller))
                    });
                    match read {
                        Ok((rows, full_caller)) => {
                            let full = i64::try_from(rows.len()) == Ok(BATCH);
                            // One writer: ids commit in order, there are no holes to wait at.
                            for row in rows {
                                publish(row, &full_caller, &mut cursor, hub);
                            }
                            if full {
                                wake.notify();
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "live events: read failed"),
                    }
                }
                pruner.maybe_prune(db);
            }
        }
        Backend::Postgres => listen(db, url, hub, &wake, &mut cursor, &mut pruner),
    }
}

/// The `application_name` of the listening connection (visible in `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "callbroker-live-events";

fn listen(db: &Db, url: &str, hub: &Hub, wake: &Wake, cursor: &mut i64, pruner: &mut Pruner) {
    let url = format!("{url}{}application_name={APPLICATION_NAME}", if url.contains('?') { '&' } else { '?' });
    let url = url.as_str();
    let mut backoff = Duration::from_millis(100);
    while !hub.is_stopped() {
        let mut conn = match diesel::PgConnection::establish(url) {
            Ok(c) => DbConnection::Postgres(c),
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX), "live events: cannot connect to listen");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(e) = conn.batch_execute(&format!("LISTEN {CHANNEL}")) {
            tracing::warn!(error = %e, "live events: LISTEN failed");
            std::thread::sleep(backoff);
            continue;
        }
        // Our own notifications are not news: the local wake-up already said it.
        let own_pid = match own_backend_pid(&mut conn) {
            Ok(pid) => pid,
            Err(e) => {
                tracing::warn!(error = %e, "live events: cannot read the backend pid; reconnecting");
                std::thread::sleep(backoff);
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        // Catch up on whatever was committed while not listening.
        let mut hole = None;
        if let Err(e) = read_all(&mut conn, cursor, hub, &mut hole) {
            tracing::warn!(error = %e, "live events: read failed; reconnecting");
            continue;
        }
        let mut last_read = Instant::now();
        loop {
            if hub.is_stopped() {
                return;
            }
            let local = wake.wait(LISTEN_POLL);
            if local {
                pace(last_read);
                // Tell the other instances: one notification for every commit since the last.
                if let Err(e) = conn.batch_execute(&format!("NOTIFY {CHANNEL}")) {
                    tracing::warn!(error = %e, "live events: NOTIFY failed; reconnecting");
                    break;
                }
            }
            let mut woke = local;
            let DbConnection::Postgres(pg) = &mut conn else { return };
            let mut broken = None;
            for n in pg.notifications_iter() {
                match n {
                    Ok(n) if n.process_id == own_pid => {}
                    Ok(_) => woke = true,
                    Err(e) => {
                        broken = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = broken {
                tracing::warn!(error = %e, "live events: listening connection lost; reconnecting");
                break;
            }
            // Waiting at a hole: look again at every poll (a rollback sends no notification).
            if woke || hole.is_some() || last_read.elapsed() >= SAFETY_POLL {
                last_read = Instant::now();
                if let Err(e) = read_all(&mut conn, cursor, hub, &mut hole) {
                    tracing::warn!(error = %e, "live events: read failed; reconnecting");
                    break;
                }
            }
            pruner.maybe_prune(db);
        }
    }
}

#[derive(diesel::QueryableByName)]
struct BackendPid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

fn own_backend_pid(conn: &mut DbConnection) -> Result<i32, Error> {
    use diesel::RunQueryDsl;
    let row: BackendPid = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(conn)?;
    Ok(row.pid)
}

/// Ids the pump has not seen although a later one is visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hole {
    /// The first missing id.
    pub first: i64,
    /// `xmax` of a snapshot taken after the hole was seen: once the oldest running transaction is
    /// past it, every transaction that could hold a missing id has ended.
    pub settles_at: i64,
    pub seen: Instant,
}

/// The transactions a PostgreSQL snapshot considers running: from `xmin` (the oldest) to below
/// `xmax`.
#[derive(Debug, Clone, Copy, diesel::QueryableByName)]
struct Snapshot {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    xmin: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    xmax: i64,
}

fn snapshot(conn: &mut DbConnection) -> Result<Snapshot, Error> {
    use diesel::RunQueryDsl;
    Ok(diesel::sql_query(
        "SELECT pg_snapshot_xmin(s)::text::bigint AS xmin, pg_snapshot_xmax(s)::text::bigint AS xmax \
         FROM pg_current_snapshot() AS s",
    )
    .get_result(conn)?)
}

/// What to do at a hole before `first` (the id after the cursor), given the snapshot taken just
/// before the rows were read (`before`).
#[derive(Debug, PartialEq, Eq)]
pub enum AtHole {
    /// Keep waiting.
    Wait,
    /// The missing ids will never appear: go past them.
    Pass,
}

/// Decides at a hole; notes a new one in `hole` (with `settles_at` read afterwards by `mark`).
pub fn at_hole(hole: &mut Option<Hole>, first: i64, before_xmin: i64, mark: impl FnOnce() -> Result<i64, Error>) -> Result<AtHole, Error> {
    match hole {
        Some(h) if h.first == first => {
            if before_xmin >= h.settles_at {
                return Ok(AtHole::Pass);
            }
            if h.seen.elapsed() >= HOLE_WAIT {
                tracing::warn!(
                    first,
                    waited_ms = u64::try_from(h.seen.elapsed().as_millis()).unwrap_or(u64::MAX),
                    "live events: a transaction holding an event id stays open; passing over it"
                );
                return Ok(AtHole::Pass);
            }
            Ok(AtHole::Wait)
        }
        _ => {
            *hole = Some(Hole { first, settles_at: mark()?, seen: Instant::now() });
            Ok(AtHole::Wait)
        }
    }
}

/// Publishes every row it can in id order, stopping at a hole that has not settled.
fn read_all(conn: &mut DbConnection, cursor: &mut i64, hub: &Hub, hole: &mut Option<Hole>) -> Result<(), Error> {
    loop {
        // Before the rows: a transaction that has ended by this snapshot is visible to the read.
        // Only a hole already noted is judged by it, so without one it is not read.
        let before_xmin = match hole {
            Some(_) => snapshot(conn)?.xmin,
            None => i64::MIN,
        };
        let rows = super::after(conn, *cursor, None, BATCH)?;
        let full = i64::try_from(rows.len()) == Ok(BATCH);
        let full_caller = super::FullCaller::read_for(conn, &rows)?;
        for row in rows {
            if row.id > *cursor + 1 {
                let decision = at_hole(hole, *cursor + 1, before_xmin, || Ok(snapshot(conn)?.xmax))?;
                if decision == AtHole::Wait {
                    return Ok(());
                }
                tracing::debug!(from = *cursor + 1, to = row.id - 1, "live events: ids never committed; passed over");
            }
            *hole = None;
            publish(row, &full_caller, cursor, hub);
        }
        if !full {
            return Ok(());
        }
    }
}

fn publish(row: super::Row, full_caller: &super::FullCaller, cursor: &mut i64, hub: &Hub) {
    *cursor = row.id;
    match Published::from_row(row, full_caller) {
        Ok(p) => hub.publish(Arc::new(p)),
        Err(e) => {
            hub.passed(*cursor);
            tracing::warn!(error = %e, id = *cursor, "live events: unreadable event skipped");
        }
    }
}

struct Pruner {
    every: Duration,
    keep: chrono::Duration,
    last: Instant,
}

impl Pruner {
    fn new(hub: &Hub) -> Pruner {
        Pruner {
            every: Duration::from_secs(hub.config.prune_interval_secs.max(1)),
            keep: chrono::Duration::seconds(hub.config.retention_secs.max(1)),
            last: Instant::now(),
        }
    }

    fn maybe_prune(&mut self, db: &Db) {
        if self.last.elapsed() < self.every {
            return;
        }
        self.last = Instant::now();
        let before = crate::db::now() - self.keep;
        match db.write_blocking(move |c| super::prune(c, before)) {
            Ok(0) => {}
            Ok(n) => tracing::debug!(pruned = n, "live events: old events pruned"),
            Err(e) => tracing::warn!(error = %e, "live events: prune failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hole_is_passed_once_every_transaction_that_could_fill_it_has_ended() {
        let mut hole = None;
        // First sight: noted with the xmax read after the rows; wait.
        assert_eq!(at_hole(&mut hole, 7, 100, || Ok(120)).expect("decide"), AtHole::Wait);
        assert_eq!(hole.map(|h| (h.first, h.settles_at)), Some((7, 120)));
        // Transactions from before the mark are still running: wait; the mark is not read again.
        assert_eq!(at_hole(&mut hole, 7, 119, || panic!("read again")).expect("decide"), AtHole::Wait);
        // The oldest running transaction started after the mark: the missing id is gone for good.
        assert_eq!(at_hole(&mut hole, 7, 120, || panic!("read again")).expect("decide"), AtHole::Pass);
        // Another hole further on starts its own wait.
        assert_eq!(at_hole(&mut hole, 9, 500, || Ok(130)).expect("decide"), AtHole::Wait);
        assert_eq!(hole.map(|h| h.first), Some(9));
    }

    #[test]
    fn a_hole_held_open_too_long_is_passed_over() {
        let mut hole =
            Some(Hole { first: 3, settles_at: 50, seen: Instant::now().checked_sub(HOLE_WAIT).expect("an instant HOLE_WAIT ago") });
        assert_eq!(at_hole(&mut hole, 3, 10, || panic!("read again")).expect("decide"), AtHole::Pass);
    }
}
