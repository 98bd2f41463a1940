//! The publishers' ping API (Callbroker as the seller): a quote before a publisher transfers a
//! caller, and the publisher's recent quotes.
use actix_web::{get, post, web, HttpResponse};
use callbroker_wire::bidding::{RtbPingRequest, RtbQuote, RtbQuoteRecord};
use rand::Rng;

use super::{AuthErrors, InputErrors};
use crate::auth::Auth;
use crate::callflow::quote::{self, Ask, Step};
use crate::routes::{AppError, FieldErrors};
use crate::security::RtbLimiter;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(ping).service(recent);
}

/// Answered when the key's pings per minute are spent.
#[allow(dead_code)]
#[derive(utoipa::IntoResponses)]
pub enum RateLimited {
    /// Too many pings: wait `Retry-After` seconds.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait")))]
    TooManyRequests(callbroker_wire::ErrorBody),
}

/// Asks whether a call from `caller` would be bought now (publishers only, with their API key
/// or session). Runs the campaign's screening, tag rules and buyers' eligibility and pings its
/// bidders, reserving nothing. Accepted: the payout for a call from the caller to `number`
/// before `expires_at`, paid when it lasts `min_duration_secs`; a call that comes in time is
/// matched to the quote (payout as quoted; routing still checks capacity then). Refused: a
/// stable `reason` (`no_capacity`, `blocked`, `duplicate`, `filtered`, `no_bid`, `closed`).
/// The same caller pinged again before expiry gets the same quote. Limited per key
/// (`CALLBROKER_RTB_PINGS_PER_MINUTE`, 429 with `Retry-After`).
#[utoipa::path(operation_id = "rtb_ping", tag = "rtb", security(("bearer" = [])), request_body = RtbPingRequest,
    responses(
        (status = 200, body = RtbQuote, examples(
            ("accepted" = (value = json!({"ping_id": "rtb_8f2c1d0a9b7e4c3f", "accepted": true, "payout": 12.5, "payout_micros": 12_500_000,
                "currency": "USD", "number": "+17175550100", "expires_at": "2026-12-05T15:01:00Z", "min_duration_secs": 90}))),
            ("refused" = (value = json!({"ping_id": "rtb_0c9d8e7f6a5b4c3d", "accepted": false, "reason": "no_capacity", "currency": "USD",
                "expires_at": "2026-12-05T15:01:00Z"}))),
        )),
        AuthErrors, InputErrors, RateLimited))]
#[post("/rtb/ping")]
pub async fn ping(
    auth: Auth,
    state: web::Data<AppState>,
    limiter: web::Data<RtbLimiter>,
    body: super::body::Json<RtbPingRequest>,
) -> Result<web::Json<RtbQuote>, AppError> {
    let Some(publisher_id) = auth.publisher_scope() else { return Err(AppError::forbidden()) };
    limiter.check(&auth)?;
    let r = body.into_inner();
    let mut errors = FieldErrors::new();
    if r.campaign_id < 1 {
        errors.add("campaign_id", "must be a positive id");
    }
    let caller = crate::domain::validate::e164(&r.caller).map_err(|e| errors.add("caller", e)).unwrap_or_default();
    let state_code = match r.state.as_deref().map(crate::domain::validate::optional_us_state).transpose() {
        Ok(s) => s.flatten(),
        Err(e) => {
            errors.add("state", e);
            None
        }
    };
    let zip = crate::domain::validate::optional_text(r.zip.as_deref(), 200).map_err(|e| errors.add("zip", e)).unwrap_or_default();
    for (name, value) in r.tags.iter().flatten() {
        if !crate::routing::tags::valid_name(name) || !crate::routing::tags::valid_value(value) {
            errors.add(
                format!("tags.{name}"),
                "a tag name of 1 to 64 letters, digits, `_`, `-` or `.`, and a value of at most 200 characters",
            );
        }
    }
    errors.into_result()?;
    let ask = Ask {
        publisher_id,
        campaign_id: r.campaign_id,
        caller,
        state: state_code,
        zip,
        tags: r.tags.unwrap_or_default().into_iter().collect(),
        ping_id: format!("rtb_{:016x}", rand::thread_rng().gen::<u64>()),
        at: chrono::Utc::now(),
    };
    let ctx = state.flow.ctx.clone();
    let first = {
        let (ask, ctx) = (ask.clone(), ctx.clone());
        state.db.read(move |c| quote::decide(c, &ctx, &ask, None)).await?
    };
    let step = match first {
        Step::Ping(job) => {
            let pinged: std::sync::Arc<[crate::bidding::Pinged]> =
                state.flow.bidding.ping_all(&job.bidders, &job.facts, job.floor_micros, job.budget).await.into();
            let ask = ask.clone();
            state.db.read(move |c| quote::decide(c, &ctx, &ask, Some(&pinged))).await?
        }
        other => other,
    };
    match step {
        Step::Held(q) => Ok(web::Json(q)),
        Step::Quote(row, pings, number) => Ok(web::Json(state.db.write(move |c| quote::keep(c, &row, &pings, number.clone())).await?)),
        Step::Ping(_) => Err(AppError::Internal(anyhow::anyhow!("bidders asked for twice"))),
    }
}

/// The caller's latest 100 quotes, newest first, each with the call that came for it (publishers
/// only).
#[utoipa::path(operation_id = "list_rtb_quotes", tag = "rtb", security(("bearer" = [])),
    responses((status = 200, body = Vec<RtbQuoteRecord>), AuthErrors))]
#[get("/rtb/quotes")]
pub async fn recent(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let Some(publisher_id) = auth.publisher_scope() else { return Err(AppError::forbidden()) };
    let rows = state.db.read(move |c| crate::store::quotes::recent(c, publisher_id, 100)).await?;
    Ok(HttpResponse::Ok().json(rows))
}
