//! Builds and runs the HTTP server: the app binds its own listener (port 0 in tests).
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Service;
use actix_web::{web, App, HttpMessage, HttpRequest, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::{scope, service_config::ServiceConfig, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::db::{Db, PoolOptions};
use crate::routes;
use crate::routes::AppError;
use crate::state::AppState;

/// Every documented route: health at the root, the API under `/api`.
pub fn register_routes(cfg: &mut ServiceConfig) {
    cfg.service(routes::health::healthz).service(routes::health::readyz).service(scope::scope("/api").configure(routes::configure_api));
}

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    /// `GET /metrics` alone, without a token, on `metrics_bind` when set.
    metrics_server: Option<(u16, actix_web::dev::Server)>,
    state: web::Data<AppState>,
    worker: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Connects and migrates the database, creates the first admin, binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let pool = PoolOptions { max_connections: config.db_max_connections, ..PoolOptions::default() };
        let secrets = Arc::new(crate::bootstrap::secret_keys(&config)?);
        let db = Db::connect(&config.database_url, &pool)?;
        let keys = secrets.clone();
        let (db, config) = tokio::task::spawn_blocking(move || -> anyhow::Result<(Db, Config)> {
            let applied = db.migrate()?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
            let sealed = crate::bootstrap::seal_stored_secrets(&db, &keys)
                .map_err(|e| anyhow::anyhow!("sealing the stored secrets: {}", e.describe()))?;
            if sealed > 0 {
                tracing::info!(sealed, key_id = keys.current().id(), "stored secrets sealed under the current key");
            }
            crate::bootstrap::ensure_admin(&db, &config)?;
            Ok((db, config))
        })
        .await??;
        if config.twilio.insecure_skip_signature {
            tracing::warn!(
                "!!! CALLBROKER_TWILIO_INSECURE_SKIP_SIGNATURE is on: Twilio webhook signatures are NOT checked. Development only. !!!"
            );
        }
        let jwt = JwtKeys::new(crate::bootstrap::jwt_secret(&config)?.expose().as_bytes(), config.jwt_ttl_secs);
        let listener = TcpListener::bind(&config.bind)?;
        let port = listener.local_addr()?.port();
        let config = Arc::new(config);
        let live = Arc::new(crate::live::Hub::new(config.live.clone()));
        crate::live::pump::start(db.clone(), config.database_url.clone(), live.clone())?;
        let ctx = crate::callflow::Ctx {
            directory: Arc::default(),
            routing: config.routing.clone(),
            claiming: crate::callflow::candidates::Claiming::default(),
            earnings: crate::callflow::candidates::EarningsCache::default(),
            twilio_credentials: crate::twilio::account::from_config(&config.twilio).credentials().is_some(),
        };
        let outbound_allow = Arc::new(crate::outbound::AllowList::parse(&config.outbound.allow_hosts).map_err(anyhow::Error::msg)?);
        let bidding = crate::bidding::Bidding::new(outbound_allow.clone(), secrets.clone());
        let flow = crate::callflow::Flow { db: db.clone(), hub: live.clone(), ctx: Arc::new(ctx), bidding };
        if !config.outbound.allow_hosts.is_empty() {
            tracing::info!(allowed = ?config.outbound.allow_hosts, "outbound requests may reach these private hosts");
        }
        let trusted_proxies = crate::client_ip::TrustedProxies::parse(&config.trusted_proxies).map_err(anyhow::Error::msg)?;
        let state = web::Data::new(AppState {
            db,
            config: config.clone(),
            jwt,
            live,
            flow,
            twilio_token: crate::twilio::account::TokenCache::default(),
            trusted_proxies,
            secrets,
            outbound_allow,
        });
        spawn_reaper(state.clone());
        let mut registry = crate::jobs::Registry::new();
        crate::twilio::tasks::register(&mut registry, state.clone());
        crate::postback::register(&mut registry, state.clone(), crate::postback::client(state.outbound_allow.clone()));
        let worker = crate::jobs::spawn_worker(state.db.clone(), registry, state.config.jobs.clone());
        let doc = crate::openapi::json()?;
        let server_state = state.clone();
        let refresh = std::time::Duration::from_secs(config.metrics_refresh_secs);
        let metrics = web::Data::new(crate::metrics::Metrics::new(state.db.statements_counter(), refresh)?);
        let limiter = web::Data::new(crate::security::LoginLimiter::new(config.login_attempts_per_minute));
        let twilio_limiter = web::Data::new(crate::security::TwilioLimiter::new(config.twilio.user_requests_per_minute));
        let rtb_limiter = web::Data::new(crate::security::RtbLimiter::new(config.rtb_pings_per_minute));
        spawn_limiter_cleanup(limiter.clone(), twilio_limiter.clone(), rtb_limiter.clone());
        let metrics_server = match config.metrics_bind.as_deref().filter(|b| !b.trim().is_empty()) {
            Some(bind) => Some(metrics_server(bind, state.clone(), metrics.clone())?),
            None => None,
        };
        let mut server = HttpServer::new(move || {
            let config = server_state.config.clone();
            let (app, _) = App::new()
                .app_data(server_state.clone())
                .app_data(metrics.clone())
                .app_data(limiter.clone())
                .app_data(twilio_limiter.clone())
                .app_data(rtb_limiter.clone())
                .route("/metrics", web::get().to(crate::metrics::scrape))
                .app_data(json_config(config.max_body_bytes))
                .app_data(web::QueryConfig::default().error_handler(|e, _| AppError::bad_request(e.to_string()).into()))
                .app_data(
                    // A path segment that is not an id names no resource: 404, as for a route that
                    // does not exist (`/api/publishers/None` has no publisher).
                    web::PathConfig::default().error_handler(|_, _| AppError::NotFound("resource").into()),
                )
                .app_data(web::FormConfig::default().limit(config.max_body_bytes))
                .app_data(web::PayloadConfig::default().limit(config.max_body_bytes))
                .route("/api/docs", web::get().to(docs_redirect))
                .service(SwaggerUi::new("/api/docs/{_:.*}").external_url_unchecked("/api/openapi.json", doc.clone()))
                .into_utoipa_app()
                .configure(register_routes)
                .split_for_parts();
            app.configure(|cfg| crate::web_ui::configure(cfg, &config.web_dir))
                .wrap(actix_web::middleware::from_fn(crate::security::refuse_nul_in_query))
                .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(crate::routes::error::json_error_bodies))
                .wrap(metrics.http.clone())
                .wrap(crate::security::cors(&config.cors_origins))
                .wrap(crate::security::default_headers())
                .wrap(TracingLogger::default())
                // Outermost, so the request log never sees a token given in the query.
                .wrap_fn(|mut req, srv| {
                    hide_query_token(&mut req);
                    srv.call(req)
                })
        })
        .listen(listener)?
        // Signals are handled by `run_until_stopped` alone: it must close the live streams before
        // the graceful stop.
        .disable_signals()
        .shutdown_timeout(10);
        if config.workers > 0 {
            server = server.workers(config.workers);
        }
        tracing::info!(port, database = %crate::db::redact_url(&config.database_url), "listening");
        Ok(Application { port, server: server.run(), metrics_server, state, worker })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics address (`metrics_bind`), when it is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM (graceful: in-flight requests finish). Live event streams
    /// are closed and the live-events pump stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let live = self.state.live.clone();
        let handle = self.server.handle();
        let mut server = self.server;
        // Runs beside the main server and stops with it, however that one stops.
        let metrics = self.metrics_server.map(|(_, s)| {
            let handle = s.handle();
            tokio::spawn(s);
            handle
        });
        let result = tokio::select! {
            r = &mut server => r,
            () = wait_for_signal() => {
                // Streams never end by themselves: close them so the graceful stop can finish.
                live.stop();
                // The stop command is carried out by the server future itself: poll both.
                let ((), result) = tokio::join!(handle.stop(true), server);
                result
            }
        };
        live.stop();
        if let Some(m) = metrics {
            m.stop(true).await;
        }
        result
    }

    /// A handle to stop the server from a test.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// A handle to stop the background job worker (tests simulating a crash).
    pub fn worker(&self) -> tokio::task::AbortHandle {
        self.worker.abort_handle()
    }
}

fn spawn_limiter_cleanup(
    login: web::Data<crate::security::LoginLimiter>,
    twilio: web::Data<crate::security::TwilioLimiter>,
    rtb: web::Data<crate::security::RtbLimiter>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            login.shrink();
            twilio.shrink();
            rtb.shrink();
        }
    });
}

/// The metrics address: `GET /metrics` without a credential, nothing else (one worker).
fn metrics_server(
    bind: &str,
    state: web::Data<AppState>,
    metrics: web::Data<crate::metrics::Metrics>,
) -> anyhow::Result<(u16, actix_web::dev::Server)> {
    let listener = TcpListener::bind(bind).map_err(|e| anyhow::anyhow!("metrics address {bind}: {e}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .route("/metrics", web::get().to(crate::metrics::scrape_open))
            .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(AppError::NotFound("route")) }))
            .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(crate::routes::error::json_error_bodies))
    })
    .listen(listener)?
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1);
    tracing::info!(port, "metrics listening");
    Ok((port, server.run()))
}

/// Moves `?access_token=` out of the URI (into the request's extensions) before anything logs
/// the URI. Webhook URIs are left alone: Twilio signs them as they are.
fn hide_query_token(req: &mut actix_web::dev::ServiceRequest) {
    if req.path().starts_with("/api/webhooks/") {
        return;
    }
    if let Some((uri, token)) = crate::auth::take_query_token(req.uri()) {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
        if let Some(token) = token {
            req.extensions_mut().insert(crate::auth::QueryToken(token));
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("stop signal received; stopping gracefully");
}

/// Releases buyer slots whose Twilio callbacks never came, every `reaper_interval_secs`.
fn spawn_reaper(state: web::Data<AppState>) {
    let every = std::time::Duration::from_secs(state.config.routing.reaper_interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.flow.reap(chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(released = n, "reaper released slots whose callbacks never came"),
                Err(e) => tracing::warn!(error = %e, "reaper failed"),
            }
        }
    });
}

/// The interactive docs live at `/api/docs/` (its pages load their files relative to it).
async fn docs_redirect() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect().insert_header((actix_web::http::header::LOCATION, "/api/docs/")).finish()
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(move |err, _req: &HttpRequest| {
        use actix_web::error::JsonPayloadError as E;
        let e = match &err {
            E::OverflowKnownLength { .. } | E::Overflow { .. } => AppError::PayloadTooLarge { limit },
            E::ContentType => AppError::UnsupportedMediaType("expected Content-Type: application/json".into()),
            E::Deserialize(d) => AppError::BadRequest { code: "invalid_json", message: d.to_string() },
            other => AppError::bad_request(other.to_string()),
        };
        e.into()
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use actix_web::test as atest;
    use actix_web::{web, App, HttpMessage, HttpRequest, HttpResponse};
    use tracing_actix_web::TracingLogger;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn handler(req: HttpRequest) -> HttpResponse {
        tracing::warn!("inside the request");
        let token = req.extensions().get::<crate::auth::QueryToken>().map(|t| t.0.clone()).unwrap_or_default();
        HttpResponse::Ok().body(format!("{}|{}", req.uri(), token))
    }

    #[actix_web::test]
    async fn a_token_in_the_query_is_never_logged() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        // The same order as the server: the token is moved out before the logger sees the URI.
        let app = atest::init_service(
            App::new()
                .route("/api/events", web::get().to(handler))
                .route("/api/webhooks/twilio/voice", web::get().to(handler))
                .wrap(TracingLogger::default())
                .wrap_fn(|mut req, srv| {
                    hide_query_token(&mut req);
                    srv.call(req)
                }),
        )
        .await;
        let secret = "eyJ-secret-token-value.abc";
        let req = atest::TestRequest::get().uri(&format!("/api/events?a=1&access_token={secret}&b=2")).to_request();
        let body = atest::call_and_read_body(&app, req).await;
        assert_eq!(String::from_utf8_lossy(&body), format!("/api/events?a=1&b=2|{secret}"), "handler sees the token, URI is clean");
        let logs = String::from_utf8_lossy(&captured.0.lock().map(|v| v.clone()).unwrap_or_default()).into_owned();
        assert!(logs.contains("/api/events?a=1&b=2"), "the request is logged: {logs}");
        assert!(!logs.contains(secret), "the token is not: {logs}");
        // Webhook URIs are signed by Twilio as sent: left untouched.
        let req = atest::TestRequest::get().uri("/api/webhooks/twilio/voice?access_token=zzz").to_request();
        let body = atest::call_and_read_body(&app, req).await;
        assert_eq!(String::from_utf8_lossy(&body), "/api/webhooks/twilio/voice?access_token=zzz|");
    }

    #[test]
    fn query_tokens_are_taken_out() {
        let take = |s: &str| crate::auth::take_query_token(&s.parse().expect("uri")).map(|(u, t)| (u.to_string(), t));
        assert_eq!(take("/api/events?access_token=abc"), Some(("/api/events".into(), Some("abc".into()))));
        assert_eq!(take("/api/events?x=1&access_token="), Some(("/api/events?x=1".into(), None)));
        assert_eq!(take("/api/events?x=a%20b"), None, "no token: URI untouched");
        assert_eq!(take("/api/events"), None);
    }
}
