//! Storage: one diesel code path over SQLite (embedded default) and PostgreSQL (production,
//! scale-out), picked from the database URL's scheme.
//!
//! Handlers never hold a connection across an `.await`: they hand a closure to [`Db::read`] or
//! [`Db::write`], which runs it on the blocking pool. Writes always run in a transaction. On
//! SQLite, writes go through a pool of exactly one connection: SQLite has one writer anyway, and
//! serialising writers in-process avoids `SQLITE_BUSY` on read-to-write lock upgrades. The
//! request path's writes go to one writer thread that commits them in batches ([`writer`]).

pub mod batch;
pub mod codes;
pub mod direct;
pub mod raw;
pub mod schema;
pub mod stamp;
#[cfg(test)]
pub(crate) mod testing;
pub mod update;
pub mod writer;

pub use update::update;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::Error;
pub use batch::Batch;

/// A connection to either backend. Queries written against it compile for both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The backend type of [`DbConnection`], for boxed queries.
pub type DbBackend = <DbConnection as Connection>::Backend;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or `sqlite:path.db`.
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`, passed to libpq as is.
    Postgres(String),
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() || path == ":memory:" {
                return Err("a SQLite database needs a file path (in-memory databases are per connection)".into());
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        Err(format!("unsupported database URL scheme in {:?}: use sqlite://path/to/file.db or postgres://...", redact_url(url)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// The URL with any password replaced, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error(transparent)]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// r2d2 manager that dispatches on the URL scheme itself (so connection errors stay readable),
/// sets SQLite's per-connection pragmas, and counts every connection's statements.
pub struct Manager {
    url: DbUrl,
    statements: prometheus::IntCounter,
}

/// Counts the statements a connection runs, transaction control (`BEGIN`, `COMMIT`, savepoints)
/// included: `callbroker_db_statements_total` of `GET /metrics`, which `loadgen` divides by the
/// calls it played.
struct CountStatements(prometheus::IntCounter);

impl diesel::connection::Instrumentation for CountStatements {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::StartQuery { .. } = event {
            self.0.inc();
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnError;

    fn connect(&self) -> Result<DbConnection, ConnError> {
        match &self.url {
            DbUrl::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url)?;
                conn.set_instrumentation(CountStatements(self.statements.clone()));
                Ok(DbConnection::Postgres(conn))
            }
            DbUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                conn.set_instrumentation(CountStatements(self.statements.clone()));
                // `temp_store = MEMORY` also keeps the sub-journal of savepoints in memory. The
                // writer thread runs a batch's writes in savepoints of its transaction when one of
                // them fails ([`writer`]); past 64 KiB in a transaction, SQLite otherwise spills
                // the sub-journal to a temporary file and writes each page a savepoint changes
                // there first (an eighth of the writer's time under load, when every write had
                // its savepoint).
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
                )?;
                conn.batch_execute(&format!("PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_FRAMES};"))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(ConnError::from)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        match conn {
            DbConnection::Postgres(c) => diesel::r2d2::R2D2Connection::is_broken(c),
            // A transaction left open or broken (a write that panicked) is not handed out again.
            DbConnection::Sqlite(c) => diesel::r2d2::R2D2Connection::is_broken(c),
        }
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// Handle on the database: cheap to clone.
#[derive(Clone)]
pub struct Db {
    read: Pool,
    write: Pool,
    backend: Backend,
    /// SQLite: the writer thread that runs [`Db::write`]s in batches.
    writer: Option<writer::Writer>,
    /// SQLite: set after a commit, for the checkpointer thread.
    committed: Option<std::sync::Arc<AtomicBool>>,
    /// Statements run on every connection of both pools ([`Db::statements_counter`]).
    statements: prometheus::IntCounter,
    /// Held by every clone; the checkpointer thread stops once the last is dropped.
    _alive: std::sync::Arc<()>,
}

/// How often the SQLite checkpointer looks for new commits (and checkpoints them).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(5);

/// SQLite: checkpoints the write-ahead log from a thread of its own, so that little is left for
/// the writer thread. A checkpoint copies the pages committed since the last one into the
/// database file and syncs both files. `PASSIVE` never blocks the writer or readers: pages a
/// reader still needs are left for the next round. Every [`CHECKPOINT_EVERY`] it checkpoints if
/// anything was committed since its last round (`committed`, set after each commit).
///
/// Run by the committing writer (SQLite's automatic checkpoint, every 1,000 log frames by
/// default: about 50 times a second under load), the copying and its two syncs stalled every
/// request queued behind it; here they run beside the writer, and the webhooks' p99 under load
/// is lower (`make loadgen`).
///
/// The writer keeps an automatic checkpoint, at [`WRITER_CHECKPOINT_FRAMES`]: SQLite starts the
/// log over only when a write begins after a checkpoint that left nothing behind, and with the
/// writer always ahead of this thread that never happens (the log grew past a gigabyte in 12 s
/// of load without it). The writer's checkpoint has only the frames written since this thread's
/// last round to copy. Stops when the last clone of its [`Db`] is dropped.
fn spawn_checkpointer(pool: Pool, committed: std::sync::Arc<AtomicBool>, alive: std::sync::Weak<()>) -> std::io::Result<()> {
    std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || {
        while alive.strong_count() > 0 {
            std::thread::sleep(CHECKPOINT_EVERY);
            if !committed.swap(false, Ordering::Relaxed) {
                continue;
            }
            let done =
                pool.get().map_err(Error::from).and_then(|mut c| c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)").map_err(Error::from));
            if let Err(e) = done {
                tracing::warn!(error = %e, "could not checkpoint the SQLite write-ahead log; trying again");
            }
        }
    })?;
    Ok(())
}

/// SQLite: the size of the write-ahead log, in frames (pages), past which the committing
/// connection checkpoints it itself (SQLite's default is 1,000). The checkpointer thread does the
/// copying; this bounds the log (about 40 MiB) and lets SQLite start it over.
const WRITER_CHECKPOINT_FRAMES: u32 = 10_000;

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_connections: u32,
    /// How long a request waits for a connection before failing with 503.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(3) }
    }
}

impl Db {
    /// Opens the pools (creating the SQLite file and its folder when needed, owner-only: `0600`
    /// and `0700`; an existing database file others may read is made owner-only, and its
    /// write-ahead log and shared-memory files, which SQLite creates with the database file's
    /// permissions, follow). Does not migrate.
    pub fn connect(url: &str, opts: &PoolOptions) -> anyhow::Result<Db> {
        let url = DbUrl::parse(url).map_err(anyhow::Error::msg)?;
        let backend = url.backend();
        if let DbUrl::Sqlite(path) = &url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::fsperm::create_private_dir(dir)?;
            }
            crate::fsperm::make_private_file(path)?;
            for suffix in ["-wal", "-shm"] {
                let mut side = path.as_os_str().to_owned();
                side.push(suffix);
                let side = std::path::PathBuf::from(side);
                if side.exists() {
                    crate::fsperm::make_private_file(&side)?;
                }
            }
        }
        let statements = prometheus::IntCounter::new(
            "db_statements_total",
            "SQL statements run on the database by this instance, BEGIN and COMMIT included",
        )?;
        let build = |size: u32| {
            r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                .connection_timeout(opts.acquire_timeout)
                // Broken connections surface as query errors (mapped to 503) and are replaced;
                // a test query on every checkout would double the round trips of every request.
                .test_on_check_out(false)
                .build(Manager { url: url.clone(), statements: statements.clone() })
        };
        let (read, write) = match backend {
            Backend::Postgres => {
                let p = build(opts.max_connections)?;
                (p.clone(), p)
            }
            Backend::Sqlite => (build(opts.max_connections.max(2))?, build(1)?),
        };
        let alive = std::sync::Arc::new(());
        let (writer, committed) = match backend {
            Backend::Sqlite => {
                let committed = std::sync::Arc::<AtomicBool>::default();
                spawn_checkpointer(read.clone(), committed.clone(), std::sync::Arc::downgrade(&alive))?;
                (Some(writer::Writer::start(write.clone(), committed.clone(), opts.acquire_timeout)?), Some(committed))
            }
            Backend::Postgres => (None, None),
        };
        Ok(Db { read, write, backend, writer, committed, statements, _alive: alive })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; returns their names.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.write.get()?;
        let source = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let applied = conn.run_pending_migrations(source).map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// Runs `f` with a connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, Error> + Send + 'static,
    {
        let pool = self.read.clone();
        blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
    }

    /// Runs `f` in a transaction (on SQLite: in the writer's next batch, see [`writer`]); any
    /// error rolls it back.
    /// A transaction that loses to a concurrent one (PostgreSQL deadlock or serialization
    /// failure) is run again, up to [`WRITE_ATTEMPTS`] times, so `f` must only act on the database.
    pub async fn write<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, Error> + Send + 'static,
    {
        if let Some(writer) = &self.writer {
            return writer.write(f).await;
        }
        let db = self.clone();
        blocking(move || db.write_blocking(f)).await
    }

    /// Runs `f`, whose writes are each one atomic statement guarded by what it read (the call
    /// tables' commit, [`crate::store::calls::flow::commit`]): on PostgreSQL on a pooled
    /// connection outside any transaction block, so each statement is one round trip and commits
    /// by itself; on SQLite in the writer's next batch, like [`Db::write`] (there nothing comes
    /// between `f`'s reads and its writes). `f` deals with its own conflicts; it is not run
    /// again here.
    /// `f` may hand work to the end of its transaction ([`batch`]): on SQLite it is merged with
    /// the batch's and written before the batch commits; on PostgreSQL written after `f`.
    pub async fn write_atomic<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection, &mut Batch) -> Result<T, Error> + Send + 'static,
    {
        if let Some(writer) = &self.writer {
            return writer.write_with_batch(f).await;
        }
        let pool = self.write.clone();
        let mut f = f;
        blocking(move || {
            let mut conn = pool.get()?;
            run_atomic(&mut conn, &mut f)
        })
        .await
    }

    /// Synchronous variant of [`Db::write_atomic`] for commands and background threads.
    pub fn write_atomic_blocking<T>(&self, f: impl FnOnce(&mut DbConnection, &mut Batch) -> Result<T, Error>) -> Result<T, Error> {
        let mut f = Some(f);
        let mut once = move |c: &mut DbConnection, b: &mut Batch| {
            f.take().map_or_else(|| Err(Error::internal(anyhow::anyhow!("run twice"))), |f| f(c, b))
        };
        match &self.writer {
            // In a transaction of its own, like a writer batch.
            Some(_) => self.write_blocking(move |c| run_atomic(c, &mut once)),
            None => {
                let mut conn = self.write.get()?;
                run_atomic(&mut conn, &mut once)
            }
        }
    }

    /// Synchronous variant of [`Db::write`] for commands and background threads.
    pub fn write_blocking<T>(&self, mut f: impl FnMut(&mut DbConnection) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.write.get()?;
        let mut attempt = 1;
        loop {
            match write_transaction(&mut conn, &mut f) {
                Ok(value) => {
                    if let Some(committed) = &self.committed {
                        committed.store(true, Ordering::Relaxed);
                    }
                    return Ok(value);
                }
                Err(e) if e.is_contention() && attempt < WRITE_ATTEMPTS => {
                    tracing::debug!(attempt, "transaction lost to a concurrent one; running it again");
                    std::thread::sleep(Duration::from_millis(retry_pause_ms(attempt)));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Synchronous variant of [`Db::read`] for background threads.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.read.get()?;
        f(&mut conn)
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), Error> {
        self.read(|c| c.batch_execute("SELECT 1").map_err(Error::from)).await
    }

    /// The count of statements this instance has run on the database, transaction control
    /// included (registered with the metrics).
    pub fn statements_counter(&self) -> prometheus::IntCounter {
        self.statements.clone()
    }

    pub fn pool_state(&self) -> r2d2::State {
        self.read.state()
    }
}

/// Runs `f` in a transaction of `conn` (a savepoint when one is open).
pub(crate) fn write_transaction<T>(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> Result<T, Error>) -> Result<T, Error> {
    conn.transaction(f)
}

/// Runs `f` with a batch of its own, then writes what it handed to the batch.
fn run_atomic<T>(conn: &mut DbConnection, f: &mut impl FnMut(&mut DbConnection, &mut Batch) -> Result<T, Error>) -> Result<T, Error> {
    let mut batch = Batch::default();
    let value = f(conn, &mut batch)?;
    batch.write(conn)?;
    Ok(value)
}

/// Runs `f` on the runtime's pool of blocking threads (database calls block).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// How many times a write transaction is tried when it keeps losing to concurrent ones.
pub const WRITE_ATTEMPTS: u32 = 4;

/// A short, jittered pause before running a lost transaction again (grows with the attempt).
fn retry_pause_ms(attempt: u32) -> u64 {
    use rand::Rng;
    let a = u64::from(attempt);
    a + rand::thread_rng().gen_range(0..a * 2)
}

/// `NOW()` as stored: UTC, microsecond precision (what both backends keep).
pub fn now() -> chrono::NaiveDateTime {
    to_stored(chrono::Utc::now().naive_utc())
}

/// `t` truncated to the microsecond, as both backends store it.
pub fn to_stored(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    chrono::Timelike::with_nanosecond(&t, t.and_utc().timestamp_subsec_micros() * 1000).unwrap_or(t)
}

diesel::define_sql_function! {
    /// SQL `lower()`, for case-insensitive matching on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `%text%` with LIKE's wildcards escaped, lower-cased (pair it with [`lower`]).
pub fn contains_pattern(q: &str) -> String {
    let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}
