//! The states a call, a buyer leg and a background job go through, as types. Each is stored as
//! its `snake_case` (or Twilio) text; [`crate::db::codes`] reads and writes them at the storage
//! boundary, so the rest of the code never compares status strings.

/// Defines an enum stored as text: `as_str` gives the stored text, `parse` reads it back.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::deserialize::FromSqlRow, diesel::expression::AsExpression)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(value: &str) -> Option<Self> {
                match value.trim() {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// Twilio's `CallStatus` (Call resource and status callbacks), of the inbound call or of a
    /// buyer leg.
    CallStatus {
        Queued = "queued",
        Initiated = "initiated",
        Ringing = "ringing",
        InProgress = "in-progress",
        Completed = "completed",
        Busy = "busy",
        Failed = "failed",
        NoAnswer = "no-answer",
        Canceled = "canceled",
    }
}

impl CallStatus {
    /// The call is over: no further status will follow.
    pub fn is_final(self) -> bool {
        matches!(self, CallStatus::Completed | CallStatus::Busy | CallStatus::Failed | CallStatus::NoAnswer | CallStatus::Canceled)
    }
}

/// A buyer leg: `reserved` from the moment its slot is claimed until Twilio first reports on it,
/// then Twilio's status of the leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::deserialize::FromSqlRow, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum LegStatus {
    Reserved,
    Twilio(CallStatus),
}

impl LegStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LegStatus::Reserved => "reserved",
            LegStatus::Twilio(s) => s.as_str(),
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "reserved" => Some(LegStatus::Reserved),
            other => CallStatus::parse(other).map(LegStatus::Twilio),
        }
    }

    /// The status the lifecycle folds over: a reserved leg has not been queued by Twilio yet.
    pub fn progress(self) -> CallStatus {
        match self {
            LegStatus::Reserved => CallStatus::Queued,
            LegStatus::Twilio(s) => s,
        }
    }

    pub fn is_final(self) -> bool {
        self.progress().is_final()
    }
}

impl std::fmt::Display for LegStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

text_enum! {
    /// How a call was handled (the `outcome` column).
    Outcome {
        /// A buyer's slot is claimed and its number is being dialled.
        Routed = "routed",
        /// A buyer answered.
        Connected = "connected",
        /// No buyer could take it.
        NoBuyer = "no_buyer",
        /// The dialled number belongs to no campaign.
        UnknownNumber = "unknown_number",
        CampaignPaused = "campaign_paused",
        /// Screened out before any buyer was considered (`blocked_by` names the rule).
        Blocked = "blocked",
        /// The caller is answering the campaign's IVR.
        InIvr = "in_ivr",
        /// The IVR ended the call (an answer's action, or no usable answer).
        IvrEnded = "ivr_ended",
        /// The caller hung up in the IVR.
        IvrAbandoned = "ivr_abandoned",
        /// The caller hung up before any buyer answered.
        Abandoned = "abandoned",
        /// Every attempt failed (busy, unanswered, failed) or the attempts ran out.
        Failed = "failed",
    }
}

text_enum! {
    /// Where the telephony cost of a call stands (the `cost_status` column).
    CostStatus {
        /// A job will ask Twilio.
        Pending = "pending",
        Done = "done",
        /// No Twilio account to ask.
        Unconfigured = "unconfigured",
    }
}

text_enum! {
    /// Where the transcript of a call's recording stands (the `transcript_status` column).
    TranscriptStatus {
        Pending = "pending",
        Done = "done",
        Failed = "failed",
    }
}

text_enum! {
    /// A background job (the `status` column of `jobs`).
    JobStatus {
        Pending = "pending",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}

text_enum! {
    /// Why a settled call is or is not qualified (the `qualify_reason` column).
    QualifyReason {
        Qualified = "qualified",
        Duplicate = "duplicate",
        NoBuyer = "no_buyer",
        NotConnected = "not_connected",
        Short = "short",
        NoCampaign = "no_campaign",
        /// Screened out: never offered to a buyer, never billed.
        Blocked = "blocked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_what_it_writes() {
        for s in CallStatus::ALL {
            assert_eq!(CallStatus::parse(s.as_str()), Some(*s));
            assert_eq!(LegStatus::parse(s.as_str()), Some(LegStatus::Twilio(*s)));
        }
        assert_eq!(LegStatus::parse("reserved"), Some(LegStatus::Reserved));
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(*o));
        }
        for c in CostStatus::ALL {
            assert_eq!(CostStatus::parse(c.as_str()), Some(*c));
        }
        for t in TranscriptStatus::ALL {
            assert_eq!(TranscriptStatus::parse(t.as_str()), Some(*t));
        }
        for j in JobStatus::ALL {
            assert_eq!(JobStatus::parse(j.as_str()), Some(*j));
        }
        for r in QualifyReason::ALL {
            assert_eq!(QualifyReason::parse(r.as_str()), Some(*r));
        }
        assert_eq!(CallStatus::parse("bogus"), None);
    }
}
