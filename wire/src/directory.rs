//! The directory an operator keeps: campaigns, buyers, publishers and tracking numbers.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ivr::Ivr;
use crate::routing::RoutingPolicy;
use crate::screening::{Screening, ScreeningPatch, TagRule};
use crate::{Day, Status};

pub const DEFAULT_GREETING: &str = "Please hold while we connect you";
pub const DEFAULT_BUSY_MESSAGE: &str = "All agents are currently busy. Please try again later";

// ---------------------------------------------------------------- campaigns

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub status: Status,
    /// Said to the caller before the buyer is dialled.
    pub greeting: String,
    /// Said to the caller when no buyer can take the call.
    pub busy_message: String,
    /// Buyers that serve this campaign, with per-campaign overrides.
    pub buyers: Vec<CampaignBuyer>,
    /// Whether each completed recording is sent to Twilio for a transcript (billed by Twilio).
    #[serde(default)]
    pub transcribe: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub money: MoneyRules,
    /// Per-publisher payout overrides.
    pub publishers: Vec<CampaignPublisher>,
    /// Who is blocked before any buyer rings (the blocklist is its own resource).
    #[serde(default)]
    pub screening: Screening,
    /// Questions put to callers who pass the screening, before any buyer is rung.
    #[serde(default)]
    pub ivr: Ivr,
    /// How the buyers of each priority tier are ordered: by weight, price or earnings per call.
    #[serde(default)]
    pub routing: RoutingPolicy,
}

/// A campaign's money rules. Amounts are integer micro-units (millionths) of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyRules {
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// What the buyer pays per qualified call (overridable per buyer).
    pub revenue_micros: i64,
    /// What the publisher earns per qualified call (overridable per publisher).
    pub payout_micros: i64,
    /// A call qualifies when its buyer leg lasted at least this many seconds (overridable per buyer).
    pub buffer_secs: i32,
    /// A caller who called this campaign within this many seconds before is a duplicate:
    /// routed and shown, but neither billed nor paid. 0 turns the check off.
    pub duplicate_window_secs: i32,
    /// Publisher reports show callers' full numbers (else only the last 4 digits).
    pub show_full_caller: bool,
}

/// Money-rule fields of a new campaign or a patch; absent fields keep their default / value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyRulesPatch {
    /// Default `USD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Currency>))]
    pub currency: Option<String>,
    /// Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::AmountMicros>))]
    pub revenue_micros: Option<i64>,
    /// Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::AmountMicros>))]
    pub payout_micros: Option<i64>,
    /// Default 90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::BufferSecs>))]
    pub buffer_secs: Option<i32>,
    /// Default 0 (off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::DuplicateWindowSecs>))]
    pub duplicate_window_secs: Option<i32>,
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_full_caller: Option<bool>,
}

/// A publisher's payout on one campaign, overriding the campaign's `payout_micros`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignPublisher {
    /// A publisher that exists, listed once (else 422 naming the field).
    pub publisher_id: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::AmountMicros))]
    pub payout_micros: i64,
}

/// A buyer's assignment to a campaign. `priority`/`weight` override the buyer's own when set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignBuyer {
    /// A buyer that exists, listed once (else 422 naming the field).
    pub buyer_id: i64,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Priority>))]
    pub priority: Option<i32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Weight>))]
    pub weight: Option<i32>,
    /// The buyer's price per qualified call on this campaign (micro-units), overriding the campaign's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::AmountMicros>))]
    pub revenue_micros: Option<i64>,
    /// The buyer's qualification buffer (seconds), overriding the campaign's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::BufferSecs>))]
    pub buffer_secs: Option<i32>,
    /// Tag rules on this campaign, replacing the buyer's own (`[]`: none); absent: the buyer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::TagRules>))]
    pub tag_rules: Option<Vec<TagRule>>,
    /// The buyer's whisper on this campaign (a template like the buyer's `whisper`); `""`: no
    /// whisper on this campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Whisper>))]
    pub whisper: Option<String>,
    /// Whether the buyer's agent must press 1 to accept calls of this campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_accept: Option<bool>,
    /// Seconds the agent has to press 1 on this campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::AcceptTimeoutSecs>))]
    pub accept_timeout_secs: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "First Campaign"})))]
pub struct NewCampaign {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Name))]
    pub name: String,
    #[serde(default)]
    pub status: Option<Status>,
    /// Defaults to "Please hold while we connect you".
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Message>))]
    pub greeting: Option<String>,
    /// Defaults to "All agents are currently busy. Please try again later".
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Message>))]
    pub busy_message: Option<String>,
    /// Initial buyer assignments.
    #[serde(default)]
    pub buyers: Vec<CampaignBuyer>,
    /// Transcribe each completed recording (off unless set: Twilio bills it).
    #[serde(default)]
    pub transcribe: bool,
    #[serde(flatten)]
    pub money: MoneyRulesPatch,
    /// Per-publisher payout overrides.
    #[serde(default)]
    pub publishers: Vec<CampaignPublisher>,
    /// Default: nobody is screened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening: Option<ScreeningPatch>,
    /// Default: no IVR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ivr: Option<Ivr>,
    /// Default: every tier by weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingPolicy>,
}

/// Partial update; absent fields are left alone. `buyers`, when present, replaces the assignments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Name>))]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Message>))]
    pub greeting: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Message>))]
    pub busy_message: Option<String>,
    #[serde(default)]
    pub buyers: Option<Vec<CampaignBuyer>>,
    #[serde(default)]
    pub transcribe: Option<bool>,
    #[serde(flatten)]
    pub money: MoneyRulesPatch,
    /// When present, replaces the per-publisher payout overrides.
    #[serde(default)]
    pub publishers: Option<Vec<CampaignPublisher>>,
    /// Changes to the screening; absent fields keep their value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening: Option<ScreeningPatch>,
    /// When present, replaces the IVR (`{"questions": []}` turns it off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ivr: Option<Ivr>,
    /// When present, replaces the routing policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingPolicy>,
}

// ---------------------------------------------------------------- buyers

/// A weekly availability window in the buyer's time zone. `end` at or before `start` means the
/// window runs overnight into the next day (`fri 22:00–06:00` covers Friday night to Saturday 06:00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"day": "mon", "start": "09:00", "end": "17:00"})))]
pub struct ScheduleWindow {
    pub day: Day,
    /// `HH:MM`, 24-hour clock.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::WindowStart))]
    pub start: String,
    /// `HH:MM`, 24-hour clock; `24:00` allowed.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::WindowEnd))]
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Buyer {
    pub id: i64,
    pub name: String,
    /// E.164 number the calls are forwarded to.
    pub phone_number: String,
    pub status: Status,
    /// Higher first.
    pub priority: i32,
    /// Share among buyers of equal priority (1 to 1000).
    pub weight: i32,
    pub max_concurrent_calls: i32,
    pub cap_hourly: Option<i32>,
    pub cap_daily: Option<i32>,
    pub cap_monthly: Option<i32>,
    /// IANA time zone of the schedule and of the cap periods.
    pub timezone: String,
    /// Weekly availability; empty means always available.
    pub schedule: Vec<ScheduleWindow>,
    /// US state codes the buyer takes calls from; empty means all.
    pub allowed_states: Vec<String>,
    /// US state codes the buyer never takes calls from.
    pub denied_states: Vec<String>,
    /// Repeat callers go back to this buyer when it is eligible.
    pub sticky_repeat_callers: bool,
    /// The buyer takes a call only when every rule holds for the call's tags (an assignment's
    /// own rules replace these on its campaign).
    #[serde(default)]
    pub tag_rules: Vec<TagRule>,
    /// Labels a campaign's IVR can keep a call to (an answer with `action: route`), e.g.
    /// `spanish`.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Said to the buyer's agent when they answer, before the caller is put through. Placeholders:
    /// `{campaign}` (the campaign's name), `{caller_state}`, `{tag:NAME}` (the call's tag NAME);
    /// unknown ones are said as nothing; `{{` and `}}` are braces. At most 1000 characters.
    /// `null`: no whisper.
    #[serde(default)]
    pub whisper: Option<String>,
    /// The agent must press 1 to take the call ("Press 1 to accept this call." follows the
    /// whisper); an agent who does not counts as no answer and the call goes to the next buyer.
    /// The call's billable time then starts at the acceptance.
    #[serde(default)]
    pub require_accept: bool,
    /// Seconds the agent has to press 1 once the prompt is said.
    #[serde(default = "default_accept_timeout")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 60))]
    pub accept_timeout_secs: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Seconds a buyer's agent has to accept a call, unless set.
pub const DEFAULT_ACCEPT_TIMEOUT_SECS: i32 = 10;

fn default_accept_timeout() -> i32 {
    DEFAULT_ACCEPT_TIMEOUT_SECS
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "Buyer A", "phone_number": "+14155550100", "max_concurrent_calls": 3,
    "timezone": "America/New_York",
    "schedule": [{"day": "mon", "start": "09:00", "end": "17:00"}]
})))]
pub struct NewBuyer {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Name))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::E164Number))]
    pub phone_number: String,
    #[serde(default)]
    pub status: Option<Status>,
    /// Default 0.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Priority>))]
    pub priority: Option<i32>,
    /// Default 1.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Weight>))]
    pub weight: Option<i32>,
    /// Default 1.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::MaxConcurrentCalls>))]
    pub max_concurrent_calls: Option<i32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Cap>))]
    pub cap_hourly: Option<i32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Cap>))]
    pub cap_daily: Option<i32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Cap>))]
    pub cap_monthly: Option<i32>,
    /// Default `UTC`. An IANA time zone name the server knows, such as `America/New_York` (else 422
    /// naming the field).
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::ScheduleWindows))]
    pub schedule: Vec<ScheduleWindow>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::rules::UsState>))]
    pub allowed_states: Vec<String>,
    /// A state both allowed and denied is a 422 naming `denied_states`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::rules::UsState>))]
    pub denied_states: Vec<String>,
    /// Default true.
    #[serde(default)]
    pub sticky_repeat_callers: Option<bool>,
    /// Default: none (every call).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::TagRules))]
    pub tag_rules: Vec<TagRule>,
    /// Default: none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::BuyerLabels))]
    pub labels: Vec<String>,
    /// Said to the buyer's agent before the bridge (see `Buyer`). Default none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Whisper>))]
    pub whisper: Option<String>,
    /// Default false.
    #[serde(default)]
    pub require_accept: Option<bool>,
    /// Default 10.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::AcceptTimeoutSecs>))]
    pub accept_timeout_secs: Option<i32>,
}

/// Partial update; absent fields are left alone, `null` clears an optional cap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuyerPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Name>))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::E164Number>))]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Priority>))]
    pub priority: Option<i32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Weight>))]
    pub weight: Option<i32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::MaxConcurrentCalls>))]
    pub max_concurrent_calls: Option<i32>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Cap>))]
    pub cap_hourly: Option<Option<i32>>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Cap>))]
    pub cap_daily: Option<Option<i32>>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Cap>))]
    pub cap_monthly: Option<Option<i32>>,
    /// An IANA time zone name the server knows, such as `America/New_York` (else 422 naming the field).
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ScheduleWindows>))]
    pub schedule: Option<Vec<ScheduleWindow>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<crate::rules::UsState>>))]
    pub allowed_states: Option<Vec<String>>,
    /// A state both allowed and denied is a 422 naming `denied_states`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<crate::rules::UsState>>))]
    pub denied_states: Option<Vec<String>>,
    #[serde(default)]
    pub sticky_repeat_callers: Option<bool>,
    /// When present, replaces the tag rules.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::TagRules>))]
    pub tag_rules: Option<Vec<TagRule>>,
    /// When present, replaces the labels.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::BuyerLabels>))]
    pub labels: Option<Vec<String>>,
    /// `null` or `""` removes the whisper.
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Whisper>))]
    pub whisper: Option<Option<String>>,
    #[serde(default)]
    pub require_accept: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::AcceptTimeoutSecs>))]
    pub accept_timeout_secs: Option<i32>,
}

// ---------------------------------------------------------------- publishers

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Publisher {
    pub id: i64,
    pub name: String,
    pub status: Status,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// Free-form payout terms (the money rules are set per campaign).
    pub payout_terms: Option<String>,
    /// Called on each qualified call (see [`PostbackMethod`] for how); `None`: no postback.
    pub postback_url: Option<String>,
    pub postback_method: PostbackMethod,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Returned once, when a publisher is created: the publisher and its postback signing secret,
/// which is never shown again (a new one can be made: `POST /api/publishers/{id}/postback-secret`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedPublisher {
    #[serde(flatten)]
    pub publisher: Publisher,
    /// Key of the `X-Callbroker-Signature` header on this publisher's postbacks (HMAC-SHA256 of
    /// `"<t>.<content>"`).
    pub postback_secret: String,
}

/// A publisher's new postback signing secret, shown this once; the previous one stops working.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostbackSecret {
    pub postback_secret: String,
}

/// How a publisher's postback is sent. The URL is a template: `{call_id}`, `{call_sid}`,
/// `{caller_area_code}`, `{duration}` (the buyer leg's seconds), `{payout}` (decimal, e.g. `12.50`),
/// `{currency}`, `{campaign_id}` and `{publisher_id}` are replaced by the call's values
/// (URL-encoded). `post` also sends those values as a form-encoded body. Every postback is signed:
/// `X-Callbroker-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<content>">` keyed with
/// the publisher's postback secret, where the content is the body of a `post` and the path and
/// query of a `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PostbackMethod {
    #[default]
    Get,
    Post,
}

impl PostbackMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PostbackMethod::Get => "GET",
            PostbackMethod::Post => "POST",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "GET" => Some(PostbackMethod::Get),
            "POST" => Some(PostbackMethod::Post),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Publisher A", "contact_email": "pub@example.com"})))]
pub struct NewPublisher {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Name))]
    pub name: String,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ShortText>))]
    pub contact_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ContactEmail>))]
    pub contact_email: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ContactPhone>))]
    pub contact_phone: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::LongText>))]
    pub payout_terms: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::PostbackUrl>))]
    pub postback_url: Option<String>,
    #[serde(default)]
    pub postback_method: Option<PostbackMethod>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublisherPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Name>))]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ShortText>))]
    pub contact_name: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ContactEmail>))]
    pub contact_email: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ContactPhone>))]
    pub contact_phone: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::LongText>))]
    pub payout_terms: Option<Option<String>>,
    /// `null` removes the postback.
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::PostbackUrl>))]
    pub postback_url: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postback_method: Option<PostbackMethod>,
}

// ---------------------------------------------------------------- phone numbers

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhoneNumber {
    pub id: i64,
    /// E.164 tracking number.
    pub number: String,
    /// The provider's id of the number (Twilio `PN...` SID).
    pub provider_sid: Option<String>,
    pub friendly_name: Option<String>,
    /// Campaign the calls to this number belong to.
    pub campaign_id: Option<i64>,
    /// Publisher the calls to this number are attributed to.
    pub publisher_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"number": "+17175550123", "friendly_name": "Main line", "campaign_id": 1, "publisher_id": 1})))]
pub struct NewPhoneNumber {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::E164Number))]
    pub number: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ProviderSid>))]
    pub provider_sid: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ShortText>))]
    pub friendly_name: Option<String>,
    /// The campaign calls to this number belong to: one that exists (else 422 naming the field).
    #[serde(default)]
    pub campaign_id: Option<i64>,
    /// The publisher calls to this number are attributed to: one that exists (else 422 naming the
    /// field).
    #[serde(default)]
    pub publisher_id: Option<i64>,
}

/// Partial update; `null` clears the campaign or publisher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhoneNumberPatch {
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ShortText>))]
    pub friendly_name: Option<Option<String>>,
    /// The campaign calls to this number belong to: one that exists (else 422 naming the field).
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub campaign_id: Option<Option<i64>>,
    /// The publisher calls to this number are attributed to: one that exists (else 422 naming the
    /// field).
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub publisher_id: Option<Option<i64>>,
}

// ---------------------------------------------------------------- list filters

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CampaignFilter {
    pub status: Option<Status>,
    /// Name contains (case-insensitive).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::QueryText>))]
    pub q: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct BuyerFilter {
    pub status: Option<Status>,
    /// Name contains (case-insensitive).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::QueryText>))]
    pub q: Option<String>,
    /// Only buyers assigned to this campaign.
    pub campaign_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PublisherFilter {
    pub status: Option<Status>,
    /// Name contains (case-insensitive).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::QueryText>))]
    pub q: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PhoneNumberFilter {
    pub campaign_id: Option<i64>,
    pub publisher_id: Option<i64>,
    /// Number or friendly name contains.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::QueryText>))]
    pub q: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UserFilter {
    pub role: Option<crate::Role>,
    pub publisher_id: Option<i64>,
}
