//! Selling calls in real time: a campaign's external bidders (ring trees), the pings sent to them
//! and their bids, the campaign's bidding settings, and the ping API publishers ask before they
//! transfer a caller (Callbroker as the seller).
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::common::Status;

/// How a campaign sells its calls to bidders (a part of its `routing` policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BidSettings {
    /// The bidders' tier in the routing order: before static buyers of a lower priority, after
    /// those of a higher one, and before those of the same priority. Default 0.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Priority))]
    pub priority: i32,
    /// The lowest bid taken (micro-units of the campaign's currency); a bid below it is out.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::AmountMicros))]
    pub floor_micros: i64,
    /// Milliseconds the voice webhook waits for the bidders' answers altogether (50 to 5,000,
    /// default 1,000); a bidder still silent then is out (`timeout`).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::PingBudgetMs))]
    pub ping_budget_ms: i32,
    /// Compare the static buyers' price per call with the bids and ring the best first, whatever
    /// the priorities.
    pub route_by_bid_winner: bool,
    /// The publisher's payout on a call sold on a bid: this percent of the bid (0 to 100);
    /// absent: the campaign's fixed payout.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Percent>))]
    pub payout_percent: Option<i32>,
    /// Publishers may ask for quotes through `POST /api/rtb/ping`.
    pub ping_api: bool,
    /// Seconds a publisher's quote holds (5 to 600, default 60; a shorter bid expiry wins).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::QuoteTtlSecs))]
    pub quote_ttl_secs: i32,
}

/// [`BidSettings`] as a field's schema: a plain reference. The derive would give the field of a
/// `#[serde(default)]` struct a default, and a default beside a reference to an object is more
/// than client generators take (`openapi-python-client` drops the whole model).
#[cfg(feature = "openapi")]
pub fn bid_settings_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::RefOr::Ref(utoipa::openapi::Ref::from_schema_name("BidSettings"))
}

impl Default for BidSettings {
    fn default() -> Self {
        BidSettings {
            priority: 0,
            floor_micros: 0,
            ping_budget_ms: 1000,
            route_by_bid_winner: false,
            payout_percent: None,
            ping_api: false,
            quote_ttl_secs: 60,
        }
    }
}

/// Where the parts of a bid sit in a bidder's JSON answer, each a JSON Pointer (RFC 6901),
/// e.g. `/bid/amount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "amount": "/bid", "accept": "/accepted", "number": "/phone", "expires": "/expires_in", "min_duration": "/duration"
})))]
pub struct BidMapping {
    /// The bid in currency units (a number, or a number written as text), e.g. `12.5`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::JsonPointer))]
    pub amount: String,
    /// A boolean: `false` is a refusal. Absent: every bid with an amount and a number is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::JsonPointer>))]
    pub accept: Option<String>,
    /// The number to dial (E.164) or a SIP URI (`sip:...`).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::JsonPointer))]
    pub number: String,
    /// When the bid lapses: seconds from now (a number) or an RFC 3339 time. Absent: it holds
    /// for the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::JsonPointer>))]
    pub expires: Option<String>,
    /// Seconds the call must last to be paid (the qualification buffer). Absent: the campaign's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::JsonPointer>))]
    pub min_duration: Option<String>,
}

/// The method a ping is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PingMethod {
    /// The filled body template is sent as JSON.
    #[default]
    #[serde(rename = "POST")]
    Post,
    /// No body; placeholders may sit in the URL's query.
    #[serde(rename = "GET")]
    Get,
}

impl PingMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PingMethod::Post => "POST",
            PingMethod::Get => "GET",
        }
    }

    pub fn parse(s: &str) -> Option<PingMethod> {
        match s {
            "POST" => Some(PingMethod::Post),
            "GET" => Some(PingMethod::Get),
            _ => None,
        }
    }
}

/// An external bidder of a campaign. Header values are secrets: only their last four characters
/// are shown (`••••abcd`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bidder {
    pub id: i64,
    pub campaign_id: i64,
    pub name: String,
    pub status: Status,
    pub url: String,
    pub method: PingMethod,
    /// Header name → its value, masked.
    pub headers: BTreeMap<String, String>,
    pub body_template: String,
    pub timeout_ms: i32,
    pub mapping: BidMapping,
    /// Pings may reach private, loopback and link-local addresses.
    pub allow_private: bool,
    /// The template may hold the caller's whole number (`{caller}`) before the bidder has won.
    pub expose_caller: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new bidder.
///
/// Placeholders in `url` and `body_template`: `{call_id}`, `{caller}` (only with
/// `expose_caller`), `{caller_area_code}`, `{state}`, `{zip}`, `{city}`, `{publisher_id}`,
/// `{campaign_id}`, `{tag:NAME}`; a brace not opening one of them is literal. Filled with
/// sample values, a `POST` body must be JSON and the URL an `http(s)` URL (else 422 naming the
/// field). An unknown placeholder, or `{caller}` without `expose_caller`, is a 422 naming the
/// field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "campaign_id": 1, "name": "Acme RTB", "url": "https://rtb.example.com/bid",
    "headers": {"Authorization": "Bearer s3cret-token"},
    "body_template": "{\"cid\": \"{call_id}\", \"area\": \"{caller_area_code}\", \"state\": \"{state}\"}",
    "mapping": {"amount": "/bid", "number": "/phone", "expires": "/expires_in"}
})))]
pub struct NewBidder {
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub campaign_id: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Name))]
    pub name: String,
    #[serde(default)]
    pub status: Option<Status>,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::BidderUrl))]
    pub url: String,
    #[serde(default)]
    pub method: Option<PingMethod>,
    /// Header name → value (names: letters, digits and `-`; values: visible text).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, crate::rules::HeaderValue>>))]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::BodyTemplate>))]
    pub body_template: Option<String>,
    /// Default 1,000.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::PingTimeoutMs>))]
    pub timeout_ms: Option<i32>,
    pub mapping: BidMapping,
    #[serde(default)]
    pub allow_private: Option<bool>,
    #[serde(default)]
    pub expose_caller: Option<bool>,
}

/// Partial update; absent fields are left alone. In `headers`, a value sets the header and
/// `null` removes it; headers not named are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BidderPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Name>))]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::BidderUrl>))]
    pub url: Option<String>,
    #[serde(default)]
    pub method: Option<PingMethod>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, String>>))]
    pub headers: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::BodyTemplate>))]
    pub body_template: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::PingTimeoutMs>))]
    pub timeout_ms: Option<i32>,
    #[serde(default)]
    pub mapping: Option<BidMapping>,
    #[serde(default)]
    pub allow_private: Option<bool>,
    #[serde(default)]
    pub expose_caller: Option<bool>,
}

/// How a ping ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PingOutcome {
    /// Its bid was dialled.
    Won,
    /// A valid bid another one (or a static buyer) beat.
    Outbid,
    /// No answer within the bidder's timeout or the campaign's ping budget.
    Timeout,
    /// The request failed, or the answer was not a 2xx.
    Error,
    /// The answer was not JSON, or lacked a part of the mapping (`detail` says which).
    Invalid,
    /// The bidder declined (its accept flag false, or no amount).
    Rejected,
    /// The bid was below the campaign's floor.
    BelowFloor,
}

impl PingOutcome {
    pub const ALL: [PingOutcome; 7] = [
        PingOutcome::Won,
        PingOutcome::Outbid,
        PingOutcome::Timeout,
        PingOutcome::Error,
        PingOutcome::Invalid,
        PingOutcome::Rejected,
        PingOutcome::BelowFloor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PingOutcome::Won => "won",
            PingOutcome::Outbid => "outbid",
            PingOutcome::Timeout => "timeout",
            PingOutcome::Error => "error",
            PingOutcome::Invalid => "invalid",
            PingOutcome::Rejected => "rejected",
            PingOutcome::BelowFloor => "below_floor",
        }
    }

    pub fn parse(s: &str) -> Option<PingOutcome> {
        PingOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// A bid that could be dialled.
    pub fn is_bid(self) -> bool {
        matches!(self, PingOutcome::Won | PingOutcome::Outbid)
    }
}

/// One ping of a bidder, as kept on the call (or on a publisher's quote).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BidPing {
    pub id: i64,
    pub bidder_id: Option<i64>,
    pub bidder_name: String,
    pub at: DateTime<Utc>,
    pub latency_ms: i32,
    pub outcome: PingOutcome,
    /// Why a ping is out (`timeout`, `error`, `invalid`, `rejected`, `below_floor`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bid_micros: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dial_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_duration_secs: Option<i32>,
}

/// A test ping's call facts (all optional; samples stand in for what is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestPingRequest {
    /// E.164, or empty for the sample caller.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ContactPhone>))]
    pub caller: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::OptionalUsState>))]
    pub state: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ShortText>))]
    pub zip: Option<String>,
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
}

/// What a test ping sent and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestPingResult {
    pub method: PingMethod,
    pub url: String,
    /// The headers sent, values masked.
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    /// The answer's HTTP status, when one came.
    pub status: Option<u16>,
    /// The answer's body (its first 4,096 bytes), when one came.
    pub answer: Option<String>,
    pub latency_ms: i32,
    pub outcome: PingOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bid_micros: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dial_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_duration_secs: Option<i32>,
}

/// One bidder's figures over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BidderStats {
    pub bidder_id: Option<i64>,
    pub bidder_name: String,
    pub pings: i64,
    /// Pings that answered a valid bid (won or outbid).
    pub bids: i64,
    pub wins: i64,
    /// Wins per ping, 0 to 1.
    pub win_rate: f64,
    pub timeouts: i64,
    /// Pings out for any other reason (errors, invalid answers, refusals, bids below the floor).
    pub other_failures: i64,
    pub total_bid_micros: i64,
    pub average_bid_micros: Option<i64>,
    /// Revenue of the settled calls the bidder's leg was paid for.
    pub revenue_micros: i64,
    pub average_latency_ms: Option<i64>,
}

/// A publisher's question: would a call from this caller be bought now, and at what payout?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "campaign_id": 1, "caller": "+12015550123", "state": "NJ", "zip": "07030", "tags": {"insured": "yes"}
})))]
pub struct RtbPingRequest {
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub campaign_id: i64,
    /// The caller's number, E.164.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::E164Number))]
    pub caller: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::OptionalUsState>))]
    pub state: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ShortText>))]
    pub zip: Option<String>,
    /// Tags the publisher knows of the caller (names as in tag rules).
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Why a ping was not accepted (stable codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RtbRefusal {
    /// Buyers would take the caller, but none has room now.
    NoCapacity,
    /// The campaign's screening blocks this caller.
    Blocked,
    /// The caller called the campaign within its duplicate window.
    Duplicate,
    /// No buyer takes callers like this one (state, tags, hours).
    Filtered,
    /// Only bidders could take the call, and none bid.
    NoBid,
    /// The campaign is paused, takes no pings, or has no number for this publisher.
    Closed,
}

impl RtbRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            RtbRefusal::NoCapacity => "no_capacity",
            RtbRefusal::Blocked => "blocked",
            RtbRefusal::Duplicate => "duplicate",
            RtbRefusal::Filtered => "filtered",
            RtbRefusal::NoBid => "no_bid",
            RtbRefusal::Closed => "closed",
        }
    }
}

/// The answer to a publisher's ping. Accepted: the payout offered for a call from this caller to
/// `number` before `expires_at`, paid when it lasts `min_duration_secs`. Refused: `reason`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "ping_id": "rtb_8f2c1d0a9b7e4c3f", "accepted": true, "payout": 12.5, "payout_micros": 12_500_000,
    "currency": "USD", "number": "+17175550100", "expires_at": "2026-12-05T15:01:00Z", "min_duration_secs": 90
})))]
pub struct RtbQuote {
    pub ping_id: String,
    pub accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<RtbRefusal>,
    /// In currency units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout_micros: Option<i64>,
    pub currency: String,
    /// The campaign's tracking number for this publisher.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub expires_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_duration_secs: Option<i32>,
}

/// Which bidders the list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct BidderFilter {
    /// Only this campaign's bidders.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub campaign_id: Option<i64>,
}

/// Which pings the bidder figures count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct BidderStatsQuery {
    /// Only this campaign's bidders.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub campaign_id: Option<i64>,
    /// Pings sent (and calls started) at or after this instant (RFC 3339). Default: 7 days before
    /// `to`. Must be before `to` (else 422 naming `from`).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (RFC 3339). Default: now.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub to: Option<DateTime<Utc>>,
}

/// A publisher's recent quotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RtbQuoteRecord {
    pub quote: RtbQuote,
    pub campaign_id: i64,
    pub caller: String,
    pub created_at: DateTime<Utc>,
    /// The call that came for it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<i64>,
}
