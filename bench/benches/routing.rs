//! Times `routing::route` on 10, 1,000 and 10,000 candidates.
//!
//! The mix is made deterministically: buyers in eight time zones, most with
//! business-hours or overnight schedules (so some are closed at the routing
//! instant), some full, some capped, some inactive, some with state lists,
//! four priority levels and varied weights and volumes.
//!
//!     make bench-routing

use std::hint::black_box;

use callbroker::routing::{route, CallInfo, Candidate, Caps, ClockTime, Day, PeriodCounts, WeeklySchedule, Window};
use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Tz;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const ZONES: [Tz; 8] = [
    chrono_tz::America::New_York,
    chrono_tz::America::Chicago,
    chrono_tz::America::Denver,
    chrono_tz::America::Los_Angeles,
    chrono_tz::America::Phoenix,
    chrono_tz::Pacific::Honolulu,
    chrono_tz::Europe::London,
    chrono_tz::UTC,
];
const STATES: [&str; 8] = ["NJ", "NY", "PA", "CA", "TX", "FL", "IL", "OH"];

/// A small deterministic generator (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u32) -> u32 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % u64::from(below)) as u32
    }
}

fn time(h: u32, m: u32) -> ClockTime {
    u16::try_from(h).ok().zip(u16::try_from(m).ok()).and_then(|(h, m)| ClockTime::new(h, m)).unwrap_or(ClockTime::MIDNIGHT)
}

fn schedule(rng: &mut Lcg) -> WeeklySchedule {
    let windows = match rng.next(10) {
        // always open
        0..=2 => vec![],
        // weekdays, business hours of varying length
        3..=7 => {
            let start = 7 + rng.next(3);
            let end = 16 + rng.next(5);
            Day::ALL[..5].iter().map(|&d| Window::new(d, time(start, 0), time(end, 30))).collect()
        }
        // overnight shifts every day
        8 => Day::ALL.iter().map(|&d| Window::new(d, time(22, 0), time(6, 0))).collect(),
        // weekend only, split day
        _ => [Day::Sat, Day::Sun]
            .iter()
            .flat_map(|&d| [Window::new(d, time(9, 0), time(12, 0)), Window::new(d, time(13, 0), time(24, 0))])
            .collect(),
    };
    WeeklySchedule { windows }
}

fn states(rng: &mut Lcg, odds: u32) -> Vec<String> {
    if rng.next(odds) != 0 {
        return vec![];
    }
    (0..=rng.next(4)).map(|_| STATES[rng.next(8) as usize].to_string()).collect()
}

fn candidates(n: usize) -> Vec<Candidate> {
    let mut rng = Lcg(n as u64 * 7919 + 1);
    let now = Utc.with_ymd_and_hms(2026, 6, 10, 15, 0, 0).single();
    (0..n)
        .map(|i| {
            let max_concurrent = 1 + rng.next(5);
            let cap = |rng: &mut Lcg, odds: u32, size: u32| (rng.next(odds) == 0).then(|| size + rng.next(size));
            Candidate {
                buyer_id: 10_000 + i64::try_from(i).expect("a few thousand buyers"),
                name: format!("Buyer {i:05}"),
                active: rng.next(20) != 0,
                priority: i32::try_from(rng.next(4)).expect("below 4"),
                weight: 1 + rng.next(5),
                max_concurrent,
                // about one in six full
                in_progress: if rng.next(6) == 0 { max_concurrent } else { rng.next(max_concurrent) },
                caps: Caps { hourly: cap(&mut rng, 4, 10), daily: cap(&mut rng, 3, 50), monthly: cap(&mut rng, 5, 1000) },
                counts: PeriodCounts { hour: rng.next(15), day: rng.next(80), month: rng.next(1200) },
                timezone: ZONES[rng.next(u32::try_from(ZONES.len()).expect("a few zones")) as usize],
                schedule: schedule(&mut rng),
                allowed_states: states(&mut rng, 6),
                denied_states: states(&mut rng, 8),
                sticky_repeat_callers: rng.next(3) == 0,
                recent_calls: rng.next(200),
                last_call_at: now.map(|t| t - Duration::seconds(i64::from(rng.next(86_400)))),
                tag_rules: std::sync::Arc::from([]),
                labels: std::sync::Arc::from([]),
                price_micros: 0,
                earnings: Default::default(),
            }
        })
        .collect()
}

fn bench_route(c: &mut Criterion) {
    let Some(now) = Utc.with_ymd_and_hms(2026, 6, 10, 15, 0, 0).single() else {
        return;
    };
    let call = CallInfo {
        caller: "+12015550123".into(),
        dialled: "+17175550100".into(),
        from_state: None,
        now,
        campaign_active: true,
        repeat_buyer: Some(10_003),
        exclude: vec![10_001],
        tags: Default::default(),
        only_buyer: None,
        only_label: None,
        policy: Default::default(),
        explore_draw: 0,
    };
    let mut group = c.benchmark_group("route");
    for n in [10usize, 1_000, 10_000] {
        let cands = candidates(n);
        let d = route(&call, &cands);
        println!("{n} candidates: {} eligible", d.ranked.len());
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &cands, |b, cands| b.iter(|| route(black_box(&call), black_box(cands))));
    }
    group.finish();
}

criterion_group!(benches, bench_route);
criterion_main!(benches);
