//! The one HTTP client for requests an operator or a publisher can aim (postbacks, and any other
//! URL typed into the API): it reaches public addresses only, unless the operator allows a host
//! (`CALLBROKER_OUTBOUND_ALLOW_HOSTS`, see [`AllowList`]).
//!
//! The address is checked where the connection is made: a resolver ([`resolver`]) drops the
//! private, loopback, link-local and other special-purpose addresses a name resolves to, so a
//! name that changes its answer after the URL was saved is still refused; a URL whose host is an
//! IP literal skips resolution and is checked before sending. Redirects are not followed, the
//! system proxy is not used, answers are read up to a cap, and every failure is reported as a
//! coarse [`Failure`] that names neither the URL nor the address.
mod addresses;
mod allow;
mod resolver;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};

pub use addresses::forbidden;
pub use allow::{AllowList, Refusal};

/// What went wrong with an outbound request, in words safe to show whoever aimed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("refused: private address")]
    Refused,
    #[error("refused: not an http(s) URL")]
    NotHttp,
    #[error("name not resolved")]
    NotResolved,
    #[error("timed out")]
    TimedOut,
    #[error("connect failed")]
    Connect,
    #[error("request failed")]
    Request,
}

/// How one client behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The whole exchange, answer included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Bytes of an answer's body kept; the rest is not read.
    pub max_body_bytes: usize,
    pub user_agent: &'static str,
}

/// An answer, its body cut at [`Settings::max_body_bytes`].
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The body was longer than the cap.
    pub truncated: bool,
}

/// A guarded client; cheap to clone (connections are pooled and shared).
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow: Arc<AllowList>,
    max_body_bytes: usize,
}

impl Outbound {
    pub fn new(allow: Arc<AllowList>, settings: &Settings) -> Outbound {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver::GuardedResolver::new(allow.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(settings.user_agent)
            .build()
            .expect("the HTTP client's settings are valid");
        Outbound { client, allow, max_body_bytes: settings.max_body_bytes }
    }

    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends a request built by [`Outbound::request`] and reads its answer.
    pub async fn send(&self, request: RequestBuilder) -> Result<Answer, Failure> {
        let request = request.build().map_err(|_| Failure::Request)?;
        check_target(&self.allow, request.url())?;
        let mut response = self.client.execute(request).await.map_err(|e| classify(&e))?;
        let (status, headers) = (response.status(), response.headers().clone());
        let mut body = BytesMut::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
            let room = self.max_body_bytes - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, headers, body: body.freeze(), truncated })
    }
}

/// Checks what can be checked before connecting: the scheme, and a host given as an IP literal
/// (no resolution happens for it, so the resolver never sees it).
pub fn check_target(allow: &AllowList, url: &url::Url) -> Result<(), Failure> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Failure::NotHttp);
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(a)) => a.into(),
        Some(url::Host::Ipv6(a)) => a.into(),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(Failure::NotHttp),
    };
    allow.check(ip).map_err(|r| {
        tracing::debug!(kind = r.kind, "outbound request to a literal address refused");
        Failure::Refused
    })
}

/// The coarse failure behind a client error.
fn classify(e: &reqwest::Error) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(f) = s.downcast_ref::<Failure>() {
            return *f;
        }
        source = s.source();
    }
    if e.is_timeout() {
        Failure::TimedOut
    } else if e.is_connect() {
        Failure::Connect
    } else {
        Failure::Request
    }
}

/// A `Retry-After` header as a delay: seconds, or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("url")
    }

    #[test]
    fn literal_addresses_are_checked_before_sending() {
        let none = AllowList::default();
        for u in [
            "http://127.0.0.1:8500/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:10.0.0.5]/",
            "http://2130706433/",
            "http://0x7f.1/",
            "https://10.1.2.3/",
            "http://0.0.0.0:80/",
        ] {
            assert_eq!(check_target(&none, &url(u)), Err(Failure::Refused), "{u}");
        }
        assert_eq!(check_target(&none, &url("ftp://8.8.8.8/")), Err(Failure::NotHttp));
        assert_eq!(check_target(&none, &url("http://8.8.8.8/")), Ok(()));
        assert_eq!(check_target(&none, &url("http://localhost/")), Ok(()), "names are checked by the resolver");
        let local = AllowList::parse(&["127.0.0.1".to_string()]).expect("list");
        assert_eq!(check_target(&local, &url("http://127.0.0.1:8500/x")), Ok(()));
    }

    #[test]
    fn failures_name_neither_url_nor_address() {
        for f in [Failure::Refused, Failure::NotHttp, Failure::NotResolved, Failure::TimedOut, Failure::Connect, Failure::Request] {
            let text = f.to_string();
            assert!(!text.contains("://") && !text.chars().any(|c| c.is_ascii_digit()), "{text}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(reqwest::header::RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date in the past");
    }
}
