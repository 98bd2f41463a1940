//! The real `callbroker` binary as a child process, for tests that must kill it (`kill -9`) or
//! read its logs. Configured through the environment as [`crate::test_config`] configures the
//! in-process server.
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, PUBLIC_URL, TWILIO_AUTH_TOKEN};

/// The JWT key the child process signs sessions with.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// A running server process; killed (SIGKILL) when dropped.
pub struct Child {
    pub base: String,
    process: Mutex<std::process::Child>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// The server binary: `callbroker-server`, the server's own `main` built by this package (cargo
/// builds it, with the same features, before it runs the integration tests), next to the test
/// executable's `deps/` folder. `CALLBROKER_SERVER_BIN` overrides.
pub fn server_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("CALLBROKER_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("callbroker-server");
    assert!(bin.exists(), "{} not found (cargo builds it for the integration tests)", bin.display());
    bin
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

impl Child {
    /// Starts the server on `database_url`; `env` adds or overrides `CALLBROKER_*` variables.
    pub async fn start(database_url: &str, env: &[(&str, String)]) -> Child {
        let bin = server_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("server.log");
        let port = free_port();
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CALLBROKER_DATABASE_URL", database_url)
            .env("CALLBROKER_BIND", format!("127.0.0.1:{port}"))
            .env("CALLBROKER_PUBLIC_URL", PUBLIC_URL)
            .env("CALLBROKER_JWT_SECRET", JWT_SECRET)
            .env("CALLBROKER_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("CALLBROKER_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CALLBROKER_DATA_DIR", dir.path())
            .env("CALLBROKER_WEB_DIR", "/nonexistent-web-dir")
            .env("CALLBROKER_WORKERS", "2")
            .env("CALLBROKER_DB_MAX_CONNECTIONS", "8")
            .env("CALLBROKER_LOGIN_ATTEMPTS_PER_MINUTE", "1000")
            .env("CALLBROKER_JOBS_POLL_INTERVAL_MS", "25")
            .env("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let process = cmd.spawn().expect("server process starts");
        let child = Child { base: format!("http://127.0.0.1:{port}"), process: Mutex::new(process), log, _dir: dir };
        child.wait_ready().await;
        child
    }

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client.get(format!("{}/readyz", self.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            if let Ok(Some(status)) = self.process.lock().expect("lock").try_wait() {
                panic!("server exited with {status}:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server not ready after 30 s:\n{}", self.log());
    }

    /// SIGKILL, as a crash: nothing is flushed or finished. Waits for the process to be gone.
    pub fn kill9(&self) {
        let mut p = self.process.lock().expect("lock");
        let _ = p.kill();
        let _ = p.wait();
    }

    /// Everything the process wrote so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill9();
    }
}
