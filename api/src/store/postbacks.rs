//! Publishers' postback attempts (`postback_attempts`): one row per request sent, shown on the call.
use callbroker_wire::{PostbackAttempt, PostbackMethod};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::postback_attempts;
use crate::db::DbConnection;
use crate::error::Error;

/// One request sent to a publisher.
pub struct Attempt {
    pub call_id: i64,
    pub publisher_id: i64,
    pub attempt: i32,
    pub method: PostbackMethod,
    pub url: String,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub at: NaiveDateTime,
}

impl Attempt {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<(), Error> {
        diesel::insert_into(postback_attempts::table)
            .values((
                postback_attempts::call_id.eq(self.call_id),
                postback_attempts::publisher_id.eq(self.publisher_id),
                postback_attempts::attempt.eq(self.attempt),
                postback_attempts::method.eq(self.method.as_str()),
                postback_attempts::url.eq(&self.url),
                postback_attempts::status_code.eq(self.status_code),
                postback_attempts::error.eq(&self.error),
                postback_attempts::duration_ms.eq(self.duration_ms),
                postback_attempts::at.eq(self.at),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// A call's postback attempts, oldest first.
pub fn attempts(conn: &mut DbConnection, call_id: i64) -> Result<Vec<PostbackAttempt>, Error> {
    Ok(postback_attempts::table
        .filter(postback_attempts::call_id.eq(call_id))
        .order(postback_attempts::id.asc())
        .select((
            postback_attempts::attempt,
            postback_attempts::at,
            postback_attempts::method,
            postback_attempts::url,
            postback_attempts::status_code,
            postback_attempts::error,
            postback_attempts::duration_ms,
        ))
        .load::<(i32, NaiveDateTime, String, String, Option<i32>, Option<String>, i32)>(conn)?
        .into_iter()
        .map(|(attempt, at, method, url, status_code, error, duration_ms)| PostbackAttempt {
            attempt,
            at: at.and_utc(),
            method,
            url,
            status_code,
            error,
            duration_ms,
        })
        .collect())
}
