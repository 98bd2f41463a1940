use actix_web::{delete, get, patch, post, web, HttpResponse};
use callbroker_wire::{Campaign, CampaignFilter, CampaignPatch, NewCampaign, Page, PageParams};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store::campaigns::{self as store, CampaignInput};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(create).service(get).service(update).service(remove);
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
