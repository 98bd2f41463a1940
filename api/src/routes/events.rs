//! `GET /api/events`: live call events over Server-Sent Events.
use actix_web::{get, web, HttpMessage, HttpRequest, HttpResponse};

use super::AuthErrors;
use crate::auth::{self, QueryToken};
use crate::routes::AppError;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(events);
}

/// The header browsers send when an `EventSource` reconnects.
pub const LAST_EVENT_ID: &str = "Last-Event-ID";

/// One message of the stream, as its SSE fields.
// OpenAPI describes a `text/event-stream` per message; documentation only (`crate::live::sse`
// writes the frames).
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
pub struct SseMessage {
    /// The event id (none on `reload`): send the last one back as `Last-Event-ID` to resume.
    id: Option<String>,
    /// A `LiveEventKind` (`call.created`, ...) or `reload`.
    event: String,
    /// JSON: a `LiveEvent` (see the schema of that name), or a `LiveReload` on `reload`.
    data: String,
}

/// The stream lives as long as its credential: until the session token's expiry, and while a read
/// of the user's (or key's) row at every heartbeat finds it as it was.
fn guard(state: &web::Data<AppState>, principal: auth::Auth) -> crate::live::sse::Guard {
    let until = principal.expires_at.map(|exp| {
        let left = (exp - chrono::Utc::now()).to_std().unwrap_or_default();
        tokio::time::Instant::now() + left
    });
    let (db, principal) = (state.db.clone(), std::sync::Arc::new(principal));
    let check = move || {
        let (db, principal) = (db.clone(), principal.clone());
        Box::pin(async move { db.read(move |c| auth::still_holds(c, &principal)).await }) as futures_util::future::BoxFuture<'static, _>
    };
    crate::live::sse::Guard { until, check: Box::new(check) }
}

/// Live call events, as Server-Sent Events.
///
/// A `text/event-stream` of `call.created`, `call.ringing` (a buyer's phone rings), `call.answered` (a buyer answered), `call.completed` and
/// `call.qualified`, each with the call as it stands (see `LiveEvent`). Publishers get only their
/// own calls' events, without buyer identities or revenue.
///
/// Authenticate with `Authorization: Bearer ...` or, because browsers' `EventSource` cannot set
/// headers, with `?access_token=<token or API key>` (honoured on this route only, and never
/// logged). Reconnect with `Last-Event-ID` to get the events missed meanwhile (up to
/// `live.replay_max_events`, kept `live.retention_secs`); beyond that, an `event: reload` message
/// says to refetch. A client that falls too far behind gets `event: reload` and is disconnected.
/// Idle streams carry a `: keep-alive` comment every `live.heartbeat_secs`.
///
/// A stream lives as long as its credential: at the session token's expiry, or at the first
/// heartbeat after its user is deleted, demoted or re-bound to another publisher, its password
/// changed or its API key revoked, it gets `event: reload` with reason `credentials` and ends.
#[utoipa::path(operation_id = "stream_events", tag = "events", security(("bearer" = [])),
    params(
        ("access_token" = Option<String>, Query, description = "The bearer token, for clients that cannot set headers (EventSource)"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id"),
    ),
    responses(
        (status = 200, description = "An endless stream of events", content_type = "text/event-stream", body = SseMessage),
        (status = 400, description = "Last-Event-ID is not an integer", body = callbroker_wire::ErrorBody),
        AuthErrors,
    ))]
#[get("/events")]
pub async fn events(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let token = auth::bearer(&req).or_else(|| req.extensions().get::<QueryToken>().map(|t| t.0.clone()));
    let principal = auth::authenticate(&state, token).await?;
    let last_event_id = match req.headers().get(LAST_EVENT_ID) {
        None => None,
        Some(v) => {
            let v = v.to_str().map_or("", str::trim);
            if v.is_empty() {
                None
            } else {
                Some(v.parse::<i64>().map_err(|_| AppError::bad_request("Last-Event-ID must be an event id (an integer)"))?)
            }
        }
    };
    let scope = principal.publisher_scope();
    let hub = state.live.clone();
    // Subscribe before reading the replay, so nothing committed in between is lost (duplicates
    // are skipped by id).
    let rx = hub.subscribe();
    let max = hub.config.replay_max_events;
    let published = hub.published();
    let replay = state.db.read(move |c| crate::live::sse::replay(c, last_event_id, scope, max, published)).await?;
    let stream = crate::live::sse::client_stream(&hub, rx, scope, replay, guard(&state, principal));
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}
