//! SQLite's writer: one thread runs every write transaction of the request path (SQLite has one
//! writer anyway).
//!
//! Transactions that queue up while one runs are committed together (group commit): the writer
//! opens one transaction, runs each queued closure in it, then commits once. Each changed page is
//! then written to the WAL once per batch instead of once per request, and callers wait on a
//! channel instead of queueing on the connection pool's lock. Under light load a batch is one
//! transaction, as before. A caller learns its result only after the commit.
//!
//! A failing write must be rolled back alone, and only its caller told. The writer first runs a
//! batch optimistically, each write straight in the batch's transaction. If one fails, the whole
//! transaction is rolled back and the batch run again with each write in a savepoint of its own,
//! whose failure rolls back only that write. Nobody has heard anything before the commit, and a
//! write only acts on the database (as [`super::Db::write`] requires), so running it twice is
//! safe. A savepoint per write cost about 8% of the writer's time under load (SQLite copies each
//! page a savepoint changes first). After a batch with a failed write the next batch starts with
//! savepoints, so a steady stream of failing writes does not make every batch run twice.
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::Connection;
use tokio::sync::oneshot;

use super::{Batch, DbConnection, Pool};
use crate::error::Error;

/// The most transactions committed together.
pub const MAX_BATCH: usize = 64;

/// A write queued for the writer thread.
trait Task: Send {
    /// Runs the write in the batch's transaction, in a savepoint of its own when `savepoint`,
    /// and keeps its value for [`Task::finish`]. Returns whether it succeeded.
    fn run(&mut self, conn: &mut DbConnection, savepoint: bool) -> bool;
    /// The work the last run handed to the end of the batch ([`Batch`]).
    fn take_work(&mut self) -> Batch;
    /// Tells the caller its value (or error) once the batch is committed, or why it was not.
    fn finish(self: Box<Self>, commit: Result<(), &Error>);
    /// Refuses the write unstarted.
    fn refuse(self: Box<Self>, error: Error);
    /// Past this instant the write is refused unstarted (the caller's wait for the database).
    fn deadline(&self) -> Instant;
}

struct Write<T, F> {
    f: F,
    /// The work of the last run for the end of the batch.
    work: Batch,
    deadline: Instant,
    reply: oneshot::Sender<Result<T, Error>>,
    /// The value of the last run.
    ran: Option<Result<T, Error>>,
}

impl<T, F> Task for Write<T, F>
where
    T: Send + 'static,
    F: FnMut(&mut DbConnection, &mut Batch) -> Result<T, Error> + Send + 'static,
{
    fn run(&mut self, conn: &mut DbConnection, savepoint: bool) -> bool {
        self.ran = None;
        let Write { f, work, .. } = self;
        *work = Batch::default();
        let ran = if savepoint { super::write_transaction(conn, |c| f(c, work)) } else { f(conn, work) };
        let ok = ran.is_ok();
        if !ok {
            *work = Batch::default();
        }
        self.ran = Some(ran);
        ok
    }

    fn take_work(&mut self) -> Batch {
        std::mem::take(&mut self.work)
    }

    fn finish(self: Box<Self>, commit: Result<(), &Error>) {
        let result = match (self.ran, commit) {
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(_)), Err(e)) => Err(Error::Unavailable(format!("the write was not committed: {e}"))),
            // Not run: a write before it in the batch panicked.
            (None, _) => Err(Error::Unavailable("the write was not committed: another write in its batch failed".into())),
        };
        // The caller may have gone (request cancelled): nothing to tell.
        let _ = self.reply.send(result);
    }

    fn refuse(self: Box<Self>, error: Error) {
        let _ = self.reply.send(Err(error));
    }

    fn deadline(&self) -> Instant {
        self.deadline
    }
}

/// The queue to the writer thread (cheap to clone).
#[derive(Clone)]
pub struct Writer {
    tasks: mpsc::Sender<Box<dyn Task>>,
    wait: Duration,
    /// (transactions committed, writes in them, batches run again with savepoints), for the tests
    /// and the curious.
    counts: Arc<[std::sync::atomic::AtomicU64; 3]>,
}

impl Writer {
    /// Starts the writer thread on `pool` (of one connection). A write that has waited `wait` in
    /// the queue is refused unstarted (503), like a request that waited that long for a pooled
    /// connection. `committed` is set after every commit (for the checkpointer thread,
    /// `spawn_checkpointer` in [`super`]).
    pub fn start(pool: Pool, committed: Arc<std::sync::atomic::AtomicBool>, wait: Duration) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel::<Box<dyn Task>>();
        let counts: Arc<[std::sync::atomic::AtomicU64; 3]> = Arc::default();
        let counted = counts.clone();
        std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || run(&pool, &rx, &committed, &counted))?;
        Ok(Writer { tasks: tx, wait, counts })
    }

    /// How many batches were committed, and how many writes they held.
    pub fn batches(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.counts[0].load(Relaxed), self.counts[1].load(Relaxed))
    }

    /// How many batches were run again with a savepoint per write (one of their writes failed).
    pub fn reruns(&self) -> u64 {
        self.counts[2].load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `f` in the next batch; its result comes once the batch is committed. `f` may be run
    /// twice (see the module docs): it must only act on the database.
    pub async fn write<T, F>(&self, mut f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, Error> + Send + 'static,
    {
        self.write_with_batch(move |c, _| f(c)).await
    }

    /// [`Writer::write`], where `f` may hand work to the end of the batch (merged with the other
    /// writes' and written last thing before the commit).
    pub async fn write_with_batch<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection, &mut Batch) -> Result<T, Error> + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let task: Box<dyn Task> = Box::new(Write { f, work: Batch::default(), deadline: Instant::now() + self.wait, reply, ran: None });
        self.tasks.send(task).map_err(|_| Error::Unavailable("the database writer has stopped".into()))?;
        result.await.map_err(|_| Error::Internal(anyhow::anyhow!("the write transaction panicked")))?
    }
}

/// Why a run of a batch was rolled back.
enum Failed {
    /// A write failed in the optimistic run (without savepoints): run the batch again with them.
    AWrite,
    /// Anything else (a panic, or the commit failed): the batch's writes are not committed.
    Batch(Error),
}

/// Runs every write of `batch` in one transaction and commits it; with `savepoints`, each write
/// in a savepoint of its own (a failed one is rolled back alone), else straight in the
/// transaction (a failed one rolls everything back). `failed` counts the writes that failed.
fn pass(conn: &mut DbConnection, batch: &mut [Box<dyn Task>], savepoints: bool, failed: &mut usize) -> Result<(), Failed> {
    let mut rerun = false;
    let committed = conn.transaction(|c| {
        for task in batch.iter_mut() {
            match std::panic::catch_unwind(AssertUnwindSafe(|| task.run(c, savepoints))) {
                Ok(true) => {}
                Ok(false) => {
                    *failed += 1;
                    if !savepoints {
                        rerun = true;
                        return Err(Error::Internal(anyhow::anyhow!("a write failed")));
                    }
                }
                // The write is in an unknown state: roll the whole batch back.
                Err(_) => return Err(Error::Internal(anyhow::anyhow!("a write transaction panicked"))),
            }
        }
        // The work the writes handed to the end of the batch, merged, last thing before the commit.
        let mut work = Batch::default();
        for task in batch.iter_mut() {
            work.absorb(task.take_work());
        }
        work.write(c)
    });
    match committed {
        Ok(()) => Ok(()),
        Err(_) if rerun => Err(Failed::AWrite),
        Err(e) => Err(Failed::Batch(e)),
    }
}

fn run(
    pool: &Pool,
    rx: &mpsc::Receiver<Box<dyn Task>>,
    committed: &std::sync::atomic::AtomicBool,
    counts: &[std::sync::atomic::AtomicU64; 3],
) {
    use std::sync::atomic::Ordering::Relaxed;
    // Whether the last batch had a write that failed: the next starts with savepoints.
    let mut last_failed = false;
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(task) => batch.push(task),
                Err(_) => break,
            }
        }
        let now = Instant::now();
        let (late, mut batch): (Vec<_>, Vec<_>) = batch.into_iter().partition(|t| t.deadline() <= now);
        for task in late {
            task.refuse(Error::Unavailable("timed out waiting for the database".into()));
        }
        if batch.is_empty() {
            continue;
        }
        let mut conn = match pool.get() {
            Ok(c) => c,
            Err(e) => {
                let message = e.to_string();
                for task in batch {
                    task.refuse(Error::Unavailable(message.clone()));
                }
                continue;
            }
        };
        let mut failed = 0;
        let mut outcome = if last_failed { Err(Failed::AWrite) } else { pass(&mut conn, &mut batch, false, &mut failed) };
        if matches!(outcome, Err(Failed::AWrite)) {
            if !last_failed {
                counts[2].fetch_add(1, Relaxed);
            }
            failed = 0;
            // With savepoints a failed write is rolled back alone: this run ends committed or
            // `Failed::Batch`.
            outcome = pass(&mut conn, &mut batch, true, &mut failed);
        }
        last_failed = failed > 0;
        let outcome = outcome.map_err(|f| match f {
            Failed::Batch(e) => e,
            Failed::AWrite => Error::Internal(anyhow::anyhow!("a write failed in a batch run with savepoints")),
        });
        let commit = outcome.as_ref().copied();
        if commit.is_ok() {
            committed.store(true, Relaxed);
            counts[0].fetch_add(1, Relaxed);
            counts[1].fetch_add(batch.len() as u64, Relaxed);
        }
        for task in batch {
            task.finish(commit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, PoolOptions};
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    fn db() -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("cb-writer-{}-{}", std::process::id(), crate::auth::random_token(8)));
        let db = Db::connect(&format!("sqlite://{}", dir.join("t.db").display()), &PoolOptions::default()).expect("connect");
        db.read_blocking(|c| c.batch_execute("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)").map_err(Error::from)).expect("table");
        (db, dir)
    }

    fn values(db: &Db) -> Vec<i32> {
        db.read_blocking(|c| Ok(diesel::sql_query("SELECT v FROM t ORDER BY v").load::<V>(c)?.into_iter().map(|r| r.v).collect()))
            .expect("read")
    }

    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        v: i32,
    }

    fn insert(v: i32) -> impl FnMut(&mut DbConnection) -> Result<i32, Error> {
        move |c| {
            diesel::sql_query(format!("INSERT INTO t (v) VALUES ({v})")).execute(c)?;
            Ok(v)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_in_a_batch_rolls_back_alone() {
        let (db, dir) = db();
        // Many writers at once (so batches form); every seventh fails after writing its row, and
        // one repeats a value another has written (a constraint error).
        let writes = (0..200).map(|i| {
            let db = db.clone();
            async move {
                if i == 199 {
                    return db.write(insert(5)).await;
                }
                db.write(move |c| {
                    let v = insert(i)(c)?;
                    if i % 7 == 3 {
                        return Err(Error::bad_request("refused after writing"));
                    }
                    Ok(v)
                })
                .await
            }
        });
        let results = futures_util::future::join_all(writes).await;
        for (i, r) in (0_i32..).zip(&results) {
            if i % 7 == 3 || i == 199 {
                assert!(r.is_err(), "write {i} fails");
            } else {
                assert_eq!(r.as_ref().ok(), Some(&i), "write {i} succeeds");
            }
        }
        let expected: Vec<i32> = (0..199).filter(|i| i % 7 != 3).collect();
        assert_eq!(values(&db), expected, "exactly the successful writes are kept");
        let writer = db.writer.as_ref().expect("SQLite has a writer");
        let (batches, writes) = writer.batches();
        assert_eq!(writes, 200, "every write went through the writer (failed ones in committed batches too)");
        assert!(batches < writes, "writes queued together were committed together: {batches} batches");
        assert!(writer.reruns() >= 1, "a batch whose optimistic run failed was run again with savepoints");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Work handed to the end of the batch: summed over the batch's writes, written once before
    /// the commit, without the work of a write that failed.
    #[derive(Debug, Default)]
    struct Total(i32);

    impl crate::db::batch::BatchWork for Total {
        fn merge(&mut self, other: Self) {
            self.0 += other.0;
        }
        fn write(self, conn: &mut DbConnection) -> Result<(), Error> {
            diesel::sql_query(format!("INSERT INTO t (v) VALUES ({})", 100_000 + self.0)).execute(conn)?;
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_for_the_end_of_the_batch_is_summed_and_dropped_with_a_failed_write() {
        let (db, dir) = db();
        let writer = db.writer.clone().expect("SQLite has a writer");
        let writes = (1..=50).map(|i| {
            let writer = writer.clone();
            async move {
                writer
                    .write_with_batch(move |_c, batch| {
                        batch.add(Total(i));
                        if i % 10 == 0 {
                            return Err(Error::bad_request("refused"));
                        }
                        Ok(())
                    })
                    .await
            }
        });
        let results = futures_util::future::join_all(writes).await;
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 5);
        let totals: Vec<i32> = values(&db).into_iter().map(|v| v - 100_000).collect();
        let (batches, _) = writer.batches();
        assert!(!totals.is_empty() && totals.len() as u64 <= batches, "at most one row per committed batch: {totals:?}, {batches} batches");
        let expected: i32 = (1..=50).filter(|i| i % 10 != 0).sum();
        assert_eq!(totals.iter().sum::<i32>(), expected, "every successful write's work, summed; none of the failed ones'");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_of_writes_that_all_succeed_run_once() {
        let (db, dir) = db();
        let writes = (0..200).map(|i| {
            let db = db.clone();
            async move { db.write(insert(i)).await }
        });
        let results = futures_util::future::join_all(writes).await;
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(values(&db), (0..200).collect::<Vec<_>>());
        let writer = db.writer.as_ref().expect("SQLite has a writer");
        assert!(writer.batches().0 < 200, "batches formed");
        assert_eq!(writer.reruns(), 0, "no batch ran twice");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpointer_copies_commits_into_the_database_file() {
        let (db, dir) = db();
        let file = dir.join("t.db");
        let size = || std::fs::metadata(&file).map(|m| m.len()).expect("database file");
        db.read_blocking(|c| c.batch_execute("CREATE TABLE pad (b BLOB NOT NULL)").map_err(Error::from)).expect("table");
        let before = size();
        // About 500 pages of rows: far below the writer's own checkpoint, so only the
        // checkpointer thread can have copied them out of the log.
        let rows = (0..2000).map(|i| {
            let db = db.clone();
            async move {
                db.write(move |c| {
                    diesel::sql_query(format!("INSERT INTO t (v) VALUES ({i})")).execute(c)?;
                    diesel::sql_query("INSERT INTO pad (b) VALUES (zeroblob(1000))").execute(c)?;
                    Ok(())
                })
                .await
            }
        });
        assert!(futures_util::future::join_all(rows).await.iter().all(Result::is_ok));
        let frames: i64 = db
            .read_blocking(|c| Ok(diesel::sql_query("PRAGMA wal_autocheckpoint").get_result::<AutoCheckpoint>(c)?.wal_autocheckpoint))
            .expect("pragma");
        assert_eq!(frames, i64::from(super::super::WRITER_CHECKPOINT_FRAMES));
        let deadline = Instant::now() + Duration::from_secs(5);
        while size() < before + 1_500_000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(size() >= before + 1_500_000, "the rows reached the database file: {before} -> {} bytes", size());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[derive(QueryableByName)]
    struct AutoCheckpoint {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        wal_autocheckpoint: i64,
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_waited_too_long_is_refused_unstarted() {
        let (db, dir) = db();
        let writer = Writer::start(db.write.clone(), Arc::default(), Duration::ZERO).expect("writer");
        let refused = writer.write(insert(1)).await;
        assert!(matches!(refused, Err(Error::Unavailable(_))), "{refused:?}");
        assert!(values(&db).is_empty(), "nothing written");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_write_fails_its_batch_and_the_writer_goes_on() {
        let (db, dir) = db();
        let panicked = db.write(|_c| -> Result<(), Error> { panic!("boom") }).await;
        assert!(panicked.is_err());
        assert_eq!(db.write(insert(7)).await.ok(), Some(7), "the next write works");
        assert_eq!(values(&db), vec![7]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
