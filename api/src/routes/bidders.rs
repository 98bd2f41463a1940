//! A campaign's external bidders (staff), their test ping, and their figures.
use actix_web::{delete, get, patch, post, web, HttpResponse};
use callbroker_wire::bidding::{
    Bidder, BidderFilter, BidderPatch, BidderStats, BidderStatsQuery, NewBidder, TestPingRequest, TestPingResult,
};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::routes::{AppError, FieldErrors};
use crate::routing::bids::PingFacts;
use crate::state::AppState;
use crate::store::bidders::{self as store, BidderValues};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(stats).service(list).service(create).service(get).service(update).service(remove).service(test_ping);
}

/// Lists bidders (staff only), of one campaign or all, in id order.
#[utoipa::path(operation_id = "list_bidders", tag = "bidders", security(("bearer" = [])), params(BidderFilter),
    responses((status = 200, body = Vec<Bidder>), AuthErrors, InputErrors))]
#[get("/bidders")]
pub async fn list(auth: Auth, state: web::Data<AppState>, req: actix_web::HttpRequest) -> Result<web::Json<Vec<Bidder>>, AppError> {
    auth.require_staff()?;
    let f = web::Query::<BidderFilter>::from_query(req.query_string()).map_err(|e| AppError::bad_request(e.to_string()))?;
    if f.campaign_id.is_some_and(|c| c < 1) {
        return Err(crate::error::Error::field("campaign_id", "must be a positive id").into());
    }
    let keys = state.secrets.clone();
    let campaign = f.campaign_id;
    Ok(web::Json(state.db.read(move |c| store::list(c, campaign, &keys)).await?))
}

/// Adds a bidder to a campaign. Header values are stored sealed and shown masked.
#[utoipa::path(operation_id = "create_bidder", tag = "bidders", security(("bearer" = [])), request_body = NewBidder,
    responses((status = 201, body = Bidder), AuthErrors, InputErrors))]
#[post("/bidders")]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: super::body::Json<NewBidder>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let values = BidderValues::from_new(&body).validate(&state.outbound_allow)?;
    let keys = state.secrets.clone();
    let created = state.db.write(move |c| store::create(c, &values, &keys)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// One bidder.
#[utoipa::path(operation_id = "get_bidder", tag = "bidders", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Bidder id")),
    responses((status = 200, body = Bidder), AuthErrors, NotFoundError))]
#[get("/bidders/{id}")]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<web::Json<Bidder>, AppError> {
    auth.require_staff()?;
    let (id, keys) = (id.into_inner(), state.secrets.clone());
    Ok(web::Json(state.db.read(move |c| store::get_row(c, id)?.into_wire(&keys)).await?))
}

/// Changes a bidder; absent fields are left alone (in `headers`, a value sets the header and
/// `null` removes it).
#[utoipa::path(operation_id = "update_bidder", tag = "bidders", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Bidder id")),
    request_body = BidderPatch, responses((status = 200, body = Bidder), AuthErrors, NotFoundError, InputErrors))]
#[patch("/bidders/{id}")]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: super::body::Json<BidderPatch>,
) -> Result<web::Json<Bidder>, AppError> {
    auth.require_writer()?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    let (keys, allow) = (state.secrets.clone(), state.outbound_allow.clone());
    Ok(web::Json(
        state
            .db
            .write(move |c| {
                let row = store::get_row(c, id)?;
                let values = BidderValues::merge(&row, &patch, &keys)?.validate(&allow)?;
                store::update(c, id, &values, &keys)
            })
            .await?,
    ))
}

/// Removes a bidder (its pings stay on the calls, with its name).
#[utoipa::path(operation_id = "delete_bidder", tag = "bidders", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Bidder id")),
    responses((status = 204, description = "Deleted"), AuthErrors, NotFoundError, InputErrors))]
#[delete("/bidders/{id}")]
pub async fn remove(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let id = id.into_inner();
    state.db.write(move |c| store::delete(c, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends the bidder a ping for a made-up call (sample values where the body gives none) and
/// shows what was sent (header values masked), what came back and the bid read from it. Nothing
/// is stored. The campaign's floor does not apply.
#[utoipa::path(operation_id = "test_bidder", tag = "bidders", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Bidder id")),
    request_body = TestPingRequest, responses((status = 200, body = TestPingResult), AuthErrors, NotFoundError, InputErrors))]
#[post("/bidders/{id}/test")]
pub async fn test_ping(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: super::body::Json<TestPingRequest>,
) -> Result<web::Json<TestPingResult>, AppError> {
    auth.require_writer()?;
    let (id, r) = (id.into_inner(), body.into_inner());
    let mut facts = PingFacts::sample();
    let mut errors = FieldErrors::new();
    if let Some(caller) = r.caller.as_deref() {
        match crate::domain::validate::contact_phone(caller) {
            Ok(c) => facts.caller = c.unwrap_or(facts.caller),
            Err(e) => errors.add("caller", e),
        }
    }
    if let Some(state_code) = r.state.as_deref() {
        match crate::domain::validate::optional_us_state(state_code) {
            Ok(s) => facts.state = s.or(facts.state),
            Err(e) => errors.add("state", e),
        }
    }
    if let Some(zip) = r.zip.as_deref().map(str::trim).filter(|z| !z.is_empty()) {
        if zip.chars().count() > 200 || zip.contains('\0') {
            errors.add("zip", "at most 200 characters");
        }
        facts.zip = Some(zip.to_string());
    }
    for (name, value) in r.tags.iter().flatten() {
        if !crate::routing::tags::valid_name(name) || !crate::routing::tags::valid_value(value) {
            errors.add(
                format!("tags.{name}"),
                "a tag name of 1 to 64 letters, digits, `_`, `-` or `.`, and a value of at most 200 characters",
            );
        }
        facts.tags.insert(name.clone(), value.clone());
    }
    errors.into_result()?;
    let bidder = state.db.read(move |c| store::get_row(c, id)).await?;
    facts.campaign_id = bidder.campaign_id;
    Ok(web::Json(state.flow.bidding.test(&bidder, &facts).await))
}

/// Each bidder's pings, bids, wins, win rate, average and total bid, timeouts and revenue over a
/// range (staff only). Counted from the pings (calls' and publishers' quotes') and the calls.
#[utoipa::path(operation_id = "get_analytics_bidders", tag = "analytics", security(("bearer" = [])), params(BidderStatsQuery),
    responses((status = 200, body = Vec<BidderStats>), AuthErrors, InputErrors))]
#[get("/analytics/bidders")]
pub async fn stats(auth: Auth, state: web::Data<AppState>, req: actix_web::HttpRequest) -> Result<web::Json<Vec<BidderStats>>, AppError> {
    auth.require_staff()?;
    let q = web::Query::<BidderStatsQuery>::from_query(req.query_string()).map_err(|e| AppError::bad_request(e.to_string()))?;
    let mut errors = FieldErrors::new();
    if q.campaign_id.is_some_and(|c| c < 1) {
        errors.add("campaign_id", "must be a positive id");
    }
    let (from, to) = crate::analytics::range(&mut errors, q.from, q.to, chrono::Utc::now(), chrono::Duration::days(7));
    errors.into_result()?;
    let campaign = q.campaign_id;
    Ok(web::Json(state.db.read(move |c| store::stats(c, campaign, from.naive_utc(), to.naive_utc())).await?))
}
