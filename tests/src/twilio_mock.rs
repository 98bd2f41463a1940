//! Twilio stand-ins for the tests: Prism serving Twilio's own OpenAPI description (it rejects any
//! request that breaks Twilio's contract), started once per test process; and helpers for
//! `wiremock` when a sequence must be scripted.
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use callbroker::config::{Config, Secret};

/// An Account SID of the shape Twilio's contract asks for (`AC` + 32 hex).
pub const REST_ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const REST_AUTH_TOKEN: &str = "rest-auth-token-0123456789abcdef";

/// A SID of the given prefix and shape Twilio accepts (`XX` + 32 hex), unique per `n`.
pub fn sid(prefix: &str, n: u64) -> String {
    format!("{prefix}{n:032x}")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `shared/twilio/` next to the repository (or one of its parents): `TWILIO_SPEC_DIR` wins.
pub fn spec_dir() -> PathBuf {
    if let Ok(d) = std::env::var("TWILIO_SPEC_DIR") {
        return PathBuf::from(d);
    }
    let root = repo_root();
    root.ancestors()
        .map(|a| a.join("shared/twilio"))
        .find(|d| d.join("twilio_api_v2010.json").is_file())
        .unwrap_or_else(|| panic!("Twilio's OpenAPI spec not found in a shared/twilio/ above {}; set TWILIO_SPEC_DIR", root.display()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// The base URL of a Prism mock of Twilio's REST API (api.twilio.com/2010-04-01), started on
/// first use (installing Prism with `scripts/twilio-mock.sh` if needed) and stopped when the test
/// process ends.
pub fn prism() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let root = repo_root();
        let prism = root.join("tests/twilio-mock/node_modules/.bin/prism");
        if !prism.exists() {
            let ok = Command::new(root.join("scripts/twilio-mock.sh")).status().is_ok_and(|s| s.success());
            assert!(ok, "could not install Prism (scripts/twilio-mock.sh)");
        }
        let spec = spec_dir().join("twilio_api_v2010.json");
        let port = free_port();
        // The shell watches this test process and stops Prism when it is gone.
        let script = format!(
            "'{}' mock '{}' -h 127.0.0.1 -p {port} >/dev/null 2>&1 & child=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; kill $child 2>/dev/null",
            prism.display(),
            spec.display(),
            parent = std::process::id()
        );
        // Not waited for: the shell outlives no test process (it watches it) and reaps Prism.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Prism");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(90), "Prism did not start within 90 s");
            std::thread::sleep(Duration::from_millis(200));
        }
        format!("http://127.0.0.1:{port}")
    })
}

/// Points the server's Twilio client at `base` with REST credentials.
pub fn use_twilio(config: &mut Config, base: &str) {
    config.twilio.api_base = base.to_string();
    config.twilio.intelligence_api_base = base.to_string();
    config.twilio.account_sid = Some(REST_ACCOUNT_SID.into());
    // Webhook signatures keep the test token; REST calls use an API key so both can differ.
    config.twilio.api_key_sid = Some(sid("SK", 1));
    config.twilio.api_key_secret = Some(Secret::new(REST_AUTH_TOKEN));
}

/// The path of an account resource, as the client asks for it.
pub fn account_path(rest: &str) -> String {
    format!("/2010-04-01/Accounts/{REST_ACCOUNT_SID}{rest}")
}

/// An `IncomingPhoneNumber` as Twilio lists it.
pub fn incoming_number(n: u64, number: &str, friendly: &str) -> serde_json::Value {
    serde_json::json!({
        "sid": sid("PN", n),
        "account_sid": REST_ACCOUNT_SID,
        "phone_number": number,
        "friendly_name": friendly,
        "voice_url": null,
        "voice_method": "POST",
        "status_callback": "",
        "status_callback_method": "POST",
    })
}

/// A Call resource with the given price (`None`: not priced yet).
pub fn call_resource(sid: &str, status: &str, price: Option<&str>) -> serde_json::Value {
    serde_json::json!({"sid": sid, "account_sid": REST_ACCOUNT_SID, "status": status, "price": price, "price_unit": "USD"})
}
