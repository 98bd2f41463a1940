//! Money rules table tests: buffer edges, duplicates, override precedence.
use super::*;
use crate::domain::states::QualifyReason;

fn campaign() -> Rules {
    Rules { currency: "USD".into(), revenue_micros: 25_000_000, payout_micros: 10_000_000, buffer_secs: 90, duplicate_window_secs: 86_400 }
}

fn facts(talk: i32) -> Facts {
    Facts { blocked: false, no_buyer: false, connected: true, talk_secs: talk, duplicate: false, cost_micros: None }
}

#[test]
fn buffer_edges() {
    // (talk seconds, qualified, reason, revenue, payout)
    let table: &[(i32, bool, QualifyReason, i64, i64)] = &[
        (0, false, QualifyReason::Short, 0, 0),
        (89, false, QualifyReason::Short, 0, 0),
        (90, true, QualifyReason::Qualified, 25_000_000, 10_000_000),
        (91, true, QualifyReason::Qualified, 25_000_000, 10_000_000),
        (3600, true, QualifyReason::Qualified, 25_000_000, 10_000_000),
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
    let table: Vec<(Facts, QualifyReason)> = vec![
        (Facts { blocked: true, connected: false, duplicate: true, ..facts(0) }, QualifyReason::Blocked),
        (Facts { no_buyer: true, connected: false, duplicate: true, ..facts(0) }, QualifyReason::NoBuyer),
        (Facts { connected: false, duplicate: true, ..facts(500) }, QualifyReason::NotConnected),
        (Facts { duplicate: true, ..facts(500) }, QualifyReason::Duplicate),
        (Facts { duplicate: true, ..facts(10) }, QualifyReason::Duplicate),
        (facts(10), QualifyReason::Short),
        (facts(500), QualifyReason::Qualified),
    ];
    for (f, why) in table {
        let s = compute(&campaign(), &f);
        assert_eq!(s.reason, why, "{f:?}");
        assert_eq!(s.qualified, why == QualifyReason::Qualified);
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
    // (buyer override (price, buffer), publisher payout override) → (revenue, payout, buffer)
    type Row = (Option<(Option<i64>, Option<i32>)>, Option<i64>, (i64, i64, i32));
    let base = campaign();
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

fn at(secs: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_780_000_000 + secs, 0).map(|d| d.naive_utc()).unwrap_or_default()
}

#[test]
fn talk_time_starts_at_the_acceptance() {
    // (duration, answered at, ended at, accepted at) → talk seconds
    type Row = (Option<i32>, Option<i64>, Option<i64>, Option<i64>, Option<i32>);
    let table: &[Row] = &[
        // Without acceptance: the leg's length, whatever the times.
        (Some(95), Some(0), Some(95), None, Some(95)),
        (Some(95), None, None, None, Some(95)),
        (None, Some(0), None, None, None),
        // Accepted 20 s after the answer: 20 s of whisper and waiting are not talk.
        (Some(120), Some(0), Some(120), Some(20), Some(100)),
        (Some(120), Some(0), None, Some(20), Some(100)),
        // Placed by the end when the answer's callback never came.
        (Some(120), None, Some(120), Some(20), Some(100)),
        // Accepted at once, or reported before the answer (clocks differ): the whole leg.
        (Some(120), Some(0), Some(120), Some(0), Some(120)),
        (Some(120), Some(5), Some(125), Some(3), Some(120)),
        // Accepted as the leg ended, or after (a late report): no talk.
        (Some(120), Some(0), Some(120), Some(120), Some(0)),
        (Some(120), Some(0), Some(120), Some(500), Some(0)),
        (Some(120), None, Some(120), Some(500), Some(0)),
        // Nothing to place it by: the whole leg; a length still unknown: unknown.
        (Some(120), None, None, Some(20), Some(120)),
        (None, Some(0), Some(120), Some(20), None),
        // A negative length reads as none.
        (Some(-5), Some(0), Some(0), Some(0), Some(0)),
    ];
    for &(duration, answered, ended, accepted, talk) in table {
        assert_eq!(
            talk_secs(duration, answered.map(at), ended.map(at), accepted.map(at)),
            talk,
            "{duration:?} {answered:?} {ended:?} {accepted:?}"
        );
    }
}

#[test]
fn the_buffer_counts_from_the_acceptance() {
    // 100 s of leg with 20 s of whisper: 80 s of talk, short of a 90 s buffer.
    let talk = talk_secs(Some(100), Some(at(0)), Some(at(100)), Some(at(20))).unwrap_or(0);
    assert_eq!(compute(&campaign(), &facts(talk)).reason, QualifyReason::Short);
    let talk = talk_secs(Some(110), Some(at(0)), Some(at(110)), Some(at(20))).unwrap_or(0);
    assert!(compute(&campaign(), &facts(talk)).qualified);
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

#[test]
fn a_bid_sets_the_revenue_its_buffer_and_a_share_as_payout() {
    let base =
        Rules { currency: "USD".into(), revenue_micros: 10_000_000, payout_micros: 4_000_000, buffer_secs: 30, duplicate_window_secs: 0 };
    let mut r = base.clone();
    apply_bid(&mut r, Some(20_000_000), Some(60), Some(40));
    assert_eq!((r.revenue_micros, r.buffer_secs, r.payout_micros), (20_000_000, 60, 8_000_000));
    // No minimum duration named: the campaign's buffer; no share: the fixed payout.
    let mut r = base.clone();
    apply_bid(&mut r, Some(20_000_000), None, None);
    assert_eq!((r.revenue_micros, r.buffer_secs, r.payout_micros), (20_000_000, 30, 4_000_000));
    // Not a bid: nothing changes.
    let mut r = base.clone();
    apply_bid(&mut r, None, Some(60), Some(40));
    assert_eq!(r, base);
}
