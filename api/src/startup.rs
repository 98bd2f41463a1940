//! Builds and runs the HTTP server: the app binds its own listener (port 0 in tests).
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{web, App, HttpRequest, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::{scope, service_config::ServiceConfig, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::db::{Db, PoolOptions};
use crate::error::AppError;
use crate::routes;
use crate::state::AppState;

/// Every documented route: health at the root, the API under `/api`.
pub fn register_routes(cfg: &mut ServiceConfig) {
    cfg.service(routes::health::healthz)
        .service(routes::health::readyz)
        .service(scope::scope("/api").configure(routes::configure_api));
}

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    state: web::Data<AppState>,
    worker: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Connects and migrates the database, creates the first admin, binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let pool = PoolOptions { max_connections: config.db_max_connections, ..PoolOptions::default() };
        let db = Db::connect(&config.database_url, &pool)?;
        let (db, config) = tokio::task::spawn_blocking(move || -> anyhow::Result<(Db, Config)> {
            let applied = db.migrate()?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
            crate::bootstrap::ensure_admin(&db, &config)?;
            Ok((db, config))
        })
        .await??;
        if config.twilio.insecure_skip_signature {
            tracing::warn!("!!! CALLBROKER_TWILIO_INSECURE_SKIP_SIGNATURE is on: Twilio webhook signatures are NOT checked. Development only. !!!");
        }
        let jwt = JwtKeys::new(crate::bootstrap::jwt_secret(&config)?.expose().as_bytes(), config.jwt_ttl_secs);
        let listener = TcpListener::bind(&config.bind)?;
        let port = listener.local_addr()?.port();
        let config = Arc::new(config);
        let state = web::Data::new(AppState { db, config: config.clone(), jwt });
        spawn_reaper(state.clone());
        let mut registry = crate::jobs::Registry::new();
        crate::twilio::tasks::register(&mut registry, state.clone());
        let worker = crate::jobs::spawn_worker(state.db.clone(), registry, state.config.jobs.clone());
        let doc = crate::openapi::document();
        let server_state = state.clone();
        let mut server = HttpServer::new(move || {
            let config = server_state.config.clone();
            let (app, _) = App::new()
                .app_data(server_state.clone())
                .app_data(json_config(config.max_body_bytes))
                .app_data(web::QueryConfig::default().error_handler(|e, _| AppError::bad_request(e.to_string()).into()))
                .app_data(web::PathConfig::default().error_handler(|e, _| AppError::bad_request(e.to_string()).into()))
                .app_data(web::FormConfig::default().limit(config.max_body_bytes))
                .app_data(web::PayloadConfig::default().limit(config.max_body_bytes))
                .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", doc.clone()))
                .into_utoipa_app()
                .configure(register_routes)
                .split_for_parts();
            app.configure(|cfg| crate::web_ui::configure(cfg, &config.web_dir)).wrap(TracingLogger::default())
        })
        .listen(listener)?
        .shutdown_timeout(10);
        if config.workers > 0 {
            server = server.workers(config.workers);
        }
        tracing::info!(port, database = %crate::db::redact_url(&config.database_url), "listening");
        Ok(Application { port, server: server.run(), state, worker })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM (graceful: in-flight requests finish).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
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

/// Releases buyer slots whose Twilio callbacks never came, every `reaper_interval_secs`.
fn spawn_reaper(state: web::Data<AppState>) {
    let every = std::time::Duration::from_secs(state.config.routing.reaper_interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.db.write(|c| crate::callflow::reap(c, chrono::Utc::now())).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(released = n, "reaper released slots whose callbacks never came"),
                Err(e) => tracing::warn!(error = %e, "reaper failed"),
            }
        }
    });
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
