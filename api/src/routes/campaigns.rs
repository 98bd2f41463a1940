use actix_web::{delete, get, patch, post, web, HttpResponse};
use callbroker_wire::{Campaign, CampaignFilter, CampaignPatch, IvrPreview, IvrPreviewRequest, NewCampaign, Page, PageParams};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store::campaigns::{self as store, CampaignInput};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(create).service(ivr_preview).service(get).service(update).service(remove);
}

/// Lists campaigns (staff only).
#[utoipa::path(operation_id = "list_campaigns", tag = "campaigns", security(("bearer" = [])), params(PageParams, CampaignFilter),
    responses((status = 200, body = Page<Campaign>), AuthErrors, InputErrors))]
#[get("/campaigns")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<CampaignFilter>,
) -> Result<web::Json<Page<Campaign>>, AppError> {
    auth.require_staff()?;
    let (page, filter) = (page.into_inner(), filter.into_inner());
    Ok(web::Json(state.db.read(move |c| store::list(c, &filter, &page)).await?))
}

/// Creates a campaign, optionally with its buyer assignments.
#[utoipa::path(operation_id = "create_campaign", tag = "campaigns", security(("bearer" = [])), request_body = NewCampaign,
    responses((status = 201, body = Campaign), AuthErrors, InputErrors))]
#[post("/campaigns")]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: super::body::Json<NewCampaign>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let input = CampaignInput::from_new(&body)?;
    let created = state.db.write(move |c| store::create(c, input.clone())).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The TwiML a campaign's IVR answers (nothing is saved): each question as first asked (the
/// first after `greeting`), and the first question asked again after silence. The call's id in
/// the `<Gather>` action reads `{call_id}`.
#[utoipa::path(operation_id = "preview_campaign_ivr", tag = "campaigns", security(("bearer" = [])), request_body = IvrPreviewRequest,
    responses((status = 200, body = IvrPreview), AuthErrors, InputErrors))]
#[post("/campaigns/ivr/preview")]
pub async fn ivr_preview(
    auth: Auth,
    state: web::Data<AppState>,
    body: super::body::Json<IvrPreviewRequest>,
) -> Result<web::Json<IvrPreview>, AppError> {
    auth.require_staff()?;
    let req = body.into_inner();
    let mut errors = crate::error::FieldErrors::new();
    for (field, problem) in crate::routing::ivr::check(&req.ivr) {
        errors.add(field, problem);
    }
    if let Some(g) = req.greeting.as_deref() {
        if let Err(e) = crate::domain::validate::message(g) {
            errors.add("greeting", e);
        }
    }
    errors.into_result()?;
    let base = state.config.public_url.trim_end_matches('/');
    let render = |question: usize, attempt: u32, before: Option<String>| {
        let ask = crate::callflow::ivr::Ask {
            call_id: 0,
            question: u32::try_from(question).unwrap_or(u32::MAX),
            attempt,
            before,
            q: req.ivr.questions[question].clone(),
        };
        let xml = super::webhooks::ivr_twiml(&ask, base).to_xml();
        let calls = format!("{base}{}/", super::webhooks::CALLS_PATH);
        xml.replace(&format!("{calls}0/"), &format!("{calls}{{call_id}}/"))
    };
    let questions =
        (0..req.ivr.questions.len()).map(|i| render(i, 1, if i == 0 { req.greeting.clone() } else { None })).collect::<Vec<_>>();
    let retry = (!req.ivr.questions.is_empty() && req.ivr.retries > 0).then(|| {
        render(0, 2, Some(req.ivr.retry_message.clone().unwrap_or_else(|| callbroker_wire::DEFAULT_IVR_RETRY_MESSAGE.to_string())))
    });
    Ok(web::Json(IvrPreview { questions, retry }))
}

/// One campaign with its buyer assignments.
#[utoipa::path(operation_id = "get_campaign", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Campaign id")),
    responses((status = 200, body = Campaign), AuthErrors, NotFoundError))]
#[get("/campaigns/{id}")]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<web::Json<Campaign>, AppError> {
    auth.require_staff()?;
    let id = id.into_inner();
    Ok(web::Json(state.db.read(move |c| store::get(c, id)).await?))
}

/// Changes a campaign; `buyers`, when given, replaces its assignments.
#[utoipa::path(operation_id = "update_campaign", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Campaign id")),
    request_body = CampaignPatch, responses((status = 200, body = Campaign), AuthErrors, NotFoundError, InputErrors))]
#[patch("/campaigns/{id}")]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: super::body::Json<CampaignPatch>,
) -> Result<web::Json<Campaign>, AppError> {
    auth.require_writer()?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    Ok(web::Json(
        state
            .db
            .write(move |c| {
                let row = store::get_row(c, id)?;
                let input = CampaignInput::merge(&row, &patch)?;
                store::update(c, id, input)
            })
            .await?,
    ))
}

/// Deletes a campaign; its numbers keep existing without a campaign.
#[utoipa::path(operation_id = "delete_campaign", tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Campaign id")),
    responses((status = 204, description = "Deleted"), AuthErrors, NotFoundError, InputErrors))]
#[delete("/campaigns/{id}")]
pub async fn remove(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let id = id.into_inner();
    state.db.write(move |c| store::delete(c, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
