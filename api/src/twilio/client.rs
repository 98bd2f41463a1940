//! The Twilio REST client: one `reqwest` client with timeouts, HTTP basic auth, form bodies,
//! Twilio's JSON error body mapped to [`TwilioError::Api`], and retries with exponential backoff
//! and jitter on 429 / 5xx / transport failures (honouring `Retry-After`), never on other 4xx.
use std::time::Duration;

use rand::Rng;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::config::{Secret, TwilioConfig};

/// Who the REST calls are made as. `username`/`password` are the Account SID and Auth Token, or
/// an API key's SID and secret.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub account_sid: String,
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum TwilioError {
    #[error("Twilio credentials are not set (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, or PUT /api/twilio/account)")]
    NotConfigured,
    /// Twilio answered with an error.
    #[error("Twilio error {status}{}: {message}{}", code.map(|c| format!(" (code {c})")).unwrap_or_default(), more_info.as_ref().map(|m| format!(" — {m}")).unwrap_or_default())]
    Api { status: u16, code: Option<i64>, message: String, more_info: Option<String> },
    /// Twilio could not be reached, or timed out.
    #[error("Twilio unreachable: {0}")]
    Transport(String),
    /// Twilio answered something this client cannot read.
    #[error("unexpected answer from Twilio: {0}")]
    Malformed(String),
}

impl TwilioError {
    pub fn status(&self) -> Option<u16> {
        match self {
            TwilioError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether trying again later can help (for background jobs).
    pub fn is_transient(&self) -> bool {
        match self {
            TwilioError::Api { status, .. } => *status == 429 || *status >= 500,
            TwilioError::Transport(_) | TwilioError::Malformed(_) | TwilioError::NotConfigured => true,
        }
    }
}

/// Twilio's error body.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
    more_info: Option<String>,
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base: Duration,
    pub max: Duration,
}

#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    api_base: String,
    intelligence_base: String,
    creds: Credentials,
    retry: RetryPolicy,
}

impl std::fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioClient")
            .field("api_base", &self.api_base)
            .field("account_sid", &self.creds.account_sid)
            .finish_non_exhaustive()
    }
}

/// One `IncomingPhoneNumber` as listed or fetched.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct IncomingNumber {
    pub sid: String,
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub voice_url: Option<String>,
    pub voice_method: Option<String>,
    pub status_callback: Option<String>,
    pub status_callback_method: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NumbersPage {
    pub incoming_phone_numbers: Vec<IncomingNumber>,
    pub next_page_uri: Option<String>,
}

/// The parts of a Call resource read here.
#[derive(Debug, Clone, Deserialize)]
pub struct CallResource {
    pub sid: String,
    pub status: Option<String>,
    /// Decimal text, negative for a charge (`"-0.01750"`); `null` until Twilio has priced the call.
    pub price: Option<String>,
    pub price_unit: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RecordingResource {
    pub sid: String,
    pub call_sid: Option<String>,
    pub duration: Option<String>,
    pub channels: Option<i64>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TranscriptResource {
    pub sid: String,
    /// `queued`, `in-progress`, `completed`, `failed`, `canceled`.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Sentence {
    pub transcript: Option<String>,
    pub media_channel: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
struct SentencesPage {
    sentences: Vec<Sentence>,
    meta: Option<PageMeta>,
}

#[derive(Debug, Clone, Deserialize)]
struct PageMeta {
    next_page_url: Option<String>,
}

/// What the number's voice webhooks should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceWebhooks {
    pub voice_url: String,
    pub voice_method: String,
    pub status_callback: String,
    pub status_callback_method: String,
}

/// `Retry-After` in seconds or as an HTTP date.
pub(crate) fn retry_after(res: &Response) -> Option<Duration> {
    crate::outbound::retry_after(res.headers())
}

impl TwilioClient {
    pub fn new(cfg: &TwilioConfig, creds: Credentials) -> Result<Self, TwilioError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(cfg.timeout_secs.clamp(1, 10)))
            .timeout(Duration::from_secs(cfg.timeout_secs.max(1)))
            .user_agent(concat!("callbroker/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TwilioError::Transport(e.to_string()))?;
        Ok(TwilioClient {
            http,
            api_base: cfg.api_base.trim_end_matches('/').to_string(),
            intelligence_base: cfg.intelligence_api_base.trim_end_matches('/').to_string(),
            creds,
            retry: RetryPolicy {
                max_retries: cfg.max_retries,
                base: Duration::from_millis(cfg.retry_base_ms),
                max: Duration::from_millis(cfg.retry_max_ms.max(cfg.retry_base_ms)),
            },
        })
    }

    pub fn account_sid(&self) -> &str {
        &self.creds.account_sid
    }

    fn account_url(&self, rest: &str) -> String {
        format!("{}/2010-04-01/Accounts/{}{}", self.api_base, self.creds.account_sid, rest)
    }

    /// Sends the request built by `build`, retrying 429 / 5xx / transport errors; the final
    /// answer is returned when it is a success, mapped to an error otherwise.
    async fn send(&self, build: impl Fn() -> RequestBuilder) -> Result<Response, TwilioError> {
        let mut attempt: u32 = 0;
        loop {
            let req = build().basic_auth(&self.creds.username, Some(self.creds.password.expose()));
            let outcome = req.send().await;
            let (wait_hint, err) = match outcome {
                Ok(res) if res.status().is_success() || res.status() == StatusCode::PARTIAL_CONTENT => return Ok(res),
                Ok(res) => {
                    let status = res.status();
                    let hint = retry_after(&res);
                    let err = api_error(res).await;
                    if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                        return Err(err);
                    }
                    (hint, err)
                }
                Err(e) => (None, TwilioError::Transport(without_url(&e))),
            };
            if attempt >= self.retry.max_retries {
                return Err(err);
            }
            attempt += 1;
            let wait = wait_hint.map_or_else(|| self.backoff(attempt), |w| w.min(self.retry.max));
            tracing::debug!(attempt, ?wait, error = %err, "Twilio request will be retried");
            tokio::time::sleep(wait).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.retry.base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(20))).min(self.retry.max);
        let half = ceiling / 2;
        let jitter = rand::thread_rng().gen_range(0..=u64::try_from(half.as_millis()).unwrap_or(u64::MAX).max(1));
        half + Duration::from_millis(jitter)
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, TwilioError> {
        let res = self.send(|| self.http.get(url)).await?;
        json_body(res).await
    }

    async fn post_form<T: DeserializeOwned>(&self, url: &str, form: &[(&str, String)]) -> Result<T, TwilioError> {
        let res = self.send(|| self.http.post(url).form(form)).await?;
        json_body(res).await
    }

    /// One page of the account's numbers: the first when `next` is `None`, else the page at
    /// Twilio's `next_page_uri`.
    pub async fn numbers_page(&self, next: Option<&str>, page_size: u32) -> Result<NumbersPage, TwilioError> {
        let url = match next {
            Some(uri) if uri.starts_with("http") => uri.to_string(),
            Some(uri) => format!("{}{}", self.api_base, uri),
            None => self.account_url(&format!("/IncomingPhoneNumbers.json?PageSize={page_size}")),
        };
        self.get_json(&url).await
    }

    pub async fn fetch_number(&self, sid: &str) -> Result<IncomingNumber, TwilioError> {
        self.get_json(&self.account_url(&format!("/IncomingPhoneNumbers/{sid}.json"))).await
    }

    /// Sets the number's voice URL and status callback (both POST).
    pub async fn set_number_webhooks(&self, sid: &str, w: &VoiceWebhooks) -> Result<IncomingNumber, TwilioError> {
        let form = [
            ("VoiceUrl", w.voice_url.clone()),
            ("VoiceMethod", w.voice_method.clone()),
            ("StatusCallback", w.status_callback.clone()),
            ("StatusCallbackMethod", w.status_callback_method.clone()),
        ];
        self.post_form(&self.account_url(&format!("/IncomingPhoneNumbers/{sid}.json")), &form).await
    }

    pub async fn fetch_call(&self, sid: &str) -> Result<CallResource, TwilioError> {
        self.get_json(&self.account_url(&format!("/Calls/{sid}.json"))).await
    }

    pub async fn fetch_recording(&self, sid: &str) -> Result<RecordingResource, TwilioError> {
        self.get_json(&self.account_url(&format!("/Recordings/{sid}.json"))).await
    }

    /// The recording's audio (MP3), passing `range` on so a player can seek. The answer is
    /// returned as is (200 or 206) for streaming.
    pub async fn recording_media(&self, sid: &str, range: Option<&str>) -> Result<Response, TwilioError> {
        let url = self.account_url(&format!("/Recordings/{sid}.mp3"));
        self.send(|| {
            let r = self.http.get(&url);
            match range {
                Some(v) => r.header(reqwest::header::RANGE, v),
                None => r,
            }
        })
        .await
    }

    /// Asks Voice Intelligence for a transcript of recording `recording_sid`.
    pub async fn create_transcript(&self, service_sid: &str, recording_sid: &str) -> Result<TranscriptResource, TwilioError> {
        let channel = serde_json::json!({"media_properties": {"source_sid": recording_sid}}).to_string();
        let form = [("ServiceSid", service_sid.to_string()), ("Channel", channel)];
        self.post_form(&format!("{}/v2/Transcripts", self.intelligence_base), &form).await
    }

    pub async fn fetch_transcript(&self, sid: &str) -> Result<TranscriptResource, TwilioError> {
        self.get_json(&format!("{}/v2/Transcripts/{sid}", self.intelligence_base)).await
    }

    /// Every sentence of a completed transcript, in order (all pages).
    pub async fn transcript_sentences(&self, sid: &str) -> Result<Vec<Sentence>, TwilioError> {
        let mut url = format!("{}/v2/Transcripts/{sid}/Sentences?PageSize=1000", self.intelligence_base);
        let mut out = vec![];
        for _ in 0..100 {
            let page: SentencesPage = self.get_json(&url).await?;
            out.extend(page.sentences);
            match page.meta.and_then(|m| m.next_page_url) {
                Some(next) if !next.is_empty() => url = next,
                _ => break,
            }
        }
        Ok(out)
    }
}

/// A reqwest error's text without the URL (which may carry credentials in a query).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    format!("{kind}: {}", e.without_url_ref())
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        text
    }
}

async fn api_error(res: Response) -> TwilioError {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) => TwilioError::Api {
            status,
            code: b.code,
            message: b.message.unwrap_or_else(|| format!("HTTP {status}")),
            more_info: b.more_info,
        },
        Err(_) => TwilioError::Api { status, code: None, message: format!("HTTP {status}"), more_info: None },
    }
}

async fn json_body<T: DeserializeOwned>(res: Response) -> Result<T, TwilioError> {
    let bytes = res.bytes().await.map_err(|e| TwilioError::Transport(without_url(&e)))?;
    serde_json::from_slice(&bytes).map_err(|e| TwilioError::Malformed(e.to_string()))
}

/// Twilio's decimal price text as micro-units, made positive (Twilio reports charges as negative
/// amounts). `"-0.01750"` → 17 500. No floats: the digits are read as they are.
pub fn price_micros(price: &str) -> Option<i64> {
    let s = price.trim();
    let s = s.strip_prefix('-').or_else(|| s.strip_prefix('+')).unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() || !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut micros = String::from(frac);
    // Round half up past the sixth digit.
    let round_up = micros.len() > 6 && micros.as_bytes()[6] >= b'5';
    micros.truncate(6);
    while micros.len() < 6 {
        micros.push('0');
    }
    let frac: i64 = micros.parse().ok()?;
    whole.checked_mul(1_000_000)?.checked_add(frac)?.checked_add(i64::from(round_up))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_become_positive_micros() {
        assert_eq!(price_micros("-0.01750"), Some(17_500));
        assert_eq!(price_micros("0.0085"), Some(8_500));
        assert_eq!(price_micros("-1.5"), Some(1_500_000));
        assert_eq!(price_micros("0.0000005"), Some(1));
        assert_eq!(price_micros("12"), Some(12_000_000));
        assert_eq!(price_micros(""), None);
        assert_eq!(price_micros("abc"), None);
        assert_eq!(price_micros("1.2.3"), None);
    }
}
