//! The Twilio account: credentials (admin), number import, webhook set-up, recordings.
use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use callbroker_wire::{NumberImport, TwilioAccount, TwilioAccountUpdate, WebhookStatus};
use futures_util::TryStreamExt;

use super::{AuthErrors, InputErrors, NotFoundError};
use crate::auth::Auth;
use crate::error::Error;
use crate::routes::AppError;
use crate::security::TwilioLimiter;
use crate::state::AppState;
use crate::twilio::account;
use crate::twilio::client::{TwilioClient, TwilioError};
use crate::twilio::tasks;

/// Registered before the numbers routes: `/numbers/webhooks` must not be read as `/numbers/{id}`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_account)
        .service(put_account)
        .service(delete_account)
        .service(import)
        .service(get_import)
        .service(webhooks_all)
        .service(configure_all)
        .service(webhooks_one)
        .service(configure_one)
        .service(recording);
}

/// Errors of routes that ask Twilio.
#[allow(dead_code)]
#[derive(utoipa::IntoResponses)]
pub enum TwilioErrors {
    /// Twilio credentials are not set.
    #[response(status = 409)]
    NotConfigured(callbroker_wire::ErrorBody),
    /// The caller made too many requests that call Twilio this minute (`Retry-After` says how
    /// long to wait).
    #[response(status = 429)]
    TooManyRequests(callbroker_wire::ErrorBody),
    /// Twilio refused or could not be reached (its message is passed on).
    #[response(status = 503)]
    Upstream(callbroker_wire::ErrorBody),
}

fn upstream(e: TwilioError) -> AppError {
    match e {
        TwilioError::NotConfigured => AppError::Conflict(e.to_string()),
        TwilioError::Api { status: 404, .. } => AppError::NotFound("Twilio resource"),
        other => AppError::Unavailable(other.to_string()),
    }
}

async fn client(state: &AppState) -> Result<TwilioClient, AppError> {
    account::client(&state.db, &state.config.twilio, &state.secrets).await.map_err(upstream)
}

/// The Twilio credentials in force, masked. Admin only.
#[utoipa::path(operation_id = "get_twilio_account", tag = "twilio", security(("bearer" = [])), responses((status = 200, body = TwilioAccount), AuthErrors))]
#[get("/twilio/account")]
pub async fn get_account(auth: Auth, state: web::Data<AppState>) -> Result<web::Json<TwilioAccount>, AppError> {
    auth.require_admin()?;
    let (cfg, keys) = (state.config.twilio.clone(), state.secrets.clone());
    let public_url = state.config.public_url.clone();
    Ok(web::Json(state.db.read(move |c| account::effective(c, &cfg, &keys).map(|e| account::view(&e, &cfg, &public_url))).await?))
}

/// Sets the Twilio credentials (they win over the configuration's). Admin only; the answer shows
/// them masked.
#[utoipa::path(operation_id = "set_twilio_account", tag = "twilio", security(("bearer" = [])), request_body = TwilioAccountUpdate,
    responses((status = 200, body = TwilioAccount), AuthErrors, InputErrors))]
#[put("/twilio/account")]
pub async fn put_account(
    auth: Auth,
    state: web::Data<AppState>,
    body: super::body::Json<TwilioAccountUpdate>,
) -> Result<web::Json<TwilioAccount>, AppError> {
    auth.require_admin()?;
    let (body, cfg, public_url) = (body.into_inner(), state.config.twilio.clone(), state.config.public_url.clone());
    let keys = state.secrets.clone();
    let view = state
        .db
        .write(move |c| {
            account::set(c, &body, &keys)?;
            account::effective(c, &cfg, &keys).map(|e| account::view(&e, &cfg, &public_url))
        })
        .await?;
    state.twilio_token.clear();
    tracing::info!(account_sid = view.account_sid.as_deref().unwrap_or(""), "Twilio credentials set through the API");
    Ok(web::Json(view))
}

/// Forgets the credentials set through the API; the configuration's apply again. Admin only.
#[utoipa::path(operation_id = "delete_twilio_account", tag = "twilio", security(("bearer" = [])), responses((status = 204, description = "Cleared"), AuthErrors))]
#[delete("/twilio/account")]
pub async fn delete_account(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    auth.require_admin()?;
    state.db.write(account::clear).await?;
    state.twilio_token.clear();
    Ok(HttpResponse::NoContent().finish())
}

/// Imports the account's numbers from Twilio (every page of `IncomingPhoneNumbers`) as tracking
/// numbers, matched by SID then by number: new ones are added, changed ones updated. Runs in the
/// background; poll `GET /api/numbers/imports/{id}` for progress and the new/updated/unchanged
/// counts.
#[utoipa::path(operation_id = "import_numbers", tag = "numbers", security(("bearer" = [])),
    responses((status = 202, body = NumberImport, description = "Started"), AuthErrors, TwilioErrors))]
#[post("/numbers/import")]
pub async fn import(auth: Auth, state: web::Data<AppState>, limiter: web::Data<TwilioLimiter>) -> Result<HttpResponse, AppError> {
    auth.require_writer()?;
    limiter.check(&auth)?;
    let (cfg, keys) = (state.config.twilio.clone(), state.secrets.clone());
    let started = state
        .db
        .write(move |c| {
            if account::effective(c, &cfg, &keys)?.credentials().is_none() {
                return Err(Error::Conflict(TwilioError::NotConfigured.to_string()));
            }
            tasks::start_import(c)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(started))
}

/// An import's progress and counts.
#[utoipa::path(operation_id = "get_number_import", tag = "numbers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Import id")),
    responses((status = 200, body = NumberImport), AuthErrors, NotFoundError))]
#[get("/numbers/imports/{id}")]
pub async fn get_import(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<web::Json<NumberImport>, AppError> {
    auth.require_staff()?;
    let id = id.into_inner();
    Ok(web::Json(state.db.read(move |c| tasks::get_import(c, id)).await?))
}

async fn statuses(state: &AppState, id: Option<i64>, fix: bool) -> Result<Vec<WebhookStatus>, AppError> {
    let numbers = state.db.read(move |c| tasks::number_refs(c, id)).await?;
    let client = client(state).await?;
    let public = state.config.public_url.clone();
    let mut out = Vec::with_capacity(numbers.len());
    // A few at a time: Twilio rate-limits per account.
    for chunk in numbers.chunks(4) {
        let futs = chunk.iter().cloned().map(|n| tasks::webhook_status(&client, &public, n, fix));
        out.extend(futures_util::future::join_all(futs).await);
    }
    Ok(out)
}

/// Whether Twilio's webhook configuration of each number matches this server's
/// (`CALLBROKER_PUBLIC_URL` + the webhook paths, POST), with the fields that drifted.
#[utoipa::path(operation_id = "list_number_webhooks", tag = "numbers", security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookStatus>), AuthErrors, TwilioErrors))]
#[get("/numbers/webhooks")]
pub async fn webhooks_all(
    auth: Auth,
    state: web::Data<AppState>,
    limiter: web::Data<TwilioLimiter>,
) -> Result<web::Json<Vec<WebhookStatus>>, AppError> {
    auth.require_staff()?;
    limiter.check(&auth)?;
    Ok(web::Json(statuses(&state, None, false).await?))
}

/// Sets VoiceUrl/VoiceMethod and StatusCallback/StatusCallbackMethod on every number that
/// drifted; answers each number's state afterwards.
#[utoipa::path(operation_id = "configure_all_number_webhooks", tag = "numbers", security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookStatus>), AuthErrors, TwilioErrors))]
#[post("/numbers/webhooks/configure")]
pub async fn configure_all(
    auth: Auth,
    state: web::Data<AppState>,
    limiter: web::Data<TwilioLimiter>,
) -> Result<web::Json<Vec<WebhookStatus>>, AppError> {
    auth.require_writer()?;
    limiter.check(&auth)?;
    Ok(web::Json(statuses(&state, None, true).await?))
}

/// One number's webhook state.
#[utoipa::path(operation_id = "get_number_webhooks", tag = "numbers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Number id")),
    responses((status = 200, body = WebhookStatus), AuthErrors, NotFoundError, TwilioErrors))]
#[get("/numbers/{id}/webhooks")]
pub async fn webhooks_one(
    auth: Auth,
    state: web::Data<AppState>,
    limiter: web::Data<TwilioLimiter>,
    id: web::Path<i64>,
) -> Result<web::Json<WebhookStatus>, AppError> {
    auth.require_staff()?;
    limiter.check(&auth)?;
    let mut list = statuses(&state, Some(id.into_inner()), false).await?;
    list.pop().map(web::Json).ok_or(AppError::NotFound("phone number"))
}

/// Points one number's webhooks at this server when they drifted; answers its state afterwards.
#[utoipa::path(operation_id = "configure_number_webhooks", tag = "numbers", security(("bearer" = [])), params(("id" = i64, Path, minimum = 1, description = "Number id")),
    responses((status = 200, body = WebhookStatus), AuthErrors, NotFoundError, TwilioErrors))]
#[post("/numbers/{id}/webhooks/configure")]
pub async fn configure_one(
    auth: Auth,
    state: web::Data<AppState>,
    limiter: web::Data<TwilioLimiter>,
    id: web::Path<i64>,
) -> Result<web::Json<WebhookStatus>, AppError> {
    auth.require_writer()?;
    limiter.check(&auth)?;
    let mut list = statuses(&state, Some(id.into_inner()), true).await?;
    list.pop().map(web::Json).ok_or(AppError::NotFound("phone number"))
}

/// The call's recording (MP3), streamed through this server so the browser never sees Twilio
/// credentials. Honours `Range` (answers 206 with `Content-Range`) so a player can seek.
#[utoipa::path(operation_id = "get_call_recording", tag = "calls", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Call id"), ("Range" = Option<String>, Header, description = "e.g. bytes=0-1023")),
    responses(
        (status = 200, description = "The whole recording", content_type = "audio/mpeg", body = inline(super::Binary)),
        (status = 206, description = "The requested range", content_type = "audio/mpeg", body = inline(super::Binary)),
        (status = 416, description = "Range not satisfiable", body = callbroker_wire::ErrorBody),
        AuthErrors, NotFoundError, TwilioErrors))]
#[get("/calls/{id}/recording")]
pub async fn recording(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    limiter: web::Data<TwilioLimiter>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, scope) = (id.into_inner(), auth.publisher_scope());
    let row = state.db.read(move |c| crate::store::calls::query::get_row(c, id)).await?;
    if scope.is_some_and(|p| row.publisher_id != Some(p)) {
        return Err(AppError::NotFound("call"));
    }
    let sid = row.recording_sid.ok_or(AppError::NotFound("recording"))?;
    // Recorded before SIDs were checked on arrival: never put such a value into a Twilio path.
    if let Err(problem) = crate::domain::validate::recording_sid(&sid) {
        tracing::warn!(call_id = id, %problem, "stored recording SID refused");
        return Err(AppError::NotFound("recording"));
    }
    limiter.check(&auth)?;
    let range = req.headers().get(actix_web::http::header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let client = client(&state).await?;
    let res = match client.recording_media(&sid, range.as_deref()).await {
        Ok(r) => r,
        Err(TwilioError::Api { status: 416, .. }) => {
            let e = AppError::BadRequest { code: "range_not_satisfiable", message: "the requested range is outside the recording".into() };
            return Ok(HttpResponse::RangeNotSatisfiable().json(e.body()));
        }
        Err(e) => return Err(upstream(e)),
    };
    let status = StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::OK);
    let mut out = HttpResponse::build(status);
    out.insert_header((actix_web::http::header::ACCEPT_RANGES, "bytes"));
    out.insert_header((actix_web::http::header::CACHE_CONTROL, "private, max-age=3600"));
    let content_type = res.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("audio/mpeg").to_string();
    out.content_type(content_type);
    if let Some(v) = res.headers().get(reqwest::header::CONTENT_RANGE).and_then(|v| v.to_str().ok()) {
        out.insert_header((actix_web::http::header::CONTENT_RANGE, v.to_string()));
    }
    let length = res.content_length();
    let body = res.bytes_stream().map_err(|e| std::io::Error::other(e.to_string()));
    Ok(match length {
        Some(n) => out.no_chunking(n).streaming(body),
        None => out.streaming(body),
    })
}
