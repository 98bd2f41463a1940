use actix_web::{delete, get, post, web, HttpResponse};
use callbroker_wire::{ApiKey, CreatedApiKey, NewApiKey, Page, PageParams, Role};

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::error::Error;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store::api_keys as store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(create).service(remove);
}

/// Which keys a caller may manage: admins all, operators publishers' keys only.
fn manageable_roles(auth: &Auth) -> Result<&'static [Role], AppError> {
    match crate::domain::grants::key_roles_grantable_by(auth.role) {
        [] => Err(AppError::forbidden()),
        roles => Ok(roles),
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiKeyFilter {
    /// Only the keys of this publisher.
    pub publisher_id: Option<i64>,
}

/// Lists API keys (admins: all; operators: publishers' keys). Secrets are never shown.
#[utoipa::path(operation_id = "list_api_keys", tag = "api-keys", security(("bearer" = [])), params(PageParams, ApiKeyFilter),
    responses((status = 200, body = Page<ApiKey>), AuthErrors, InputErrors))]
#[get("/api-keys")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filter: web::Query<ApiKeyFilter>,
) -> Result<web::Json<Page<ApiKey>>, AppError> {
    let roles = manageable_roles(&auth)?;
    let (page, publisher) = (page.into_inner(), filter.publisher_id);
    Ok(web::Json(state.db.read(move |c| store::list(c, &page, roles, publisher)).await?))
}

/// Creates an API key; the response holds its secret, shown this once only.
///
/// A key is granted from the rights of the user who creates it (for a key created with a key, of
/// the user behind that key), and lives only while that user could still create it: deleting the
/// user revokes it, and so does a change of the user's role that takes away the right to grant a
/// key of its role (an admin made operator loses their admin, operator and viewer keys; an
/// operator made viewer their publisher keys).
#[utoipa::path(operation_id = "create_api_key", tag = "api-keys", security(("bearer" = [])), request_body = NewApiKey,
    responses((status = 201, body = CreatedApiKey), AuthErrors, InputErrors))]
#[post("/api-keys")]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: super::body::Json<NewApiKey>) -> Result<HttpResponse, AppError> {
    if !manageable_roles(&auth)?.contains(&body.role) {
        return Err(AppError::Forbidden(format!("your role cannot create {} keys", body.role.as_str())));
    }
    let (body, by) = (body.into_inner(), auth.grantor);
    let created = state.db.write(move |c| store::create(c, &body, by)).await?;
    tracing::info!(key_id = created.key.id, role = created.key.role.as_str(), "API key created");
    Ok(HttpResponse::Created().json(created))
}

/// Revokes (deletes) an API key.
#[utoipa::path(operation_id = "delete_api_key", tag = "api-keys", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "API key id")),
    responses((status = 204, description = "Revoked"), AuthErrors, NotFoundError))]
#[delete("/api-keys/{id}")]
pub async fn remove(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let roles = manageable_roles(&auth)?;
    let id = id.into_inner();
    state
        .db
        .write(move |c| {
            let key = store::get_row(c, id)?;
            if !roles.contains(&key.role()?) {
                return Err(Error::NotFound("API key"));
            }
            store::delete(c, id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
