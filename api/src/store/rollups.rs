//! The rollup table (`call_rollups`): summed figures of settled calls per UTC hour and day, at
//! several levels of detail ([`crate::money::rollup`] decides what goes in; analytics reads it).
//! Changes are added, never overwritten, so concurrent writers never lose one another's.
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::Error;

/// One row's change: its key and what to add to each sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupRow {
    pub level: i64,
    /// Start of the UTC hour (or day, for day levels), in seconds since the epoch.
    pub hour: i64,
    pub campaign_id: i64,
    pub publisher_id: i64,
    pub buyer_id: i64,
    pub number_id: i64,
    /// Which of the key's [`SHARDS`] rows the change is added to.
    pub shard: i64,
    /// In [`SUMS`] order.
    pub sums: [i64; 12],
}

/// Each key's figures are spread over this many rows: concurrent settlements of one hour add to
/// different rows (on PostgreSQL each holds the rows it adds to until it commits), and queries
/// sum over them.
pub const SHARDS: i64 = 16;

/// The shard of a call's rollup changes.
pub fn shard_of(call_id: i64) -> i64 {
    call_id.rem_euclid(SHARDS)
}

/// The summed columns, in the order of [`RollupRow::sums`].
pub const SUMS: [&str; 12] = [
    "calls",
    "answered",
    "qualified",
    "duplicates",
    "no_buyer",
    "talk_secs",
    "revenue_micros",
    "payout_micros",
    "cost_micros",
    "offered",
    "connected",
    "blocked",
];

/// Rollup additions handed to the end of a transaction ([`crate::db::Batch`]): the settlements
/// committed together (SQLite's writer commits many writes at once) mostly add to the same rows
/// (this hour's at each level), so they are summed per row and written as one upsert.
#[derive(Debug, Default)]
pub struct Additions(pub Vec<RollupRow>);

impl crate::db::batch::BatchWork for Additions {
    fn merge(&mut self, other: Self) {
        self.0.extend(other.0);
    }

    fn write(self, conn: &mut DbConnection) -> Result<(), Error> {
        let mut merged: std::collections::BTreeMap<[i64; 7], [i64; 12]> = std::collections::BTreeMap::new();
        for r in self.0 {
            let sums = merged.entry([r.level, r.hour, r.campaign_id, r.publisher_id, r.buyer_id, r.number_id, r.shard]).or_default();
            for (s, add) in sums.iter_mut().zip(r.sums) {
                *s += add;
            }
        }
        let rows: Vec<RollupRow> = merged
            .into_iter()
            .filter(|(_, sums)| sums.iter().any(|s| *s != 0))
            .map(|([level, hour, campaign_id, publisher_id, buyer_id, number_id, shard], sums)| RollupRow {
                level,
                hour,
                campaign_id,
                publisher_id,
                buyer_id,
                number_id,
                shard,
                sums,
            })
            .collect();
        upsert(conn, &rows)
    }
}

/// The most rows one upsert statement takes. Each number of rows up to it is its own statement,
/// prepared once per connection; longer lists are written in statements of this many rows (in
/// the order given, which every writer keeps sorted: concurrent writers then wait for each other
/// instead of deadlocking).
pub const UPSERT_ROWS: usize = 32;

/// Adds `rows` with `INSERT .. ON CONFLICT DO UPDATE` (same syntax on PostgreSQL and SQLite >=
/// 3.24), [`UPSERT_ROWS`] rows a statement, every value bound. Keys must be unique within `rows`.
pub fn upsert(conn: &mut DbConnection, rows: &[RollupRow]) -> Result<(), Error> {
    for chunk in rows.chunks(UPSERT_ROWS) {
        crate::db::direct::run!(conn, execute, Upsert(chunk))?;
    }
    Ok(())
}

/// One upsert statement of [`upsert`]. Its SQL depends only on the number of rows, so diesel
/// keeps it prepared, keyed by that SQL.
struct Upsert<'a>(&'a [RollupRow]);

impl diesel::query_builder::QueryId for Upsert<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for Upsert<'_>
where
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        use diesel::sql_types::BigInt;
        out.push_sql("INSERT INTO call_rollups (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard");
        for s in SUMS {
            out.push_sql(", ");
            out.push_sql(s);
        }
        out.push_sql(") VALUES ");
        for (i, r) in self.0.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            let keys = [&r.level, &r.hour, &r.campaign_id, &r.publisher_id, &r.buyer_id, &r.number_id, &r.shard];
            for (j, v) in keys.into_iter().chain(r.sums.iter()).enumerate() {
                if j > 0 {
                    out.push_sql(", ");
                }
                out.push_bind_param::<BigInt, i64>(v)?;
            }
            out.push_sql(")");
        }
        out.push_sql(" ON CONFLICT (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard) DO UPDATE SET ");
        out.push_sql(UPDATE_SUMS);
        Ok(())
    }
}

/// `calls = call_rollups.calls + excluded.calls, ...` for every sum.
pub(crate) const UPDATE_SUMS: &str = "calls = call_rollups.calls + excluded.calls, answered = call_rollups.answered + excluded.answered, \
     qualified = call_rollups.qualified + excluded.qualified, duplicates = call_rollups.duplicates + excluded.duplicates, \
     no_buyer = call_rollups.no_buyer + excluded.no_buyer, talk_secs = call_rollups.talk_secs + excluded.talk_secs, \
     revenue_micros = call_rollups.revenue_micros + excluded.revenue_micros, \
     payout_micros = call_rollups.payout_micros + excluded.payout_micros, cost_micros = call_rollups.cost_micros + excluded.cost_micros, \
     offered = call_rollups.offered + excluded.offered, connected = call_rollups.connected + excluded.connected, \
     blocked = call_rollups.blocked + excluded.blocked";

impl<Conn> RunQueryDsl<Conn> for Upsert<'_> {}

/// Each buyer's settled calls and revenue on `campaign` over the UTC days from `since_day` (a
/// day's start, seconds since the epoch) on: what earnings-per-call routing measures.
pub fn buyer_earnings(conn: &mut DbConnection, campaign: i64, since_day: i64) -> Result<Vec<(i64, i64, i64)>, Error> {
    use crate::db::schema::call_rollups as r;
    use crate::money::rollup::{BUYER, CAMPAIGN, DAY};
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Nullable};
    let rows: Vec<(i64, Option<i64>, Option<i64>)> = r::table
        .filter(r::level.eq(CAMPAIGN | BUYER | DAY))
        .filter(r::campaign_id.eq(campaign))
        .filter(r::hour.ge(since_day))
        .filter(r::buyer_id.ne(0))
        .group_by(r::buyer_id)
        .select((
            r::buyer_id,
            sql::<Nullable<BigInt>>("CAST(SUM(call_rollups.calls) AS BIGINT)"),
            sql::<Nullable<BigInt>>("CAST(SUM(call_rollups.revenue_micros) AS BIGINT)"),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(buyer, calls, revenue)| (buyer, calls.unwrap_or(0), revenue.unwrap_or(0))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The upsert binds its values: one statement per number of rows, each prepared once, a long
    /// list written `UPSERT_ROWS` rows at a time, and a key met again gets its sums added.
    #[test]
    fn rollup_upsert_binds_its_values_and_adds_up() {
        use crate::db::schema::call_rollups as r;
        use crate::db::DbConnection;
        use crate::money::rollup::{row, Key, Sums};
        use diesel::prelude::*;
        use diesel_migrations::MigrationHarness;
        let dir = tempfile::tempdir().expect("dir");
        let mut conn =
            DbConnection::Sqlite(diesel::SqliteConnection::establish(&dir.path().join("t.db").to_string_lossy()).expect("sqlite"));
        conn.run_pending_migrations(crate::db::SQLITE_MIGRATIONS).expect("migrate");
        let (mut c, prepared) = crate::db::testing::with_table(conn, "");
        let rows = |n: i64| -> Vec<RollupRow> {
            (0..n)
                .map(|i| {
                    row(
                        1,
                        &Key { hour: 3600, campaign_id: i + 1, ..Default::default() },
                        &Sums { calls: 1, talk_secs: i, revenue_micros: 5, ..Default::default() },
                        0,
                    )
                })
                .collect()
        };
        upsert(&mut c, &rows(2)).expect("two rows");
        upsert(&mut c, &rows(2)).expect("the same two again");
        upsert(&mut c, &rows(2 * i64::try_from(UPSERT_ROWS).expect("a small constant") + 5)).expect("a long list");
        let stored: Vec<(i64, i64, i64, i64)> =
            r::table.order(r::campaign_id).select((r::campaign_id, r::calls, r::talk_secs, r::revenue_micros)).load(&mut c).expect("rows");
        assert_eq!(stored.len(), 2 * UPSERT_ROWS + 5, "every row of the long list");
        for (campaign, calls, talk, revenue) in stored {
            let times = if campaign <= 2 { 3 } else { 1 };
            assert_eq!((calls, talk, revenue), (times, times * (campaign - 1), times * 5), "campaign {campaign}");
        }
        let prepared: Vec<String> =
            prepared.lock().expect("lock").iter().filter(|s| s.starts_with("INSERT INTO call_rollups")).cloned().collect();
        // Two rows, then `UPSERT_ROWS` rows (twice), then five: three statements, each prepared once.
        assert_eq!(prepared.len(), 3, "{prepared:#?}");
        assert!(prepared.iter().all(|s| s.contains('?') && !s.contains("3600")), "values are bound, not written into the SQL");
    }
}
