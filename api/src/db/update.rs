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
//! table, a changeset of `column.eq(value)`, a filter), without that mark. It is cached under its
//! SQL text and bind types, as diesel caches boxed queries: a different text is a different entry,
//! so a prepared statement never runs with the wrong SQL. The changeset must have a fixed shape (no
//! `Option<column.eq(..)>` fields that skip themselves), or each shape becomes its own entry.
use diesel::backend::Backend;
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};
use diesel::query_source::Table;
use diesel::QueryResult;

/// `UPDATE` that stays prepared; see the module docs. Run it with `.execute(conn)`.
#[derive(Debug, Clone)]
pub struct Update<F, W, V> {
    from: F,
    filter: W,
    changes: V,
}

/// `UPDATE table SET changes WHERE filter`, kept prepared by the connection.
pub fn update<T, W, C>(table: T, filter: W, changes: C) -> Update<T::FromClause, W, C::Changeset>
where
    T: Table,
    C: AsChangeset<Target = T>,
{
    Update { from: table.from_clause(), filter, changes: changes.as_changeset() }
}

impl<F, W, V, DB> QueryFragment<DB> for Update<F, W, V>
where
    DB: Backend,
    F: QueryFragment<DB>,
    W: QueryFragment<DB>,
    V: QueryFragment<DB>,
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

/// No static id: the cache key is the SQL text with the bind types.
impl<F, W, V> QueryId for Update<F, W, V> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<F, W, V, Conn> diesel::RunQueryDsl<Conn> for Update<F, W, V> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    diesel::table! {
        t (id) {
            id -> BigInt,
            v -> Integer,
            note -> Nullable<Text>,
        }
    }

    /// Counts statements newly put in the connection's cache.
    struct CountCached(Arc<AtomicUsize>);
    impl Instrumentation for CountCached {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::CacheQuery { .. } = event {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn conn<C: Connection + SimpleConnection>(mut c: C) -> (C, Arc<AtomicUsize>) {
        c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, note TEXT); INSERT INTO t VALUES (1, 0, NULL), (2, 0, NULL);")
            .expect("table");
        let n = Arc::new(AtomicUsize::new(0));
        c.set_instrumentation(CountCached(n.clone()));
        (c, n)
    }

    fn rows(c: &mut diesel::SqliteConnection) -> Vec<(i64, i32, Option<String>)> {
        t::table.order(t::id).load(c).expect("rows")
    }

    #[test]
    fn prepared_once_then_reused_with_the_values_of_each_run() {
        let (mut c, cached) = conn(diesel::SqliteConnection::establish(":memory:").expect("sqlite"));
        for i in 0..5 {
            let n = update(t::table, t::id.eq(1_i64).and(t::v.ge(0)), (t::v.eq(i), t::note.eq(Some(format!("run {i}"))))).execute(&mut c).expect("update");
            assert_eq!(n, 1);
        }
        assert_eq!(cached.load(Ordering::Relaxed), 1, "prepared once, then reused");
        assert_eq!(rows(&mut c), vec![(1, 4, Some("run 4".into())), (2, 0, None)], "only the filtered row, with the last run's values");
        // A filter that matches nothing changes nothing.
        assert_eq!(update(t::table, t::id.eq(3_i64).and(t::v.ge(0)), (t::v.eq(9), t::note.eq(None::<String>))).execute(&mut c).expect("update"), 0);
        // Expressions of the row's own columns, and NULL.
        update(t::table, t::id.eq(2_i64), (t::v.eq(t::v + 5), t::note.eq(None::<String>))).execute(&mut c).expect("update");
        update(t::table, t::id.eq(2_i64), (t::v.eq(t::v + 5), t::note.eq(None::<String>))).execute(&mut c).expect("update");
        assert_eq!(rows(&mut c)[1], (2, 10, None));
    }

    #[test]
    fn diesel_own_update_is_never_cached() {
        // What this module works around: if diesel starts caching updates, it can go.
        let (mut c, cached) = conn(diesel::SqliteConnection::establish(":memory:").expect("sqlite"));
        for i in 0..3 {
            diesel::update(t::table.find(1_i64)).set(t::v.eq(i)).execute(&mut c).expect("update");
        }
        assert_eq!(cached.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn cached_through_the_two_backend_connection() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let inner = diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("sqlite");
        let (mut c, cached) = conn(crate::db::DbConnection::Sqlite(inner));
        for i in 0..3 {
            update(t::table, t::id.eq(1_i64), t::v.eq(i)).execute(&mut c).expect("update");
        }
        assert_eq!(cached.load(Ordering::Relaxed), 1);
        let v: i32 = t::table.find(1_i64).select(t::v).first(&mut c).expect("read");
        assert_eq!(v, 2);
    }
}
