use actix_web::{get, post, web, HttpResponse};
use callbroker_wire::{ErrorBody, LoginRequest, LoginResponse, User};

use super::{AuthErrors, InputErrors};
use crate::auth::{password, Auth, PrincipalKind};
use crate::routes::AppError;
use crate::state::AppState;
use crate::store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login).service(me);
}

/// Exchanges an email and password for a session token.
#[utoipa::path(operation_id = "login", security(), tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, description = "Wrong email or password", body = ErrorBody),
    (status = 429, description = "Too many attempts from this address or for this account; see Retry-After", body = ErrorBody),
    InputErrors,
))]
#[post("/auth/login")]
pub async fn login(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    limiter: web::Data<crate::security::LoginLimiter>,
    body: super::body::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let LoginRequest { email, password: pw } = body.into_inner();
    let email = email.trim().to_lowercase();
    limiter.check(req.peer_addr().map(|a| a.ip()), &email)?;
    let user = state
        .db
        .read(move |c| {
            let user = store::users::find_by_email(c, &email)?;
            // Verify against a dummy hash when the account is unknown, so timing does not tell.
            let stored = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| password::dummy_hash().to_string());
            let ok = password::verify(&pw, &stored);
            Ok(user.filter(|_| ok))
        })
        .await?;
    let user = user.ok_or_else(|| AppError::Unauthorized("wrong email or password".into()))?;
    let (token, expires_at) = state.jwt.issue(user.id, chrono::Utc::now())?;
    tracing::info!(user_id = user.id, "login");
    Ok(HttpResponse::Ok().json(LoginResponse { token, expires_at, user: user.into_wire()? }))
}

/// The signed-in user (for API keys: 404, a key is not a user).
#[utoipa::path(operation_id = "get_current_user", tag = "auth", security(("bearer" = [])), responses((status = 200, body = User), AuthErrors, super::NotFoundError))]
#[get("/auth/me")]
pub async fn me(auth: Auth, state: web::Data<AppState>) -> Result<web::Json<User>, AppError> {
    if auth.kind != PrincipalKind::User {
        return Err(AppError::NotFound("user (API keys are not users)"));
    }
    let id = auth.id;
    Ok(web::Json(state.db.read(move |c| store::users::get(c, id)).await?))
}
