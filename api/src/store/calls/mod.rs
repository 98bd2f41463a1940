//! The call tables: `calls`, `call_legs` and the call log `call_events`. Every statement that reads
//! or writes them is here; the rest of the program calls these functions.
//!
//! - [`flow`]: what the call flow reads on each webhook (one statement where the backend can) and
//!   [`flow::commit`], which writes a webhook's [`flow::Effects`] — the call's new row, its legs,
//!   the buyer slot claimed or given back, the log, the live events, the rollup changes and the
//!   jobs — all or nothing, guarded by the call's version. On PostgreSQL that is one statement
//!   ([`pg`]); on SQLite a sequence in the writer's transaction ([`sqlite`]).
//! - [`query`]: reads for the API, the reports and the operators' tools.
pub mod bulk;
pub mod flow;
mod pg;
pub mod query;
pub mod reports;
mod sqlite;

use callbroker_wire::{Call, CallLeg, CallMoney, IvrOutcome, Recording, Tags};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::utc;
use crate::db::schema::{call_legs, calls};
use crate::db::stamp::{MaybeStamp, Stamp};
use crate::domain::acceptance::Acceptance;
use crate::domain::states::{CallStatus, CostStatus, LegStatus, Outcome, QualifyReason, TranscriptStatus};

pub use query::{detail, full_caller_campaigns, hide_from_publisher, list};

/// A row of `calls`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = calls, treat_none_as_default_value = false)]
pub struct CallRow {
    pub id: i64,
    pub call_sid: String,
    pub campaign_id: Option<i64>,
    pub number_id: Option<i64>,
    pub publisher_id: Option<i64>,
    pub buyer_id: Option<i64>,
    pub caller: String,
    pub dialled: String,
    pub caller_state: Option<String>,
    pub caller_state_source: Option<String>,
    pub caller_city: Option<String>,
    pub caller_zip: Option<String>,
    pub status: CallStatus,
    pub outcome: Outcome,
    pub attempts: i32,
    #[diesel(deserialize_as = Stamp)]
    pub started_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ringing_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub answered_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub connected_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ended_at: Option<NaiveDateTime>,
    pub duration_secs: Option<i32>,
    pub billable_secs: Option<i32>,
    pub recording_sid: Option<String>,
    pub recording_url: Option<String>,
    pub recording_duration_secs: Option<i32>,
    pub recording_channels: Option<i32>,
    pub last_sequence: Option<i32>,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
    pub cost_micros: Option<i64>,
    pub cost_currency: Option<String>,
    pub cost_status: Option<CostStatus>,
    pub transcript: Option<String>,
    pub transcript_status: Option<TranscriptStatus>,
    pub transcript_sid: Option<String>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub settled_at: Option<NaiveDateTime>,
    pub money_buyer_id: Option<i64>,
    pub answered: bool,
    pub no_buyer: bool,
    pub talk_secs: i32,
    pub duplicate: bool,
    pub qualified: Option<bool>,
    pub qualify_reason: Option<QualifyReason>,
    pub currency: Option<String>,
    pub rule_revenue_micros: Option<i64>,
    pub rule_payout_micros: Option<i64>,
    pub rule_buffer_secs: Option<i32>,
    pub rule_duplicate_window_secs: Option<i32>,
    pub revenue_micros: i64,
    pub payout_micros: i64,
    pub counted_cost_micros: i64,
    pub profit_micros: Option<i64>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub postback_at: Option<NaiveDateTime>,
    /// Bumped by every change to the call or its legs.
    pub version: i64,
    /// The call's tags, a JSON object (see [`CallRow::tags`] and [`flow::Effects::merge_tags`]).
    pub tags: String,
    /// The screening rule that blocked the call.
    pub blocked_by: Option<String>,
    /// The only buyer this repeat caller may go to (the campaign's `same_buyer` repeat rule).
    pub repeat_buyer_id: Option<i64>,
    /// The IVR: where it stands or how it ended (an [`IvrOutcome`] as text), the question it is
    /// on or ended on, the try of that question, its seconds, and the buyer label an answer chose.
    pub ivr_outcome: Option<String>,
    pub ivr_question: Option<i32>,
    pub ivr_attempt: Option<i32>,
    pub ivr_secs: Option<i32>,
    pub route_label: Option<String>,
    /// The bidder credited with the call's money (its answered leg was dialled on a bid).
    pub money_bidder_id: Option<i64>,
    /// The publisher's quote (ping API) the call matched, and the payout quoted.
    pub quote_ping_id: Option<String>,
    pub quote_payout_micros: Option<i64>,
}

impl CallRow {
    /// The call's tags (a row written by this program always holds a JSON object; anything else
    /// reads as none).
    pub fn tags(&self) -> Tags {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }

    /// Where the call's IVR stands, when it had one.
    pub fn ivr(&self) -> Option<IvrOutcome> {
        self.ivr_outcome.as_deref().and_then(IvrOutcome::parse)
    }

    /// Sets the IVR's state.
    pub fn set_ivr(&mut self, outcome: IvrOutcome) {
        self.ivr_outcome = Some(outcome.as_str().to_string());
    }

    pub fn into_wire(self) -> Call {
        let tags = self.tags();
        let money = self.settled_at.map(|_| CallMoney {
            qualified: self.qualified.unwrap_or(false),
            reason: self.qualify_reason.map(|r| r.as_str().to_string()).unwrap_or_default(),
            duplicate: self.duplicate,
            currency: self.currency.clone(),
            talk_secs: self.talk_secs,
            buffer_secs: self.rule_buffer_secs.unwrap_or(0),
            revenue_micros: Some(self.revenue_micros),
            payout_micros: self.payout_micros,
            cost_micros: self.cost_micros,
            profit_micros: self.profit_micros,
        });
        let recording = self.recording_sid.map(|sid| Recording {
            sid,
            url: self.recording_url,
            duration_secs: self.recording_duration_secs,
            channels: self.recording_channels,
        });
        Call {
            id: self.id,
            call_sid: self.call_sid,
            campaign_id: self.campaign_id,
            number_id: self.number_id,
            publisher_id: self.publisher_id,
            buyer_id: self.buyer_id,
            caller: self.caller,
            dialled: self.dialled,
            caller_state: self.caller_state,
            caller_city: self.caller_city,
            caller_zip: self.caller_zip,
            status: self.status.as_str().to_string(),
            outcome: self.outcome.as_str().to_string(),
            attempts: self.attempts,
            started_at: utc(self.started_at),
            ringing_at: self.ringing_at.map(utc),
            answered_at: self.answered_at.map(utc),
            connected_at: self.connected_at.map(utc),
            ended_at: self.ended_at.map(utc),
            duration_secs: self.duration_secs,
            billable_secs: self.billable_secs,
            recording,
            cost_micros: self.cost_micros,
            cost_currency: self.cost_currency,
            cost_status: self.cost_status.map(|s| s.as_str().to_string()),
            transcript: self.transcript,
            transcript_status: self.transcript_status.map(|s| s.as_str().to_string()),
            money,
            tags,
            blocked_by: self.blocked_by,
            ivr_outcome: self.ivr_outcome.as_deref().and_then(IvrOutcome::parse),
            ivr_question: self.ivr_question,
            ivr_secs: self.ivr_secs,
            route_label: self.route_label,
            quote_ping_id: self.quote_ping_id,
            quote_payout_micros: self.quote_payout_micros,
        }
    }

    /// The call is over: no further status will follow.
    pub fn is_over(&self) -> bool {
        self.status.is_final()
    }
}

/// A new call's row, as the voice webhook records it.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub call_sid: String,
    pub campaign_id: Option<i64>,
    pub number_id: Option<i64>,
    pub publisher_id: Option<i64>,
    pub caller: String,
    pub dialled: String,
    pub caller_state: Option<String>,
    pub caller_state_source: Option<String>,
    pub caller_city: Option<String>,
    pub caller_zip: Option<String>,
    pub status: CallStatus,
    pub outcome: Outcome,
    pub started_at: NaiveDateTime,
    /// The tags the call arrives with.
    pub tags: Tags,
}

impl NewCall {
    /// The row as stored once inserted with `id` (every other column at its default).
    pub fn into_row(self, id: i64) -> CallRow {
        CallRow {
            id,
            call_sid: self.call_sid,
            campaign_id: self.campaign_id,
            number_id: self.number_id,
            publisher_id: self.publisher_id,
            buyer_id: None,
            caller: self.caller,
            dialled: self.dialled,
            caller_state: self.caller_state,
            caller_state_source: self.caller_state_source,
            caller_city: self.caller_city,
            caller_zip: self.caller_zip,
            status: self.status,
            outcome: self.outcome,
            attempts: 0,
            started_at: self.started_at,
            ringing_at: None,
            answered_at: None,
            connected_at: None,
            ended_at: None,
            duration_secs: None,
            billable_secs: None,
            recording_sid: None,
            recording_url: None,
            recording_duration_secs: None,
            recording_channels: None,
            last_sequence: None,
            updated_at: self.started_at,
            cost_micros: None,
            cost_currency: None,
            cost_status: None,
            transcript: None,
            transcript_status: None,
            transcript_sid: None,
            settled_at: None,
            money_buyer_id: None,
            answered: false,
            no_buyer: false,
            talk_secs: 0,
            duplicate: false,
            qualified: None,
            qualify_reason: None,
            currency: None,
            rule_revenue_micros: None,
            rule_payout_micros: None,
            rule_buffer_secs: None,
            rule_duplicate_window_secs: None,
            revenue_micros: 0,
            payout_micros: 0,
            counted_cost_micros: 0,
            profit_micros: None,
            postback_at: None,
            version: 0,
            tags: serde_json::to_string(&self.tags).unwrap_or_else(|_| "{}".into()),
            blocked_by: None,
            repeat_buyer_id: None,
            ivr_outcome: None,
            ivr_question: None,
            ivr_attempt: None,
            ivr_secs: None,
            route_label: None,
            money_bidder_id: None,
            quote_ping_id: None,
            quote_payout_micros: None,
        }
    }
}

/// A row of `call_legs`: one attempt to connect the call to a buyer.
#[allow(clippy::struct_excessive_bools, reason = "a row of the table: each flag is a column")]
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = call_legs, treat_none_as_default_value = false)]
pub struct LegRow {
    pub id: i64,
    pub call_id: i64,
    pub attempt: i32,
    pub buyer_id: Option<i64>,
    pub dial_call_sid: Option<String>,
    pub status: LegStatus,
    /// The buyer's slot has been given back.
    pub released: bool,
    #[diesel(deserialize_as = Stamp)]
    pub reserved_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ringing_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub answered_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub ended_at: Option<NaiveDateTime>,
    pub duration_secs: Option<i32>,
    pub last_sequence: Option<i32>,
    /// Past this, a leg still holding its slot is given back by the reaper.
    #[diesel(deserialize_as = Stamp)]
    pub expires_at: NaiveDateTime,
    /// Counted in the rollups as offered to its buyer.
    pub counted: bool,
    /// Counted in the rollups as connected.
    pub counted_connected: bool,
    /// The buyer's agent had to press 1 to take the call (fixed when the leg was dialled).
    pub accept_required: bool,
    /// When the agent accepted.
    #[diesel(deserialize_as = MaybeStamp)]
    pub accepted_at: Option<NaiveDateTime>,
    /// A leg dialled on a bid: the bidder (no `buyer_id`), what was dialled, the bid and its
    /// minimum duration for payment.
    pub bidder_id: Option<i64>,
    pub dial_to: Option<String>,
    pub bid_micros: Option<i64>,
    pub bid_min_duration_secs: Option<i32>,
}

impl LegRow {
    pub fn acceptance(&self) -> Acceptance {
        Acceptance { required: self.accept_required, accepted_at: self.accepted_at }
    }

    pub fn into_wire(self) -> CallLeg {
        let status = self.acceptance().status(self.status);
        CallLeg {
            id: self.id,
            attempt: self.attempt,
            buyer_id: self.buyer_id,
            dial_call_sid: self.dial_call_sid,
            status: status.as_str().to_string(),
            released: self.released,
            reserved_at: utc(self.reserved_at),
            ringing_at: self.ringing_at.map(utc),
            answered_at: self.answered_at.map(utc),
            ended_at: self.ended_at.map(utc),
            duration_secs: self.duration_secs,
            accept_required: self.accept_required,
            accepted_at: self.accepted_at.map(utc),
            bidder_id: self.bidder_id,
            dial_to: self.dial_to,
            bid_micros: self.bid_micros,
        }
    }
}
