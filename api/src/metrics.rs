//! Prometheus metrics at `GET /metrics`: request counts and latency histograms per route
//! (actix-web-prom), webhook answers, and — read from the database at scrape time — calls by
//! status over the last 24 hours, calls in progress per buyer, connection pool usage, and the
//! statements run on the database.
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use diesel::prelude::*;
use prometheus::{Encoder, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::db::schema::buyer_load;
use crate::routes::AppError;
use crate::state::AppState;

pub struct Metrics {
    pub registry: Registry,
    pub http: PrometheusMetrics,
    /// Answers given on TwiML webhooks: `webhook` = voice|dial, `answer` = dial|say_hangup|hangup|unavailable.
    pub webhook_answers: IntCounterVec,
    calls_by_status: IntGaugeVec,
    buyer_in_progress: IntGaugeVec,
    pool: IntGaugeVec,
}

impl Metrics {
    /// `db_statements`: the database's statement counter ([`crate::db::Db::statements_counter`]).
    pub fn new(db_statements: prometheus::IntCounter) -> anyhow::Result<Metrics> {
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
        registry.register(Box::new(db_statements))?;
        Ok(Metrics { registry, http, webhook_answers, calls_by_status, buyer_in_progress, pool })
    }
}

/// The Prometheus text exposition.
pub async fn scrape(req: HttpRequest, state: web::Data<AppState>, metrics: web::Data<Metrics>) -> Result<HttpResponse, AppError> {
    if let Some(token) = state.config.metrics_token.as_ref().filter(|t| !t.is_empty()) {
        let given = req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let ok = given.is_some_and(|g| subtle::ConstantTimeEq::ct_eq(g.as_bytes(), token.expose().as_bytes()).into());
        if !ok {
            return Err(AppError::Unauthorized("metrics token required".into()));
        }
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
    let pool = state.db.pool_state();
    metrics.pool.with_label_values(&["open"]).set(i64::from(pool.connections));
    metrics.pool.with_label_values(&["idle"]).set(i64::from(pool.idle_connections));
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&metrics.registry.gather(), &mut out)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("encoding metrics: {e}")))?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(out))
}
