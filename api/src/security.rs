//! Login throttling, the per-user limit on requests that call Twilio, browser security headers
//! and CORS.
use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, Next};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::{Auth, PrincipalKind};
use crate::routes::AppError;

/// Limits login attempts per client IP and per account (in this process; with several instances
/// each enforces its own budget).
pub struct LoginLimiter {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        LoginLimiter { by_ip: RateLimiter::keyed(quota), by_account: RateLimiter::keyed(quota) }
    }

    /// Counts one attempt; `Err(429)` with the wait when either budget is spent.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> Result<(), AppError> {
        let clock = DefaultClock::default();
        let ip_check = match ip {
            Some(ip) => self.by_ip.check_key(&ip),
            None => Ok(()),
        };
        let result = ip_check.and_then(|_| self.by_account.check_key(&account.to_string()));
        result.map_err(|not_until| AppError::TooManyRequests { retry_after_secs: not_until.wait_time_from(clock.now()).as_secs().max(1) })
    }

    /// Forgets keys that are back to a full budget (called periodically).
    pub fn shrink(&self) {
        self.by_ip.retain_recent();
        self.by_account.retain_recent();
    }
}

/// Limits the requests that make this server call Twilio's REST API on a user's behalf (webhook
/// drift checks and fixes, number imports, recording downloads), per user or API key (in this
/// process): one caller cannot spend the account's Twilio rate limit for everyone.
pub struct TwilioLimiter {
    by_principal: DefaultKeyedRateLimiter<(PrincipalKind, i64)>,
}

impl TwilioLimiter {
    pub fn new(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        TwilioLimiter { by_principal: RateLimiter::keyed(quota) }
    }

    /// Counts one request of `auth`; `Err(429)` with the wait when its budget is spent.
    pub fn check(&self, auth: &Auth) -> Result<(), AppError> {
        self.by_principal.check_key(&(auth.kind, auth.id)).map_err(|not_until| AppError::TooManyRequests {
            retry_after_secs: not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1),
        })
    }

    /// Forgets keys that are back to a full budget (called periodically).
    pub fn shrink(&self) {
        self.by_principal.retain_recent();
    }
}

/// What pages may load: the dashboard's own files only. `'wasm-unsafe-eval'` lets the SPA
/// compile its WebAssembly; no inline script (the SPA starts from `/boot.js`). Inline styles
/// are allowed for the API docs (Swagger UI sets style attributes), `data:` images for its icons.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Headers every response carries.
pub fn default_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=()"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

/// Refuses a query string with a NUL character (`%00`) with 400: no field takes one, and
/// PostgreSQL cannot even compare text with it (the search would fail with a 500).
pub async fn refuse_nul_in_query<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let q = req.query_string();
    if q.contains("%00") || q.contains('\0') {
        let e = AppError::bad_request("the query string must not contain NUL characters (%00)");
        return Ok(req.error_response(e).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

/// CORS: only the configured origins; none means same-origin only.
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT, header::HeaderName::from_static("last-event-id")])
        .max_age(3600);
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    cors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_ip_and_per_account() {
        let l = LoginLimiter::new(3);
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..3 {
            assert!(l.check(Some(ip), "a@x").is_ok());
        }
        match l.check(Some(ip), "b@x") {
            Err(AppError::TooManyRequests { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        // Another IP, same account: the account budget is spent too.
        let other: IpAddr = [10, 0, 0, 2].into();
        assert!(l.check(Some(other), "c@x").is_ok());
        let l2 = LoginLimiter::new(2);
        assert!(l2.check(Some(ip), "victim@x").is_ok());
        assert!(l2.check(Some(other), "victim@x").is_ok());
        assert!(l2.check(Some([10, 0, 0, 3].into()), "victim@x").is_err(), "per-account limit across IPs");
    }

    #[test]
    fn twilio_requests_limited_per_principal() {
        let l = TwilioLimiter::new(2);
        let who = |kind, id| Auth { kind, id, role: callbroker_wire::Role::Operator, publisher_id: None };
        let (user, key) = (who(PrincipalKind::User, 1), who(PrincipalKind::ApiKey, 1));
        assert!(l.check(&user).is_ok());
        assert!(l.check(&user).is_ok());
        match l.check(&user) {
            Err(AppError::TooManyRequests { retry_after_secs }) => assert!((1..=60).contains(&retry_after_secs)),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(l.check(&key).is_ok(), "an API key with the same id has its own budget");
        assert!(l.check(&who(PrincipalKind::User, 2)).is_ok(), "so has another user");
    }
}
