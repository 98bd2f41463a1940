//! Analytics, publisher reports and the money recompute.
use actix_web::{get, post, web, HttpResponse};
use bytes::Bytes;
use callbroker_wire::{
    AnalyticsQuery, IvrFunnel, IvrFunnelQuery, Page, PageParams, RecomputeRequest, RecomputeResult, ReportFormat, ReportQuery, ReportRow,
    Summary, Timeseries,
};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::analytics::{self, Query};
use crate::auth::Auth;
use crate::routes::{AppError, FieldErrors};
use crate::state::AppState;
use crate::store::reports;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(summary).service(timeseries).service(ivr_funnel).service(recompute).service(report);
}

/// Totals over settled calls in a range, optionally per campaign, buyer, publisher or number.
/// Publishers get their own calls only, without revenue, cost, profit or buyer figures
/// (grouping or filtering by buyer is refused to them).
#[utoipa::path(operation_id = "get_analytics_summary", tag = "analytics", security(("bearer" = [])), params(AnalyticsQuery),
    responses((status = 200, body = Summary), AuthErrors, InputErrors))]
#[get("/analytics/summary")]
pub async fn summary(auth: Auth, state: web::Data<AppState>, q: web::Query<AnalyticsQuery>) -> Result<web::Json<Summary>, AppError> {
    let q = Query::parse(&q, auth.publisher_scope(), chrono::Utc::now())?;
    Ok(web::Json(state.db.read(move |c| analytics::summary(c, &q)).await?))
}

/// The same figures per hour, day or week in a time zone. Buckets without calls are omitted.
#[utoipa::path(operation_id = "get_analytics_timeseries", tag = "analytics", security(("bearer" = [])), params(AnalyticsQuery),
    responses((status = 200, body = Timeseries), AuthErrors, InputErrors))]
#[get("/analytics/timeseries")]
pub async fn timeseries(auth: Auth, state: web::Data<AppState>, q: web::Query<AnalyticsQuery>) -> Result<web::Json<Timeseries>, AppError> {
    let q = Query::parse(&q, auth.publisher_scope(), chrono::Utc::now())?;
    Ok(web::Json(state.db.read(move |c| analytics::timeseries(c, &q)).await?))
}

/// A campaign's IVR drop-off (staff only): calls that entered the IVR, how they left it, and
/// per question how many heard it and hung up, were ended, failed or are still on it there.
/// Counted from the calls started in the range.
#[utoipa::path(operation_id = "get_analytics_ivr", tag = "analytics", security(("bearer" = [])), params(IvrFunnelQuery),
    responses((status = 200, body = IvrFunnel), AuthErrors, InputErrors))]
#[get("/analytics/ivr")]
pub async fn ivr_funnel(auth: Auth, state: web::Data<AppState>, req: actix_web::HttpRequest) -> Result<web::Json<IvrFunnel>, AppError> {
    auth.require_staff()?;
    // Read after the role check, so a publisher is refused whatever its parameters.
    let q = web::Query::<IvrFunnelQuery>::from_query(req.query_string()).map_err(|e| AppError::bad_request(e.to_string()))?;
    let mut errors = FieldErrors::new();
    if q.campaign_id < 1 {
        errors.add("campaign_id", "must be a positive id");
    }
    let (from, to) = analytics::range(&mut errors, q.from, q.to, chrono::Utc::now(), chrono::Duration::days(7));
    errors.into_result()?;
    let campaign = q.campaign_id;
    Ok(web::Json(state.db.read(move |c| crate::store::calls::reports::ivr_funnel(c, campaign, from.naive_utc(), to.naive_utc())).await?))
}

/// Re-applies the campaigns' current money rules to the settled calls started in the range
/// (admins only). Without it, rule changes apply only to calls settled afterwards.
#[utoipa::path(operation_id = "recompute_money", tag = "analytics", security(("bearer" = [])), request_body = RecomputeRequest,
    responses((status = 200, body = RecomputeResult), AuthErrors, InputErrors))]
#[post("/money/recompute")]
pub async fn recompute(
    auth: Auth,
    state: web::Data<AppState>,
    body: super::body::Json<RecomputeRequest>,
) -> Result<web::Json<RecomputeResult>, AppError> {
    auth.require_admin()?;
    let req = body.into_inner();
    let mut errors = FieldErrors::new();
    let (from, to) = analytics::range(&mut errors, Some(req.from), Some(req.to), chrono::Utc::now(), chrono::Duration::zero());
    if to.signed_duration_since(from) > chrono::Duration::days(analytics::MAX_RANGE_DAYS) {
        errors.add("to", format!("the range may span at most {} days", analytics::MAX_RANGE_DAYS));
    }
    errors.into_result()?;
    let (from, to) = (from.naive_utc(), to.naive_utc());
    let n = state.flow.recompute(from, to).await?;
    Ok(web::Json(RecomputeResult { calls: i64::try_from(n).unwrap_or(i64::MAX) }))
}

/// A publisher's attribution report over a range (default: the last 30 days): JSON, paged; or
/// with `format=csv`, every row streamed as `text/csv` in constant memory. Publisher users and
/// keys get only their own; the report never names buyers or revenue.
#[utoipa::path(operation_id = "get_publisher_report", tag = "publishers", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Publisher id"), ReportQuery, PageParams),
    responses((status = 200, description = "JSON page; every row as `text/csv` with `format=csv`",
        content((Page<ReportRow> = "application/json"), (String = "text/csv"))), AuthErrors, InputErrors, NotFoundError))]
#[get("/publishers/{id}/report")]
pub async fn report(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<ReportQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    if let Some(own) = auth.publisher_scope() {
        if own != id {
            return Err(AppError::forbidden());
        }
    }
    let q = q.into_inner();
    let mut errors = FieldErrors::new();
    let (from, to) = analytics::range(&mut errors, q.from, q.to, chrono::Utc::now(), chrono::Duration::days(30));
    errors.into_result()?;
    let exists = state.db.read(move |c| crate::store::publishers::find(c, id).map(|p| p.is_some())).await?;
    if !exists {
        return Err(AppError::NotFound("publisher"));
    }
    let (from, to) = (from.naive_utc(), to.naive_utc());
    if q.format.unwrap_or_default() == ReportFormat::Json {
        let page = page.into_inner();
        let body = state.db.read(move |c| reports::page_of(c, id, from, to, &page)).await?;
        return Ok(HttpResponse::Ok().json(body));
    }
    let stream = csv_stream(state.db.clone(), id, from, to);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"publisher-{id}-report.csv\"")))
        .streaming(stream))
}

/// The CSV report as a stream of chunks: the header, then one chunk per keyset batch of at most
/// `CSV_BATCH` rows, each read from the database only when the previous chunk has been taken.
pub fn csv_stream(
    db: crate::db::Db,
    id: i64,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> impl futures_util::Stream<Item = Result<Bytes, AppError>> {
    // State: None when done, Some(None) before the first batch, Some(Some(cursor)) after one.
    futures_util::stream::unfold(Some(None::<(chrono::NaiveDateTime, i64)>), move |state| {
        let db = db.clone();
        async move {
            let after = state?;
            let mut chunk = if after.is_none() { String::from(reports::CSV_HEADER) } else { String::new() };
            let rows = match db.read(move |c| reports::batch(c, id, from, to, after)).await {
                Ok(r) => r,
                Err(e) => return Some((Err(AppError::from(e)), None)),
            };
            let next = if i64::try_from(rows.len()).is_ok_and(|n| n < reports::CSV_BATCH) {
                None
            } else {
                rows.last().map(|r| Some((r.started_at.naive_utc(), r.call_id)))
            };
            for r in &rows {
                reports::csv_line(r, &mut chunk);
            }
            if chunk.is_empty() {
                return None;
            }
            Some((Ok::<Bytes, AppError>(Bytes::from(chunk)), next))
        }
    })
}
