//! Crash safety: the real server binary is killed (SIGKILL) in the middle of a load of calls and
//! started again on the same database. Every call whose voice webhook got its TwiML is in the
//! database; calls caught mid-way complete normally when their callbacks (Twilio retries) reach
//! the new process; slots whose callbacks never come are given back by the reaper, so no buyer
//! slot stays taken; no buyer ever had more calls than its maximum.
use std::sync::Arc;
use std::time::{Duration, Instant};

use callbroker_tests::load::{self, Call, Counters, Stop};
use callbroker_tests::report::Tally;
use callbroker_tests::{both_backends, dbcheck, Backend, TestApp, TestDb};
use tokio::sync::Mutex;

const WORKERS: usize = 48;
const BUYERS: usize = 4;
const CAPACITY: usize = 16;

/// A leg expires 4 + 4 + 0 s after it is reserved; the reaper looks every second.
fn env() -> Vec<(&'static str, String)> {
    vec![
        ("CALLBROKER_ROUTING_REAPER_INTERVAL_SECS", "1".into()),
        ("CALLBROKER_ROUTING_DIAL_TIMEOUT_SECS", "4".into()),
        ("CALLBROKER_ROUTING_TIME_LIMIT_SECS", "4".into()),
        ("CALLBROKER_ROUTING_REAPER_MARGIN_SECS", "0".into()),
    ]
}

both_backends!(worker_threads = 4; backend: kill_9_mid_load);

async fn kill_9_mid_load(backend: Backend) {
    let mut tally = Tally::new(format!("crash: kill -9 mid-load ({backend:?})"));
    let db = TestDb::create(backend);
    let first = Arc::new(TestApp::start_process(db, &env()).await);
    let buyers = load::setup(&first, BUYERS, CAPACITY).await;
    let counters = Arc::new(Counters::default());
    let calls = Arc::new(Mutex::new(Vec::<Call>::new()));

    // Workers play calls with short pauses, so many are mid-way at any moment, until the server
    // stops answering.
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (app, counters, calls) = (first.clone(), counters.clone(), calls.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let mut call = Call::new("CRASH", w * 100_000 + n);
                    let result = call.play(&app, &counters, Duration::from_millis(15)).await;
                    calls.lock().await.push(call);
                    match result {
                        Ok(()) => {}
                        Err(Stop::Unreachable(_)) => return,
                        Err(Stop::Refused(a)) => panic!("refused before the crash: {a:?}"),
                    }
                }
            })
        })
        .collect();
    // Kill once a few hundred calls went through, in the middle of the rest.
    let deadline = Instant::now() + Duration::from_secs(60);
    while calls.lock().await.len() < 300 {
        assert!(Instant::now() < deadline, "load too slow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.stop();
    tally.faults += 1;
    let killed_at = Instant::now();
    for w in workers {
        w.await.expect("worker");
    }
    let mut calls = std::mem::take(&mut *calls.lock().await);
    let acknowledged: Vec<String> = calls.iter().filter(|c| c.acknowledged()).map(|c| c.sid.clone()).collect();
    let interrupted = calls.iter().filter(|c| c.acknowledged() && !c.finished()).count();
    assert!(interrupted >= 10, "the kill should catch calls mid-way ({interrupted})");

    let second = TestApp::start_process(TestDb::reuse(&first.db), &env()).await;

    // 1. Every acknowledged call is in the database.
    let stored = dbcheck::call_sids(&second.db.url);
    let lost: Vec<&String> = acknowledged.iter().filter(|sid| !stored.contains(*sid)).collect();
    tally.data_lost = lost.len() as u64;
    for sid in &acknowledged {
        tally.check(stored.contains(sid), format_args!("{sid} was acknowledged, then missing after the crash (all lost: {lost:?})"));
    }

    // 2. Half of the interrupted calls get their callbacks after the restart (Twilio retries the
    // unanswered one): they complete normally. The other half are abandoned.
    let mut resumed = vec![];
    for (n, call) in calls.iter_mut().filter(|c| c.acknowledged() && !c.finished()).enumerate() {
        if n % 2 == 0 {
            let played = call.play(&second, &counters, Duration::ZERO).await;
            tally.check(played.is_ok(), format_args!("{} after the restart: {played:?}", call.sid));
            resumed.push(call.sid.clone());
        }
    }
    for sid in &resumed {
        let (status, released) = dbcheck::call_state(&second.db.url, sid);
        tally.check(status == "completed", format_args!("{sid} completes after the restart: {status}"));
        tally.check(released, format_args!("{sid}: its leg is released"));
    }

    // 3. After the legs' expiry and a reaper pass, no slot stays taken: buyer_load agrees with
    // the open legs at every look, and both reach zero.
    let until = killed_at + Duration::from_secs(20);
    let slots = loop {
        let slots = dbcheck::slots_vs_open_legs(&second.db.url);
        for (buyer, (in_progress, open)) in &slots {
            tally.check(
                i64::from(*in_progress) == *open,
                format_args!("buyer {buyer}: buyer_load.in_progress {in_progress} vs {open} open legs"),
            );
        }
        if slots.values().all(|(n, open)| *n == 0 && *open == 0) || Instant::now() > until {
            break slots;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    for buyer in &buyers {
        let (in_progress, open) = slots.get(buyer).copied().unwrap_or_default();
        tally.check(in_progress == 0 && open == 0, format_args!("buyer {buyer}: slots still taken 20 s after the crash: {slots:?}"));
    }

    // 4. Nobody was ever over capacity, and the restarted server routes new calls.
    let peaks = dbcheck::peak_load(&second.db.url);
    tally.capacity_overruns = peaks.iter().filter(|(_, max, peak)| *peak > i64::from(*max)).count() as u64;
    for (buyer, max, peak) in &peaks {
        tally.check(*peak <= i64::from(*max), format_args!("buyer {buyer} had {peak} calls, over its maximum {max}"));
    }
    let mut fresh = Call::new("AFTER", 1);
    let played = fresh.play(&second, &counters, Duration::ZERO).await;
    tally.check(played.is_ok(), format_args!("a call after the restart: {played:?}"));
    tally.check(fresh.leg.is_some(), format_args!("a call after the restart dials a buyer"));
    tally.requests = first.requests() + second.requests();
    let server_errors = counters.server_errors();
    tally.server_errors = server_errors;
    tally.check(server_errors == 0, format_args!("{server_errors} answers were 5xx"));
    tally.save();
    eprintln!(
        "{backend:?}: {} calls, {} acknowledged, {interrupted} interrupted, {} resumed; peaks {peaks:?}",
        calls.len(),
        acknowledged.len(),
        resumed.len()
    );
}
