//! New rows of the durable job queue (`jobs`); the worker that claims and runs them is
//! [`crate::jobs`].
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::jobs;
use crate::db::stamp::Stamp;
use crate::db::{direct, DbConnection};
use crate::domain::states::JobStatus;
use crate::error::Error;

/// A job to add, due at `run_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    /// JSON text.
    pub payload: String,
    pub run_at: NaiveDateTime,
    pub max_attempts: i32,
}

/// Adds a job; returns its id.
pub fn insert(conn: &mut DbConnection, job: &NewJob, now: NaiveDateTime) -> Result<i64, Error> {
    let insert = diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(&job.kind),
            jobs::payload.eq(&job.payload),
            jobs::run_at.eq(Stamp(job.run_at)),
            jobs::attempts.eq(0),
            jobs::max_attempts.eq(job.max_attempts.max(1)),
            jobs::status.eq(JobStatus::Pending),
            jobs::created_at.eq(Stamp(now)),
            jobs::updated_at.eq(Stamp(now)),
        ))
        .returning(jobs::id);
    Ok(direct::run!(conn, get_result, insert)?)
}
