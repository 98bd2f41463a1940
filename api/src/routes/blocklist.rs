//! The blocklist: caller numbers and prefixes screened out before any buyer rings. Staff read it,
//! admins and operators change it; publishers never see it.
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use callbroker_wire::{BlocklistEntry, BlocklistFilter, BlocklistImport, BlocklistPatch, NewBlocklistEntry, Page, PageParams};
use futures_util::StreamExt;

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store::blocklist as store;

/// The largest CSV an import takes (10,000 rows of about 800 bytes).
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // The fixed paths first: `/blocklist/export` must not be taken for `/blocklist/{id}`.
    cfg.service(list).service(create).service(import).service(export).service(get).service(update).service(remove);
}

fn check_filter(f: &BlocklistFilter) -> Result<(), AppError> {
    if f.campaign_id.is_some_and(|c| c < 1) {
        return Err(AppError::field("campaign_id", "must be a positive id"));
    }
    Ok(())
}

/// Lists blocklist entries, oldest first: global ones and every campaign's, or those of one
/// campaign (`campaign_id`), only global ones (`global=true`), matching `q` (number or note).
#[utoipa::path(operation_id = "list_blocklist", tag = "blocklist", security(("bearer" = [])), params(PageParams, BlocklistFilter),
    responses((status = 200, body = Page<BlocklistEntry>), AuthErrors, InputErrors))]
#[get("/blocklist")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<BlocklistFilter>,
) -> Result<web::Json<Page<BlocklistEntry>>, AppError> {
    auth.require_staff()?;
    let (page, filter) = (page.into_inner(), filter.into_inner());
    check_filter(&filter)?;
    Ok(web::Json(state.db.read(move |c| store::list(c, &filter, &page)).await?))
}

/// Blocks a number (`exact`) or every number starting with a prefix (`prefix`), on every
/// campaign or one, until `expires_at` if given. It applies to the next call on every instance.
#[utoipa::path(operation_id = "create_blocklist_entry", tag = "blocklist", security(("bearer" = [])), request_body = NewBlocklistEntry,
    responses((status = 201, body = BlocklistEntry), AuthErrors, InputErrors))]
#[post("/blocklist")]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: super::body::Json<NewBlocklistEntry>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let body = body.into_inner();
    let created = state.db.write(move |c| store::create(c, &body)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// One blocklist entry.
#[utoipa::path(operation_id = "get_blocklist_entry", tag = "blocklist", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Entry id")),
    responses((status = 200, body = BlocklistEntry), AuthErrors, NotFoundError))]
#[get("/blocklist/{id}")]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<web::Json<BlocklistEntry>, AppError> {
    auth.require_staff()?;
    let id = id.into_inner();
    Ok(web::Json(state.db.read(move |c| store::get_row(c, id).map(store::BlocklistRow::into_wire)).await?))
}

/// Changes an entry; absent fields keep their value, `null` clears the campaign (every
/// campaign), the note or the expiry.
#[utoipa::path(operation_id = "update_blocklist_entry", tag = "blocklist", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Entry id")), request_body = BlocklistPatch,
    responses((status = 200, body = BlocklistEntry), AuthErrors, NotFoundError, InputErrors))]
#[patch("/blocklist/{id}")]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: super::body::Json<BlocklistPatch>,
) -> Result<web::Json<BlocklistEntry>, AppError> {
    auth.require_writer()?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    Ok(web::Json(state.db.write(move |c| store::update(c, id, &patch)).await?))
}

/// Removes an entry.
#[utoipa::path(operation_id = "delete_blocklist_entry", tag = "blocklist", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Entry id")),
    responses((status = 204, description = "Deleted"), AuthErrors, NotFoundError))]
#[delete("/blocklist/{id}")]
pub async fn remove(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let id = id.into_inner();
    state.db.write(move |c| store::delete(c, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds entries from a CSV body (`text/csv`, up to 10,000 rows and 8 MiB): a header row naming
/// the columns, any of `number,kind,campaign_id,note,expires_at` in any order (`number`
/// required; `kind` `exact`, `prefix` or empty to infer it; `campaign_id` empty for every
/// campaign; `expires_at` RFC 3339 or empty), then one entry per row. All or nothing: when any
/// row is bad, the 422 names every bad row (`line N: column`) and nothing is written.
#[utoipa::path(operation_id = "import_blocklist", tag = "blocklist", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "number,kind,campaign_id,note,expires_at rows under a header row"),
    responses((status = 201, body = BlocklistImport), AuthErrors, InputErrors))]
#[post("/blocklist/import")]
pub async fn import(auth: Auth, state: web::Data<AppState>, req: HttpRequest, mut payload: web::Payload) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    let content_type = req.headers().get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.trim().to_ascii_lowercase().starts_with("text/csv") {
        return Err(AppError::UnsupportedMediaType("the body must be text/csv".into()));
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::bad_request(format!("body: {e}")))?;
        if body.len() + chunk.len() > MAX_IMPORT_BYTES {
            return Err(AppError::PayloadTooLarge { limit: MAX_IMPORT_BYTES });
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body.to_vec()).map_err(|_| AppError::field("body", "the CSV must be UTF-8"))?;
    let created = state.db.write(move |c| store::import_csv(c, &text)).await?;
    Ok(HttpResponse::Created().json(BlocklistImport { created }))
}

/// Every entry matching the filters as CSV (`text/csv`, the import's columns; cells that a
/// spreadsheet would run as a formula are prefixed with `'`).
#[utoipa::path(operation_id = "export_blocklist", tag = "blocklist", security(("bearer" = [])), params(BlocklistFilter),
    responses((status = 200, content_type = "text/csv", body = String), AuthErrors, InputErrors))]
#[get("/blocklist/export")]
pub async fn export(auth: Auth, state: web::Data<AppState>, filter: web::Query<BlocklistFilter>) -> Result<HttpResponse, AppError> {
    auth.require_staff()?;
    let filter = filter.into_inner();
    check_filter(&filter)?;
    let csv = state.db.read(move |c| store::export_csv(c, &filter)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"blocklist.csv\""))
        .body(csv))
}
