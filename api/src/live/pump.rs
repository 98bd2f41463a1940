//! One pump per instance: reads newly committed `live_events` rows in id order and publishes
//! them to the [`Hub`]. On PostgreSQL it runs on a dedicated connection that LISTENs (so events
//! written by other instances arrive too), reconnecting with backoff and catching up from its
//! cursor; on SQLite it is woken in-process after each commit. It also prunes old rows.
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;

use super::{Hub, Published, Wake, CHANNEL};
use crate::db::{Backend, Db, DbConnection};
use crate::error::AppError;

/// Rows read per query.
const BATCH: i64 = 500;
/// Read even without a wake-up this often (a missed notification costs at most this).
const SAFETY_POLL: Duration = Duration::from_secs(2);
/// How often the PostgreSQL connection is checked for notifications.
const LISTEN_POLL: Duration = Duration::from_millis(20);

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
    let wake = db.live_wake();
    let mut pruner = Pruner::new(hub);
    match db.backend() {
        Backend::Sqlite => {
            let mut last_read = Instant::now();
            while !hub.is_stopped() {
                let woke = wake.wait(Duration::from_millis(250));
                if woke || last_read.elapsed() >= SAFETY_POLL {
                    last_read = Instant::now();
                    let read = db.read_blocking(move |c| super::after(c, cursor, None, BATCH));
                    match read {
                        Ok(rows) => {
                            let full = rows.len() as i64 == BATCH;
                            publish(rows, &mut cursor, hub);
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
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "live events: cannot connect to listen");
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
        backoff = Duration::from_millis(100);
        // Catch up on whatever was committed while not listening.
        if let Err(e) = read_all(&mut conn, cursor, hub) {
            tracing::warn!(error = %e, "live events: read failed; reconnecting");
            continue;
        }
        let mut last_read = Instant::now();
        loop {
            if hub.is_stopped() {
                return;
            }
            let mut woke = wake.wait(LISTEN_POLL);
            let DbConnection::Postgres(pg) = &mut conn else { return };
            let mut broken = None;
            for n in pg.notifications_iter() {
                match n {
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
            if woke || last_read.elapsed() >= SAFETY_POLL {
                last_read = Instant::now();
                if let Err(e) = read_all(&mut conn, cursor, hub) {
                    tracing::warn!(error = %e, "live events: read failed; reconnecting");
                    break;
                }
            }
            pruner.maybe_prune(db);
        }
    }
}

fn read_all(conn: &mut DbConnection, cursor: &mut i64, hub: &Hub) -> Result<(), AppError> {
    loop {
        let rows = super::after(conn, *cursor, None, BATCH)?;
        let full = rows.len() as i64 == BATCH;
        publish(rows, cursor, hub);
        if !full {
            return Ok(());
        }
    }
}

fn publish(rows: Vec<super::Row>, cursor: &mut i64, hub: &Hub) {
    for row in rows {
        *cursor = row.id;
        match Published::from_row(row) {
            Ok(p) => hub.publish(Arc::new(p)),
            Err(e) => tracing::warn!(error = %e, id = *cursor, "live events: unreadable event skipped"),
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
