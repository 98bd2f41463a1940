//! Many whole calls at once, with their legs (the analytics benchmark's made-up history:
//! `callbroker seed-calls`).
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{CallRow, LegRow};
use crate::db::schema::{call_legs, calls};
use crate::db::DbConnection;
use crate::error::Error;

/// Rows per insert statement (under SQLite's limit of bound values).
const ROWS: usize = 500;

/// Inserts `calls` and `legs` as they are, ids included.
pub fn insert(conn: &mut DbConnection, calls: &[CallRow], legs: &[LegRow]) -> Result<(), Error> {
    for chunk in calls.chunks(ROWS) {
        match conn {
            DbConnection::Postgres(c) => diesel::insert_into(calls::table).values(chunk).execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(calls::table).values(chunk).execute(c)?,
        };
    }
    for chunk in legs.chunks(ROWS) {
        match conn {
            DbConnection::Postgres(c) => diesel::insert_into(call_legs::table).values(chunk).execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(call_legs::table).values(chunk).execute(c)?,
        };
    }
    Ok(())
}

/// After [`insert`]: the id sequences continue past the inserted ids (PostgreSQL), and the
/// planner's statistics are fresh.
pub fn after_bulk_insert(conn: &mut DbConnection) -> Result<(), Error> {
    match conn {
        DbConnection::Postgres(c) => c.batch_execute(
            "SELECT setval(pg_get_serial_sequence('calls', 'id'), (SELECT MAX(id) FROM calls)); \
             SELECT setval(pg_get_serial_sequence('call_legs', 'id'), (SELECT MAX(id) FROM call_legs)); ANALYZE;",
        )?,
        DbConnection::Sqlite(c) => c.batch_execute("ANALYZE;")?,
    }
    Ok(())
}
