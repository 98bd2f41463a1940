//! Real-time bidding under load (prints figures; not a test): the voice webhook's latency with ten
//! stand-in bidders answering in 20 to 74 ms and one that never answers, under a 300 ms ping
//! budget, at a given number of calls in flight; then the publishers' ping API throughput. The
//! server runs in this process (as in the integration tests), on SQLite and/or PostgreSQL; the
//! bidders are wiremock servers in this process too.
//!
//! `cargo run --release -p callbroker-tests --bin bench-bidding -- --calls 2000 --concurrency 64`
//! (or `make bench-bidding`).
use std::sync::Arc;
use std::time::{Duration, Instant};

use callbroker_tests::{Backend, TestApp};
use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const NUMBER: &str = "+17175550100";
const BUDGET_MS: u64 = 300;

#[derive(Parser)]
struct Args {
    /// Calls per backend.
    #[arg(long, default_value_t = 2000)]
    calls: usize,
    /// Calls (and pings) in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Publisher pings per backend.
    #[arg(long, default_value_t = 2000)]
    pings: usize,
    /// `sqlite`, `postgres` or `both`.
    #[arg(long, default_value = "both")]
    backend: String,
}

/// Ten bidders answering after 20 + 6·i ms (bids $10 + i), and one that never answers in time.
async fn bidders() -> Vec<MockServer> {
    let mut servers = vec![];
    for i in 0..11u64 {
        // Recording every request would cost the bidders' side more than answering.
        let server = MockServer::builder().disable_request_recording().start().await;
        let delay = if i == 10 { Duration::from_secs(30) } else { Duration::from_millis(20 + 6 * i) };
        let body = json!({"bid": 10 + i, "phone": format!("+1415555{:04}", 100 + i)}).to_string();
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "application/json").set_delay(delay))
            .mount(&server)
            .await;
        servers.push(server);
    }
    servers
}

#[allow(clippy::cast_precision_loss, reason = "figures for the report; counts and microseconds stay far below 2^52")]
fn print(label: &str, h: &Histogram<u64>, count: usize, elapsed: Duration) {
    println!(
        "  {label}: {count} in {:.1} s = {:.0}/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.max() as f64 / 1000.0,
    );
}

/// Runs `n` jobs `concurrency` at a time; returns each job's latency (µs) and the wall time.
/// The workers start `stagger` apart, so that jobs of about the same length keep arriving spread
/// out, as calls do, instead of in lockstep waves that all reach the database at one instant.
async fn run<F, Fut>(n: usize, concurrency: usize, stagger: Duration, job: F) -> (Histogram<u64>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = vec![];
    for worker in 0..concurrency {
        let (job, next) = (job.clone(), next.clone());
        let delay = stagger * u32::try_from(worker).unwrap_or(u32::MAX);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut h = Histogram::<u64>::new(3).expect("histogram");
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return h;
                }
                let t = Instant::now();
                job(i).await;
                h.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX)).expect("record");
            }
        }));
    }
    let mut all = Histogram::<u64>::new(3).expect("histogram");
    for t in tasks {
        all.add(t.await.expect("task")).expect("add");
    }
    (all, started.elapsed())
}

/// Microseconds as milliseconds, for the report.
#[allow(clippy::cast_precision_loss, reason = "microseconds of one run, far below 2^52")]
fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

async fn bench(backend: Backend, args: &Args) {
    println!("{backend:?}");
    let app = Arc::new(TestApp::launch_with(backend, |c| c.rtb_pings_per_minute = 1_000_000).await);
    let buyer = app.create("/api/buyers", json!({"name": "Static", "phone_number": "+14155550199", "max_concurrent_calls": 10_000})).await;
    let publisher = app.create("/api/publishers", json!({"name": "Pub"})).await;
    let campaign = app
        .create(
            "/api/campaigns",
            json!({"name": "Sold", "buyers": [{"buyer_id": buyer["id"]}], "revenue_micros": 5_000_000,
                   "routing": {"bids": {"ping_budget_ms": BUDGET_MS, "ping_api": true}}}),
        )
        .await;
    app.create("/api/numbers", json!({"number": NUMBER, "campaign_id": campaign["id"], "publisher_id": publisher["id"]})).await;
    let servers = bidders().await;
    for (i, s) in servers.iter().enumerate() {
        app.create(
            "/api/bidders",
            json!({"campaign_id": campaign["id"], "name": format!("B{i}"), "url": format!("{}/bid", s.uri()), "allow_private": true,
                   "timeout_ms": BUDGET_MS, "mapping": {"amount": "/bid", "number": "/phone"}}),
        )
        .await;
    }
    let key = app.create("/api/api-keys", json!({"name": "bench", "role": "publisher", "publisher_id": publisher["id"]})).await;
    let key = Arc::new(key["secret"].as_str().expect("key").to_string());

    let calls = {
        let app = app.clone();
        move |i: usize| {
            let app = app.clone();
            async move {
                let answer = app.incoming_call(&format!("CB{i:08}"), &format!("+1201{:07}", i % 10_000_000), NUMBER, &[]).await;
                assert_eq!(answer.dialled_number().as_deref(), Some("+14155550109"), "the top bid: {}", answer.body);
            }
        }
    };
    let _ = run(32, 8, Duration::ZERO, calls.clone()).await;
    let stagger = Duration::from_millis(BUDGET_MS) / u32::try_from(args.concurrency.max(1)).unwrap_or(1);
    let (h, elapsed) = run(args.calls, args.concurrency, stagger, calls.clone()).await;
    print(&format!("voice webhook, 11 bidders, {BUDGET_MS} ms budget, {} in flight", args.concurrency), &h, args.calls, elapsed);
    println!("  p99 {:.1} ms against the target of budget + 30 ms = {} ms", ms(h.value_at_quantile(0.99)), BUDGET_MS + 30);
    // The same calls all started at once: every wave of 64 reaches the database together.
    let (h, elapsed) = run(args.calls, args.concurrency, Duration::ZERO, move |i| calls(i + 10_000_000)).await;
    print("  the same in lockstep waves", &h, args.calls, elapsed);

    let campaign_id = campaign["id"].as_i64().expect("id");
    let pings = {
        let (app, key) = (app.clone(), key.clone());
        move |i: usize| {
            let (app, key) = (app.clone(), key.clone());
            async move {
                let body = json!({"campaign_id": campaign_id, "caller": format!("+1312{:07}", i % 10_000_000)});
                let (status, quote) = app.call("POST", "/api/rtb/ping", Some(&key), Some(body)).await;
                assert_eq!(status, 200, "{quote}");
            }
        }
    };
    let (h, elapsed) = run(args.pings, args.concurrency, stagger, pings).await;
    print(&format!("ping API (11 bidders pinged each), {} in flight", args.concurrency), &h, args.pings, elapsed);
    app.stop();
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let backends: &[Backend] = match args.backend.as_str() {
        "sqlite" => &[Backend::Sqlite],
        "postgres" => &[Backend::Postgres],
        _ => &[Backend::Sqlite, Backend::Postgres],
    };
    for &backend in backends {
        bench(backend, &args).await;
    }
}
