//! Database faults: PostgreSQL "restarts" under load (a proxy between this server and the shared
//! cluster closes every connection and refuses new ones, then lets them through again). Meanwhile
//! requests fail fast with 503 (callers hear the busy message in TwiML; API clients get JSON), and
//! once the database is back the same process serves normally again, without a restart.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use callbroker_tests::load::{self, Call, Counters, Stop};
use callbroker_tests::pgproxy::PgProxy;
use callbroker_tests::report::Tally;
use callbroker_tests::{dbcheck, Backend, TestApp, TestDb};

const WORKERS: usize = 16;
/// Longest any request may take, database down or not.
const FAIL_FAST: Duration = Duration::from_secs(5);

/// What the load saw while the database was down.
#[derive(Default)]
struct Outage {
    twiml_busy: AtomicU64,
    api_unavailable: AtomicU64,
    other: AtomicU64,
    slowest_ms: AtomicU64,
    /// Fail-fast checks that held (a call and a read answered in time with the database down).
    fail_fast_checks: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restart_under_load() {
    let mut tally = Tally::new("database restart under load (Postgres)");
    let db = TestDb::create(Backend::Postgres);
    let proxy = PgProxy::start(&db.url).await;
    let through_proxy = proxy.url(&db.url);
    let app = Arc::new(TestApp::start(db, move |c| c.database_url = through_proxy).await);
    load::setup(&app, 4, 1000).await;
    let counters = Arc::new(Counters::default());
    let outage = Arc::new(Outage::default());
    let down = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (app, counters, outage, down, stop, acknowledged) =
                (app.clone(), counters.clone(), outage.clone(), down.clone(), stop.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    // Calls alternate with an API read, so both kinds of client meet the outage.
                    let started = Instant::now();
                    let mut call = Call::new("DBF", w * 100_000 + n);
                    let result = call.play(&app, &counters, Duration::ZERO).await;
                    let (status, body) = app.admin("GET", "/api/calls?per_page=5", None).await;
                    let elapsed = started.elapsed();
                    if call.acknowledged() {
                        acknowledged.lock().expect("lock").push(call.sid.clone());
                    }
                    let is_down = down.load(Ordering::SeqCst);
                    if is_down {
                        outage.slowest_ms.fetch_max(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
                    }
                    match result {
                        Ok(()) => {}
                        Err(Stop::Refused(a)) if a.status == 503 && a.is_twiml() && a.says("busy") => {
                            outage.twiml_busy.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(Stop::Refused(a)) if a.status == 503 && a.content_type.starts_with("application/json") => {
                            outage.api_unavailable.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            outage.other.fetch_add(1, Ordering::Relaxed);
                            eprintln!("unexpected answer (database down: {is_down}): {e:?}");
                        }
                    }
                    match status {
                        200 => {}
                        503 if body["code"] == "unavailable" => {
                            outage.api_unavailable.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            outage.other.fetch_add(1, Ordering::Relaxed);
                            eprintln!("unexpected API answer {status} {body}");
                        }
                    }
                    if is_down {
                        // Fail fast: each call step and the API read got their answer quickly.
                        assert!(call.slowest < FAIL_FAST, "a webhook took {:?} with the database down", call.slowest);
                        assert!(elapsed < FAIL_FAST * 3, "a call and a read took {elapsed:?} with the database down");
                        outage.fail_fast_checks.fetch_add(2, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    // Normal load, then the database goes away for 4 s, then comes back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = app.requests();
    down.store(true, Ordering::SeqCst);
    proxy.cut();
    tally.faults += 1;
    tokio::time::sleep(Duration::from_secs(4)).await;
    proxy.restore();
    let restored_at = Instant::now();
    down.store(false, Ordering::SeqCst);
    let during = app.requests() - before;

    // Recovery: a new call routes, in the same process.
    let recovered = loop {
        let mut probe = Call::new("PROBE", restored_at.elapsed().as_millis() as usize);
        if probe.play(&app, &counters, Duration::ZERO).await.is_ok() {
            break restored_at.elapsed();
        }
        assert!(restored_at.elapsed() < Duration::from_secs(15), "no recovery 15 s after the database came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Then a stretch of normal load with no errors at all.
    let errors_at_recovery =
        outage.other.load(Ordering::Relaxed) + outage.twiml_busy.load(Ordering::Relaxed) + outage.api_unavailable.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.expect("worker");
    }
    let errors_after =
        outage.other.load(Ordering::Relaxed) + outage.twiml_busy.load(Ordering::Relaxed) + outage.api_unavailable.load(Ordering::Relaxed);

    let busy = outage.twiml_busy.load(Ordering::Relaxed);
    let unavailable = outage.api_unavailable.load(Ordering::Relaxed);
    let slowest = Duration::from_millis(outage.slowest_ms.load(Ordering::Relaxed));
    let acknowledged = acknowledged.lock().expect("lock").clone();
    let stored = dbcheck::call_sids(&app.db.url);
    let lost = acknowledged.iter().filter(|s| !stored.contains(*s)).count();
    eprintln!(
        "database down 4 s: {during} requests meanwhile, {busy} TwiML busy answers, {unavailable} JSON 503s, slowest call+read {slowest:?}; \
         recovered {recovered:?} after; {} connections refused by the proxy",
        proxy.refused()
    );
    tally.requests = app.requests();
    tally.data_lost = lost as u64;
    // 5xx outside the outage: every 503 counted here came while the database was down or before
    // the first successful call after it (recovery), which the checks below bound.
    tally.server_errors = errors_after - errors_at_recovery;
    tally.checks += outage.fail_fast_checks.load(Ordering::Relaxed);
    for sid in &acknowledged {
        tally.check(stored.contains(sid), format_args!("{sid} was acknowledged, then missing ({lost} lost)"));
    }
    tally.check(busy > 0, format_args!("callers got the busy message while the database was down"));
    tally.check(unavailable > 0, format_args!("API clients got 503 while the database was down"));
    let other = outage.other.load(Ordering::Relaxed);
    tally.check(other == 0, format_args!("only 503s, and only while the database was down: {other} other answers"));
    tally.check(errors_after == errors_at_recovery, format_args!("no error once recovered: {}", errors_after - errors_at_recovery));
    tally.check(recovered < Duration::from_secs(10), format_args!("recovered in {recovered:?}"));
    tally.save();
}
