use actix_web::{delete, get, patch, post, web, HttpResponse};
use callbroker_wire::{Buyer, BuyerFilter, BuyerPatch, NewBuyer, Page, PageParams};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store::buyers::{self as store, BuyerValues};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(create).service(get).service(update).service(remove);
}

/// Lists buyers (staff only).
#[utoipa::path(operation_id = "list_buyers", tag = "buyers", security(("bearer" = [])), params(PageParams, BuyerFilter),
    responses((status = 200, body = Page<Buyer>), AuthErrors, InputErrors))]
#[get("/buyers")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<BuyerFilter>,
) -> Result<web::Json<Page<Buyer>>, AppError> {
    auth.require_staff()?;
    let (page, filter) = (page.into_inner(), filter.into_inner());
    Ok(web::Json(state.db.read(move |c| store::list(c, &filter, &page)).await?))
}

/// Creates a buyer.
#[utoipa::path(operation_id = "create_buyer", tag = "buyers", security(("bearer" = [])), request_body = NewBuyer,
    responses((status = 201, body = Buyer), AuthErrors, InputErrors))]
#[post("/buyers")]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: super::body::Json<NewBuyer>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let input = BuyerValues::from_new(&body)?;
    let created = state.db.write(move |c| store::create(c, input.clone())).await?;
    Ok(HttpResponse::Created().json(created))
}

/// One buyer.
#[utoipa::path(operation_id = "get_buyer", tag = "buyers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Buyer id")),
    responses((status = 200, body = Buyer), AuthErrors, NotFoundError))]
#[get("/buyers/{id}")]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<web::Json<Buyer>, AppError> {
    auth.require_staff()?;
    let id = id.into_inner();
    Ok(web::Json(state.db.read(move |c| store::get_row(c, id)?.into_wire()).await?))
}

/// Changes a buyer; absent fields are left alone.
#[utoipa::path(operation_id = "update_buyer", tag = "buyers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Buyer id")),
    request_body = BuyerPatch, responses((status = 200, body = Buyer), AuthErrors, NotFoundError, InputErrors))]
#[patch("/buyers/{id}")]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: super::body::Json<BuyerPatch>,
) -> Result<web::Json<Buyer>, AppError> {
    auth.require_writer()?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    Ok(web::Json(
        state
            .db
            .write(move |c| {
                let row = store::get_row(c, id)?;
                let input = BuyerValues::merge(&row, &patch)?;
                store::update(c, id, input)
            })
            .await?,
    ))
}

/// Deletes a buyer and its campaign assignments.
#[utoipa::path(operation_id = "delete_buyer", tag = "buyers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Buyer id")),
    responses((status = 204, description = "Deleted"), AuthErrors, NotFoundError, InputErrors))]
#[delete("/buyers/{id}")]
pub async fn remove(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let id = id.into_inner();
    state.db.write(move |c| store::delete(c, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
