//! Load generator: starts the real `callbroker` binary on a fresh database (SQLite and/or
//! PostgreSQL), then plays Twilio at a given concurrency — a signed voice webhook per call with a
//! unique `CallSid`, then the buyer leg's and the call's status callbacks and the dial action — and
//! prints routed calls/s, the voice webhook's p50/p99/max latency, the later webhooks' p50/p99
//! (the callbacks and the dial action together), the same server's `/healthz` throughput
//! measured in the same run, and per call: the statements the server ran, loadgen's own CPU time
//! and the bytes the server wrote to disk.
//!
//! `cargo run --release -p callbroker-tests --bin loadgen -- --calls 20000 --concurrency 64`
//! (or `make loadgen`). It needs the server binary built with the same profile
//! (`cargo build --release --bin callbroker`).
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use callbroker::twilio::signature::{sign, Algorithm, SIGNATURE_HEADER};
use callbroker_tests::{Backend, TestDb};
use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

const TOKEN: &str = "loadgen-auth-token-0123456789";
/// The server's `CALLBROKER_METRICS_TOKEN`: `/metrics` answers only with it.
const METRICS_TOKEN: &str = "loadgen-metrics-token-0123456789";
const PUBLIC_URL: &str = "https://callbroker.loadgen";
const NUMBER: &str = "+17175550100";

#[derive(Parser)]
struct Args {
    /// Calls per backend.
    #[arg(long, default_value_t = 10_000)]
    calls: usize,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// `sqlite`, `postgres` or `both`.
    #[arg(long, default_value = "both")]
    backend: String,
    /// Buyers on the campaign (equal priority, capacity for every call in flight).
    #[arg(long, default_value_t = 10)]
    buyers: usize,
    /// The server binary (default: `callbroker` next to this program).
    #[arg(long)]
    server: Option<PathBuf>,
    /// `sslmode` of the server's PostgreSQL connection. The server and PostgreSQL share this
    /// machine, as a same-host deployment would, so TLS is off by default; `prefer` measures the
    /// cost of TLS on the loopback (libpq's default when the server offers it).
    #[arg(long, default_value = "disable")]
    pg_sslmode: String,
    /// Seconds of `/healthz` load.
    #[arg(long, default_value_t = 3)]
    healthz_secs: u64,
    /// The server's connections per database pool (`CALLBROKER_DB_MAX_CONNECTIONS`).
    #[arg(long, default_value_t = 16)]
    db_connections: u32,
}

struct Server {
    child: Child,
    base: String,
    _db: TestDb,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

async fn start(bin: &PathBuf, backend: Backend, pg_sslmode: &str, db_connections: u32) -> Server {
    let db = TestDb::create(backend);
    let url = match backend {
        Backend::Postgres => format!("{}{}sslmode={pg_sslmode}", db.url, if db.url.contains('?') { '&' } else { '?' }),
        Backend::Sqlite => db.url.clone(),
    };
    let port = free_port();
    let data = tempfile::tempdir().expect("tmp");
    let child = Command::new(bin)
        .env("CALLBROKER_DATABASE_URL", &url)
        .env("CALLBROKER_BIND", format!("127.0.0.1:{port}"))
        .env("CALLBROKER_PUBLIC_URL", PUBLIC_URL)
        .env("CALLBROKER_JWT_SECRET", "loadgen-secret-loadgen-secret-loadgen-0123")
        .env("CALLBROKER_ADMIN_EMAIL", "admin@loadgen.example")
        .env("CALLBROKER_ADMIN_PASSWORD", "loadgen-password")
        .env("CALLBROKER_DATA_DIR", data.path())
        .env("CALLBROKER_DB_MAX_CONNECTIONS", db_connections.to_string())
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("CALLBROKER_METRICS_TOKEN", METRICS_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("server starts");
    std::mem::forget(data);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    // Owned by the guard from here on: killed and reaped on every path, panics included.
    let server = Server { child, base, _db: db };
    for _ in 0..200 {
        if client.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not become ready");
}

async fn setup(client: &reqwest::Client, base: &str, buyers: usize, concurrency: usize) {
    let login: Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "admin@loadgen.example", "password": "loadgen-password"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login json");
    let token = login["token"].as_str().expect("token").to_string();
    let mut assignments = vec![];
    for i in 0..buyers {
        let b: Value = client
            .post(format!("{base}/api/buyers"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("Buyer {i}"), "phone_number": format!("+1415555{:04}", i), "max_concurrent_calls": concurrency * 2}))
            .send()
            .await
            .expect("buyer")
            .json()
            .await
            .expect("buyer json");
        assignments.push(json!({"buyer_id": b["id"]}));
    }
    let c: Value = client
        .post(format!("{base}/api/campaigns"))
        .bearer_auth(&token)
        .json(&json!({"name": "Load", "buyers": assignments}))
        .send()
        .await
        .expect("campaign")
        .json()
        .await
        .expect("campaign json");
    client
        .post(format!("{base}/api/numbers"))
        .bearer_auth(&token)
        .json(&json!({"number": NUMBER, "campaign_id": c["id"]}))
        .send()
        .await
        .expect("number");
}

async fn post(client: &reqwest::Client, base: &str, path: &str, pairs: &[(&str, String)]) -> (u16, String) {
    let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let signature = sign(TOKEN, Algorithm::HmacSha1, &format!("{PUBLIC_URL}{path}"), &owned);
    let body = serde_urlencoded::to_string(&owned).expect("form");
    let res = client
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .expect("webhook");
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

fn leg_of(twiml: &str) -> Option<String> {
    let key = "/api/webhooks/twilio/dial?leg=";
    let at = twiml.find(key)? + key.len();
    Some(twiml[at..].chars().take_while(char::is_ascii_digit).collect())
}

/// Plays call `i`; returns the voice webhook's latency and whether it was routed, and records
/// each later webhook's latency in `callbacks`.
async fn one_call(client: &reqwest::Client, base: &str, i: usize, callbacks: &mut Histogram<u64>) -> (Duration, bool) {
    let sid = format!("CALOAD{i:08}");
    let child = format!("CALEG{i:09}");
    let started = Instant::now();
    let (status, twiml) = post(
        client,
        base,
        "/api/webhooks/twilio/voice",
        &[
            ("CallSid", sid.clone()),
            ("AccountSid", "AC1".into()),
            ("From", format!("+1201{:07}", i % 10_000_000)),
            ("To", NUMBER.into()),
            ("CallStatus", "ringing".into()),
            ("Direction", "inbound".into()),
        ],
    )
    .await;
    let latency = started.elapsed();
    assert_eq!(status, 200, "voice webhook: {twiml}");
    let Some(leg) = leg_of(&twiml) else { return (latency, false) };
    let status_path = format!("/api/webhooks/twilio/status?leg={leg}");
    for (n, st) in ["ringing", "in-progress", "completed"].iter().enumerate() {
        let mut p = vec![
            ("CallSid", child.clone()),
            ("ParentCallSid", sid.clone()),
            ("AccountSid", "AC1".into()),
            ("CallStatus", st.to_string()),
            ("SequenceNumber", n.to_string()),
        ];
        if *st == "completed" {
            p.push(("CallDuration", "95".into()));
        }
        timed_post(client, base, &status_path, &p, callbacks).await;
    }
    timed_post(
        client,
        base,
        &format!("/api/webhooks/twilio/dial?leg={leg}"),
        &[
            ("CallSid", sid.clone()),
            ("AccountSid", "AC1".into()),
            ("DialCallStatus", "completed".into()),
            ("DialCallSid", child.clone()),
            ("DialCallDuration", "95".into()),
        ],
        callbacks,
    )
    .await;
    timed_post(
        client,
        base,
        "/api/webhooks/twilio/status",
        &[("CallSid", sid), ("AccountSid", "AC1".into()), ("CallStatus", "completed".into()), ("CallDuration", "100".into())],
        callbacks,
    )
    .await;
    (latency, true)
}

/// [`post`], with its latency recorded in `into`.
async fn timed_post(client: &reqwest::Client, base: &str, path: &str, params: &[(&str, String)], into: &mut Histogram<u64>) {
    let sent = Instant::now();
    post(client, base, path, params).await;
    let _ = into.record(micros(sent.elapsed()));
}

/// `d` in whole microseconds, for the histograms.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[allow(clippy::cast_precision_loss, reason = "a rate for the report; counts stay far below 2^52")]
async fn healthz(client: &reqwest::Client, base: &str, concurrency: usize, secs: u64) -> f64 {
    let done = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, base, done) = (client.clone(), base.to_string(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

#[allow(clippy::cast_precision_loss, reason = "figures for the report; counts and microseconds stay far below 2^52")]
async fn run(args: &Args, bin: &PathBuf, backend: Backend) {
    let server = start(bin, backend, &args.pg_sslmode, args.db_connections).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency * 2).build().expect("client");
    setup(&client, &server.base, args.buyers, args.concurrency).await;
    let health = healthz(&client, &server.base, args.concurrency, args.healthz_secs).await;
    let statements_before = statements(&client, &server.base).await;
    let costs_before = costs(server.child.id());

    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, base, next, total) = (client.clone(), server.base.clone(), next.clone(), args.calls);
            tokio::spawn(async move {
                let mut hist = Histogram::<u64>::new(3).expect("histogram");
                let mut callbacks = Histogram::<u64>::new(3).expect("histogram");
                let mut routed = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let (latency, ok) = one_call(&client, &base, i, &mut callbacks).await;
                    let _ = hist.record(micros(latency));
                    routed += usize::from(ok);
                }
                (hist, callbacks, routed)
            })
        })
        .collect();
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    let mut callbacks = Histogram::<u64>::new(3).expect("histogram");
    let mut routed = 0;
    for w in workers {
        let (h, c, r) = w.await.expect("worker");
        hist.add(h).expect("merge");
        callbacks.add(c).expect("merge");
        routed += r;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let statements_after = statements(&client, &server.base).await;
    let per_call = |f: fn(&Costs) -> f64| match (costs_before, costs(server.child.id())) {
        (Some(b), Some(a)) => format!("{:.1}", (f(&a) - f(&b)) / args.calls as f64),
        _ => "n/a".into(),
    };
    println!(
        "{:<9} calls {:>6}  routed {:>6}  {:>7.0} routed calls/s (each: voice + 3 leg callbacks + dial action + call status)  voice p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  | later webhooks p50 {:>6.2} ms  p99 {:>6.2} ms  | /healthz {:>7.0} req/s  (concurrency {})  | {:.1} statements per call  | loadgen CPU {} µs per call  | server wrote {} KB to disk per call",
        match backend {
            Backend::Postgres => format!("Postgres (sslmode={})", args.pg_sslmode),
            Backend::Sqlite => "Sqlite".into(),
        },
        args.calls,
        routed,
        routed as f64 / elapsed,
        hist.value_at_quantile(0.50) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0,
        hist.max() as f64 / 1000.0,
        callbacks.value_at_quantile(0.50) as f64 / 1000.0,
        callbacks.value_at_quantile(0.99) as f64 / 1000.0,
        health,
        args.concurrency,
        // Every statement of the server's connection pools over the run: at most one scrape's two
        // reads included (the metrics' database figures are reused for `metrics_refresh_secs`),
        // and on SQLite the live-event pump's reads (on PostgreSQL it has a connection
        // of its own, not counted).
        (statements_after - statements_before) as f64 / args.calls as f64,
        per_call(|c| c.cpu_secs * 1e6),
        per_call(|c| c.server_written as f64 / 1000.0),
    );
}

/// What the calls cost outside the server's answers, read from `/proc` (Linux; elsewhere the
/// figures print as n/a).
#[derive(Clone, Copy)]
struct Costs {
    /// CPU time of this process, all its threads (the server, a child process, is not counted):
    /// the load generator shares the machine with the server it measures.
    cpu_secs: f64,
    /// Bytes the server process caused to be written to disk (`write_bytes` of `/proc/<pid>/io`).
    server_written: u64,
}

#[allow(clippy::cast_precision_loss, reason = "clock ticks of one run, far below 2^52")]
fn costs(server_pid: u32) -> Option<Costs> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name's closing parenthesis the fields start at the third: `utime` and
    // `stime` (the 14th and 15th) are at 11 and 12, in clock ticks of 1/100 s.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let io = std::fs::read_to_string(format!("/proc/{server_pid}/io")).ok()?;
    let server_written = io.lines().find_map(|l| l.strip_prefix("write_bytes:")?.trim().parse().ok())?;
    Some(Costs { cpu_secs: ticks as f64 / 100.0, server_written })
}

/// `callbroker_db_statements_total` from the server's `/metrics`.
async fn statements(client: &reqwest::Client, base: &str) -> u64 {
    let res = client.get(format!("{base}/metrics")).bearer_auth(METRICS_TOKEN).send().await.expect("metrics");
    assert!(res.status().is_success(), "/metrics answered {}", res.status());
    let text = res.text().await.expect("metrics text");
    callbroker_tests::metric(&text, "callbroker_db_statements_total").expect("callbroker_db_statements_total in /metrics")
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = args.server.clone().unwrap_or_else(|| {
        std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.join("callbroker"))).unwrap_or_else(|| "callbroker".into())
    });
    assert!(bin.exists(), "server binary {} not found: build it first (cargo build [--release] --bin callbroker)", bin.display());
    let backends: &[Backend] = match args.backend.as_str() {
        "sqlite" => &[Backend::Sqlite],
        "postgres" => &[Backend::Postgres],
        _ => &[Backend::Sqlite, Backend::Postgres],
    };
    for b in backends {
        run(&args, &bin, *b).await;
    }
}
