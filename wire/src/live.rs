//! Live events: what `GET /api/events` (Server-Sent Events) pushes to dashboards as calls change.
//!
//! Each SSE message has `id:` (global, increasing: send it back as `Last-Event-ID` to resume),
//! `event:` (a [`LiveEventKind`] name) and `data:` (a [`LiveEvent`] as JSON). A message named
//! [`RELOAD_EVENT`] (data: [`LiveReload`]) tells the client it missed events: refetch, then go on.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calls::Call;

/// The SSE event name telling the client to refetch what it shows (it missed events).
pub const RELOAD_EVENT: &str = "reload";

/// What happened to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LiveEventKind {
    /// A caller dialled a tracking number (routing is done: `outcome` says what happened).
    #[serde(rename = "call.created")]
    CallCreated,
    /// A buyer's phone is ringing.
    #[serde(rename = "call.ringing")]
    CallRinging,
    /// A buyer answered (and its agent accepted, when the buyer requires it): the caller is
    /// connected.
    #[serde(rename = "call.answered")]
    CallAnswered,
    /// The call ended (durations are final).
    #[serde(rename = "call.completed")]
    CallCompleted,
    /// The call was judged for payment (see `qualification`).
    #[serde(rename = "call.qualified")]
    CallQualified,
}

impl LiveEventKind {
    pub const ALL: [LiveEventKind; 5] = [
        LiveEventKind::CallCreated,
        LiveEventKind::CallRinging,
        LiveEventKind::CallAnswered,
        LiveEventKind::CallCompleted,
        LiveEventKind::CallQualified,
    ];

    /// The name used as SSE `event:` and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            LiveEventKind::CallCreated => "call.created",
            LiveEventKind::CallRinging => "call.ringing",
            LiveEventKind::CallAnswered => "call.answered",
            LiveEventKind::CallCompleted => "call.completed",
            LiveEventKind::CallQualified => "call.qualified",
        }
    }

    pub fn parse(s: &str) -> Option<LiveEventKind> {
        LiveEventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One live event: the call as it stands right after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveEvent {
    /// Global and increasing across every API instance: the SSE `id`.
    pub id: i64,
    pub kind: LiveEventKind,
    /// When the change was recorded.
    pub at: DateTime<Utc>,
    /// The call (for publishers without `buyer_id`).
    pub call: Call,
    /// Set on `call.qualified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<LiveQualification>,
}

/// The money verdict on a call, in micro-units (millionths) of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveQualification {
    pub qualified: bool,
    /// Why (e.g. `buffer_met`, `too_short`, `duplicate`).
    pub reason: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// What the publisher earns.
    pub payout_micros: i64,
    /// What the buyer pays. Hidden from publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_micros: Option<i64>,
    /// Telephony cost. Hidden from publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_micros: Option<i64>,
    /// Revenue − payout − cost. Hidden from publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit_micros: Option<i64>,
}

/// Data of a [`RELOAD_EVENT`] message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveReload {
    /// `too_slow` (the client fell behind), `gap` (`Last-Event-ID` is older than what is kept),
    /// `too_many` (more missed events than are replayed), `credentials` (the stream's credential
    /// expired or was revoked or changed: the stream ends).
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        for k in LiveEventKind::ALL {
            assert_eq!(LiveEventKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).ok(), Some(serde_json::Value::String(k.as_str().into())));
        }
        assert_eq!(LiveEventKind::parse("call.unknown"), None);
    }
}
