//! Calls as tracked: the record, its buyer legs, its event log; and the routing simulator.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::routing::Decision;
use crate::screening::{Block, Tags};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Call {
    pub id: i64,
    /// Twilio's `CallSid` of the inbound call.
    pub call_sid: String,
    pub campaign_id: Option<i64>,
    pub number_id: Option<i64>,
    pub publisher_id: Option<i64>,
    /// The buyer that took the call (or is being rung). Hidden from publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_id: Option<i64>,
    /// The caller's number (E.164).
    pub caller: String,
    /// The tracking number dialled.
    pub dialled: String,
    pub caller_state: Option<String>,
    pub caller_city: Option<String>,
    pub caller_zip: Option<String>,
    /// Twilio status of the inbound call: `ringing`, `in-progress`, `completed`, `busy`,
    /// `no-answer`, `failed`, `canceled`.
    pub status: String,
    /// What Callbroker did with it: `routed` (a buyer is being rung), `connected`, `no_buyer`,
    /// `unknown_number`, `campaign_paused`, `blocked` (screened out before any buyer rang: see
    /// `blocked_by`), `in_ivr` (the caller is answering the campaign's IVR), `ivr_ended` (the IVR
    /// ended the call: see `ivr_outcome`), `ivr_abandoned` (the caller hung up in the IVR),
    /// `abandoned` (caller hung up before a buyer answered), `failed` (every attempt failed).
    pub outcome: String,
    /// Buyers tried.
    pub attempts: i32,
    pub started_at: DateTime<Utc>,
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    /// When a buyer answered.
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Length of the inbound call.
    pub duration_secs: Option<i32>,
    /// Length of the buyer-connected part.
    pub billable_secs: Option<i32>,
    pub recording: Option<Recording>,
    /// What Twilio charged for the call, parent and buyer legs together, in micro-units of
    /// `cost_currency`. Hidden from publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_micros: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_currency: Option<String>,
    /// `pending` while Twilio has not priced the call yet, `done`, `failed`, or `unconfigured` (no
    /// Twilio credentials were set when the call ended, so nobody could be asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_status: Option<String>,
    /// The recording's transcript, when the campaign asks for transcripts.
    #[serde(default)]
    pub transcript: Option<String>,
    /// `pending`, `done` or `failed`.
    #[serde(default)]
    pub transcript_status: Option<String>,
    /// Set once the call is final and its buyer leg's length is known.
    pub money: Option<CallMoney>,
    /// The call's tags (Twilio's caller data when it arrived, later steps' answers).
    #[serde(default)]
    pub tags: Tags,
    /// The screening rule that blocked the call (`blocklist`, `anonymous`, `attestation`,
    /// `repeat`, `qualified_repeat`, `rate_limit`); absent unless `outcome` is `blocked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// The call's IVR: where it stands or how it ended; absent when the campaign had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ivr_outcome: Option<crate::ivr::IvrOutcome>,
    /// The question (0-based) the caller is on, or was on when the IVR ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ivr_question: Option<i32>,
    /// Seconds spent in the IVR (never part of a buyer's billable time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ivr_secs: Option<i32>,
    /// The buyer label an IVR answer kept the call to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_label: Option<String>,
    /// The publisher's ping API quote this call matched (its `ping_id`), and the payout quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_ping_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_payout_micros: Option<i64>,
}

/// What a completed call earned and cost, under the rule in force when it was settled.
/// Amounts are integer micro-units of `currency`. Publishers see only their payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallMoney {
    pub qualified: bool,
    /// `qualified`, `duplicate`, `no_buyer`, `not_connected`, `short` (the buyer leg was under the buffer).
    pub reason: String,
    pub duplicate: bool,
    /// The campaign's currency (none for calls to an unassigned number).
    pub currency: Option<String>,
    /// Seconds the buyer leg lasted.
    pub talk_secs: i32,
    /// The buffer applied (seconds).
    pub buffer_secs: i32,
    /// Hidden from publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_micros: Option<i64>,
    pub payout_micros: i64,
    /// Telephony cost when known; hidden from publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_micros: Option<i64>,
    /// revenue − payout − cost (unknown cost counts as 0); hidden from publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit_micros: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recording {
    pub sid: String,
    /// Twilio's URL of the recording (it names the Twilio account). Staff only: publishers play
    /// the recording through `GET /api/calls/{id}/recording`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub duration_secs: Option<i32>,
    pub channels: Option<i32>,
}

/// One attempt to put the call through to a buyer (the slot it held).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallLeg {
    pub id: i64,
    pub attempt: i32,
    pub buyer_id: Option<i64>,
    pub dial_call_sid: Option<String>,
    /// `reserved` until Twilio reports on the leg, then Twilio's status.
    pub status: String,
    /// Whether the buyer's slot has been given back.
    pub released: bool,
    pub reserved_at: DateTime<Utc>,
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<i32>,
    /// The buyer's agent had to press 1 to take the call (an agent who did not leaves the leg
    /// `no-answer`).
    #[serde(default)]
    pub accept_required: bool,
    /// When the agent accepted: the call's talk time, and so the buffer, counts from here.
    #[serde(default)]
    pub accepted_at: Option<DateTime<Utc>>,
    /// A leg dialled on a bid: its bidder (`buyer_id` is then absent), what was dialled, the bid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bidder_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dial_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid_micros: Option<i64>,
}

/// An entry of a call's log: `received`, `routing` (every candidate with its reason), `attempt`,
/// `attempt`, `slot_taken`, `no_buyer`, `attempt_result`, `accepted` / `not_accepted` (the buyer's
/// agent pressed 1, or did not), `slot_released`, `recording`, `slot_reaped`, ... (status changes
/// are on the call and its legs)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallDetail {
    pub call: Call,
    /// Empty for publishers.
    pub legs: Vec<CallLeg>,
    /// Empty for publishers.
    pub events: Vec<CallEvent>,
    /// The publisher postback's attempts, oldest first (a publisher sees its own).
    #[serde(default)]
    pub postbacks: Vec<PostbackAttempt>,
    /// The pings of the campaign's bidders for this call, in the order they were sent (empty
    /// for publishers).
    #[serde(default)]
    pub bids: Vec<crate::bidding::BidPing>,
}

/// One try at a publisher's postback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostbackAttempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// `GET` or `POST`.
    pub method: String,
    /// The URL as sent (placeholders filled in).
    pub url: String,
    /// The publisher's HTTP status, when it answered.
    pub status_code: Option<i32>,
    /// Why the attempt failed (network error, timeout, or the status), if it did.
    pub error: Option<String>,
    pub duration_ms: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CallFilter {
    pub campaign_id: Option<i64>,
    pub buyer_id: Option<i64>,
    pub publisher_id: Option<i64>,
    /// Twilio status, e.g. `completed`.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::QueryText>))]
    pub status: Option<String>,
    /// Outcome, e.g. `no_buyer`.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::QueryText>))]
    pub outcome: Option<String>,
    /// Calls started at or after this instant (RFC 3339).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub from: Option<DateTime<Utc>>,
    /// Calls started before this instant (RFC 3339).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub to: Option<DateTime<Utc>>,
    /// Tag conditions, all of which must hold; repeat the parameter for several. `NAME:VALUE`:
    /// the tag `NAME` equals `VALUE` (everything after the first `:`); `NAME`: the call has the
    /// tag. E.g. `tag=FromState:CA&tag=AreaCode`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(value_type = crate::rules::TagConditions))]
    pub tag: Vec<String>,
    /// Calls blocked by this screening rule (implies `outcome=blocked`).
    pub blocked_by: Option<crate::screening::BlockRule>,
    /// Calls whose IVR stands at or ended with this outcome.
    pub ivr_outcome: Option<crate::ivr::IvrOutcome>,
}

/// A hypothetical call for the routing simulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"number": "+17175550123", "caller": "+12015550123", "state": "NJ"})))]
pub struct SimulateRequest {
    /// The tracking number dialled (E.164).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::E164Number))]
    pub number: String,
    /// The caller's number (E.164), or what Twilio sends for a withheld one (e.g. `Anonymous`).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::SimulatedCaller))]
    pub caller: String,
    /// The caller's state as Twilio would send it; derived from the area code when absent.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::OptionalUsState>))]
    pub state: Option<String>,
    /// When the call happens (default: now).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Instant>))]
    pub at: Option<DateTime<Utc>>,
    /// Twilio's `StirVerstat` for the call (e.g. `TN-Validation-Passed-B`); absent: not sent.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::StirVerstat>))]
    pub stir_verstat: Option<String>,
    /// Further tags the call would carry (e.g. an IVR's answers); they add to, and win over,
    /// the tags the call gets from its caller data.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::SimulatedTags))]
    pub tags: Tags,
    /// What the caller would answer to the campaign's IVR, question by question: keys (`1`) or
    /// words (`yes`); `""` is silence. Questions beyond the list get silence.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::SimulatedAnswers))]
    pub ivr_answers: Vec<String>,
    /// Route the call as one of the exploration share of the campaign's `epc` tiers (buyers
    /// still being measured first). Default false.
    #[serde(default)]
    pub explore: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimulateResponse {
    pub campaign_id: Option<i64>,
    /// What would happen: `routed`, `no_buyer`, `unknown_number`, `campaign_paused`, `blocked`.
    pub outcome: String,
    /// The buyer that would be rung first.
    pub buyer_id: Option<i64>,
    /// Empty when the call is blocked (no buyer is considered).
    pub decision: Decision<'static>,
    /// The screening rule that would block the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Block>,
    /// The tags the call would carry, as the routing saw them.
    #[serde(default)]
    pub tags: Tags,
    /// How the campaign's IVR would go with `ivr_answers`; absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ivr: Option<SimulatedIvr>,
}

/// The IVR as the simulator walked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimulatedIvr {
    pub outcome: crate::ivr::IvrOutcome,
    /// Each question asked, in order: the question, the try (1 = first time), the answer given
    /// and what it came to (`taken`, `no_input`, `invalid`, `low_confidence`).
    pub steps: Vec<SimulatedIvrStep>,
    /// The buyer label the answers kept the call to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_label: Option<String>,
    /// Said to the caller when the IVR ends the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimulatedIvrStep {
    pub question: i32,
    pub attempt: i32,
    pub answer: String,
    pub result: String,
}
