//! Test harness: starts the real server (in-process, port 0; or the binary as a child process,
//! see [`process`]) on a fresh database of either backend and talks HTTP to it.
//!
//! PostgreSQL comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! each test creates its own database and drops it. When PostgreSQL is unreachable the PostgreSQL
//! variants fail under `CI=true` and are skipped, loudly, elsewhere.
use std::sync::atomic::{AtomicU32, Ordering};

use callbroker::config::{Config, Secret};
use callbroker::startup::Application;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};

pub mod dbcheck;
pub mod load;
pub mod pgproxy;
pub mod process;
pub mod report;
pub mod sse;
pub mod twilio;
pub mod twilio_mock;

/// The Auth Token the test server verifies webhook signatures with.
pub const TWILIO_AUTH_TOKEN: &str = "test-twilio-auth-token-0123456789";
/// The public URL the test server believes Twilio reaches it at (as behind a proxy).
pub const PUBLIC_URL: &str = "https://callbroker.test";

pub const ADMIN_EMAIL: &str = "admin@test.example";
pub const ADMIN_PASSWORD: &str = "admin-password-123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database made for one test and removed after it.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

/// The value of the unlabelled metric `name` in a Prometheus text exposition (`GET /metrics`).
pub fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("cbtest_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), rand_suffix())
}

fn rand_suffix() -> u32 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    t % 100_000
}

impl TestDb {
    /// `None` when PostgreSQL is unreachable outside CI (the caller skips).
    pub fn create(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some(TestDb { url, backend, name: String::new(), _dir: Some(dir) })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = match PgConnection::establish(&admin) {
                    Ok(c) => c,
                    Err(e) => {
                        if std::env::var("CI").is_ok_and(|v| v == "true") {
                            panic!("PostgreSQL unreachable at {admin} under CI=true: {e}");
                        }
                        eprintln!("SKIPPED (PostgreSQL unreachable at {admin}: {e})");
                        return None;
                    }
                };
                let name = unique_name();
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create database");
                let url = match admin.rfind('/') {
                    Some(i) => format!("{}/{}", &admin[..i], name),
                    None => panic!("TEST_DATABASE_URL needs a database path"),
                };
                Some(TestDb { url, backend, name, _dir: None })
            }
        }
    }
}

impl TestDb {
    /// The same database again (for another server on it); the original still owns it.
    pub fn reuse(db: &TestDb) -> TestDb {
        TestDb { url: db.url.clone(), backend: db.backend, name: String::new(), _dir: None }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.backend == Backend::Postgres && !self.name.is_empty() {
            if let Ok(mut conn) = PgConnection::establish(&postgres_admin_url()) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut conn);
            }
        }
    }
}

/// A running server and an HTTP client signed in as the first admin.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub backend: Backend,
    pub db: TestDb,
    server: Running,
}

/// How the server under test runs.
enum Running {
    /// In this process (HTTP server and background worker).
    InProcess { handle: actix_web::dev::ServerHandle, worker: tokio::task::AbortHandle },
    /// The real `callbroker` binary as a child process (see [`process`]).
    Child(process::Child),
}

pub fn test_config(db_url: &str) -> Config {
    let mut config = Config::for_database(db_url);
    config.bind = "127.0.0.1:0".into();
    config.jwt_secret = Some(Secret::new("test-secret-test-secret-test-secret-0123"));
    config.admin_email = Some(ADMIN_EMAIL.into());
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    config.workers = 2;
    config.db_max_connections = 8;
    config.web_dir = std::path::PathBuf::from("/nonexistent-web-dir");
    config.public_url = PUBLIC_URL.into();
    // Tests log in many times from 127.0.0.1; the throttling test sets its own budget.
    config.login_attempts_per_minute = 1000;
    config.twilio.auth_token = Some(Secret::new(TWILIO_AUTH_TOKEN));
    // Short waits: background jobs and Twilio retries back off in milliseconds, not minutes.
    config.jobs.poll_interval_ms = 25;
    config.jobs.backoff_base_ms = 50;
    config.jobs.backoff_max_ms = 400;
    config.twilio.retry_base_ms = 20;
    config.twilio.retry_max_ms = 3_000;
    config.twilio.timeout_secs = 5;
    config
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the server with a configuration adjusted by `tweak`.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let db = TestDb::create(backend)?;
        Some(Self::start(db, tweak).await)
    }

    /// Starts a server on an existing database (a second instance, or after a restart).
    pub async fn start(db: TestDb, tweak: impl FnOnce(&mut Config)) -> TestApp {
        // Server logs on stderr when asked (RUST_LOG=... CALLBROKER_TEST_LOG=1).
        if std::env::var_os("CALLBROKER_TEST_LOG").is_some() {
            callbroker::telemetry::init(callbroker::config::LogFormat::Human);
        }
        let mut config = test_config(&db.url);
        tweak(&mut config);
        let backend = db.backend;
        let app = Application::build(config).await.expect("server starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let worker = app.worker();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
        let server = Running::InProcess { handle, worker };
        let mut test = TestApp { base, client, admin_token: String::new(), backend, db, server };
        test.admin_token = test.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        test
    }

    /// Starts the real server binary on `db` as a child process, configured as [`test_config`]
    /// plus the `CALLBROKER_*` variables in `env`; waits until `/readyz` answers.
    pub async fn start_process(db: TestDb, env: &[(&str, String)]) -> TestApp {
        let child = process::Child::start(&db.url, env).await;
        let base = child.base.clone();
        // Idle connections are dropped after 2 s, before the server's 5 s keep-alive closes them:
        // otherwise a request can go out on a connection the server is closing at that moment
        // (hyper's `IncompleteMessage`), a race of the client's pool, not of the server under test.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("client");
        let backend = db.backend;
        let mut test = TestApp { base, client, admin_token: String::new(), backend, db, server: Running::Child(child) };
        test.admin_token = test.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        test
    }

    /// The child process's log so far (stdout and stderr); empty for an in-process server.
    pub fn process_log(&self) -> String {
        match &self.server {
            Running::Child(c) => c.log(),
            Running::InProcess { .. } => String::new(),
        }
    }

    /// A second server on the same database (PostgreSQL scale-out).
    pub async fn second_instance(&self) -> TestApp {
        Self::start(TestDb::reuse(&self.db), |_| {}).await
    }

    /// Stops this server (HTTP and background worker, as a crash would) and starts another on the
    /// same database with `tweak`. `self` keeps owning the database.
    pub async fn restart_with(&self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        self.stop();
        let db = TestDb { url: self.db.url.clone(), backend: self.backend, name: String::new(), _dir: None };
        Self::start(db, tweak).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status(), 200, "login of {email} failed");
        let body: Value = res.json().await.expect("login json");
        body["token"].as_str().expect("token").to_string()
    }

    /// Sends a request with a bearer token (or none) and returns status and JSON body
    /// (`Value::Null` when the body is empty or not JSON).
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// As admin.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.admin_token.clone();
        self.call(method, path, Some(&token), body).await
    }

    /// Creates something as admin, asserting 201; returns the body.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let (status, created) = self.admin("POST", path, Some(body.clone())).await;
        assert_eq!(status, 201, "POST {path} {body} -> {created}");
        created
    }

    pub fn stop(&self) {
        match &self.server {
            Running::InProcess { handle, worker } => {
                worker.abort();
                // Stopping starts at once; nothing here waits for it to finish.
                drop(handle.stop(false));
            }
            Running::Child(c) => c.kill9(),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs an async test body once per backend: `both_backends!(name, body_fn)` makes
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = callbroker_tests::TestApp::spawn(callbroker_tests::Backend::Sqlite).await {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = callbroker_tests::TestApp::spawn(callbroker_tests::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}
