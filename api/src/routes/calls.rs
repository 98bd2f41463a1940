use actix_web::{get, post, web};
use callbroker_wire::rules;
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
/// `tag` conditions (repeatable, all must hold): `tag=FromState:CA` (the tag equals the value),
/// `tag=AreaCode` (the call has the tag).
#[utoipa::path(operation_id = "list_calls", tag = "calls", security(("bearer" = [])), params(PageParams, CallFilter),
    responses((status = 200, body = Page<Call>), AuthErrors, InputErrors))]
#[get("/calls")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    req: actix_web::HttpRequest,
) -> Result<web::Json<Page<Call>>, AppError> {
    let scope = auth.publisher_scope();
    refuse_empty_typed_parameters(req.query_string())?;
    // `tag` may be repeated: read with a parser that collects repeated keys.
    let mut filter: CallFilter = serde_html_form::from_str(req.query_string()).map_err(|e| AppError::bad_request(format!("query: {e}")))?;
    let page = page.into_inner();
    let mut errors = crate::routes::FieldErrors::new();
    crate::domain::validate::optional_instant(&mut errors, "from", filter.from);
    crate::domain::validate::optional_instant(&mut errors, "to", filter.to);
    if filter.tag.len() > MAX_TAG_CONDITIONS {
        errors.add("tag", format!("at most {MAX_TAG_CONDITIONS} tag conditions"));
    }
    for t in &filter.tag {
        if let Err(e) = store::query::TagCondition::parse(t) {
            errors.add("tag", e);
        }
    }
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

/// The calls list's parameters that are not text (ids, instants, enums).
const TYPED_PARAMETERS: [&str; 7] = ["campaign_id", "buyer_id", "publisher_id", "from", "to", "blocked_by", "ivr_outcome"];

/// Refuses `campaign_id=` and the like with 400, as the document's types do: `serde_html_form`
/// reads an empty value as an absent one.
fn refuse_empty_typed_parameters(query: &str) -> Result<(), AppError> {
    match url::form_urlencoded::parse(query.as_bytes()).find(|(k, v)| v.is_empty() && TYPED_PARAMETERS.contains(&k.as_ref())) {
        Some((k, _)) => Err(AppError::bad_request(format!("query: {k} must not be empty"))),
        None => Ok(()),
    }
}

/// Most `tag=` conditions one list takes.
const MAX_TAG_CONDITIONS: usize = rules::TagConditions::MAX_ITEMS;

/// Most tags a simulated call takes.
const MAX_SIMULATED_TAGS: usize = rules::SimulatedTags::MAX_ITEMS;
/// At most this many IVR answers in a simulated call.
const MAX_SIMULATED_IVR_ANSWERS: usize = rules::SimulatedAnswers::MAX_ITEMS;

/// A simulated call's `StirVerstat` ([`rules::StirVerstat`]): at most 200 characters as sent, no
/// control characters once trimmed; blank is none.
pub(crate) fn stir_verstat(v: &str) -> Result<Option<String>, String> {
    if v.chars().count() > rules::StirVerstat::MAX_CHARS || v.trim().chars().any(char::is_control) {
        return Err("must be at most 200 characters, without control characters".into());
    }
    Ok(Some(v.trim().to_string()).filter(|v| !v.is_empty()))
}

/// A simulated caller ([`rules::SimulatedCaller`]): an E.164 number, or the text Twilio sends for
/// a withheld number (`Anonymous`, 1 to 32 characters without `+` or control characters).
pub(crate) fn simulated_caller(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.starts_with('+') {
        return crate::domain::validate::e164(t);
    }
    if t.is_empty() || t.chars().count() > 32 || t.chars().any(char::is_control) {
        return Err("must be an E.164 number such as +14155550100, or what Twilio sends for a withheld number, such as Anonymous".into());
    }
    Ok(t.to_string())
}

/// What would happen to a call to `number` from `caller` (in `state`, with `stir_verstat` and
/// `tags`, at `at`): whether screening would block it and by which rule, else which buyer would
/// be rung and why every other one was skipped (tag rules included). Changes nothing.
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
    let caller = simulated_caller(&req.caller).map_err(|e| errors.add("caller", e)).unwrap_or_default();
    let state_code = req
        .state
        .as_deref()
        .map(crate::domain::validate::optional_us_state)
        .transpose()
        .map_err(|e| errors.add("state", e))
        .ok()
        .flatten()
        .flatten();
    let at = crate::domain::validate::optional_instant(&mut errors, "at", req.at);
    let stir_verstat =
        req.stir_verstat.as_deref().map(stir_verstat).transpose().map_err(|e| errors.add("stir_verstat", e)).ok().flatten().flatten();
    if req.tags.len() > MAX_SIMULATED_TAGS {
        errors.add("tags", format!("at most {MAX_SIMULATED_TAGS} tags"));
    }
    for (name, value) in &req.tags {
        if !crate::routing::tags::valid_name(name) {
            errors.add(format!("tags.{name}"), "a tag name is 1 to 64 letters, digits, '_', '-' or '.'");
        } else if !crate::routing::tags::valid_value(value) {
            errors.add(format!("tags.{name}"), "must be at most 200 characters, without control characters");
        }
    }
    if req.ivr_answers.len() > MAX_SIMULATED_IVR_ANSWERS {
        errors.add("ivr_answers", format!("at most {MAX_SIMULATED_IVR_ANSWERS} answers"));
    }
    for (i, answer) in req.ivr_answers.iter().enumerate() {
        if !crate::routing::tags::valid_value(answer) {
            errors.add(format!("ivr_answers[{i}]"), "must be at most 200 characters, without control characters");
        }
    }
    errors.into_result()?;
    let hypothetical = crate::callflow::simulate::Hypothetical {
        number,
        caller,
        from_state: state_code,
        stir_verstat,
        tags: req.tags,
        ivr_answers: req.ivr_answers,
        explore_draw: if req.explore { 0 } else { 99 },
        at: at.unwrap_or_else(chrono::Utc::now),
    };
    let ctx = state.flow.ctx.clone();
    Ok(web::Json(state.db.read(move |c| crate::callflow::simulate(c, &ctx, &hypothetical)).await?))
}

#[cfg(test)]
mod tests {
    use super::refuse_empty_typed_parameters;

    #[test]
    fn empty_values_of_typed_parameters_are_refused() {
        for q in ["ivr_outcome=", "campaign_id=&page=1", "status=x&from=", "blocked%5Fby="] {
            assert!(refuse_empty_typed_parameters(q).is_err(), "{q}");
        }
        for q in ["", "status=&outcome=&q=", "ivr_outcome=abandoned&campaign_id=3", "tag=FromState:CA"] {
            assert!(refuse_empty_typed_parameters(q).is_ok(), "{q}");
        }
    }
}
