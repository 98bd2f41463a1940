//! Ordering a priority tier by money: `revenue` (the highest price per qualified call first) and
//! `epc` (the highest earnings per call over a window first, with an exploration share for the
//! buyers not yet measured). Both start from the tier's weighted order and sort it stably, so
//! equal figures keep the even distribution by weight.
//!
//! Pure: the prices, the measured earnings and the per-call exploration draw are inputs.

use std::cmp::Reverse;
use std::collections::HashMap;

use callbroker_wire::routing::{MoneyFigures, RoutingMode, RoutingPolicy};

use super::distribution::Share;
use super::engine::Candidate;

/// Reorders each tier of `eligible` (already by priority, then by weight) whose mode is
/// `revenue` or `epc`; returns the figures each of their buyers was ordered by, by candidate
/// index.
pub(crate) fn order_tiers(
    eligible: &mut [Share],
    candidates: &[Candidate],
    policy: &RoutingPolicy,
    explore_draw: u8,
) -> HashMap<usize, MoneyFigures> {
    let mut figures = HashMap::new();
    for tier in eligible.chunk_by_mut(|a, b| a.priority == b.priority) {
        let mode = policy.mode_of(tier[0].priority);
        match mode {
            RoutingMode::Weighted => {}
            RoutingMode::Revenue => {
                tier.sort_by_key(|s| Reverse(candidates[s.index].price_micros));
                for s in tier.iter() {
                    let c = &candidates[s.index];
                    figures.insert(
                        s.index,
                        MoneyFigures {
                            mode,
                            price_micros: c.price_micros,
                            epc_calls: None,
                            epc_revenue_micros: None,
                            epc_micros: None,
                            explored: false,
                        },
                    );
                }
            }
            RoutingMode::Epc => {
                let min_calls = i64::from(policy.exploration_calls.max(0));
                let measured = |c: &Candidate| c.earnings.calls >= min_calls && c.earnings.calls > 0;
                let epc = |c: &Candidate| if measured(c) { Some(c.earnings.revenue_micros / c.earnings.calls) } else { None };
                let learning = tier.iter().any(|s| !measured(&candidates[s.index]));
                let explore = learning && i32::from(explore_draw) < policy.exploration_percent;
                // Exploring: the buyers still being measured first (by weight among them), then
                // the measured by earnings per call. Otherwise the measured first.
                tier.sort_by_key(|s| {
                    let c = &candidates[s.index];
                    (measured(c) == explore, Reverse(epc(c).unwrap_or(i64::MIN)))
                });
                for s in tier.iter() {
                    let c = &candidates[s.index];
                    figures.insert(
                        s.index,
                        MoneyFigures {
                            mode,
                            price_micros: c.price_micros,
                            epc_calls: Some(c.earnings.calls),
                            epc_revenue_micros: Some(c.earnings.revenue_micros),
                            epc_micros: epc(c),
                            explored: explore && !measured(c),
                        },
                    );
                }
            }
        }
    }
    figures
}

/// The exploration draw of a call: its `CallSid` hashed (FNV-1a) to 0..=99, spread evenly over
/// calls and the same for every retry of one call.
pub fn explore_draw(call_sid: &str) -> u8 {
    let hash = call_sid.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    u8::try_from(hash % 100).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use callbroker_wire::routing::{Reason, TierMode};
    use proptest::prelude::*;

    use super::super::engine::{route, Earnings};
    use super::super::tests::{buyer, call};
    use super::*;

    fn policy(mode: RoutingMode) -> Arc<RoutingPolicy> {
        Arc::new(RoutingPolicy { mode, exploration_calls: 10, exploration_percent: 20, ..RoutingPolicy::default() })
    }

    fn priced(id: i64, price: i64, calls: i64, revenue: i64) -> Candidate {
        Candidate { price_micros: price, earnings: Earnings { calls, revenue_micros: revenue }, ..buyer(id) }
    }

    #[test]
    fn revenue_tiers_take_the_highest_price_first_and_ties_by_weight() {
        let cands = [priced(1, 20, 0, 0), priced(2, 45, 0, 0), priced(3, 45, 0, 0), priced(4, 30, 0, 0)];
        let mut c = call();
        c.policy = policy(RoutingMode::Revenue);
        let d = route(&c, &cands);
        assert_eq!(d.ranked[0..2].iter().copied().collect::<std::collections::HashSet<_>>(), [2, 3].into());
        assert_eq!(&d.ranked[2..], &[4, 1]);
        assert_eq!(d.verdicts[1].figures.map(|f| (f.mode, f.price_micros)), Some((RoutingMode::Revenue, 45)));
        // Equal prices keep the weighted order: the one with fewer calls today first.
        let mut busier = cands.clone();
        busier[1].recent_calls = 5;
        assert_eq!(route(&c, &busier).ranked[0..2], [3, 2]);
        // Priority still comes first: a dearer buyer of a lower tier waits.
        let mut lower = cands.clone();
        lower[1].priority = -1;
        assert_eq!(route(&c, &lower).ranked.last(), Some(&2));
        // Weighted campaigns show no money figures.
        assert!(route(&call(), &cands).verdicts.iter().all(|v| v.figures.is_none()));
    }

    #[test]
    fn epc_tiers_rank_measured_buyers_and_explore_the_new_ones() {
        // 1: $5/call over 20 calls; 2: $9/call over 10; 3: new (2 calls), 4: never called.
        let cands = [priced(1, 50, 20, 100), priced(2, 10, 10, 90), priced(3, 99, 2, 80), priced(4, 99, 0, 0)];
        let mut c = call();
        c.policy = policy(RoutingMode::Epc);
        c.explore_draw = 50; // above the 20% share: measured buyers first
        let d = route(&c, &cands);
        assert_eq!(d.ranked[0..2], [2, 1]);
        let f = d.verdicts[1].figures.expect("figures");
        assert_eq!((f.epc_micros, f.epc_calls, f.explored), (Some(9), Some(10), false));
        assert_eq!(d.verdicts[3].figures.and_then(|f| f.epc_micros), None, "not measured yet");
        c.explore_draw = 3; // within the share: the buyers being measured first
        let d = route(&c, &cands);
        assert_eq!(d.ranked[2..], [2, 1]);
        assert!(d.verdicts[2].figures.is_some_and(|f| f.explored));
        assert!(d.verdicts[0].figures.is_some_and(|f| !f.explored));
        // A tier of its own: priority 5 by revenue, the rest by weight.
        let mut mixed = cands.clone();
        mixed[0].priority = 5;
        mixed[1].priority = 5;
        c.policy =
            Arc::new(RoutingPolicy { tiers: vec![TierMode { priority: 5, mode: RoutingMode::Revenue }], ..RoutingPolicy::default() });
        let d = route(&c, &mixed);
        assert_eq!(d.ranked[0..2], [1, 2], "the dearer first in the revenue tier");
        assert!(d.verdicts[2].figures.is_none(), "the weighted tier shows none");
        assert!(matches!(d.verdicts[0].reason, Reason::Selected { rank: 1, .. }));
    }

    #[test]
    fn the_draw_is_stable_and_spread() {
        assert_eq!(explore_draw("CA0001"), explore_draw("CA0001"));
        let mut counts = [0u32; 10];
        for i in 0..10_000 {
            counts[usize::from(explore_draw(&format!("CA{i:032x}")) / 10)] += 1;
        }
        assert!(counts.iter().all(|&n| (850..=1150).contains(&n)), "{counts:?}");
    }

    proptest! {
        /// In an `epc` tier that is not exploring, a measured buyer with a higher EPC never
        /// ranks after a lower one, and the tier holds the same buyers as the weighted order.
        #[test]
        fn epc_order_is_by_earnings(figs in proptest::collection::vec((0i64..40, 0i64..4_000), 1..12), draw in 0u8..100) {
            let cands: Vec<Candidate> = figs.iter().enumerate().map(|(i, &(calls, rev))| priced(i64::try_from(i).unwrap_or(0) + 1, 10, calls, rev)).collect();
            let mut c = call();
            c.policy = policy(RoutingMode::Epc);
            c.explore_draw = draw;
            let d = route(&c, &cands);
            let weighted = route(&call(), &cands);
            let mut a = d.ranked.clone();
            let mut b = weighted.ranked.clone();
            a.sort_unstable();
            b.sort_unstable();
            prop_assert_eq!(a, b);
            let epc_of = |id: i64| d.verdicts.iter().find(|v| v.buyer_id == id).and_then(|v| v.figures).and_then(|f| f.epc_micros);
            let measured: Vec<i64> = d.ranked.iter().filter_map(|&id| epc_of(id)).collect();
            prop_assert!(measured.windows(2).all(|w| w[0] >= w[1]), "{:?}", measured);
        }
    }
}
