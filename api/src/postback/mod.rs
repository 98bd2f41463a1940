//! Publisher postbacks: when a call becomes qualified, an HTTP request to the publisher's URL
//! tells it so. The URL is a template with `{placeholders}` (see [`PLACEHOLDERS`]); `POST` sends
//! the same values as a form body; each request is signed with the publisher's postback secret
//! ([`signature`]). The request is a job of the durable queue ([`crate::jobs`]): queued in the
//! change that qualifies the call, retried with backoff on network errors, 429 and 5xx (honouring
//! `Retry-After`), given up at once on other answers and on refused addresses. It goes out through
//! the guarded client ([`crate::outbound`]): public addresses only, no redirects. Every attempt is
//! stored in `postback_attempts` with a coarse error, and shown on the call.
pub mod signature;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web;
use callbroker_wire::PostbackMethod;
use diesel::prelude::*;
use reqwest::{Method, StatusCode};

use crate::db::schema::publishers;
use crate::db::{now, DbConnection};
use crate::error::Error;
use crate::jobs::{CallJob, CallWork, Job, JobError, Registry};
use crate::outbound::{AllowList, Failure, Outbound};
use crate::state::AppState;
use crate::store::calls::CallRow;
use crate::store::postbacks::Attempt;

/// How long the publisher's server has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Longest URL template accepted.
pub const MAX_TEMPLATE_LEN: usize = callbroker_wire::rules::PostbackUrl::MAX_CHARS;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 8] =
    ["call_id", "call_sid", "caller_area_code", "duration", "payout", "currency", "campaign_id", "publisher_id"];

/// The values of one call's postback, by placeholder name (in [`PLACEHOLDERS`] order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values(pub Vec<(&'static str, String)>);

impl Values {
    pub fn of(call: &CallRow) -> Values {
        let area_code = crate::routing::nanp_area_code(&call.caller).map(|a| a.to_string()).unwrap_or_default();
        let currency = call.currency.clone().unwrap_or_default();
        let values = [
            call.id.to_string(),
            call.call_sid.clone(),
            area_code,
            call.talk_secs.to_string(),
            decimal(call.payout_micros),
            currency,
            call.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
            call.publisher_id.map(|p| p.to_string()).unwrap_or_default(),
        ];
        Values(PLACEHOLDERS.into_iter().zip(values).collect())
    }

    /// Made-up values, to check a template when it is saved.
    fn sample() -> Values {
        Values(PLACEHOLDERS.into_iter().map(|p| (p, "1".to_string())).collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// Micro-units as a decimal amount with two places at least: `12_500_000` → "12.50".
fn decimal(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    let (units, frac) = (m / 1_000_000, m % 1_000_000);
    let mut frac = format!("{frac:06}");
    while frac.len() > 2 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{sign}{units}.{frac}")
}

/// Fills the template's placeholders with URL-encoded values.
pub fn render(template: &str, values: &Values) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        if rest[open..].starts_with('}') {
            return Err("has a '}' without its '{'".into());
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("has a '{' without its '}'")?;
        let name = &after[..close];
        let value = values
            .get(name)
            .ok_or_else(|| format!("has an unknown placeholder {{{name}}}; use {}", PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")))?;
        out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks a template as it is saved: known placeholders, and an absolute `http(s)` URL with a
/// host once filled in, not an IP address outside the public ones (unless `allow` lets it
/// through). Returns it trimmed. Host names are checked when the postback is sent.
pub fn validate_template(template: &str, allow: &AllowList) -> Result<String, String> {
    if template.chars().count() > MAX_TEMPLATE_LEN {
        return Err(format!("must be at most {MAX_TEMPLATE_LEN} characters"));
    }
    let t = template.trim();
    let filled = render(t, &Values::sample())?;
    let url = url::Url::parse(&filled).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("must be an http:// or https:// URL with a host".into());
    }
    let ip: Option<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(a)) => Some(a.into()),
        Some(url::Host::Ipv6(a)) => Some(a.into()),
        _ => None,
    };
    if let Some(Err(r)) = ip.map(|ip| allow.check(ip)) {
        return Err(format!("points to a {} address; postbacks go to public addresses only", r.kind));
    }
    Ok(t.to_string())
}

pub fn register(registry: &mut Registry, state: web::Data<AppState>, client: Outbound) {
    registry.register(CallWork::Postback.kind(), move |job| send(state.clone(), client.clone(), job));
}

/// The client postbacks go out with.
pub fn client(allow: Arc<AllowList>) -> Outbound {
    Outbound::new(
        allow,
        &crate::outbound::Settings {
            timeout: TIMEOUT,
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 16 * 1024,
            user_agent: concat!("callbroker-postback/", env!("CARGO_PKG_VERSION")),
        },
    )
}

struct Target {
    url: String,
    method: PostbackMethod,
    values: Values,
    publisher_id: i64,
    /// The publisher's signing key; `None`: sent unsigned.
    secret: Option<String>,
}

fn load(conn: &mut DbConnection, call_id: i64) -> Result<Option<Target>, Error> {
    let call = crate::store::calls::query::get_row(conn, call_id)?;
    let Some(publisher_id) = call.publisher_id else { return Ok(None) };
    let (template, method, secret): (Option<String>, String, Option<String>) = publishers::table
        .find(publisher_id)
        .select((publishers::postback_url, publishers::postback_method, publishers::postback_secret))
        .first(conn)?;
    // The publisher's postback was removed since the call qualified: nothing to send.
    let Some(template) = template else { return Ok(None) };
    let values = Values::of(&call);
    let url = render(&template, &values).map_err(|e| Error::bad_request(format!("postback URL {e}")))?;
    Ok(Some(Target { url, method: PostbackMethod::parse(&method).unwrap_or_default(), values, publisher_id, secret }))
}

/// The request for `target`, signed at `t` (unix seconds) when the publisher has a secret.
fn build(client: &Outbound, target: &Target, t: i64) -> Result<reqwest::RequestBuilder, Failure> {
    let url = url::Url::parse(&target.url).map_err(|_| Failure::NotHttp)?;
    let (request, signed) = match target.method {
        PostbackMethod::Get => {
            let path_and_query = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            (client.request(Method::GET, url.as_str()), path_and_query)
        }
        PostbackMethod::Post => {
            let body = serde_urlencoded::to_string(&target.values.0).map_err(|_| Failure::Request)?;
            let request = client
                .request(Method::POST, url.as_str())
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.clone());
            (request, body)
        }
    };
    Ok(match &target.secret {
        Some(secret) => request.header(signature::HEADER, signature::header_value(secret, t, signed.as_bytes())),
        None => request,
    })
}

async fn send(state: web::Data<AppState>, client: Outbound, job: Job) -> Result<(), JobError> {
    let CallJob { call_id } = job.payload()?;
    let target = match state.db.read(move |c| load(c, call_id)).await {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(()),
        Err(Error::BadRequest { message, .. }) => return Err(JobError::permanent(message)),
        Err(Error::NotFound(_)) => return Err(JobError::permanent("the call no longer exists")),
        Err(e) => return Err(e.into()),
    };
    let started = Instant::now();
    let answer = match build(&client, &target, chrono::Utc::now().timestamp()) {
        Ok(request) => client.send(request).await,
        Err(f) => Err(f),
    };
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let (status_code, error, outcome) = match answer {
        Ok(a) => judge(a.status, crate::outbound::retry_after(&a.headers)),
        Err(f) => (None, Some(f.to_string()), Err(failed(f))),
    };
    let at = now();
    let attempt = Attempt {
        call_id,
        publisher_id: target.publisher_id,
        attempt: job.attempt,
        method: target.method,
        url: target.url,
        status_code,
        error,
        duration_ms,
        at,
    };
    state.db.write(move |c| attempt.insert(c)).await?;
    outcome
}

/// Whether a request that got no answer is tried again: not when its address or URL is refused.
fn failed(f: Failure) -> JobError {
    match f {
        Failure::Refused | Failure::NotHttp => JobError::permanent(f.to_string()),
        Failure::NotResolved | Failure::TimedOut | Failure::Connect | Failure::Request => JobError::retry(f.to_string()),
    }
}

/// What a publisher's answer means: (status, error, job outcome). Redirects are not followed:
/// a 3xx is final, like other answers outside 2xx, 429 and 5xx.
fn judge(status: StatusCode, retry_after: Option<Duration>) -> (Option<i32>, Option<String>, Result<(), JobError>) {
    let code = Some(i32::from(status.as_u16()));
    if status.is_success() {
        return (code, None, Ok(()));
    }
    let why = if status.is_redirection() {
        format!("HTTP {}: redirects are not followed", status.as_u16())
    } else {
        format!("HTTP {}", status.as_u16())
    };
    let outcome = if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        match retry_after {
            Some(after) => Err(JobError::retry_after(why.clone(), after.min(Duration::from_secs(3600)))),
            None => Err(JobError::retry(why.clone())),
        }
    } else {
        Err(JobError::permanent(why.clone()))
    };
    (code, Some(why), outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values(vec![
            ("call_id", "42".into()),
            ("call_sid", "CA1".into()),
            ("caller_area_code", "201".into()),
            ("duration", "95".into()),
            ("payout", "12.50".into()),
            ("currency", "USD".into()),
            ("campaign_id", "3".into()),
            ("publisher_id", "7".into()),
        ])
    }

    #[test]
    fn templates_are_filled_and_encoded() {
        let url = render("https://pub.example/pb?id={call_id}&ac={caller_area_code}&d={duration}&p={payout}{currency}", &values());
        assert_eq!(url.as_deref(), Ok("https://pub.example/pb?id=42&ac=201&d=95&p=12.50USD"));
        let odd = Values(vec![("call_sid", "a b&c=d/é".into())]);
        assert_eq!(render("https://x.example/?s={call_sid}", &odd).as_deref(), Ok("https://x.example/?s=a+b%26c%3Dd%2F%C3%A9"));
        assert_eq!(render("no placeholders", &values()).as_deref(), Ok("no placeholders"));
    }

    #[test]
    fn bad_templates_are_refused_with_a_reason() {
        let cases = [
            ("https://x.example/?a={nope}", "unknown placeholder {nope}"),
            ("https://x.example/?a={call_id", "without its '}'"),
            ("https://x.example/?a=call_id}", "without its '{'"),
            ("ftp://x.example/{call_id}", "http:// or https://"),
            ("x.example/?id={call_id}", "not a valid URL"),
        ];
        let none = AllowList::default();
        for (template, why) in cases {
            let e = validate_template(template, &none).expect_err(template);
            assert!(e.contains(why), "{template}: {e}");
        }
        assert_eq!(validate_template("  https://x.example/pb?id={call_id}  ", &none).as_deref(), Ok("https://x.example/pb?id={call_id}"));
        assert!(validate_template(&format!("https://x.example/{}", "a".repeat(MAX_TEMPLATE_LEN)), &none).is_err());
    }

    #[test]
    fn templates_aimed_at_private_addresses_are_refused_unless_allowed() {
        let none = AllowList::default();
        for (template, kind) in [
            ("http://127.0.0.1:8500/pb?id={call_id}", "loopback"),
            ("http://169.254.169.254/latest/meta-data/?c={call_id}", "link-local"),
            ("http://10.0.0.5:8500/pb", "private"),
            ("http://[::1]/pb", "loopback"),
            ("http://[fd00::5]/pb", "unique-local"),
            ("http://[::ffff:192.168.0.1]/pb", "private"),
            ("http://100.64.0.1/pb", "shared (CGNAT)"),
            ("http://0177.0.0.1/pb", "loopback"),
        ] {
            let e = validate_template(template, &none).expect_err(template);
            assert_eq!(e, format!("points to a {kind} address; postbacks go to public addresses only"), "{template}");
        }
        assert!(validate_template("http://93.184.215.14/pb", &none).is_ok());
        assert!(validate_template("http://localhost:8500/pb", &none).is_ok(), "names are checked when sent");
        let local = AllowList::parse(&["127.0.0.0/8".to_string()]).expect("list");
        assert!(validate_template("http://127.0.0.1:8500/pb", &local).is_ok());
    }

    #[test]
    fn get_postbacks_sign_the_request_target_and_post_postbacks_the_body() {
        let client = client(Arc::new(AllowList::default()));
        let mut target = Target {
            url: "https://pub.example/pb?sid=CA1&p=12.50#frag".into(),
            method: PostbackMethod::Get,
            values: values(),
            publisher_id: 7,
            secret: Some("cbps_k".into()),
        };
        let get = build(&client, &target, 1_700_000_000).and_then(|r| r.build().map_err(|_| Failure::Request)).expect("request");
        assert_eq!(get.method(), Method::GET);
        let header = get.headers()[signature::HEADER].to_str().expect("ascii").to_string();
        assert_eq!(header, signature::header_value("cbps_k", 1_700_000_000, b"/pb?sid=CA1&p=12.50"));
        target.method = PostbackMethod::Post;
        let post = build(&client, &target, 1_700_000_000).and_then(|r| r.build().map_err(|_| Failure::Request)).expect("request");
        let body = post.body().and_then(|b| b.as_bytes()).expect("a body");
        assert!(body.starts_with(b"call_id=42&call_sid=CA1&"), "{}", String::from_utf8_lossy(body));
        assert_eq!(post.headers()[signature::HEADER].to_str().expect("ascii"), signature::header_value("cbps_k", 1_700_000_000, body));
        target.secret = None;
        let unsigned = build(&client, &target, 1_700_000_000).and_then(|r| r.build().map_err(|_| Failure::Request)).expect("request");
        assert!(unsigned.headers().get(signature::HEADER).is_none());
    }

    #[test]
    fn amounts_are_decimals() {
        assert_eq!(decimal(12_500_000), "12.50");
        assert_eq!(decimal(0), "0.00");
        assert_eq!(decimal(1_234_567), "1.234567");
        assert_eq!(decimal(-2_000_000), "-2.00");
    }

    #[test]
    fn answers_decide_retries() {
        use reqwest::StatusCode as S;
        assert!(judge(S::OK, None).2.is_ok());
        assert!(judge(S::NO_CONTENT, None).2.is_ok());
        let e = judge(S::SERVICE_UNAVAILABLE, Some(Duration::from_secs(7))).2.expect_err("retried");
        assert!(!e.permanent && e.retry_after == Some(Duration::from_secs(7)));
        let e = judge(S::TOO_MANY_REQUESTS, None).2.expect_err("retried");
        assert!(!e.permanent && e.retry_after.is_none());
        let (code, error, outcome) = judge(S::NOT_FOUND, None);
        assert_eq!((code, error.as_deref()), (Some(404), Some("HTTP 404")));
        assert!(outcome.expect_err("given up").permanent);
        let (code, error, outcome) = judge(S::TEMPORARY_REDIRECT, None);
        assert_eq!((code, error.as_deref()), (Some(307), Some("HTTP 307: redirects are not followed")));
        assert!(outcome.expect_err("given up").permanent);
        assert!(failed(Failure::Refused).permanent && !failed(Failure::TimedOut).permanent && !failed(Failure::Connect).permanent);
    }
}
