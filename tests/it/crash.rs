//! Crash safety: the real server binary is killed (SIGKILL) in the middle of a load of calls and
//! started again on the same database. Every call whose voice webhook got its TwiML is in the
//! database; calls caught mid-way complete normally when their callbacks (Twilio retries) reach
//! the new process; slots whose callbacks never come are given back by the reaper, so no buyer
//! slot stays taken; no buyer ever had more calls than its maximum.
use std::sync::Arc;
use std::time::{Duration, Instant};

use callbroker_tests::load::{self, Call, Counters, Stop};
use callbroker_tests::report::Tally;
use callbroker_tests::{dbcheck, Backend, TestApp, TestDb};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_load_on_sqlite() {
    kill_9_mid_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_load_on_postgres() {
    kill_9_mid_load(Backend::Postgres).await;
}

async fn kill_9_mid_load(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
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
    let killed_at = Instant::now();
    for w in workers {
        w.await.expect("worker");
    }
    let mut calls = std::mem::take(&mut *calls.lock().await);
    let acknowledged: Vec<String> = calls.iter().filter(|c| c.acknowledged()).map(|c| c.sid.clone()).collect();
    let interrupted = calls.iter().filter(|c| c.acknowledged() && !c.finished()).count();
    assert!(interrupted >= 10, "the kill should catch calls mid-way ({interrupted})");

    let second = TestApp::start_process(TestDb::reuse(&first.db), &env()).await;
    let mut tally = Tally::new(format!("crash: kill -9 mid-load ({backend:?})"));
    tally.faults = 1;

    // 1. Every acknowledged call is in the database.
    let stored = dbcheck::call_sids(&second.db.url);
    let lost: Vec<&String> = acknowledged.iter().filter(|sid| !stored.contains(*sid)).collect();
    tally.data_lost = lost.len() as u64;
    tally.checks += acknowledged.len() as u64;

    // 2. Half of the interrupted calls get their callbacks after the restart (Twilio retries the
    // unanswered one): they complete normally. The other half are abandoned.
    let mut resumed = vec![];
    for (n, call) in calls.iter_mut().filter(|c| c.acknowledged() && !c.finished()).enumerate() {
        if n % 2 == 0 {
            call.play(&second, &counters, Duration::ZERO).await.unwrap_or_else(|e| panic!("{} after restart: {e:?}", call.sid));
            resumed.push(call.sid.clone());
        }
    }
    for sid in &resumed {
        let call = dbcheck::call_state(&second.db.url, sid);
        assert_eq!(call.0, "completed", "{sid} completes after the restart");
        assert!(call.1, "{sid}: its leg is released");
        tally.checks += 2;
    }

    // 3. After the legs' expiry and a reaper pass, no slot stays taken: buyer_load agrees with
    // the open legs, and both are zero.
    let until = killed_at + Duration::from_secs(20);
    let settled = loop {
        let slots = dbcheck::slots_vs_open_legs(&second.db.url);
        for (buyer, (in_progress, open)) in &slots {
            assert_eq!(i64::from(*in_progress), *open, "buyer {buyer}: buyer_load.in_progress vs open legs");
        }
        if slots.values().all(|(n, open)| *n == 0 && *open == 0) {
            break true;
        }
        if Instant::now() > until {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(settled, "slots still taken 20 s after the crash: {:?}", dbcheck::slots_vs_open_legs(&second.db.url));
    tally.checks += buyers.len() as u64;

    // 4. Nobody was ever over capacity, and the restarted server routes new calls.
    let peaks = dbcheck::peak_load(&second.db.url);
    tally.capacity_overruns = peaks.iter().filter(|(_, max, peak)| *peak > i64::from(*max)).count() as u64;
    tally.checks += peaks.len() as u64;
    let mut fresh = Call::new("AFTER", 1);
    fresh.play(&second, &counters, Duration::ZERO).await.expect("a call after the restart");
    assert!(fresh.leg.is_some(), "dialled a buyer");
    tally.requests = counters.requests();
    tally.server_errors = counters.server_errors();
    tally.save();
    eprintln!(
        "{backend:?}: {} calls, {} acknowledged, {interrupted} interrupted, {} resumed; peaks {peaks:?}",
        calls.len(),
        acknowledged.len(),
        resumed.len()
    );
    assert!(lost.is_empty(), "acknowledged calls missing after the crash: {lost:?}");
    assert_eq!(tally.capacity_overruns, 0, "{peaks:?}");
    assert_eq!(tally.server_errors, 0);
}
