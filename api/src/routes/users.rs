use actix_web::{delete, get, patch, post, web, HttpResponse};
use callbroker_wire::{NewUser, Page, PageParams, Role, User, UserFilter, UserPatch};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::error::Error;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store::users as store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(create).service(get).service(update).service(remove);
}

/// Lists users (admin only).
#[utoipa::path(operation_id = "list_users", tag = "users", security(("bearer" = [])), params(PageParams, UserFilter),
    responses((status = 200, body = Page<User>), AuthErrors, InputErrors))]
#[get("/users")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<UserFilter>,
) -> Result<web::Json<Page<User>>, AppError> {
    auth.require_admin()?;
    let (page, filter) = (page.into_inner(), filter.into_inner());
    Ok(web::Json(state.db.read(move |c| store::list(c, &filter, &page)).await?))
}

/// Creates a user (admin only). Publisher users are bound to one publisher.
#[utoipa::path(operation_id = "create_user", tag = "users", security(("bearer" = [])), request_body = NewUser,
    responses((status = 201, body = User), AuthErrors, InputErrors))]
#[post("/users")]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: super::body::Json<NewUser>) -> Result<HttpResponse, AppError> {
    auth.require_admin()?;
    let body = body.into_inner();
    let user = state.db.write(move |c| store::create(c, &body)).await?;
    tracing::info!(user_id = user.id, role = user.role.as_str(), by = auth.id, "user created");
    Ok(HttpResponse::Created().json(user))
}

/// One user (admin only).
#[utoipa::path(operation_id = "get_user", tag = "users", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "User id")),
    responses((status = 200, body = User), AuthErrors, NotFoundError))]
#[get("/users/{id}")]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<web::Json<User>, AppError> {
    auth.require_admin()?;
    let id = id.into_inner();
    Ok(web::Json(state.db.read(move |c| store::get(c, id)).await?))
}

/// Changes a user's email, password, role or publisher (admin only). The last admin cannot be
/// demoted.
///
/// A new password ends every session of the user (their tokens are refused from then on, and
/// their event streams close). A new role revokes the API keys the user created that the new role
/// could not create (see `POST /api/api-keys`).
#[utoipa::path(operation_id = "update_user", tag = "users", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "User id")),
    request_body = UserPatch, responses((status = 200, body = User), AuthErrors, NotFoundError, InputErrors))]
#[patch("/users/{id}")]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: super::body::Json<UserPatch>,
) -> Result<web::Json<User>, AppError> {
    auth.require_admin()?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    Ok(web::Json(
        state
            .db
            .write(move |c| {
                let demotes = patch.role.is_some_and(|r| r != Role::Admin);
                if demotes && store::get(c, id)?.role == Role::Admin && store::other_admins(c, id)? == 0 {
                    return Err(Error::Conflict("this is the last admin; make another admin first".into()));
                }
                store::update(c, id, &patch)
            })
            .await?,
    ))
}

/// Deletes a user (admin only), revoking the API keys they created. The last admin cannot be
/// deleted.
#[utoipa::path(operation_id = "delete_user", tag = "users", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "User id")),
    responses((status = 204, description = "Deleted"), AuthErrors, NotFoundError, InputErrors))]
#[delete("/users/{id}")]
pub async fn remove(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    auth.require_admin()?;
    let id = id.into_inner();
    state
        .db
        .write(move |c| {
            if store::get(c, id)?.role == Role::Admin && store::other_admins(c, id)? == 0 {
                return Err(Error::Conflict("this is the last admin; make another admin first".into()));
            }
            store::delete(c, id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
