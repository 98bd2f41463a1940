//! Login throttling, the per-user limit on requests that call Twilio, browser security headers
//! and CORS.
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, Next};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::{Auth, PrincipalKind};
use crate::routes::AppError;

/// Login throttling, in this process (with several instances each enforces its own):
///
/// * a budget of attempts per client IP (`login_attempts_per_minute`), whatever the account;
/// * failures per (account, client IP): after [`FREE_FAILURES`] wrong passwords in a row, that
///   pair waits [`BACKOFF_BASE`] doubled at each further failure (up to [`BACKOFF_MAX`]) before
///   its next attempt. A successful login clears the pair.
///
/// No budget is shared by every IP for one account: anyone who knows an email could otherwise
/// keep its owner out. Guessing one account's password from many addresses is slowed by the
/// per-IP budget and Argon2id.
pub struct LoginLimiter {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    failures: Mutex<HashMap<(String, Option<IpAddr>), Failures>>,
}

/// Wrong passwords of one (account, IP) allowed before the backoff starts.
pub const FREE_FAILURES: u32 = 5;
/// The wait after the first failure past [`FREE_FAILURES`]; doubles at each further one.
pub const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The longest wait; a pair idle that long is forgotten.
pub const BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// When the pair may try again.
    fn until(&self) -> Instant {
        match self.count.checked_sub(FREE_FAILURES) {
            None => self.last,
            Some(past) => self.last + BACKOFF_BASE.saturating_mul(1u32 << past.min(20)).min(BACKOFF_MAX),
        }
    }
}

fn too_many(wait: Duration) -> AppError {
    // Whole seconds, rounded up.
    AppError::TooManyRequests { retry_after_secs: (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1) }
}

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        LoginLimiter { by_ip: RateLimiter::keyed(quota), failures: Mutex::default() }
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Option<IpAddr>), Failures>> {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one attempt of `ip` at `account` (a validated email); `Err(429)` with the wait when
    /// the IP's budget is spent or the pair is backing off.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> Result<(), AppError> {
        self.check_at(ip, account, Instant::now())
    }

    fn check_at(&self, ip: Option<IpAddr>, account: &str, now: Instant) -> Result<(), AppError> {
        if let Some(ip) = ip {
            let clock = DefaultClock::default();
            self.by_ip.check_key(&ip).map_err(|not_until| too_many(not_until.wait_time_from(clock.now())))?;
        }
        let key = (account.to_string(), ip);
        match self.failures().get(&key).map(Failures::until) {
            Some(until) if until > now => Err(too_many(until - now)),
            _ => Ok(()),
        }
    }

    /// Records a wrong password of `ip` for `account`.
    pub fn failed(&self, ip: Option<IpAddr>, account: &str) {
        self.failed_at(ip, account, Instant::now());
    }

    fn failed_at(&self, ip: Option<IpAddr>, account: &str, now: Instant) {
        let mut map = self.failures();
        let entry = map.entry((account.to_string(), ip)).or_insert(Failures { count: 0, last: now });
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }

    /// A successful login: the pair starts afresh.
    pub fn succeeded(&self, ip: Option<IpAddr>, account: &str) {
        self.failures().remove(&(account.to_string(), ip));
    }

    /// Forgets IPs back to a full budget and pairs idle for [`BACKOFF_MAX`] (called periodically).
    pub fn shrink(&self) {
        self.by_ip.retain_recent();
        let now = Instant::now();
        self.failures().retain(|_, f| now.saturating_duration_since(f.last) < BACKOFF_MAX);
    }
}

/// A budget of requests per minute per user or API key (in this process), for one purpose.
pub struct PrincipalLimiter<Purpose> {
    by_principal: DefaultKeyedRateLimiter<(PrincipalKind, i64)>,
    purpose: std::marker::PhantomData<Purpose>,
}

/// Limits the requests that make this server call Twilio's REST API on a user's behalf (webhook
/// drift checks and fixes, number imports, recording downloads): one caller cannot spend the
/// account's Twilio rate limit for everyone.
pub type TwilioLimiter = PrincipalLimiter<ForTwilio>;
pub struct ForTwilio;

/// Limits publishers' pings (`POST /api/rtb/ping`): each ping may ping every bidder of a
/// campaign.
pub type RtbLimiter = PrincipalLimiter<ForRtb>;
pub struct ForRtb;

impl<Purpose> PrincipalLimiter<Purpose> {
    pub fn new(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        PrincipalLimiter { by_principal: RateLimiter::keyed(quota), purpose: std::marker::PhantomData }
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

    fn retry_after(r: Result<(), AppError>) -> Option<u64> {
        match r {
            Ok(()) => None,
            Err(AppError::TooManyRequests { retry_after_secs }) => Some(retry_after_secs),
            Err(other) => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn each_ip_has_a_budget_whatever_the_account() {
        let l = LoginLimiter::new(3);
        let ip: IpAddr = [10, 0, 0, 1].into();
        for account in ["a@x.io", "b@x.io", "c@x.io"] {
            assert_eq!(retry_after(l.check(Some(ip), account)), None);
        }
        assert!(retry_after(l.check(Some(ip), "d@x.io")).is_some_and(|s| s >= 1), "the IP's budget is spent");
        assert_eq!(retry_after(l.check(Some([10, 0, 0, 2].into()), "a@x.io")), None, "another IP has its own");
    }

    #[test]
    fn failures_back_off_per_account_and_ip_and_a_success_clears_them() {
        let l = LoginLimiter::new(10_000);
        let (attacker, owner): (IpAddr, IpAddr) = ([10, 0, 0, 66].into(), [10, 0, 0, 1].into());
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(retry_after(l.check_at(Some(attacker), "admin@x.io", t0)), None);
            l.failed_at(Some(attacker), "admin@x.io", t0);
        }
        // Past the free failures the attacker's pair waits, doubling...
        assert_eq!(retry_after(l.check_at(Some(attacker), "admin@x.io", t0)), Some(1));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(retry_after(l.check_at(Some(attacker), "admin@x.io", t1)), None);
        l.failed_at(Some(attacker), "admin@x.io", t1);
        assert_eq!(retry_after(l.check_at(Some(attacker), "admin@x.io", t1)), Some(2));
        for _ in 0..30 {
            l.failed_at(Some(attacker), "admin@x.io", t1);
        }
        assert_eq!(retry_after(l.check_at(Some(attacker), "admin@x.io", t1)), Some(BACKOFF_MAX.as_secs()), "up to the cap");
        // ...while the account's owner, from another address, is not held up at all.
        assert_eq!(retry_after(l.check_at(Some(owner), "admin@x.io", t1)), None);
        l.failed_at(Some(owner), "admin@x.io", t1);
        l.succeeded(Some(owner), "admin@x.io");
        assert!(!l.failures().contains_key(&("admin@x.io".to_string(), Some(owner))), "a success clears the pair");
        assert!(l.failures().contains_key(&("admin@x.io".to_string(), Some(attacker))), "only that pair");
    }

    #[test]
    fn twilio_requests_limited_per_principal() {
        let l = TwilioLimiter::new(2);
        let who = |kind, id| Auth {
            kind,
            id,
            role: callbroker_wire::Role::Operator,
            publisher_id: None,
            token_version: 0,
            expires_at: None,
            grantor: None,
        };
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
