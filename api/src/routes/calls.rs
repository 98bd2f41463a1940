use actix_web::{get, post, web};
use callbroker_wire::{Call, CallDetail, CallFilter, Page, PageParams, SimulateRequest, SimulateResponse};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store::calls as store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(get).service(simulate);
}

/// Lists calls, newest first. Publishers see only their own calls, without buyer identities.
#[utoipa::path(operation_id = "list_calls", tag = "calls", security(("bearer" = [])), params(PageParams, CallFilter),
    responses((status = 200, body = Page<Call>), AuthErrors, InputErrors))]
#[get("/calls")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<CallFilter>,
) -> Result<web::Json<Page<Call>>, AppError> {
    let scope = auth.publisher_scope();
    let (page, mut filter) = (page.into_inner(), filter.into_inner());
    let mut errors = crate::routes::FieldErrors::new();
    crate::domain::validate::optional_instant(&mut errors, "from", filter.from);
    crate::domain::validate::optional_instant(&mut errors, "to", filter.to);
    errors.into_result()?;
    if scope.is_some() {
        filter.buyer_id = None;
    }
    Ok(web::Json(state.db.read(move |c| store::list(c, &filter, &page, scope)).await?))
}

/// One call with its buyer legs and its log: every routing decision with each candidate's
/// reason, each attempt and its outcome, every status callback. Publishers get the call only.
#[utoipa::path(operation_id = "get_call", tag = "calls", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Call id")),
    responses((status = 200, body = CallDetail), AuthErrors, NotFoundError))]
#[get("/calls/{id}")]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<web::Json<CallDetail>, AppError> {
    let (id, scope) = (id.into_inner(), auth.publisher_scope());
    Ok(web::Json(state.db.read(move |c| store::detail(c, id, scope)).await?))
}

/// What would happen to a call to `number` from `caller` (in `state`, at `at`): which buyer would
/// be rung and why every other one was skipped. Changes nothing.
#[utoipa::path(operation_id = "simulate_routing", tag = "routing", security(("bearer" = [])), request_body = SimulateRequest,
    responses((status = 200, body = SimulateResponse), AuthErrors, InputErrors))]
#[post("/routing/simulate")]
pub async fn simulate(
    auth: Auth,
    state: web::Data<AppState>,
    body: super::body::Json<SimulateRequest>,
) -> Result<web::Json<SimulateResponse>, AppError> {
    auth.require_staff()?;
    let req = body.into_inner();
    let mut errors = crate::routes::FieldErrors::new();
    let number = crate::domain::validate::e164(&req.number).map_err(|e| errors.add("number", e)).unwrap_or_default();
    let caller = crate::domain::validate::e164(&req.caller).map_err(|e| errors.add("caller", e)).unwrap_or_default();
    let state_code = match req.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            crate::domain::validate::us_states(&[s.to_string()]).map_err(|e| errors.add("state", e)).ok().and_then(|v| v.into_iter().next())
        }
        None => None,
    };
    let at = crate::domain::validate::optional_instant(&mut errors, "at", req.at);
    errors.into_result()?;
    let at = at.unwrap_or_else(chrono::Utc::now);
    let ctx = state.flow.ctx.clone();
    Ok(web::Json(state.db.read(move |c| crate::callflow::simulate(c, &ctx, &number, &caller, state_code.as_deref(), at)).await?))
}
