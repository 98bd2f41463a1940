//! Money rules table tests: buffer edges, duplicates, override precedence.
use super::*;

fn campaign() -> Rules {
    Rules { currency: "USD".into(), revenue_micros: 25_000_000, payout_micros: 10_000_000, buffer_secs: 90, duplicate_window_secs: 86_400 }
}

fn facts(talk: i32) -> Facts {
    Facts { no_buyer: false, connected: true, talk_secs: talk, duplicate: false, cost_micros: None }
}

#[test]
fn buffer_edges() {
    // (talk seconds, qualified, reason, revenue, payout)
    let table: &[(i32, bool, &str, i64, i64)] = &[
        (0, false, reason::SHORT, 0, 0),
        (89, false, reason::SHORT, 0, 0),
        (90, true, reason::QUALIFIED, 25_000_000, 10_000_000),
        (91, true, reason::QUALIFIED, 25_000_000, 10_000_000),
        (3600, true, reason::QUALIFIED, 25_000_000, 10_000_000),
    ];
    for &(talk, qualified, why, revenue, payout) in table {
        let s = compute(&campaign(), &facts(talk));
        assert_eq!((s.qualified, s.reason, s.revenue_micros, s.payout_micros), (qualified, why, revenue, payout), "talk {talk}");
        assert_eq!(s.profit_micros, revenue - payout, "talk {talk}");
    }
}

#[test]
fn zero_buffer_qualifies_any_connected_call() {
    let rules = Rules { buffer_secs: 0, ..campaign() };
    assert!(compute(&rules, &facts(0)).qualified);
    assert!(!compute(&rules, &Facts { connected: false, ..facts(0) }).qualified);
}

#[test]
fn reasons_in_order() {
    // (facts, reason): no buyer beats everything, then not connected, then duplicate, then short.
    let table: Vec<(Facts, &str)> = vec![
        (Facts { no_buyer: true, connected: false, duplicate: true, ..facts(0) }, reason::NO_BUYER),
        (Facts { connected: false, duplicate: true, ..facts(500) }, reason::NOT_CONNECTED),
        (Facts { duplicate: true, ..facts(500) }, reason::DUPLICATE),
        (Facts { duplicate: true, ..facts(10) }, reason::DUPLICATE),
        (facts(10), reason::SHORT),
        (facts(500), reason::QUALIFIED),
    ];
    for (f, why) in table {
        let s = compute(&campaign(), &f);
        assert_eq!(s.reason, why, "{f:?}");
        assert_eq!(s.qualified, why == reason::QUALIFIED);
        if !s.qualified {
            assert_eq!((s.revenue_micros, s.payout_micros), (0, 0), "neither billed nor paid: {f:?}");
        }
    }
}

#[test]
fn profit_subtracts_known_cost_even_when_not_qualified() {
    let s = compute(&campaign(), &Facts { cost_micros: Some(120_000), ..facts(120) });
    assert_eq!(s.profit_micros, 25_000_000 - 10_000_000 - 120_000);
    let s = compute(&campaign(), &Facts { cost_micros: Some(120_000), ..facts(5) });
    assert_eq!(s.profit_micros, -120_000);
}

#[test]
fn override_precedence() {
    let base = campaign();
    // (buyer override (price, buffer), publisher payout override) → (revenue, payout, buffer)
    type Row = (Option<(Option<i64>, Option<i32>)>, Option<i64>, (i64, i64, i32));
    let table: &[Row] = &[
        (None, None, (25_000_000, 10_000_000, 90)),
        (Some((None, None)), None, (25_000_000, 10_000_000, 90)),
        (Some((Some(40_000_000), None)), None, (40_000_000, 10_000_000, 90)),
        (Some((None, Some(30))), None, (25_000_000, 10_000_000, 30)),
        (None, Some(12_500_000), (25_000_000, 12_500_000, 90)),
        (Some((Some(40_000_000), Some(120))), Some(0), (40_000_000, 0, 120)),
    ];
    for (buyer, publisher, (revenue, payout, buffer)) in table {
        let r = RuleSet { campaign: base.clone(), buyer: *buyer, publisher_payout: *publisher }.resolve();
        assert_eq!((r.revenue_micros, r.payout_micros, r.buffer_secs), (*revenue, *payout, *buffer), "{buyer:?} {publisher:?}");
        assert_eq!(r.currency, "USD");
        assert_eq!(r.duplicate_window_secs, base.duplicate_window_secs, "the duplicate window is the campaign's");
    }
}

#[test]
fn buyer_buffer_override_moves_the_edge() {
    let r = RuleSet { campaign: campaign(), buyer: Some((None, Some(30))), publisher_payout: None }.resolve();
    assert!(!compute(&r, &facts(29)).qualified);
    assert!(compute(&r, &facts(30)).qualified);
    assert!(compute(&r, &facts(31)).qualified);
}

/// Every writer upserts rollup rows in one global order (so concurrent settlements cannot
/// deadlock on PostgreSQL), and a change that cancels out at a level writes nothing there.
#[test]
fn rollup_rows_come_in_one_order_without_empty_rows() {
    use rollup::{Delta, Key, Sums};
    let key = |publisher_id, buyer_id| Key { hour: 3600, campaign_id: 1, publisher_id, buyer_id, number_id: 7 };
    let one = Sums { calls: 1, answered: 1, talk_secs: 95, ..Default::default() };
    let a = rollup::expand(&[(key(2, 1), one)]);
    let b = rollup::expand(&[(key(1, 3), one), (key(2, 1), Sums::default())]);
    for rows in [&a, &b] {
        assert!(rows.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)), "sorted by (level, key)");
    }
    // Moving a call from buyer 1 to buyer 3: campaign- and publisher-only rows do not change.
    let mut delta = Delta::default();
    delta.replace(Some(&(key(2, 1), one)), Some(&(key(2, 3), one)));
    let moved = rollup::expand(&delta.0);
    assert!(moved.iter().all(|(level, _, _)| level & rollup::BUYER != 0), "{moved:?}");
    assert!(moved.iter().all(|(_, _, s)| *s != Sums::default()));
}

/// Inside `Db::write` the rollup upsert is held back to just before the commit (the shared hour
/// rows stay locked as briefly as possible), merged with the transaction's other changes, and
/// dropped with a rollback.
#[test]
fn rollup_writes_wait_for_the_commit() {
    use crate::db::{Db, PoolOptions};
    use crate::error::Error;
    use diesel::prelude::*;
    use rollup::{Delta, Key, Sums};
    let dir = std::env::temp_dir().join(format!("cb-rollup-{}-{}", std::process::id(), crate::auth::random_token(8)));
    let db = Db::connect(&format!("sqlite://{}", dir.join("t.db").display()), &PoolOptions::default()).expect("connect");
    db.migrate().expect("migrate");
    let rows =
        |c: &mut crate::db::DbConnection| -> Result<i64, Error> { Ok(crate::db::schema::call_rollups::table.count().get_result(c)?) };
    let key = Key { hour: 3600, campaign_id: 1, publisher_id: 2, buyer_id: 3, number_id: 4 };
    let one = Sums { calls: 1, ..Default::default() };
    let seen_inside = db
        .write_blocking(|c| {
            let mut d = Delta::default();
            d.add(key, one);
            d.write(c)?;
            let mut d = Delta::default();
            d.add(key, one);
            d.write(c)?;
            rows(c)
        })
        .expect("write");
    assert_eq!(seen_inside, 0, "held back until the commit");
    let calls: i64 = db
        .read_blocking(|c| {
            Ok(crate::db::schema::call_rollups::table
                .filter(crate::db::schema::call_rollups::level.eq(0))
                .select(crate::db::schema::call_rollups::calls)
                .first(c)?)
        })
        .expect("read");
    assert_eq!(calls, 2, "both changes written, merged");
    let before = db.read_blocking(rows).expect("count");
    let failed: Result<(), Error> = db.write_blocking(|c| {
        let mut d = Delta::default();
        d.add(Key { hour: 7200, ..key }, one);
        d.write(c)?;
        Err(Error::bad_request("rolled back"))
    });
    assert!(failed.is_err());
    assert_eq!(db.read_blocking(rows).expect("count"), before, "a rolled-back change writes nothing");
    let _ = std::fs::remove_dir_all(dir);
}

/// The upsert binds its values: one statement per number of rows, each prepared once, a long
/// list written `UPSERT_ROWS` rows at a time, and a key met again gets its sums added.
#[test]
fn rollup_upsert_binds_its_values_and_adds_up() {
    use crate::db::schema::call_rollups as r;
    use crate::db::DbConnection;
    use diesel::prelude::*;
    use diesel_migrations::MigrationHarness;
    use rollup::{Key, Sums};
    let dir = tempfile::tempdir().expect("dir");
    let mut conn = DbConnection::Sqlite(diesel::SqliteConnection::establish(&dir.path().join("t.db").to_string_lossy()).expect("sqlite"));
    conn.run_pending_migrations(crate::db::SQLITE_MIGRATIONS).expect("migrate");
    let (mut c, prepared) = crate::db::testing::with_table(conn, "");
    let rows = |n: i64| -> Vec<(i64, Key, Sums)> {
        (0..n)
            .map(|i| {
                (
                    1,
                    Key { hour: 3600, campaign_id: i + 1, ..Default::default() },
                    Sums { calls: 1, talk_secs: i, revenue_micros: 5, ..Default::default() },
                )
            })
            .collect()
    };
    rollup::upsert(&mut c, &rows(2)).expect("two rows");
    rollup::upsert(&mut c, &rows(2)).expect("the same two again");
    rollup::upsert(&mut c, &rows(2 * rollup::UPSERT_ROWS as i64 + 5)).expect("a long list");
    let stored: Vec<(i64, i64, i64, i64)> =
        r::table.order(r::campaign_id).select((r::campaign_id, r::calls, r::talk_secs, r::revenue_micros)).load(&mut c).expect("rows");
    assert_eq!(stored.len(), 2 * rollup::UPSERT_ROWS + 5, "every row of the long list");
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
