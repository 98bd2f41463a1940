use actix_web::{delete, get, patch, post, web, HttpResponse};
use callbroker_wire::{CreatedPublisher, NewPublisher, Page, PageParams, PostbackSecret, Publisher, PublisherFilter, PublisherPatch};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::postback::signature;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store::publishers::{self as store, PublisherValues};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(create).service(get).service(update).service(remove).service(rotate_postback_secret);
}

/// Lists publishers; a publisher principal sees only its own.
#[utoipa::path(operation_id = "list_publishers", tag = "publishers", security(("bearer" = [])), params(PageParams, PublisherFilter),
    responses((status = 200, body = Page<Publisher>), AuthErrors, InputErrors))]
#[get("/publishers")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<PublisherFilter>,
) -> Result<web::Json<Page<Publisher>>, AppError> {
    let scope = auth.publisher_scope();
    let (page, filter) = (page.into_inner(), filter.into_inner());
    Ok(web::Json(state.db.read(move |c| store::list(c, &filter, &page, scope)).await?))
}

/// Creates a publisher. The response holds its postback signing secret, shown this once.
#[utoipa::path(operation_id = "create_publisher", tag = "publishers", security(("bearer" = [])), request_body = NewPublisher,
    responses((status = 201, body = CreatedPublisher), AuthErrors, InputErrors))]
#[post("/publishers")]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: super::body::Json<NewPublisher>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let values = PublisherValues::from_new(&body, &state.outbound_allow)?;
    let secret = signature::new_secret();
    let stored = secret.clone();
    let publisher = state.db.write(move |c| store::create(c, values.clone(), &stored)).await?;
    Ok(HttpResponse::Created().json(CreatedPublisher { publisher, postback_secret: secret }))
}

/// Makes a new postback signing secret for the publisher, shown this once; postbacks are signed
/// with it from now on and the previous one stops working.
#[utoipa::path(tag = "publishers", security(("bearer" = [])), params(("id" = i64, Path, description = "Publisher id")),
    responses((status = 200, body = PostbackSecret), AuthErrors, NotFoundError))]
#[post("/publishers/{id}/postback-secret")]
pub async fn rotate_postback_secret(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<web::Json<PostbackSecret>, AppError> {
    auth.require_writer()?;
    let id = id.into_inner();
    let secret = signature::new_secret();
    let stored = secret.clone();
    state.db.write(move |c| store::set_postback_secret(c, id, &stored)).await?;
    tracing::info!(publisher_id = id, "postback secret rotated");
    Ok(web::Json(PostbackSecret { postback_secret: secret }))
}

/// One publisher; a publisher principal can read only its own.
#[utoipa::path(operation_id = "get_publisher", tag = "publishers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Publisher id")),
    responses((status = 200, body = Publisher), AuthErrors, NotFoundError))]
#[get("/publishers/{id}")]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<web::Json<Publisher>, AppError> {
    let id = id.into_inner();
    if auth.publisher_scope().is_some_and(|own| own != id) {
        return Err(AppError::NotFound("publisher"));
    }
    Ok(web::Json(state.db.read(move |c| store::get(c, id).map(store::PublisherRow::into_wire)).await?))
}

/// Changes a publisher; absent fields are left alone, `null` clears an optional one.
#[utoipa::path(operation_id = "update_publisher", tag = "publishers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Publisher id")),
    request_body = PublisherPatch, responses((status = 200, body = Publisher), AuthErrors, NotFoundError, InputErrors))]
#[patch("/publishers/{id}")]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: super::body::Json<PublisherPatch>,
) -> Result<web::Json<Publisher>, AppError> {
    auth.require_writer()?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    let allow = state.outbound_allow.clone();
    Ok(web::Json(
        state
            .db
            .write(move |c| {
                let row = store::get(c, id)?;
                let values = PublisherValues::merge(&row, &patch, &allow)?;
                store::update(c, id, values)
            })
            .await?,
    ))
}

/// Deletes a publisher (refused with 409 while it has users); its numbers lose the attribution.
#[utoipa::path(operation_id = "delete_publisher", tag = "publishers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Publisher id")),
    responses((status = 204, description = "Deleted"), AuthErrors, NotFoundError, InputErrors))]
#[delete("/publishers/{id}")]
pub async fn remove(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let id = id.into_inner();
    state.db.write(move |c| store::delete(c, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
