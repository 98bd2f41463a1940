//! Scale-out: two server processes on one PostgreSQL database, calls at 128 in flight, each call's
//! webhooks spread over both instances (as behind a load balancer), more calls in flight than the
//! buyers can take. No buyer is ever over its maximum (replayed from the database's own record of
//! claims and releases), no call is lost, every slot is given back.
//!
//! 1,000 calls here; `make scale-out` runs 10,000 (`CALLBROKER_SCALE_CALLS`,
//! `CALLBROKER_SCALE_CONCURRENCY`).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use callbroker_tests::load::{self, Call, Counters};
use callbroker_tests::report::Tally;
use callbroker_tests::{dbcheck, Backend, TestApp, TestDb};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_one_postgres_under_load() {
    let calls = setting("CALLBROKER_SCALE_CALLS", 1_000);
    let concurrency = setting("CALLBROKER_SCALE_CONCURRENCY", 128);
    let db = TestDb::create(Backend::Postgres);
    let env = [("CALLBROKER_DB_MAX_CONNECTIONS", "16".to_string())];
    let a = Arc::new(TestApp::start_process(db, &env).await);
    let b = Arc::new(TestApp::start_process(TestDb::reuse(&a.db), &env).await);
    // 8 buyers of 6 slots: 48 slots for 128 calls in flight, so slots are fought over.
    let buyers = load::setup(&a, 8, 6).await;
    let counters = Arc::new(Counters::default());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (a, b, counters, next) = (a.clone(), b.clone(), counters.clone(), next.clone());
            tokio::spawn(async move {
                let mut played = vec![];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        return played;
                    }
                    let mut call = Call::new("SCALE", i);
                    call.play_across(&[&a, &b], &counters, Duration::ZERO).await.unwrap_or_else(|e| panic!("{}: {e:?}", call.sid));
                    played.push(call);
                }
            })
        })
        .collect();
    let mut played = vec![];
    for w in workers {
        played.extend(w.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    let dialled = played.iter().filter(|c| c.leg.is_some()).count();

    let stored = dbcheck::call_sids(&a.db.url);
    let lost = played.iter().filter(|c| !stored.contains(&c.sid)).count() + (calls - played.len());
    let by_status = dbcheck::calls_by_status(&a.db.url);
    let peaks = dbcheck::peak_load(&a.db.url);
    let overruns = peaks.iter().filter(|(_, max, peak)| *peak > i64::from(*max)).count();
    let slots = dbcheck::slots_vs_open_legs(&a.db.url);
    #[allow(clippy::cast_precision_loss, reason = "a rate for the log; a few thousand calls")]
    let rate = calls as f64 / elapsed.as_secs_f64();
    eprintln!(
        "{calls} calls at {concurrency} in flight over 2 instances in {elapsed:.1?} ({rate:.0} calls/s): {dialled} dialled a buyer, \
         the rest heard the busy message; calls by status {by_status:?}; peak calls per buyer (buyer, max, peak) {peaks:?}"
    );
    let mut tally = Tally::new(format!("scale-out: 2 instances, {calls} calls at {concurrency}"));
    tally.requests = a.requests() + b.requests();
    let server_errors = counters.server_errors();
    tally.server_errors = server_errors;
    tally.data_lost = lost as u64;
    tally.capacity_overruns = overruns as u64;
    tally.check(played.len() == calls, format_args!("{} of {calls} calls played", played.len()));
    for call in &played {
        tally.check(stored.contains(&call.sid), format_args!("{} missing from the database ({lost} lost)", call.sid));
    }
    let completed = by_status.get("completed").copied().unwrap_or(0);
    tally.check(i64::try_from(calls) == Ok(completed), format_args!("every call completed: {by_status:?}"));
    tally.check(peaks.len() == buyers.len(), format_args!("every buyer took calls: {peaks:?}"));
    for (buyer, max, peak) in &peaks {
        tally.check(*peak <= i64::from(*max), format_args!("buyer {buyer} went over its maximum: {peaks:?}"));
        tally.check(*peak == i64::from(*max), format_args!("slots were fought over (buyer {buyer} full at some point): {peaks:?}"));
    }
    for (buyer, (n, open)) in &slots {
        tally.check(*n == 0 && *open == 0, format_args!("buyer {buyer}: every slot given back: {slots:?}"));
    }
    tally.check(dialled > 0 && dialled < calls, format_args!("some calls dialled, some found every buyer busy ({dialled})"));
    tally.check(server_errors == 0, format_args!("{server_errors} answers were 5xx"));
    tally.save();
}
