//! The durable job queue on both backends: competing workers never run a job twice, failures back
//! off and are given up after `max_attempts` with the error kept.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callbroker::config::JobsConfig;
use callbroker::db::{Db, PoolOptions};
use callbroker::jobs::{self, JobError, Registry};
use callbroker_tests::{both_backends, Backend, TestDb};

fn cfg() -> JobsConfig {
    JobsConfig { poll_interval_ms: 10, lease_secs: 30, backoff_base_ms: 20, backoff_max_ms: 100, concurrency: 3 }
}

both_backends!(backend: competing_workers_run_each_job_once, failing_job_backs_off_then_gives_up);

async fn db(backend: Backend) -> (TestDb, Db) {
    let test_db = TestDb::create(backend);
    let db = Db::connect(&test_db.url, &PoolOptions::default()).expect("connect");
    let migrated = db.clone();
    tokio::task::spawn_blocking(move || migrated.migrate()).await.expect("join").expect("migrate");
    (test_db, db)
}

async fn competing_workers_run_each_job_once(backend: Backend) {
    let (test_db, db) = db(backend).await;
    let ids: Vec<i64> = db
        .write(|c| (0..30).map(|i| jobs::enqueue(c, "test.count", &serde_json::json!({"n": i}), callbroker::db::now())).collect())
        .await
        .expect("enqueue");
    let ran = Arc::new(Mutex::new(Vec::<i64>::new()));
    let mut registry = Registry::new();
    let seen = ran.clone();
    registry.register("test.count", move |job| {
        let seen = seen.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            seen.lock().expect("lock").push(job.id);
            Ok(())
        }
    });
    // Two workers, as two API instances would run them (separate pools on the same database).
    let other = match backend {
        Backend::Postgres => Db::connect(&test_db.url, &PoolOptions::default()).expect("second pool"),
        Backend::Sqlite => db.clone(),
    };
    let a = jobs::spawn_worker(db.clone(), registry.clone(), cfg());
    let b = jobs::spawn_worker(other, registry, cfg());
    let started = Instant::now();
    loop {
        let wanted = ids.clone();
        let done = db.read(move |c| wanted.iter().map(|id| jobs::get(c, *id)).collect::<Result<Vec<_>, _>>()).await.expect("read");
        if done.iter().all(|j| j.status == callbroker::domain::states::JobStatus::Done) {
            assert!(done.iter().all(|j| j.attempts == 1), "each ran once");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "jobs not done");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.abort();
    b.abort();
    let mut ran = ran.lock().expect("lock").clone();
    ran.sort_unstable();
    let mut expected = ids.clone();
    expected.sort_unstable();
    assert_eq!(ran, expected, "every job exactly once");
}

async fn failing_job_backs_off_then_gives_up(backend: Backend) {
    let (_keep, db) = db(backend).await;
    let id = db.write(|c| jobs::enqueue_with(c, "test.fail", &serde_json::json!({}), callbroker::db::now(), 3)).await.expect("enqueue");
    let times = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let mut registry = Registry::new();
    let t = times.clone();
    registry.register("test.fail", move |job| {
        let t = t.clone();
        async move {
            t.lock().expect("lock").push(Instant::now());
            Err(JobError::retry(format!("boom {}", job.attempt)))
        }
    });
    let worker = jobs::spawn_worker(db.clone(), registry, cfg());
    let started = Instant::now();
    let row = loop {
        let row = db.read(move |c| jobs::get(c, id)).await.expect("read");
        if row.status == callbroker::domain::states::JobStatus::Failed {
            break row;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not given up: {row:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    worker.abort();
    assert_eq!(row.attempts, 3);
    assert_eq!(row.last_error.as_deref(), Some("boom 3"));
    let times = times.lock().expect("lock").clone();
    assert_eq!(times.len(), 3);
    assert!(times[1] - times[0] >= Duration::from_millis(10), "backed off between attempts");
}
