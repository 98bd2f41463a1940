use actix_web::{delete, get, patch, post, web, HttpResponse};
use callbroker_wire::{NewPhoneNumber, Page, PageParams, PhoneNumber, PhoneNumberFilter, PhoneNumberPatch};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store::numbers as store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(create).service(get).service(update).service(remove);
}

/// Lists tracking numbers; a publisher principal sees only the numbers attributed to it.
#[utoipa::path(operation_id = "list_numbers", tag = "numbers", security(("bearer" = [])), params(PageParams, PhoneNumberFilter),
    responses((status = 200, body = Page<PhoneNumber>), AuthErrors, InputErrors))]
#[get("/numbers")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<PhoneNumberFilter>,
) -> Result<web::Json<Page<PhoneNumber>>, AppError> {
    let scope = auth.publisher_scope();
    let (page, filter) = (page.into_inner(), filter.into_inner());
    Ok(web::Json(state.db.read(move |c| store::list(c, &filter, &page, scope)).await?))
}

/// Adds a tracking number (numbers are usually imported from Twilio).
#[utoipa::path(operation_id = "create_number", tag = "numbers", security(("bearer" = [])), request_body = NewPhoneNumber,
    responses((status = 201, body = PhoneNumber), AuthErrors, InputErrors))]
#[post("/numbers")]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: super::body::Json<NewPhoneNumber>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let body = body.into_inner();
    let created = state
        .db
        .write(move |c| {
            let values = store::validate_new(c, &body)?;
            store::create(c, values)
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// One tracking number.
#[utoipa::path(operation_id = "get_number", tag = "numbers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Number id")),
    responses((status = 200, body = PhoneNumber), AuthErrors, NotFoundError))]
#[get("/numbers/{id}")]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<web::Json<PhoneNumber>, AppError> {
    let (id, scope) = (id.into_inner(), auth.publisher_scope());
    Ok(web::Json(state.db.read(move |c| store::get_row(c, id, scope).map(store::NumberRow::into_wire)).await?))
}

/// Assigns a number to a campaign and/or a publisher, or renames it; `null` clears a link.
#[utoipa::path(operation_id = "update_number", tag = "numbers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Number id")),
    request_body = PhoneNumberPatch, responses((status = 200, body = PhoneNumber), AuthErrors, NotFoundError, InputErrors))]
#[patch("/numbers/{id}")]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: super::body::Json<PhoneNumberPatch>,
) -> Result<web::Json<PhoneNumber>, AppError> {
    auth.require_writer()?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    Ok(web::Json(
        state
            .db
            .write(move |c| {
                let row = store::get_row(c, id, None)?;
                let links = store::validate_patch(c, &row, &patch)?;
                store::update(c, id, links)
            })
            .await?,
    ))
}

/// Removes a tracking number.
#[utoipa::path(operation_id = "delete_number", tag = "numbers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Number id")),
    responses((status = 204, description = "Deleted"), AuthErrors, NotFoundError))]
#[delete("/numbers/{id}")]
pub async fn remove(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let id = id.into_inner();
    state.db.write(move |c| store::delete(c, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
