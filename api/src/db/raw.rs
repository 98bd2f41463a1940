//! Statements written for PostgreSQL alone (where one statement does what would otherwise take
//! several round trips), with typed parameters.
//!
//! A [`PgStatement`] is built from pieces of SQL and parameters in order; each parameter is
//! written as a placeholder with its type (`$3::bigint[]`), so a value used twice is bound twice.
//! The SQL depends only on the pieces' shape, so PostgreSQL's prepared statement is made once per
//! connection and reused (diesel keys it by its text).
use std::borrow::Cow;

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamp, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A parameter's value (and so its type).
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    BigInt(Option<i64>),
    Int(Option<i32>),
    Text(Option<String>),
    Bool(Option<bool>),
    Timestamp(Option<NaiveDateTime>),
    BigInts(Vec<Option<i64>>),
    Ints(Vec<Option<i32>>),
    Texts(Vec<Option<String>>),
    Bools(Vec<bool>),
    Timestamps(Vec<Option<NaiveDateTime>>),
}

impl Param {
    fn sql_type(&self) -> &'static str {
        match self {
            Param::BigInt(_) => "bigint",
            Param::Int(_) => "integer",
            Param::Text(_) => "text",
            Param::Bool(_) => "boolean",
            Param::Timestamp(_) => "timestamp",
            Param::BigInts(_) => "bigint[]",
            Param::Ints(_) => "integer[]",
            Param::Texts(_) => "text[]",
            Param::Bools(_) => "boolean[]",
            Param::Timestamps(_) => "timestamp[]",
        }
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Sql(Cow<'static, str>),
    Param(Param),
}

/// SQL and parameters in order: see the module docs. Run it with `.run()` and diesel's
/// `load::<T>` (`T: QueryableByName`), `get_result` or `execute`.
#[derive(Debug, Clone, Default)]
pub struct PgStatement {
    pieces: Vec<Piece>,
}

impl PgStatement {
    pub fn new() -> PgStatement {
        PgStatement::default()
    }

    /// Appends SQL.
    pub fn sql(&mut self, sql: impl Into<Cow<'static, str>>) -> &mut PgStatement {
        self.pieces.push(Piece::Sql(sql.into()));
        self
    }

    /// Appends a parameter (its placeholder and type).
    pub fn bind(&mut self, value: Param) -> &mut PgStatement {
        self.pieces.push(Piece::Param(value));
        self
    }

    /// The SQL as sent, with its values (for tests and errors).
    pub fn debug(&self) -> String {
        diesel::debug_query::<Pg, _>(self).to_string()
    }

    /// The statement to run, borrowed (it may be run again).
    pub fn run(&self) -> Borrowed<'_> {
        Borrowed(self)
    }
}

impl QueryFragment<Pg> for PgStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for piece in &self.pieces {
            let value = match piece {
                Piece::Sql(sql) => {
                    out.push_sql(sql);
                    continue;
                }
                Piece::Param(value) => value,
            };
            match value {
                Param::BigInt(v) => out.push_bind_param::<Nullable<BigInt>, _>(v)?,
                Param::Int(v) => out.push_bind_param::<Nullable<Integer>, _>(v)?,
                Param::Text(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Param::Bool(v) => out.push_bind_param::<Nullable<Bool>, _>(v)?,
                Param::Timestamp(v) => out.push_bind_param::<Nullable<Timestamp>, _>(v)?,
                Param::BigInts(v) => out.push_bind_param::<Array<Nullable<BigInt>>, _>(v)?,
                Param::Ints(v) => out.push_bind_param::<Array<Nullable<Integer>>, _>(v)?,
                Param::Texts(v) => out.push_bind_param::<Array<Nullable<Text>>, _>(v)?,
                Param::Bools(v) => out.push_bind_param::<Array<Bool>, _>(v)?,
                Param::Timestamps(v) => out.push_bind_param::<Array<Nullable<Timestamp>>, _>(v)?,
            }
            out.push_sql("::");
            out.push_sql(value.sql_type());
        }
        Ok(())
    }
}

impl QueryId for PgStatement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for PgStatement {
    type SqlType = Untyped;
}

/// A [`PgStatement`] run without giving it up ([`PgStatement::run`]).
#[derive(Debug, Clone, Copy)]
pub struct Borrowed<'a>(&'a PgStatement);

impl QueryFragment<Pg> for Borrowed<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

impl QueryId for Borrowed<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Borrowed<'_> {
    type SqlType = Untyped;
}

impl RunQueryDsl<diesel::PgConnection> for Borrowed<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_typed_placeholders_in_order() {
        let mut s = PgStatement::new();
        s.sql("SELECT ").bind(Param::BigInt(Some(7))).sql(" + ").bind(Param::BigInt(Some(7))).sql(", ").bind(Param::Texts(vec![None]));
        let sql = s.debug();
        assert!(sql.starts_with("SELECT $1::bigint + $2::bigint, $3::text[]"), "{sql}");
    }
}
