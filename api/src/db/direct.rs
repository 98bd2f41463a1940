//! Statements run on the backend's own connection, for the call flow's hot path.
//!
//! diesel's two-backend connection ([`DbConnection`], a `MultiConnection`) wraps every statement
//! and renders its whole SQL text on each run, even one it already has prepared: profiling the
//! SQLite writer thread under load put about a fifth of its time in that rendering (quoting
//! identifiers, concatenating text). On the backend's own connection a statement with a static
//! query id is looked up by its type and only its values are bound.
//!
//! [`run!`] runs a statement on whichever backend the connection is: the query is written once
//! and compiled once per backend.
/// `run!(conn, method, query)`: `query.method(c)` on the backend's own connection `c`, where
/// `method` is one of diesel's `RunQueryDsl` methods (`execute`, `load`, `get_result`, `first`).
/// The query is written once and expanded per backend: a selection made with `as_select()` has a
/// type of its own on each backend.
macro_rules! run {
    ($conn:expr, $method:ident, $query:expr $(,)?) => {
        match $conn {
            $crate::db::DbConnection::Postgres(c) => $query.$method(c),
            $crate::db::DbConnection::Sqlite(c) => $query.$method(c),
        }
    };
}
pub(crate) use run;

#[cfg(test)]
mod tests {
    use crate::db::testing::{t, with_table, Prepared};
    use crate::db::DbConnection;
    use diesel::prelude::*;
    use diesel::SqliteConnection;

    fn conn() -> (DbConnection, Prepared, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("dir");
        let inner = SqliteConnection::establish(&dir.path().join("t.db").to_string_lossy()).expect("sqlite");
        let (c, prepared) = with_table(DbConnection::Sqlite(inner), "");
        (c, prepared, dir)
    }

    #[test]
    fn runs_every_kind_of_statement_and_prepares_each_once() {
        let (mut c, prepared, _dir) = conn();
        for i in 1..=3_i32 {
            let n = run!(&mut c, execute, diesel::insert_into(t::table).values((t::id.eq(i64::from(i)), t::v.eq(i * 10)))).expect("insert");
            assert_eq!(n, 1);
        }
        for _ in 0..3 {
            let v: i32 = run!(&mut c, first, t::table.filter(t::id.eq(2_i64)).select(t::v)).expect("first");
            assert_eq!(v, 20);
        }
        let all: Vec<(i64, i32)> = run!(&mut c, load, t::table.order(t::id.desc()).select((t::id, t::v))).expect("load");
        assert_eq!(all, vec![(3, 30), (2, 20), (1, 10)]);
        let missing: Option<i32> = run!(&mut c, first, t::table.filter(t::id.eq(9_i64)).select(t::v)).optional().expect("first");
        assert_eq!(missing, None);
        let id: i64 = run!(&mut c, get_result, diesel::insert_into(t::table).values(t::v.eq(40)).returning(t::id)).expect("returning");
        assert_eq!(id, 4);
        let changed = run!(&mut c, execute, crate::db::update(t::table, t::id.eq(4_i64), t::v.eq(t::v + 1))).expect("update");
        assert_eq!(changed, 1);
        let prepared = prepared.lock().expect("lock").clone();
        // The insert, the first, the load, the missing first (same statement), the returning insert
        // and the update: each statement prepared once however often it ran.
        assert_eq!(prepared.len(), 5, "{prepared:#?}");
    }
}
