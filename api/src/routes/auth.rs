use actix_web::{get, post, web, HttpResponse};
use callbroker_wire::{ErrorBody, LoginRequest, LoginResponse, User};

use super::{AuthErrors, InputErrors};
use crate::auth::{password, Auth, PrincipalKind};
use crate::domain::validate;
use crate::error::Error;
use crate::routes::AppError;
use crate::state::AppState;
use crate::store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login).service(me);
}

/// Exchanges an email and password for a session token.
///
/// Throttled per client address (a budget of attempts a minute, whatever the account) and per
/// account and address (after 5 wrong passwords in a row, a wait that doubles with each further
/// one, up to 15 minutes; a successful login clears it). Behind a reverse proxy listed in
/// `CALLBROKER_TRUSTED_PROXIES` the client address is read from `X-Forwarded-For`.
#[utoipa::path(operation_id = "login", security(), tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, description = "Wrong email or password", body = ErrorBody),
    (status = 429, description = "Too many attempts from this address, or for this account from this address; see Retry-After", body = ErrorBody),
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
    // Checked before the limiter keeps anything for it.
    let email = validate::email(&email).map_err(|e| AppError::from(Error::field("email", e)))?;
    let ip = state.trusted_proxies.client_ip(req.peer_addr().map(|a| a.ip()), req.headers());
    limiter.check(ip, &email)?;
    let account = email.clone();
    let user = state
        .db
        .read(move |c| {
            let user = store::users::find_by_email(c, &email)?;
            // Verify against a dummy hash when the account is unknown, so timing does not tell.
            let stored = user.as_ref().map_or_else(|| password::dummy_hash().to_string(), |u| u.password_hash.clone());
            let ok = password::verify(&pw, &stored);
            Ok(user.filter(|_| ok))
        })
        .await?;
    let Some(user) = user else {
        limiter.failed(ip, &account);
        return Err(AppError::Unauthorized("wrong email or password".into()));
    };
    limiter.succeeded(ip, &account);
    let (token, expires_at) = state.jwt.issue(user.id, user.token_version, chrono::Utc::now())?;
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
