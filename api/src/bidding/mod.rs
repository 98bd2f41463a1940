//! Pinging a campaign's bidders: every eligible bidder at once, each within its own timeout and
//! all within the campaign's ping budget, over one shared client per address policy (connections
//! reused, redirects not followed, answers capped; private addresses only for bidders allowed
//! them). What a bidder answered is read by the pure [`crate::routing::bids`].
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callbroker_wire::bidding::{PingMethod, PingOutcome, TestPingResult};
use chrono::{DateTime, Utc};
use reqwest::Method;

use crate::crypto::Keyring;
use crate::outbound::{AllowList, Failure, Outbound};
use crate::routing::bids::{self, Bid, Escape, PingFacts};
use crate::store::bidders::{mask, BidderRow, PingRow};

/// Bytes of a bidder's answer read; the rest is not (an answer cut there is invalid JSON).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The clients pings go out with.
#[derive(Clone)]
pub struct Bidding {
    /// Public addresses only (and the operator's `CALLBROKER_OUTBOUND_ALLOW_HOSTS`).
    guarded: Outbound,
    /// Any address: for bidders with `allow_private`.
    open: Outbound,
    keys: Arc<Keyring>,
}

/// One bidder's ping, done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinged {
    pub bidder_id: i64,
    pub bidder_name: String,
    pub at: DateTime<Utc>,
    pub latency_ms: i32,
    /// The bid, or why there is none.
    pub result: Result<Bid, bids::NoBid>,
}

impl Pinged {
    /// The ping as the routing log shows it: the bid, or the outcome and why.
    pub fn summary(&self) -> serde_json::Value {
        match &self.result {
            Ok(bid) => serde_json::json!({"bidder_id": self.bidder_id, "bidder": self.bidder_name, "latency_ms": self.latency_ms,
                "bid_micros": bid.amount_micros}),
            Err(no) => serde_json::json!({"bidder_id": self.bidder_id, "bidder": self.bidder_name, "latency_ms": self.latency_ms,
                "outcome": no.outcome, "detail": no.detail}),
        }
    }

    /// Its bid as routing weighs it, when it made one.
    pub fn offer(&self) -> Option<bids::Offer> {
        let bid = self.result.as_ref().ok()?;
        Some(bids::Offer {
            bidder_id: self.bidder_id,
            amount_micros: bid.amount_micros,
            latency_ms: self.latency_ms,
            expires_at: bid.expires_at,
        })
    }

    /// The ping as stored, for call `call_id` (none: a quote's, whose id its write sets), with its
    /// outcome (`won` / `outbid` for a bid).
    pub fn row(&self, campaign_id: i64, call_id: Option<i64>, won: bool) -> PingRow {
        let (outcome, detail, bid) = match &self.result {
            Ok(bid) => (if won { PingOutcome::Won } else { PingOutcome::Outbid }, None, Some(bid)),
            Err(no) => (no.outcome, Some(no.detail.clone()), None),
        };
        PingRow {
            campaign_id,
            bidder_id: Some(self.bidder_id),
            bidder_name: self.bidder_name.clone(),
            call_id,
            quote_id: None,
            at: crate::db::to_stored(self.at.naive_utc()),
            latency_ms: self.latency_ms,
            outcome: outcome.as_str().to_string(),
            detail,
            bid_micros: bid.map(|b| b.amount_micros),
            dial_to: bid.map(|b| b.dial_to.clone()),
            expires_at: bid.and_then(|b| b.expires_at).map(|t| crate::db::to_stored(t.naive_utc())),
            min_duration_secs: bid.and_then(|b| b.min_duration_secs),
        }
    }
}

/// What a ping sends.
struct Request {
    method: PingMethod,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

/// What came back of one exchange.
struct Exchange {
    status: Option<u16>,
    body: Vec<u8>,
    latency: Duration,
    failure: Option<Failure>,
}

impl Bidding {
    pub fn new(allow: Arc<AllowList>, keys: Arc<Keyring>) -> Bidding {
        let settings = crate::outbound::Settings {
            // Each ping has its own, shorter timeout.
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: MAX_ANSWER_BYTES,
            user_agent: concat!("callbroker-bidding/", env!("CARGO_PKG_VERSION")),
        };
        let everything = AllowList::parse(&["0.0.0.0/0".to_string(), "::/0".to_string()]).unwrap_or_default();
        Bidding { guarded: Outbound::new(allow, &settings), open: Outbound::new(Arc::new(everything), &settings), keys }
    }

    /// Pings every bidder in `bidders` at once; answers once all have answered or `budget` has
    /// passed. The results follow the order of `bidders`.
    pub async fn ping_all(&self, bidders: &[Arc<BidderRow>], facts: &PingFacts, floor_micros: i64, budget: Duration) -> Vec<Pinged> {
        let pings = bidders.iter().map(|b| self.ping(b, facts, floor_micros, budget));
        futures_util::future::join_all(pings).await
    }

    async fn ping(&self, bidder: &BidderRow, facts: &PingFacts, floor_micros: i64, budget: Duration) -> Pinged {
        let at = Utc::now();
        let limit = bidder.timeout().min(budget);
        let (latency_ms, result) = match self.request(bidder, facts) {
            Err(detail) => (0, Err(bids::NoBid { outcome: PingOutcome::Error, detail })),
            Ok(request) => {
                let x = self.exchange(bidder, &request, limit).await;
                (i32::try_from(x.latency.as_millis()).unwrap_or(i32::MAX), read(bidder, &x, floor_micros, Utc::now()))
            }
        };
        Pinged { bidder_id: bidder.id, bidder_name: bidder.name.clone(), at, latency_ms, result }
    }

    /// A ping of `bidder` for the dashboard's "test ping": what was sent (header values masked)
    /// and what came back. No floor applies.
    pub async fn test(&self, bidder: &BidderRow, facts: &PingFacts) -> TestPingResult {
        let limit = bidder.timeout();
        let request = match self.request(bidder, facts) {
            Ok(r) => r,
            Err(detail) => {
                return TestPingResult {
                    method: bidder.method(),
                    url: bidder.url.clone(),
                    headers: BTreeMap::new(),
                    body: None,
                    status: None,
                    answer: None,
                    latency_ms: 0,
                    outcome: PingOutcome::Error,
                    detail: Some(detail),
                    bid_micros: None,
                    dial_to: None,
                    expires_at: None,
                    min_duration_secs: None,
                }
            }
        };
        let x = self.exchange(bidder, &request, limit).await;
        let result = read(bidder, &x, 0, Utc::now());
        let answer =
            (!x.body.is_empty() || x.status.is_some()).then(|| String::from_utf8_lossy(&x.body[..x.body.len().min(4096)]).into_owned());
        let bid = result.as_ref().ok();
        TestPingResult {
            method: request.method,
            url: request.url,
            headers: request.headers.into_iter().map(|(n, v)| (n, mask(&v))).collect(),
            body: request.body,
            status: x.status,
            answer,
            latency_ms: i32::try_from(x.latency.as_millis()).unwrap_or(i32::MAX),
            outcome: result.as_ref().map_or_else(|e| e.outcome, |_| PingOutcome::Won),
            detail: result.as_ref().err().map(|e| e.detail.clone()),
            bid_micros: bid.map(|b| b.amount_micros),
            dial_to: bid.map(|b| b.dial_to.clone()),
            expires_at: bid.and_then(|b| b.expires_at),
            min_duration_secs: bid.and_then(|b| b.min_duration_secs),
        }
    }

    /// The request for `bidder`, its templates filled with `facts`.
    fn request(&self, bidder: &BidderRow, facts: &PingFacts) -> Result<Request, String> {
        let method = bidder.method();
        let url_pieces = bids::parse_template(&bidder.url).map_err(|_| "the URL template no longer parses".to_string())?;
        let url = bids::fill(&url_pieces, facts, Escape::Url);
        let body = match method {
            PingMethod::Get => None,
            PingMethod::Post if bidder.body_template.trim().is_empty() => Some(standard_body(facts, bidder.expose_caller)),
            PingMethod::Post => {
                let pieces = bids::parse_template(&bidder.body_template).map_err(|_| "the body template no longer parses".to_string())?;
                Some(bids::fill(&pieces, facts, Escape::Json))
            }
        };
        let headers = bidder.headers(&self.keys).map_err(|_| "the bidder's headers cannot be opened".to_string())?;
        Ok(Request { method, url, headers, body })
    }

    async fn exchange(&self, bidder: &BidderRow, r: &Request, limit: Duration) -> Exchange {
        let client = if bidder.allow_private { &self.open } else { &self.guarded };
        let method = match r.method {
            PingMethod::Get => Method::GET,
            PingMethod::Post => Method::POST,
        };
        let mut builder = client.request(method, &r.url).timeout(limit);
        for (name, value) in &r.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &r.body {
            builder = builder.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
        }
        let started = Instant::now();
        let sent = tokio::time::timeout(limit, client.send(builder)).await;
        let latency = started.elapsed();
        match sent {
            Err(_) => Exchange { status: None, body: vec![], latency, failure: Some(Failure::TimedOut) },
            Ok(Err(f)) => Exchange { status: None, body: vec![], latency, failure: Some(f) },
            Ok(Ok(answer)) => Exchange {
                status: Some(answer.status.as_u16()),
                body: answer.body.to_vec(),
                latency,
                failure: answer.truncated.then_some(Failure::Request),
            },
        }
    }
}

/// The bid of an exchange, or why there is none.
fn read(bidder: &BidderRow, x: &Exchange, floor_micros: i64, now: DateTime<Utc>) -> Result<Bid, bids::NoBid> {
    match (x.failure, x.status) {
        (Some(Failure::TimedOut), _) => Err(bids::NoBid { outcome: PingOutcome::Timeout, detail: "no answer in time".into() }),
        (Some(_), Some(_)) => Err(bids::NoBid { outcome: PingOutcome::Invalid, detail: "the answer is too long".into() }),
        (Some(f), None) => Err(bids::NoBid { outcome: PingOutcome::Error, detail: f.to_string() }),
        (None, status) => {
            let mapping =
                bidder.mapping().map_err(|_| bids::NoBid { outcome: PingOutcome::Error, detail: "the mapping no longer parses".into() })?;
            bids::read_answer(&mapping, status.unwrap_or(0), &x.body, floor_micros, now)
        }
    }
}

/// The body of a `POST` bidder without a template: the call's facts as JSON (the caller's whole
/// number only with `expose_caller`).
fn standard_body(f: &PingFacts, expose_caller: bool) -> String {
    let area = crate::routing::nanp_area_code(&f.caller).map(|a| format!("{a:03}"));
    let mut body = serde_json::json!({
        "call_id": f.call_id,
        "caller_area_code": area,
        "state": f.state,
        "zip": f.zip,
        "city": f.city,
        "publisher_id": f.publisher_id,
        "campaign_id": f.campaign_id,
        "tags": f.tags,
    });
    if expose_caller {
        body["caller"] = serde_json::Value::String(f.caller.clone());
    }
    body.to_string()
}
