//! Prometheus metrics at `GET /metrics`: request counts and latency histograms per route
//! (actix-web-prom), webhook answers, connection pool usage and the statements run on the
//! database (counted in process), and — read from the database at most once per
//! `metrics_refresh_secs`, however often it is scraped — calls by status over the last 24 hours
//! and calls in progress per buyer.
//!
//! On the public address a scrape needs `CALLBROKER_METRICS_TOKEN` as a bearer token, or an
//! admin's credential; `CALLBROKER_METRICS_BIND` serves it without either on a second address
//! (e.g. loopback, for a Prometheus on the same host or network).
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use callbroker_wire::Role;
use diesel::prelude::*;
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::db::schema::buyer_load;
use crate::routes::AppError;
use crate::state::AppState;

pub struct Metrics {
    pub registry: Registry,
    pub http: PrometheusMetrics,
    /// Answers given on TwiML webhooks: `webhook` = voice|dial, `answer` = `dial|say_hangup|hangup|unavailable`.
    pub webhook_answers: IntCounterVec,
    calls_by_status: IntGaugeVec,
    buyer_in_progress: IntGaugeVec,
    pool: IntGaugeVec,
    /// Reads of the database figures (one per `refresh` at most).
    refreshes: IntCounter,
    /// When the database figures were last read; held while they are read, so scrapes arriving
    /// together wait for one read instead of each running its own.
    read_at: tokio::sync::Mutex<Option<Instant>>,
    refresh: Duration,
}

impl Metrics {
    /// `db_statements`: the database's statement counter ([`crate::db::Db::statements_counter`]).
    /// `refresh`: longest time the figures read from the database are reused.
    pub fn new(db_statements: prometheus::IntCounter, refresh: Duration) -> anyhow::Result<Metrics> {
        let registry = Registry::new_custom(Some("callbroker".into()), None)?;
        let http = PrometheusMetricsBuilder::new("")
            .registry(registry.clone())
            .exclude("/metrics")
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let webhook_answers =
            IntCounterVec::new(Opts::new("webhook_answers_total", "TwiML answers by webhook and kind"), &["webhook", "answer"])?;
        let calls_by_status = IntGaugeVec::new(
            Opts::new("calls_last_24h", "Calls started in the last 24 hours, by status and outcome"),
            &["status", "outcome"],
        )?;
        let buyer_in_progress = IntGaugeVec::new(Opts::new("buyer_calls_in_progress", "Slots held per buyer"), &["buyer_id"])?;
        let pool = IntGaugeVec::new(Opts::new("db_pool_connections", "Database pool connections by state"), &["state"])?;
        registry.register(Box::new(webhook_answers.clone()))?;
        registry.register(Box::new(calls_by_status.clone()))?;
        registry.register(Box::new(buyer_in_progress.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        let refreshes = IntCounter::new("metrics_refreshes_total", "Reads of the database figures of the metrics")?;
        registry.register(Box::new(db_statements))?;
        registry.register(Box::new(refreshes.clone()))?;
        Ok(Metrics {
            registry,
            http,
            webhook_answers,
            calls_by_status,
            buyer_in_progress,
            pool,
            refreshes,
            read_at: tokio::sync::Mutex::new(None),
            refresh,
        })
    }
}

/// The Prometheus text exposition on the public address: for the metrics token
/// (`Authorization: Bearer <CALLBROKER_METRICS_TOKEN>`) or an admin's token or API key.
pub async fn scrape(req: HttpRequest, state: web::Data<AppState>, metrics: web::Data<Metrics>) -> Result<HttpResponse, AppError> {
    let given = crate::auth::bearer(&req);
    let token = state.config.metrics_token.as_ref().filter(|t| !t.is_empty());
    let is_token = match (&given, token) {
        (Some(g), Some(t)) => bool::from(subtle::ConstantTimeEq::ct_eq(g.as_bytes(), t.expose().as_bytes())),
        _ => false,
    };
    if !is_token {
        if given.is_none() {
            return Err(AppError::Unauthorized(
                "metrics need the metrics token (CALLBROKER_METRICS_TOKEN) or an admin's credential".into(),
            ));
        }
        let auth = crate::auth::authenticate(&state, given).await?;
        if auth.role != Role::Admin {
            return Err(AppError::forbidden());
        }
    }
    exposition(&state, &metrics).await
}

/// The Prometheus text exposition on the metrics address (`CALLBROKER_METRICS_BIND`): no
/// credential, that address is for the monitoring network alone.
pub async fn scrape_open(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> Result<HttpResponse, AppError> {
    exposition(&state, &metrics).await
}

async fn exposition(state: &AppState, metrics: &Metrics) -> Result<HttpResponse, AppError> {
    refresh_db_figures(state, metrics).await?;
    let pool = state.db.pool_state();
    metrics.pool.with_label_values(&["open"]).set(i64::from(pool.connections));
    metrics.pool.with_label_values(&["idle"]).set(i64::from(pool.idle_connections));
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&metrics.registry.gather(), &mut out)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("encoding metrics: {e}")))?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(out))
}

/// Reads calls by status over the last 24 hours and the buyers' slots, unless they were read
/// less than `refresh` ago.
async fn refresh_db_figures(state: &AppState, metrics: &Metrics) -> Result<(), AppError> {
    let mut read_at = metrics.read_at.lock().await;
    if read_at.is_some_and(|t| t.elapsed() < metrics.refresh) {
        return Ok(());
    }
    let since = crate::db::now() - chrono::Duration::hours(24);
    let (by_status, load) = state
        .db
        .read(move |c| {
            let by_status = crate::store::calls::query::count_by_status_since(c, since)?;
            let load: Vec<(i64, i32)> = buyer_load::table.select((buyer_load::buyer_id, buyer_load::in_progress)).load(c)?;
            Ok((by_status, load))
        })
        .await?;
    metrics.calls_by_status.reset();
    for (status, outcome, n) in by_status {
        metrics.calls_by_status.with_label_values(&[status.as_str(), outcome.as_str()]).set(n);
    }
    metrics.buyer_in_progress.reset();
    for (buyer, n) in load {
        metrics.buyer_in_progress.with_label_values(&[buyer.to_string().as_str()]).set(i64::from(n));
    }
    metrics.refreshes.inc();
    *read_at = Some(Instant::now());
    Ok(())
}
