//! A small durable job queue: background work that must survive restarts lives in the `jobs`
//! table, not in memory.
//!
//! - [`enqueue`] adds a job inside the caller's transaction (so the job exists exactly when the
//!   change that asked for it is committed).
//! - A worker ([`spawn_worker`]) polls for due jobs and claims each with a conditional `UPDATE`
//!   (`WHERE id = ? AND` still due and not leased): on either backend only one instance's update
//!   matches, so several API instances never run the same job at once.
//! - A handler, registered by kind in a [`Registry`], returns `Ok` (done) or a [`JobError`]; the
//!   job is then retried after an exponential backoff with jitter (or the handler's own delay),
//!   and given up after `max_attempts` with `status = 'failed'` and `last_error` kept in the table.
//! - A worker that dies mid-job leaves a lease (`locked_until`) that expires; the job is then
//!   claimed again.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;

use crate::config::JobsConfig;
use crate::db::schema::jobs;
use crate::db::{direct, now, update, Db, DbConnection};
use crate::domain::states::JobStatus;
use crate::error::Error;
use crate::store::jobs::NewJob;
use serde_json::json;

/// Work on a call that a change to it queues, to run once the change is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallWork {
    /// Ask Twilio what the call cost ([`crate::twilio::tasks`]).
    Cost,
    /// Transcribe the call's recording ([`crate::twilio::tasks`]).
    Transcript,
    /// Tell the publisher its call qualified ([`crate::postback`]).
    Postback,
}

impl CallWork {
    pub fn kind(self) -> &'static str {
        match self {
            CallWork::Cost => "twilio.call_cost",
            CallWork::Transcript => "twilio.transcript",
            CallWork::Postback => "postback",
        }
    }

    /// Tries before it is given up (the queue's backoff spaces them out).
    pub fn max_attempts(self) -> i32 {
        match self {
            CallWork::Cost | CallWork::Transcript => DEFAULT_MAX_ATTEMPTS,
            CallWork::Postback => 8,
        }
    }

    /// The job doing this for call `call_id`, due at `run_at`.
    pub fn job(self, call_id: i64, run_at: NaiveDateTime) -> NewJob {
        NewJob { kind: self.kind().to_string(), payload: json!(CallJob { call_id }).to_string(), run_at, max_attempts: self.max_attempts() }
    }
}

/// The payload of a [`CallWork`] job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallJob {
    pub call_id: i64,
}

/// A claimed job as a handler sees it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    /// 1 on the first run.
    pub attempt: i32,
    pub max_attempts: i32,
}

impl Job {
    /// The payload as a typed value.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, JobError> {
        serde_json::from_value(self.payload.clone()).map_err(|e| JobError::permanent(format!("bad payload: {e}")))
    }
}

/// Why a run did not finish the job.
#[derive(Debug, Clone)]
pub struct JobError {
    pub message: String,
    /// Retry after exactly this long instead of the backoff.
    pub retry_after: Option<Duration>,
    /// Give up now: retrying cannot help.
    pub permanent: bool,
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        JobError { message: message.into(), retry_after: None, permanent: false }
    }
    pub fn retry_after(message: impl Into<String>, after: Duration) -> Self {
        JobError { message: message.into(), retry_after: Some(after), permanent: false }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        JobError { message: message.into(), retry_after: None, permanent: true }
    }
}

impl From<Error> for JobError {
    fn from(e: Error) -> Self {
        JobError::retry(format!("database: {e}"))
    }
}

pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
pub type Handler = Arc<dyn Fn(Job) -> JobFuture + Send + Sync>;

/// Handlers by job kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handler of `kind`.
    pub fn register<F, Fut>(&mut self, kind: &str, f: F) -> &mut Self
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.handlers.insert(kind.to_string(), Arc::new(move |job| Box::pin(f(job))));
        self
    }

    pub fn kinds(&self) -> Vec<String> {
        self.handlers.keys().cloned().collect()
    }
}

/// Attempts before a job enqueued with [`enqueue`] is given up.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 15;

/// Adds a job, due at `run_at`, in the caller's transaction. Returns its id.
pub fn enqueue(conn: &mut DbConnection, kind: &str, payload: &serde_json::Value, run_at: NaiveDateTime) -> Result<i64, Error> {
    enqueue_with(conn, kind, payload, run_at, DEFAULT_MAX_ATTEMPTS)
}

/// [`enqueue`] with its own number of attempts.
pub fn enqueue_with(
    conn: &mut DbConnection,
    kind: &str,
    payload: &serde_json::Value,
    run_at: NaiveDateTime,
    max_attempts: i32,
) -> Result<i64, Error> {
    let job = NewJob { kind: kind.to_string(), payload: payload.to_string(), run_at, max_attempts };
    crate::store::jobs::insert(conn, &job, now())
}

/// A job's row, for tests and operators.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub run_at: NaiveDateTime,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub status: JobStatus,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<JobRow, Error> {
    direct::run!(conn, first, jobs::table.find(id).select(JobRow::as_select())).optional()?.ok_or(Error::NotFound("job"))
}

/// Ids of jobs that may be claimed now: pending and due, or running with an expired lease.
fn due(conn: &mut DbConnection, kinds: &[String], at: NaiveDateTime, limit: i64) -> Result<Vec<i64>, Error> {
    let due = jobs::table
        .filter(jobs::kind.eq_any(kinds))
        .filter(
            jobs::status
                .eq(JobStatus::Pending)
                .and(jobs::run_at.le(at))
                .or(jobs::status.eq(JobStatus::Running).and(jobs::locked_until.lt(at))),
        )
        .order(jobs::run_at.asc())
        .select(jobs::id)
        .limit(limit);
    Ok(direct::run!(conn, load, due)?)
}

/// Claims job `id` if it is still claimable: the conditional update only matches for one worker.
fn claim(conn: &mut DbConnection, id: i64, at: NaiveDateTime, lease: chrono::Duration) -> Result<Option<Job>, Error> {
    let still_due = jobs::id.eq(id).and(
        jobs::status.eq(JobStatus::Pending).and(jobs::run_at.le(at)).or(jobs::status.eq(JobStatus::Running).and(jobs::locked_until.lt(at))),
    );
    let take = update(
        jobs::table,
        still_due,
        (
            jobs::status.eq(JobStatus::Running),
            jobs::locked_until.eq(at + lease),
            jobs::attempts.eq(jobs::attempts + 1),
            jobs::updated_at.eq(at),
        ),
    );
    let n = direct::run!(conn, execute, take)?;
    if n == 0 {
        return Ok(None);
    }
    let row = get(conn, id)?;
    Ok(Some(Job {
        id: row.id,
        payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
        kind: row.kind,
        attempt: row.attempts,
        max_attempts: row.max_attempts,
    }))
}

/// Exponential backoff with full jitter in the upper half: attempt 1 waits about `base`, each next
/// one about twice as long, never more than `max`.
pub fn backoff(attempt: i32, base: Duration, max: Duration) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(30);
    let ceiling = base.saturating_mul(2u32.saturating_pow(exp)).min(max);
    let half = ceiling / 2;
    let jitter = rand::thread_rng().gen_range(0..=u64::try_from(half.as_millis()).unwrap_or(u64::MAX).max(1));
    (half + Duration::from_millis(jitter)).min(max)
}

fn finish(conn: &mut DbConnection, job: &Job, result: &Result<(), JobError>, cfg: &JobsConfig) -> Result<(), Error> {
    let t = now();
    let running = jobs::id.eq(job.id).and(jobs::status.eq(JobStatus::Running));
    match result {
        Ok(()) => {
            let done = (
                jobs::status.eq(JobStatus::Done),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(None::<String>),
                jobs::updated_at.eq(t),
            );
            direct::run!(conn, execute, update(jobs::table, running, done))?;
        }
        Err(e) if e.permanent || job.attempt >= job.max_attempts => {
            tracing::warn!(job = job.id, kind = %job.kind, attempts = job.attempt, error = %e.message, "job given up");
            let failed = (
                jobs::status.eq(JobStatus::Failed),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(Some(&e.message)),
                jobs::updated_at.eq(t),
            );
            direct::run!(conn, execute, update(jobs::table, running, failed))?;
        }
        Err(e) => {
            let wait = e.retry_after.unwrap_or_else(|| {
                backoff(job.attempt, Duration::from_millis(cfg.backoff_base_ms), Duration::from_millis(cfg.backoff_max_ms))
            });
            let run_at = t + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::hours(1));
            tracing::debug!(job = job.id, kind = %job.kind, attempt = job.attempt, error = %e.message, ?wait, "job will be retried");
            let again = (
                jobs::status.eq(JobStatus::Pending),
                jobs::run_at.eq(run_at),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(Some(&e.message)),
                jobs::updated_at.eq(t),
            );
            direct::run!(conn, execute, update(jobs::table, running, again))?;
        }
    }
    Ok(())
}

/// Claims and runs the due jobs once; returns how many ran. (The worker loop calls this.)
pub async fn run_due(db: &Db, registry: &Registry, cfg: &JobsConfig) -> Result<usize, Error> {
    let kinds = registry.kinds();
    let limit = i64::try_from(cfg.concurrency.max(1)).unwrap_or(4);
    let lease = chrono::Duration::seconds(cfg.lease_secs.max(1));
    let claimed = db
        .write(move |c| {
            let at = now();
            let mut out = vec![];
            for id in due(c, &kinds, at, limit)? {
                if let Some(job) = claim(c, id, at, lease)? {
                    out.push(job);
                }
            }
            Ok(out)
        })
        .await?;
    let n = claimed.len();
    let mut running = tokio::task::JoinSet::new();
    for job in claimed {
        let Some(handler) = registry.handlers.get(&job.kind).cloned() else { continue };
        let (db, cfg) = (db.clone(), cfg.clone());
        running.spawn(async move {
            let result = match tokio::spawn(handler(job.clone())).await {
                Ok(r) => r,
                Err(e) => Err(JobError::retry(format!("handler panicked: {e}"))),
            };
            if let Err(e) = db.write(move |c| finish(c, &job, &result, &cfg)).await {
                tracing::warn!(error = %e, "could not record a job's result; its lease will expire and it will run again");
            }
        });
    }
    while running.join_next().await.is_some() {}
    Ok(n)
}

/// Polls for due jobs every `poll_interval_ms` (sooner while there is work), forever.
pub fn spawn_worker(db: Db, registry: Registry, cfg: JobsConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let idle = Duration::from_millis(cfg.poll_interval_ms.max(10));
        loop {
            match run_due(&db, &registry, &cfg).await {
                Ok(0) => tokio::time::sleep(idle).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "job worker could not poll");
                    tokio::time::sleep(idle).await;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(10);
        for attempt in 1..40 {
            let d = backoff(attempt, base, max);
            assert!(d <= max, "attempt {attempt}: {d:?}");
            let exp = base.saturating_mul(2u32.saturating_pow((attempt - 1).min(30).unsigned_abs())).min(max);
            assert!(d >= exp / 2, "attempt {attempt}: {d:?} below half of {exp:?}");
        }
    }
}
