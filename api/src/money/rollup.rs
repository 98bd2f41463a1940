//! The hourly rollups: settled calls summed per UTC hour and (campaign, publisher, buyer, number),
//! at several levels of detail so that every query reads a small table slice.
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::Error;
use crate::store::calls::CallRow;

/// A rollup row's key; 0 stands for "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Key {
    /// Start of the UTC hour, in seconds since the epoch.
    pub hour: i64,
    pub campaign_id: i64,
    pub publisher_id: i64,
    pub buyer_id: i64,
    pub number_id: i64,
}

impl Key {
    /// The key of a call, under the buyer credited with its money.
    pub fn of(c: &CallRow) -> Key {
        Key {
            hour: hour_of(c.started_at),
            campaign_id: c.campaign_id.unwrap_or(0),
            publisher_id: c.publisher_id.unwrap_or(0),
            buyer_id: c.money_buyer_id.unwrap_or(0),
            number_id: c.number_id.unwrap_or(0),
        }
    }
}

/// Dimension bits of a level.
pub const CAMPAIGN: i64 = 1;
pub const PUBLISHER: i64 = 2;
pub const BUYER: i64 = 4;
pub const NUMBER: i64 = 8;

/// The levels kept, smallest first (a number belongs to one campaign and publisher, so keeping
/// those two beside it costs nothing).
pub const LEVELS: [i64; 9] = [
    0,
    CAMPAIGN,
    PUBLISHER,
    BUYER,
    CAMPAIGN | PUBLISHER,
    CAMPAIGN | BUYER,
    PUBLISHER | BUYER,
    CAMPAIGN | PUBLISHER | NUMBER,
    CAMPAIGN | PUBLISHER | BUYER | NUMBER,
];

/// Added to a level for its rows summed per UTC day (their `hour` is the day's start).
pub const DAY: i64 = 16;

/// The smallest level that keeps every dimension in `needed`.
pub fn level_for(needed: i64) -> i64 {
    LEVELS.iter().copied().find(|l| l & needed == needed).unwrap_or(CAMPAIGN | PUBLISHER | BUYER | NUMBER)
}

impl Key {
    /// The key with only the dimensions of `level`.
    pub fn at(&self, level: i64) -> Key {
        let keep = |bit: i64, v: i64| if level & bit != 0 { v } else { 0 };
        Key {
            hour: self.hour,
            campaign_id: keep(CAMPAIGN, self.campaign_id),
            publisher_id: keep(PUBLISHER, self.publisher_id),
            buyer_id: keep(BUYER, self.buyer_id),
            number_id: keep(NUMBER, self.number_id),
        }
    }
}

/// Rows for every level from full-detail rows, merged per level key, in (level, key) order and
/// without rows that add nothing. The order matters: every writer upserts rows in this one global
/// order, so concurrent settlements on PostgreSQL wait for each other instead of deadlocking.
pub fn expand(rows: &[(Key, Sums)]) -> Vec<(i64, Key, Sums)> {
    let mut out: std::collections::BTreeMap<(i64, Key), Sums> = std::collections::BTreeMap::new();
    for (k, s) in rows {
        for level in LEVELS {
            let key = k.at(level);
            out.entry((level, key)).or_default().add(s);
            out.entry((level | DAY, Key { hour: key.hour.div_euclid(86_400) * 86_400, ..key })).or_default().add(s);
        }
    }
    out.into_iter().filter(|(_, s)| *s != Sums::default()).map(|((l, k), s)| (l, k, s)).collect()
}

pub fn hour_of(t: chrono::NaiveDateTime) -> i64 {
    t.and_utc().timestamp().div_euclid(3600) * 3600
}

/// The summed figures of a rollup row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sums {
    pub calls: i64,
    pub answered: i64,
    pub qualified: i64,
    pub duplicates: i64,
    pub no_buyer: i64,
    pub talk_secs: i64,
    pub revenue_micros: i64,
    pub payout_micros: i64,
    pub cost_micros: i64,
    pub offered: i64,
    pub connected: i64,
}

impl Sums {
    pub fn add(&mut self, o: &Sums) {
        self.calls += o.calls;
        self.answered += o.answered;
        self.qualified += o.qualified;
        self.duplicates += o.duplicates;
        self.no_buyer += o.no_buyer;
        self.talk_secs += o.talk_secs;
        self.revenue_micros += o.revenue_micros;
        self.payout_micros += o.payout_micros;
        self.cost_micros += o.cost_micros;
        self.offered += o.offered;
        self.connected += o.connected;
    }
    fn negated(&self) -> Sums {
        Sums {
            calls: -self.calls,
            answered: -self.answered,
            qualified: -self.qualified,
            duplicates: -self.duplicates,
            no_buyer: -self.no_buyer,
            talk_secs: -self.talk_secs,
            revenue_micros: -self.revenue_micros,
            payout_micros: -self.payout_micros,
            cost_micros: -self.cost_micros,
            offered: -self.offered,
            connected: -self.connected,
        }
    }
}

/// What a settled call adds to the rollups (legs are counted separately).
pub struct Contribution;

impl Contribution {
    /// `None` for a call not yet settled.
    pub fn of(c: &CallRow) -> Option<(Key, Sums)> {
        c.settled_at?;
        Some((
            Key::of(c),
            Sums {
                calls: 1,
                answered: i64::from(c.answered),
                qualified: i64::from(c.qualified.unwrap_or(false)),
                duplicates: i64::from(c.duplicate),
                no_buyer: i64::from(c.no_buyer),
                talk_secs: i64::from(c.talk_secs),
                revenue_micros: c.revenue_micros,
                payout_micros: c.payout_micros,
                cost_micros: c.counted_cost_micros,
                offered: 0,
                connected: 0,
            },
        ))
    }
}

/// The changes one transaction makes to the rollups, written by [`Delta::write`] as one
/// statement (one lock order for every writer).
#[derive(Debug, Default)]
pub struct Delta(pub(crate) Vec<(Key, Sums)>);

impl Delta {
    /// Replaces a call's old contribution with its new one.
    pub fn replace(&mut self, before: Option<&(Key, Sums)>, after: Option<&(Key, Sums)>) {
        if before == after {
            return;
        }
        if let Some((k, s)) = before {
            self.0.push((*k, s.negated()));
        }
        if let Some((k, s)) = after {
            self.0.push((*k, *s));
        }
    }

    pub fn add(&mut self, key: Key, sums: Sums) {
        self.0.push((key, sums));
    }

    /// Writes the change; inside [`crate::db::Db::write`] it is held back and written last thing
    /// before the commit, merged with the transaction's other changes (see [`flush_deferred`]).
    pub fn write(self, conn: &mut DbConnection) -> Result<(), Error> {
        let held = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
            Some(pending) => {
                pending.extend(self.0.iter().copied());
                true
            }
            None => false,
        });
        if held {
            return Ok(());
        }
        self.write_now(conn)
    }

    fn write_now(self, conn: &mut DbConnection) -> Result<(), Error> {
        let rows = expand(&self.0);
        if rows.is_empty() {
            return Ok(());
        }
        upsert(conn, &rows)
    }
}

thread_local! {
    /// While `Db::write` runs a transaction on this thread: the rollup changes made so far. The
    /// rollup rows of the current hour are shared by every settlement, so on PostgreSQL a writer
    /// holds their locks from its upsert to its commit: written last, that is only the commit.
    static DEFERRED: std::cell::RefCell<Option<Vec<(Key, Sums)>>> = const { std::cell::RefCell::new(None) };
}

/// Holds back this thread's rollup writes until [`flush_deferred`] (a write transaction starts).
pub(crate) fn start_deferring() {
    DEFERRED.with(|d| *d.borrow_mut() = Some(Vec::new()));
}

/// Writes the held-back rollup changes as one upsert and stops holding back (called by `Db::write`
/// last thing before the commit). While the SQLite writer runs a batch ([`start_batch`]) the
/// changes are not written but returned, for [`hold_for_batch`] once the transaction's savepoint
/// is released.
pub(crate) fn flush_deferred(conn: &mut DbConnection) -> Result<Vec<(Key, Sums)>, Error> {
    let rows = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
    if rows.is_empty() || BATCH.with(|b| b.borrow().is_some()) {
        return Ok(rows);
    }
    Delta(rows).write_now(conn)?;
    Ok(Vec::new())
}

thread_local! {
    /// While the SQLite writer thread runs a batch: the rollup changes of its committed
    /// savepoints, written as one upsert before the batch commits. The batch's settlements mostly
    /// add to the same few rows (this hour's, at each level), so one statement does the work of
    /// dozens.
    static BATCH: std::cell::RefCell<Option<Vec<(Key, Sums)>>> = const { std::cell::RefCell::new(None) };
}

/// The SQLite writer starts a batch: rollup changes are gathered until [`flush_batch`].
pub(crate) fn start_batch() {
    BATCH.with(|b| *b.borrow_mut() = Some(Vec::new()));
}

/// Adds a released savepoint's rollup changes to the batch's.
pub(crate) fn hold_for_batch(rows: Vec<(Key, Sums)>) {
    BATCH.with(|b| {
        if let Some(batch) = b.borrow_mut().as_mut() {
            batch.extend(rows);
        }
    });
}

/// Writes the batch's rollup changes as one upsert, last thing before the batch commits, and
/// ends the batch. A batch that fails before this is ended by [`end_batch`], which drops them.
pub(crate) fn flush_batch(conn: &mut DbConnection) -> Result<(), Error> {
    match BATCH.with(|b| b.borrow_mut().take()) {
        Some(rows) if !rows.is_empty() => Delta(rows).write_now(conn),
        _ => Ok(()),
    }
}

/// Ends the batch, dropping changes not yet written (its transaction rolled back).
pub(crate) fn end_batch() {
    BATCH.with(|b| *b.borrow_mut() = None);
}

/// Drops held-back changes (their transaction rolled back) and stops holding back.
pub(crate) fn stop_deferring() {
    DEFERRED.with(|d| *d.borrow_mut() = None);
}

/// The most rows one upsert statement takes. Each number of rows up to it is its own statement,
/// prepared once per connection; longer lists are written in statements of this many rows (in
/// order: see [`expand`]).
pub const UPSERT_ROWS: usize = 32;

/// Writes `rows` with `INSERT .. ON CONFLICT DO UPDATE` (same syntax on PostgreSQL and SQLite ≥
/// 3.24), [`UPSERT_ROWS`] rows a statement, every value bound. With its values written into the
/// SQL text, the statement was parsed again each time: a quarter of the SQLite writer's
/// instructions when every webhook is a batch of its own (`make writer-instructions`).
pub fn upsert(conn: &mut DbConnection, rows: &[(i64, Key, Sums)]) -> Result<(), Error> {
    for chunk in rows.chunks(UPSERT_ROWS) {
        crate::db::direct::run!(conn, execute, Upsert(chunk))?;
    }
    Ok(())
}

/// One upsert statement of [`upsert`]. Its SQL depends only on the number of rows, so diesel
/// keeps it prepared, keyed by that SQL.
struct Upsert<'a>(&'a [(i64, Key, Sums)]);

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
        out.push_sql(
            "INSERT INTO call_rollups (level, hour, campaign_id, publisher_id, buyer_id, number_id, calls, answered, qualified, \
             duplicates, no_buyer, talk_secs, revenue_micros, payout_micros, cost_micros, offered, connected) VALUES ",
        );
        for (i, (level, k, s)) in self.0.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            let values = [
                level,
                &k.hour,
                &k.campaign_id,
                &k.publisher_id,
                &k.buyer_id,
                &k.number_id,
                &s.calls,
                &s.answered,
                &s.qualified,
                &s.duplicates,
                &s.no_buyer,
                &s.talk_secs,
                &s.revenue_micros,
                &s.payout_micros,
                &s.cost_micros,
                &s.offered,
                &s.connected,
            ];
            for (j, v) in values.into_iter().enumerate() {
                if j > 0 {
                    out.push_sql(", ");
                }
                out.push_bind_param::<BigInt, i64>(v)?;
            }
            out.push_sql(")");
        }
        out.push_sql(
            " ON CONFLICT (level, hour, campaign_id, publisher_id, buyer_id, number_id) DO UPDATE SET \
             calls = call_rollups.calls + excluded.calls, answered = call_rollups.answered + excluded.answered, \
             qualified = call_rollups.qualified + excluded.qualified, duplicates = call_rollups.duplicates + excluded.duplicates, \
             no_buyer = call_rollups.no_buyer + excluded.no_buyer, talk_secs = call_rollups.talk_secs + excluded.talk_secs, \
             revenue_micros = call_rollups.revenue_micros + excluded.revenue_micros, \
             payout_micros = call_rollups.payout_micros + excluded.payout_micros, cost_micros = call_rollups.cost_micros + excluded.cost_micros, \
             offered = call_rollups.offered + excluded.offered, connected = call_rollups.connected + excluded.connected",
        );
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for Upsert<'_> {}
