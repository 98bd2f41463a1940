//! `UPDATE` statements that stay prepared.
//!
//! diesel never keeps an `UPDATE` in its prepared-statement cache: `UpdateStatement` marks itself
//! unsafe to cache (a changeset of optional fields changes the SQL with the values), so every run
//! is parsed and planned again, on PostgreSQL and on SQLite. Most of the call flow's statements are
//! updates: on PostgreSQL they were 22 of the ~60 statements a call costs. (Overriding
//! `is_safe_to_cache_prepared` on a wrapper does not help: diesel asks through a reference, whose
//! impl walks the inner statement.)
//!
//! [`update`] builds the same `UPDATE table SET ... WHERE ...` from diesel's own pieces (the
//! table, a changeset of `column.eq(value)`, a filter), without that mark. Its query id is made of
//! the table's, the filter's and the changeset's types, so the statement cache finds it by type,
//! as it finds a `SELECT`, without rendering its SQL again (see [`super::direct`]). The changeset
//! must have a fixed shape: `Option<column.eq(..)>` fields, which skip themselves when `None`,
//! have no query id, so such a changeset does not compile here. A part that renders differently
//! with its values (`eq_any` on SQLite) marks itself unsafe to cache, and is then never cached.
use diesel::backend::Backend;
use diesel::query_builder::{AsChangeset, AstPass, Query, QueryFragment, QueryId};
use diesel::query_source::Table;
use diesel::Expression;
use diesel::QueryResult;

/// `UPDATE` that stays prepared; see the module docs. Run it with `.execute(conn)`.
#[derive(Debug, Clone)]
pub struct Update<T: Table, W, C: AsChangeset> {
    from: T::FromClause,
    filter: W,
    changes: C::Changeset,
    /// The changeset as written (`column.eq(value)`s), whose type is the query id's.
    written: std::marker::PhantomData<fn() -> C>,
}

/// `UPDATE table SET changes WHERE filter`, kept prepared by the connection.
pub fn update<T, W, C>(table: T, filter: W, changes: C) -> Update<T, W, C>
where
    T: Table,
    C: AsChangeset<Target = T>,
{
    Update { from: table.from_clause(), filter, changes: changes.as_changeset(), written: std::marker::PhantomData }
}

impl<T, W, C, DB> QueryFragment<DB> for Update<T, W, C>
where
    DB: Backend,
    T: Table,
    T::FromClause: QueryFragment<DB>,
    W: QueryFragment<DB>,
    C: AsChangeset,
    C::Changeset: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.changes.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())?;
        Ok(())
    }
}

/// Marks the query id of an [`Update`], so it never equals another statement's made of the same parts.
#[derive(Debug)]
pub struct UpdateId<T, W, C>(std::marker::PhantomData<(T, W, C)>);

impl<T, W, C> QueryId for Update<T, W, C>
where
    T: Table + QueryId,
    W: QueryId,
    C: AsChangeset + QueryId,
{
    type QueryId = UpdateId<T::QueryId, W::QueryId, C::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = T::HAS_STATIC_QUERY_ID && W::HAS_STATIC_QUERY_ID && C::HAS_STATIC_QUERY_ID;
}

impl<T: Table, W, C: AsChangeset, Conn> diesel::RunQueryDsl<Conn> for Update<T, W, C> {}

impl<T: Table, W, C: AsChangeset> Update<T, W, C> {
    /// `... RETURNING returning`: the changed rows' values, read with `.get_result(conn)` (no row
    /// changed: `NotFound`). Kept prepared like the update itself.
    pub fn returning<R: Expression>(self, returning: R) -> Returning<Self, R> {
        Returning { update: self, returning }
    }
}

/// An [`Update`] with a `RETURNING` clause; see [`Update::returning`].
#[derive(Debug, Clone)]
pub struct Returning<U, R> {
    update: U,
    returning: R,
}

impl<U, R, DB> QueryFragment<DB> for Returning<U, R>
where
    DB: Backend,
    U: QueryFragment<DB>,
    R: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.update.walk_ast(out.reborrow())?;
        out.push_sql(" RETURNING ");
        self.returning.walk_ast(out.reborrow())?;
        Ok(())
    }
}

/// The query id of a [`Returning`].
#[derive(Debug)]
pub struct ReturningId<U, R>(std::marker::PhantomData<(U, R)>);

impl<U: QueryId, R: QueryId> QueryId for Returning<U, R> {
    type QueryId = ReturningId<U::QueryId, R::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = U::HAS_STATIC_QUERY_ID && R::HAS_STATIC_QUERY_ID;
}

impl<U, R: Expression> Query for Returning<U, R> {
    type SqlType = R::SqlType;
}

impl<U, R, Conn> diesel::RunQueryDsl<Conn> for Returning<U, R> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{t, with_table};
    use diesel::prelude::*;

    const TWO_ROWS: &str = "INSERT INTO t VALUES (1, 0, NULL), (2, 0, NULL)";

    fn rows(c: &mut diesel::SqliteConnection) -> Vec<(i64, i32, Option<String>)> {
        t::table.order(t::id).load(c).expect("rows")
    }

    #[test]
    fn prepared_once_then_reused_with_the_values_of_each_run() {
        let (mut c, prepared) = with_table(diesel::SqliteConnection::establish(":memory:").expect("sqlite"), TWO_ROWS);
        for i in 0..5 {
            let n = update(t::table, t::id.eq(1_i64).and(t::v.ge(0)), (t::v.eq(i), t::note.eq(Some(format!("run {i}")))))
                .execute(&mut c)
                .expect("update");
            assert_eq!(n, 1);
        }
        assert_eq!(prepared.lock().expect("lock").len(), 1, "prepared once, then reused");
        assert_eq!(rows(&mut c), vec![(1, 4, Some("run 4".into())), (2, 0, None)], "only the filtered row, with the last run's values");
        // A filter that matches nothing changes nothing.
        assert_eq!(
            update(t::table, t::id.eq(3_i64).and(t::v.ge(0)), (t::v.eq(9), t::note.eq(None::<String>))).execute(&mut c).expect("update"),
            0
        );
        // Expressions of the row's own columns, and NULL.
        update(t::table, t::id.eq(2_i64), (t::v.eq(t::v + 5), t::note.eq(None::<String>))).execute(&mut c).expect("update");
        update(t::table, t::id.eq(2_i64), (t::v.eq(t::v + 5), t::note.eq(None::<String>))).execute(&mut c).expect("update");
        assert_eq!(rows(&mut c)[1], (2, 10, None));
    }

    #[test]
    fn returning_reads_the_changed_row_and_stays_prepared() {
        let (mut c, prepared) = with_table(diesel::SqliteConnection::establish(":memory:").expect("sqlite"), TWO_ROWS);
        for i in 1..=3 {
            let back: (i64, i32) =
                update(t::table, t::id.eq(2_i64), t::v.eq(t::v + i)).returning((t::id, t::v)).get_result(&mut c).expect("returning");
            assert_eq!(back, (2, (1..=i).sum::<i32>()));
        }
        let none = update(t::table, t::id.eq(9_i64), t::v.eq(t::v + 1)).returning((t::id, t::v)).get_result::<(i64, i32)>(&mut c);
        assert_eq!(none, Err(diesel::result::Error::NotFound), "no row changed");
        assert_eq!(prepared.lock().expect("lock").len(), 1, "one statement, prepared once");
    }

    #[test]
    fn diesel_own_update_is_never_cached() {
        // What this module works around: if diesel starts caching updates, it can go.
        let (mut c, prepared) = with_table(diesel::SqliteConnection::establish(":memory:").expect("sqlite"), TWO_ROWS);
        for i in 0..3 {
            diesel::update(t::table.find(1_i64)).set(t::v.eq(i)).execute(&mut c).expect("update");
        }
        assert_eq!(prepared.lock().expect("lock").len(), 0);
    }

    #[test]
    fn cached_through_the_two_backend_connection() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let inner = diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("sqlite");
        let (mut c, prepared) = with_table(crate::db::DbConnection::Sqlite(inner), TWO_ROWS);
        for i in 0..3 {
            update(t::table, t::id.eq(1_i64), t::v.eq(i)).execute(&mut c).expect("update");
        }
        assert_eq!(prepared.lock().expect("lock").len(), 1);
        let v: i32 = t::table.find(1_i64).select(t::v).first(&mut c).expect("read");
        assert_eq!(v, 2);
    }
}
