//! Statements written for PostgreSQL alone (where one statement does what would otherwise take
//! several round trips), with typed parameters.
//!
//! diesel writes a placeholder where each parameter is bound, in order. A [`PgStatement`] binds
//! its parameters once, as the columns of a one-row CTE `p` that its SQL reads them from:
//!
//! ```sql
//! WITH p AS (SELECT $1::bigint AS call_id, $2::text[] AS kinds, ...), <the rest>
//! ```
//!
//! so the rest of the statement may use a parameter any number of times (`p.call_id`). The SQL
//! depends only on the parameters' names and types, so PostgreSQL's prepared statement is made
//! once per connection and reused (diesel keys it by its text).
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

/// `WITH p AS (SELECT <params>), <body>`: see the module docs. Load its rows with
/// `.load::<T>(conn)` for a `T: QueryableByName`, or run it with `.execute(conn)`.
#[derive(Debug, Clone, Default)]
pub struct PgStatement {
    params: Vec<(&'static str, Param)>,
    body: std::borrow::Cow<'static, str>,
}

impl PgStatement {
    pub fn new() -> PgStatement {
        PgStatement::default()
    }

    /// The rest of the statement after `WITH p AS (...) `: more CTEs (`, name AS (...)`), then
    /// the final query.
    pub fn body(mut self, body: impl Into<std::borrow::Cow<'static, str>>) -> PgStatement {
        self.body = body.into();
        self
    }

    pub fn param(mut self, name: &'static str, value: Param) -> PgStatement {
        self.params.push((name, value));
        self
    }

    /// The SQL as sent (for tests and errors).
    pub fn sql(&self) -> String {
        diesel::debug_query::<Pg, _>(self).to_string()
    }

    /// The statement to run, borrowed (it may be run again).
    pub fn run(&self) -> Borrowed<'_> {
        Borrowed(self)
    }
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

impl QueryFragment<Pg> for PgStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH p AS (SELECT ");
        for (i, (name, value)) in self.params.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
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
            out.push_sql(" AS ");
            out.push_identifier(name)?;
        }
        out.push_sql(") ");
        out.push_sql(&self.body);
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

impl RunQueryDsl<diesel::PgConnection> for PgStatement {}
