//! Configuration: defaults, then an optional TOML file (`CALLBROKER_CONFIG`, or `callbroker.toml`
//! in the working folder when present), then the environment (`CALLBROKER_*`, and Twilio's own
//! `TWILIO_*` names).
use std::fmt;
use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// A string that never shows in `Debug` output or logs.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://data/callbroker.db` (default) or `postgres://user@host/db`.
    pub database_url: String,
    /// Address the HTTP server listens on.
    pub bind: String,
    /// The URL Twilio reaches this server at (signatures and webhook set-up are built from it).
    pub public_url: String,
    /// HS256 key for session tokens; a development key is generated in `data_dir` when unset.
    pub jwt_secret: Option<Secret>,
    /// Key sealing the secrets stored in the database (base64 of 32 bytes); when unset, a key
    /// generated once and kept owner-only in `data_dir/secret-key`.
    pub secret_key: Option<Secret>,
    /// Lifetime of a session token, in seconds.
    pub jwt_ttl_secs: i64,
    /// Folder for the SQLite database and generated development secrets.
    pub data_dir: PathBuf,
    /// Folder holding the built dashboard (`web/dist`).
    pub web_dir: PathBuf,
    /// First admin, created when the database has no users.
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    pub log_format: LogFormat,
    /// Connections per pool.
    pub db_max_connections: u32,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Twilio account credentials and webhook keys.
    #[serde(default)]
    pub twilio: TwilioConfig,
    /// How calls are put through.
    #[serde(default)]
    pub routing: RoutingConfig,
    /// Origins allowed to call the API from a browser (CORS), comma-separated in the environment.
    /// Empty: same origin only (the dashboard is served by this server).
    #[serde(default, deserialize_with = "comma_list")]
    pub cors_origins: Vec<String>,
    /// `GET /metrics` on the public address answers `Authorization: Bearer <token>` (or an admin's
    /// credential); without it, admins only.
    pub metrics_token: Option<Secret>,
    /// A second listen address (e.g. `127.0.0.1:9090`) serving `GET /metrics` alone, without a token.
    pub metrics_bind: Option<String>,
    /// Longest time the figures read from the database for a scrape are reused, seconds.
    pub metrics_refresh_secs: u64,
    /// Login attempts allowed per minute from one client IP (wrong passwords of one account from
    /// one IP also back off: see `security::LoginLimiter`).
    pub login_attempts_per_minute: u32,
    /// Pings a publisher's key (or user) may send to `POST /api/rtb/ping` per minute.
    pub rtb_pings_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (IPs or CIDR ranges,
    /// comma-separated in the environment). Empty: the TCP peer is the client.
    #[serde(default, deserialize_with = "comma_list")]
    pub trusted_proxies: Vec<String>,
    /// Live events (`GET /api/events`).
    #[serde(default)]
    pub live: LiveConfig,
    /// The background job queue (call cost, transcripts, number imports).
    #[serde(default)]
    pub jobs: JobsConfig,
    /// Requests to URLs given by operators and publishers (postbacks).
    #[serde(default)]
    pub outbound: OutboundConfig,
}

fn comma_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        Text(String),
    }
    Ok(match ListOrString::deserialize(d)? {
        ListOrString::List(v) => v,
        ListOrString::Text(s) => s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveConfig {
    /// Seconds between keep-alive comments on an idle stream.
    pub heartbeat_secs: u64,
    /// Most events replayed to a client reconnecting with `Last-Event-ID`; past that it is told
    /// to reload.
    pub replay_max_events: i64,
    /// How long events are kept for replay, seconds (older ones are pruned).
    pub retention_secs: i64,
    /// Events a client may fall behind by before it is told to reload and disconnected.
    pub client_buffer: usize,
    /// How often old events are pruned, seconds.
    pub prune_interval_secs: u64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self { heartbeat_secs: 15, replay_max_events: 1000, retention_secs: 3600, client_buffer: 1024, prune_interval_secs: 60 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobsConfig {
    /// How often the worker looks for due jobs, milliseconds.
    pub poll_interval_ms: u64,
    /// How long a claimed job is leased before another worker may take it over, seconds.
    pub lease_secs: i64,
    /// First retry delay; doubles each attempt (with jitter), milliseconds.
    pub backoff_base_ms: u64,
    /// Longest retry delay, milliseconds.
    pub backoff_max_ms: u64,
    /// Jobs run at once by one instance.
    pub concurrency: usize,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self { poll_interval_ms: 1000, lease_secs: 300, backoff_base_ms: 5_000, backoff_max_ms: 3_600_000, concurrency: 4 }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundConfig {
    /// Host names, IP addresses and CIDR ranges reachable even though private, loopback or
    /// otherwise not public (comma-separated in `CALLBROKER_OUTBOUND_ALLOW_HOSTS`).
    #[serde(deserialize_with = "comma_list")]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutingConfig {
    /// Seconds a buyer's phone rings before the attempt counts as unanswered.
    pub dial_timeout_secs: u32,
    /// Longest a buyer call may last (`<Dial timeLimit>`), seconds.
    pub time_limit_secs: u32,
    /// Buyers tried per call, failovers included.
    pub max_attempts: u32,
    /// A caller who called the campaign within this many seconds is a repeat caller.
    pub repeat_window_secs: i64,
    /// How often slots whose callbacks never came are looked for, seconds.
    pub reaper_interval_secs: u64,
    /// Margin past ring timeout + time limit before a slot is reaped, seconds.
    pub reaper_margin_secs: i64,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self {
            dial_timeout_secs: 20,
            time_limit_secs: 14_400,
            max_attempts: 3,
            repeat_window_secs: 7 * 24 * 3600,
            reaper_interval_secs: 30,
            reaper_margin_secs: 300,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwilioConfig {
    pub account_sid: Option<String>,
    pub auth_token: Option<Secret>,
    /// Key of the HMAC-SHA256 webhook signature scheme.
    pub webhook_shared_key: Option<Secret>,
    /// Development only: accept unsigned webhooks. Logged loudly; never the default.
    pub insecure_skip_signature: bool,
    /// REST API base URL (`TWILIO_API_BASE`); point it at a Twilio-compatible carrier or a mock.
    pub api_base: String,
    /// Optional API key used instead of the Auth Token for REST calls.
    pub api_key_sid: Option<String>,
    pub api_key_secret: Option<Secret>,
    /// Voice Intelligence API base URL (transcripts).
    pub intelligence_api_base: String,
    /// Voice Intelligence Service (`GA...`) transcripts are created in.
    pub intelligence_service_sid: Option<String>,
    /// Timeout of one REST request, seconds.
    pub timeout_secs: u64,
    /// Retries of a request answered 429 or 5xx (or not answered).
    pub max_retries: u32,
    /// First retry delay (doubles, with jitter), milliseconds.
    pub retry_base_ms: u64,
    /// Longest wait between retries, `Retry-After` included, milliseconds.
    pub retry_max_ms: u64,
    /// Requests per minute one user or API key may make that call Twilio's REST API (webhook
    /// checks and fixes, imports, recording downloads); more get 429 with `Retry-After`.
    pub user_requests_per_minute: u32,
}

impl Default for TwilioConfig {
    fn default() -> Self {
        Self {
            account_sid: None,
            auth_token: None,
            webhook_shared_key: None,
            insecure_skip_signature: false,
            api_base: "https://api.twilio.com".into(),
            api_key_sid: None,
            api_key_secret: None,
            intelligence_api_base: "https://intelligence.twilio.com".into(),
            intelligence_service_sid: None,
            timeout_secs: 15,
            max_retries: 3,
            retry_base_ms: 500,
            retry_max_ms: 30_000,
            user_requests_per_minute: 60,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/callbroker.db".into(),
            bind: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            jwt_secret: None,
            secret_key: None,
            jwt_ttl_secs: 12 * 3600,
            data_dir: PathBuf::from("data"),
            web_dir: PathBuf::from("web/dist"),
            admin_email: None,
            admin_password: None,
            log_format: LogFormat::Human,
            db_max_connections: 16,
            max_body_bytes: 256 * 1024,
            workers: 0,
            twilio: TwilioConfig::default(),
            routing: RoutingConfig::default(),
            cors_origins: Vec::new(),
            metrics_token: None,
            metrics_bind: None,
            metrics_refresh_secs: 30,
            login_attempts_per_minute: 10,
            rtb_pings_per_minute: 600,
            trusted_proxies: Vec::new(),
            live: LiveConfig::default(),
            jobs: JobsConfig::default(),
            outbound: OutboundConfig::default(),
        }
    }
}

impl Config {
    /// Reads defaults, the optional file and the environment.
    pub fn load() -> Result<Config, Box<figment::Error>> {
        let file = std::env::var_os("CALLBROKER_CONFIG").map_or_else(|| "callbroker.toml".into(), PathBuf::from);
        let twilio_env = Env::raw()
            .only(&[
                "TWILIO_ACCOUNT_SID",
                "TWILIO_AUTH_TOKEN",
                "TWILIO_WEBHOOK_SHARED_KEY",
                "TWILIO_API_BASE",
                "TWILIO_API_KEY_SID",
                "TWILIO_API_KEY_SECRET",
                "TWILIO_INTELLIGENCE_SERVICE_SID",
            ])
            .map(|k| {
                let k = k.as_str().to_ascii_lowercase();
                let rest = k.trim_start_matches("twilio_").to_string();
                format!("twilio.{rest}").into()
            });
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(twilio_env)
            .merge(Env::prefixed("CALLBROKER_").map(|k| {
                let k = k.as_str().to_ascii_lowercase();
                if let Some(rest) = k.strip_prefix("twilio_") {
                    format!("twilio.{rest}").into()
                } else if let Some(rest) = k.strip_prefix("routing_") {
                    format!("routing.{rest}").into()
                } else if let Some(rest) = k.strip_prefix("live_") {
                    format!("live.{rest}").into()
                } else if let Some(rest) = k.strip_prefix("jobs_") {
                    format!("jobs.{rest}").into()
                } else if let Some(rest) = k.strip_prefix("outbound_") {
                    format!("outbound.{rest}").into()
                } else {
                    k.into()
                }
            }))
            .extract()
            .map_err(Box::new)
    }

    /// A configuration for tests and tools: defaults plus the given database.
    pub fn for_database(database_url: impl Into<String>) -> Config {
        Config { database_url: database_url.into(), ..Config::default() }
    }
}
