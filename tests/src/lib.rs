//! Test harness: starts the real server (in-process, port 0; or the binary as a child process,
//! see [`process`]) on a fresh database of either backend and talks HTTP to it.
//!
//! PostgreSQL comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! each test creates its own database and drops it. When PostgreSQL is unreachable the PostgreSQL
//! tests fail, saying how to start it: a run without it is not a passing run.
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

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
pub mod tools;
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

/// A database made for one test and removed after it, with the server's data folder (which
/// keeps the key of the secrets sealed in the database: every server on this database uses it).
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    /// The servers' data folder (`CALLBROKER_DATA_DIR`), created by the first server to start.
    pub data_dir: std::path::PathBuf,
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
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    t % 100_000
}

/// How to get a PostgreSQL for the tests (in the failure of every PostgreSQL test without one).
const POSTGRES_HOWTO: &str = "start it with `make services` (scripts/services.sh starts the local cluster), or set \
     TEST_DATABASE_URL to a PostgreSQL that lets this user create databases";

impl TestDb {
    /// A fresh database. Panics when PostgreSQL is unreachable: its tests fail, never skip.
    pub fn create(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let data_dir = dir.path().join("data");
                let url = format!("sqlite://{}", data_dir.join("test.db").display());
                TestDb { url, backend, data_dir, name: String::new(), _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is unreachable at {admin} ({}); the PostgreSQL tests need it: {POSTGRES_HOWTO}",
                        e.to_string().trim()
                    )
                });
                let name = unique_name();
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .unwrap_or_else(|e| panic!("cannot create a test database on {admin} ({}): {POSTGRES_HOWTO}", e.to_string().trim()));
                let url = match admin.rfind('/') {
                    Some(i) => format!("{}/{}", &admin[..i], name),
                    None => panic!("TEST_DATABASE_URL needs a database path"),
                };
                let dir = tempfile::tempdir().expect("temp dir");
                TestDb { url, backend, data_dir: dir.path().join("data"), name, _dir: Some(dir) }
            }
        }
    }
}

impl TestDb {
    /// The same database again (for another server on it); the original still owns it.
    pub fn reuse(db: &TestDb) -> TestDb {
        TestDb { url: db.url.clone(), backend: db.backend, data_dir: db.data_dir.clone(), name: String::new(), _dir: None }
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
    /// `http://127.0.0.1:<port>` of the metrics address, when `metrics_bind` is set.
    pub metrics_base: Option<String>,
    server: Running,
    /// Requests sent through [`TestApp::send`] (every helper of this crate sends through it).
    requests: AtomicU64,
}

/// A response as the server sent it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; `Value::Null` when there is no body (a 204). Panics when the body is not
    /// JSON (another content type, or JSON that does not parse), so a test never reads fields of a
    /// body that was not there.
    pub fn json(&self) -> Value {
        self.json_of("the request")
    }

    /// [`Reply::json`], naming the request in the panic.
    fn json_of(&self, request: &str) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        assert!(
            self.content_type.starts_with("application/json"),
            "{request} -> {}: a {:?} body where JSON was expected: {}",
            self.status,
            self.content_type,
            self.text()
        );
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{request} -> {}: the body is not JSON ({e}): {}", self.status, self.text()))
    }
}

/// Asserts that `object` is a JSON object in which none of `keys` appears (a field hidden from
/// the caller is absent from the body, not `null`).
#[track_caller]
pub fn assert_absent(object: &Value, keys: &[&str]) {
    assert!(object.is_object(), "expected a JSON object, got {object}");
    let present: Vec<&str> = keys.iter().copied().filter(|k| object.get(k).is_some()).collect();
    assert!(present.is_empty(), "{present:?} must be absent from {object}");
}

/// How the server under test runs.
enum Running {
    /// In this process (HTTP server and background worker).
    InProcess { handle: actix_web::dev::ServerHandle, worker: tokio::task::AbortHandle },
    /// The real `callbroker` binary as a child process (see [`process`]).
    Child(process::Child),
}

/// The test server's configuration on `db` (its data folder included).
pub fn test_config(db: &TestDb) -> Config {
    let mut config = Config::for_database(&db.url);
    config.data_dir.clone_from(&db.data_dir);
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
    /// Starts the server on a fresh database of `backend`.
    pub async fn launch(backend: Backend) -> TestApp {
        Self::launch_with(backend, |_| {}).await
    }

    /// Starts the server on a fresh database with a configuration adjusted by `tweak`.
    pub async fn launch_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::start(TestDb::create(backend), tweak).await
    }

    /// [`TestApp::launch`], always `Some`, for callers written as
    /// `let Some(app) = TestApp::spawn(backend).await else { .. }`.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Some(Self::launch(backend).await)
    }

    /// Starts a server on an existing database (a second instance, or after a restart).
    pub async fn start(db: TestDb, tweak: impl FnOnce(&mut Config)) -> TestApp {
        // Server logs on stderr when asked (RUST_LOG=... CALLBROKER_TEST_LOG=1).
        if std::env::var_os("CALLBROKER_TEST_LOG").is_some() {
            callbroker::telemetry::init(callbroker::config::LogFormat::Human);
        }
        let mut config = test_config(&db);
        tweak(&mut config);
        let backend = db.backend;
        let app = Application::build(config).await.expect("server starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let metrics_base = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
        let handle = app.handle();
        let worker = app.worker();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
        let server = Running::InProcess { handle, worker };
        let mut test = TestApp { base, client, admin_token: String::new(), backend, db, metrics_base, server, requests: AtomicU64::new(0) };
        test.admin_token = test.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        test
    }

    /// Starts the real server binary on `db` as a child process, configured as [`test_config`]
    /// plus the `CALLBROKER_*` variables in `env`; waits until `/readyz` answers.
    pub async fn start_process(db: TestDb, env: &[(&str, String)]) -> TestApp {
        let mut env = env.to_vec();
        env.insert(0, ("CALLBROKER_DATA_DIR", db.data_dir.display().to_string()));
        let child = process::Child::start(&db.url, &env).await;
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
        let mut test = TestApp {
            base,
            client,
            admin_token: String::new(),
            backend,
            db,
            metrics_base: None,
            server: Running::Child(child),
            requests: AtomicU64::new(0),
        };
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
        Self::start(TestDb::reuse(&self.db), tweak).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends `req` (built on [`TestApp::client`]), counting it in [`TestApp::requests`].
    pub async fn send(&self, req: reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        req.send().await
    }

    /// Requests sent to this server through [`TestApp::send`] so far (its own admin login included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self.call("POST", "/api/auth/login", None, Some(json!({"email": email, "password": password}))).await;
        assert_eq!(status, 200, "login of {email} failed: {body}");
        body["token"].as_str().expect("token").to_string()
    }

    /// Sends a request with a bearer token (or none) and a JSON body (or none); returns the
    /// response whatever its content type.
    pub async fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = self.send(req).await.expect("request");
        let status = res.status().as_u16();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body = res.bytes().await.expect("response body").to_vec();
        Reply { status, content_type, body }
    }

    /// [`TestApp::request`] for a JSON API: the status and the body exactly as sent, parsed
    /// (`Value::Null` only when there is no body). Panics when the body is not JSON.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let reply = self.request(method, path, token, body).await;
        (reply.status, reply.json_of(&format!("{method} {path}")))
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

/// Makes one test per backend of each listed test body: a module named after it with the tests
/// `sqlite` and `postgres` (so `name::sqlite`, `name::postgres`), each on a multi-threaded runtime.
///
/// ```text
/// both_backends!(a, b);                    // async fn a(app: TestApp): a server on a fresh database
/// both_backends!(backend: c);              // async fn c(backend: Backend): the body starts what it needs
/// both_backends!(d_human = d("human"));    // async fn d(app: TestApp, format: &str), as module `d_human`
/// both_backends!(backend: e_fast = e(1));  // async fn e(backend: Backend, n: u32), as module `e_fast`
/// both_backends!(worker_threads = 4; f);   // the runtime's worker threads (default 2); `backend:` may follow
/// ```
///
/// Extra arguments follow the `TestApp` or `Backend` in the call.
#[macro_export]
macro_rules! both_backends {
    (@items $kind:ident $threads:literal;) => {};
    (@items $kind:ident $threads:literal; $name:ident = $body:ident ($($arg:expr),* $(,)?) $(, $($rest:tt)*)?) => {
        $crate::both_backends!(@test $kind $threads $name $body ($($arg),*));
        $crate::both_backends!(@items $kind $threads; $($($rest)*)?);
    };
    (@items $kind:ident $threads:literal; $name:ident $(, $($rest:tt)*)?) => {
        $crate::both_backends!(@test $kind $threads $name $name ());
        $crate::both_backends!(@items $kind $threads; $($($rest)*)?);
    };
    (@test $kind:ident $threads:literal $name:ident $body:ident ($($arg:expr),*)) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn sqlite() {
                super::$body($crate::both_backends!(@start $kind Sqlite) $(, $arg)*).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn postgres() {
                super::$body($crate::both_backends!(@start $kind Postgres) $(, $arg)*).await;
            }
        }
    };
    (@start app $backend:ident) => {
        $crate::TestApp::launch($crate::Backend::$backend).await
    };
    (@start backend $backend:ident) => {
        $crate::Backend::$backend
    };
    (@kind $threads:literal; backend: $($items:tt)*) => {
        $crate::both_backends!(@items backend $threads; $($items)*);
    };
    (@kind $threads:literal; $($items:tt)*) => {
        $crate::both_backends!(@items app $threads; $($items)*);
    };
    (worker_threads = $threads:literal; $($items:tt)*) => {
        $crate::both_backends!(@kind $threads; $($items)*);
    };
    ($($items:tt)*) => {
        $crate::both_backends!(@kind 2; $($items)*);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(content_type: &str, body: &str) -> Reply {
        Reply { status: 200, content_type: content_type.into(), body: body.as_bytes().to_vec() }
    }

    fn panics(f: impl FnOnce() + std::panic::UnwindSafe) -> bool {
        std::panic::catch_unwind(f).is_err()
    }

    #[test]
    fn a_reply_is_the_json_sent_or_a_failure() {
        assert_eq!(reply("application/json", r#"{"a":1}"#).json(), json!({"a": 1}));
        assert_eq!(reply("", "").json(), Value::Null, "no body");
        assert!(panics(|| drop(reply("text/csv", "a,b\n").json())), "not JSON");
        assert!(panics(|| drop(reply("application/json", "{\"a\":").json())), "broken JSON");
    }

    #[test]
    fn absent_means_no_key_in_an_object() {
        assert_absent(&json!({"a": 1}), &["b"]);
        assert!(panics(|| assert_absent(&json!({"a": null}), &["a"])), "a null is not absent");
        assert!(panics(|| assert_absent(&Value::Null, &["a"])), "no object, nothing to check");
    }
}
