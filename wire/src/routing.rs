//! What the engine answers: the ranked buyers and, for every candidate, why.
//!
//! These types travel over JSON to the web UI and the call log, so this file
//! depends on serde alone (no chrono, no chrono-tz; `schedule.rs` is serde-only
//! too) and can move as it is into the serde-only wire crate.
//!
//! Texts in verdicts are `Cow`s so that building a decision allocates nothing
//! per candidate (copying 1,000 names doubled the time of `route`): buyer
//! names are lent from the candidates (`Decision<'a>`), time-zone names and
//! state codes from static tables (`Cow<'static, str>`). Deserializing gives
//! owned strings; `Decision::into_owned` turns a decision into a
//! `Decision<'static>`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::schedule::{ClockTime, Day};

/// Why a candidate was ranked or skipped.
///
/// Serialized with the variant as `"code"` beside its figures, e.g.
/// `{"code":"at_capacity","in_progress":3,"max":3}`. Skips carry the numbers
/// that caused them so that the UI can show them without a second query.
// Deserialized by hand, in the same format (the `Deserialize` impl below says why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// Eligible, and placed at `rank` (1 = first to ring) by priority and
    /// even distribution; the figures are the ones the order was made from.
    Selected { rank: u32, priority: i32, weight: u32, recent_calls: u32 },
    /// Eligible, and placed first because this caller's previous call went to
    /// this buyer, which asks for repeat callers.
    RepeatCaller,
    /// The campaign is not active: nobody is routed.
    CampaignPaused,
    /// The buyer was already tried on this call (failover).
    AlreadyTried,
    /// The buyer is switched off.
    Inactive,
    /// The caller's state is on the buyer's deny list.
    StateDenied {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        state: Cow<'static, str>,
    },
    /// The buyer lists the states it takes and the caller's is not one of them.
    StateNotAllowed {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        state: Cow<'static, str>,
    },
    /// The buyer lists the states it takes and the caller's state is unknown.
    StateUnknown,
    /// No availability window is open at the buyer's local time: `day` and
    /// `local_time` in `timezone` (IANA name), then `utc_offset_minutes` from
    /// UTC (-240 for New York in summer).
    OutsideHours {
        day: Day,
        local_time: ClockTime,
        utc_offset_minutes: i32,
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        timezone: Cow<'static, str>,
    },
    /// As many calls in progress as the buyer takes at once (`max` 0: none).
    AtCapacity { in_progress: u32, max: u32 },
    /// The cap for the current local hour is used up.
    HourlyCap { count: u32, cap: u32 },
    /// The cap for the current local day is used up.
    DailyCap { count: u32, cap: u32 },
    /// The cap for the current local month is used up.
    MonthlyCap { count: u32, cap: u32 },
    /// The buyer's tag rule number `index` (0-based, in its list) does not hold: the call's
    /// `tag` is `actual` (absent: the call has no such tag), the rule wants `op` `value`
    /// (`value` as JSON text, absent for `exists` / `missing`).
    TagRule {
        index: u32,
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        tag: Cow<'static, str>,
        op: crate::screening::TagOp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actual: Option<String>,
    },
    /// The campaign sends repeat callers only to the buyer of their last call, `buyer_id`.
    NotRepeatBuyer { buyer_id: i64 },
    /// An IVR answer kept the call to buyers carrying `label`, and this one does not.
    NotLabelled {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        label: Cow<'static, str>,
    },
}

/// The `code` of every [`Reason`], as serialized.
const REASON_CODES: &[&str] = &[
    "selected",
    "repeat_caller",
    "campaign_paused",
    "already_tried",
    "inactive",
    "state_denied",
    "state_not_allowed",
    "state_unknown",
    "outside_hours",
    "at_capacity",
    "hourly_cap",
    "daily_cap",
    "monthly_cap",
    "tag_rule",
    "not_repeat_buyer",
    "not_labelled",
];

/// Reads a [`Reason`] as its derived internally tagged form would, through one flat struct of
/// every variant's figures: serde's derive for a tagged enum buffers the object and decodes each
/// variant apart, which cost the wasm dashboard (`web/`) about 20 KB of its first load.
impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        #[derive(Deserialize)]
        struct Flat {
            code: String,
            rank: Option<u32>,
            priority: Option<i32>,
            weight: Option<u32>,
            recent_calls: Option<u32>,
            state: Option<String>,
            day: Option<Day>,
            local_time: Option<ClockTime>,
            utc_offset_minutes: Option<i32>,
            timezone: Option<String>,
            in_progress: Option<u32>,
            max: Option<u32>,
            count: Option<u32>,
            cap: Option<u32>,
            index: Option<u32>,
            tag: Option<String>,
            op: Option<crate::screening::TagOp>,
            value: Option<String>,
            actual: Option<String>,
            buyer_id: Option<i64>,
            label: Option<String>,
        }
        fn need<T, E: Error>(v: Option<T>, field: &'static str) -> Result<T, E> {
            v.ok_or_else(|| E::missing_field(field))
        }
        let f = Flat::deserialize(deserializer)?;
        Ok(match f.code.as_str() {
            "selected" => Reason::Selected {
                rank: need(f.rank, "rank")?,
                priority: need(f.priority, "priority")?,
                weight: need(f.weight, "weight")?,
                recent_calls: need(f.recent_calls, "recent_calls")?,
            },
            "repeat_caller" => Reason::RepeatCaller,
            "campaign_paused" => Reason::CampaignPaused,
            "already_tried" => Reason::AlreadyTried,
            "inactive" => Reason::Inactive,
            "state_denied" => Reason::StateDenied { state: need(f.state, "state")?.into() },
            "state_not_allowed" => Reason::StateNotAllowed { state: need(f.state, "state")?.into() },
            "state_unknown" => Reason::StateUnknown,
            "outside_hours" => Reason::OutsideHours {
                day: need(f.day, "day")?,
                local_time: need(f.local_time, "local_time")?,
                utc_offset_minutes: need(f.utc_offset_minutes, "utc_offset_minutes")?,
                timezone: need(f.timezone, "timezone")?.into(),
            },
            "at_capacity" => Reason::AtCapacity { in_progress: need(f.in_progress, "in_progress")?, max: need(f.max, "max")? },
            "hourly_cap" => Reason::HourlyCap { count: need(f.count, "count")?, cap: need(f.cap, "cap")? },
            "daily_cap" => Reason::DailyCap { count: need(f.count, "count")?, cap: need(f.cap, "cap")? },
            "monthly_cap" => Reason::MonthlyCap { count: need(f.count, "count")?, cap: need(f.cap, "cap")? },
            "tag_rule" => Reason::TagRule {
                index: need(f.index, "index")?,
                tag: need(f.tag, "tag")?.into(),
                op: need(f.op, "op")?,
                value: f.value,
                actual: f.actual,
            },
            "not_repeat_buyer" => Reason::NotRepeatBuyer { buyer_id: need(f.buyer_id, "buyer_id")? },
            "not_labelled" => Reason::NotLabelled { label: need(f.label, "label")?.into() },
            other => return Err(D::Error::unknown_variant(other, REASON_CODES)),
        })
    }
}

impl Reason {
    /// A sentence for people (UI tooltips, call logs).
    pub fn describe(&self) -> String {
        match self {
            Reason::Selected { rank, priority, weight, recent_calls } => {
                format!("Eligible, ranked #{rank}: priority {priority}, weight {weight}, {recent_calls} recent calls.")
            }
            Reason::RepeatCaller => "Ranked first: this caller's last call went to this buyer, which keeps repeat callers.".to_string(),
            Reason::CampaignPaused => "Skipped: the campaign is paused, so no buyer is routed.".to_string(),
            Reason::AlreadyTried => "Skipped: already tried on this call.".to_string(),
            Reason::Inactive => "Skipped: the buyer is inactive.".to_string(),
            Reason::StateDenied { state } => {
                format!("Skipped: the buyer does not take calls from {state}.")
            }
            Reason::StateNotAllowed { state } => format!("Skipped: the caller is in {state}, which is not one of the buyer's states."),
            Reason::StateUnknown => "Skipped: the caller's state is unknown and the buyer only takes calls from listed states.".to_string(),
            Reason::OutsideHours { day, local_time, utc_offset_minutes, timezone } => {
                let sign = if *utc_offset_minutes < 0 { '-' } else { '+' };
                let off = utc_offset_minutes.unsigned_abs();
                format!(
                    "Skipped: outside the buyer's hours (it is {} {local_time} in {timezone}, UTC{sign}{:02}:{:02}).",
                    day.short_name(),
                    off / 60,
                    off % 60
                )
            }
            Reason::AtCapacity { in_progress, max } if *max == 0 => {
                format!("Skipped: the buyer takes no concurrent calls (limit 0, {in_progress} in progress).")
            }
            Reason::AtCapacity { in_progress, max } => {
                format!("Skipped: at capacity, {in_progress} calls in progress of {max} allowed at once.")
            }
            Reason::HourlyCap { count, cap } => {
                format!("Skipped: hourly cap reached ({count} of {cap} calls this hour).")
            }
            Reason::DailyCap { count, cap } => {
                format!("Skipped: daily cap reached ({count} of {cap} calls today).")
            }
            Reason::MonthlyCap { count, cap } => {
                format!("Skipped: monthly cap reached ({count} of {cap} calls this month).")
            }
            Reason::TagRule { index, tag, op, value, actual } => {
                let wants = match value {
                    Some(v) => format!("{} {v}", op.as_str()),
                    None => op.as_str().to_string(),
                };
                let has = match actual {
                    // JSON quoting, like the rule's value: `Debug` prints nothing in the dashboard's
                    // wasm (built with -Zfmt-debug=none).
                    Some(a) => format!("the call's {tag} is {}", serde_json::to_string(a).unwrap_or_default()),
                    None => format!("the call has no {tag} tag"),
                };
                format!("Skipped: tag rule #{} ({tag} {wants}) does not hold: {has}.", index + 1)
            }
            Reason::NotRepeatBuyer { buyer_id } => {
                format!("Skipped: this repeat caller goes only to buyer {buyer_id}, which took its last call.")
            }
            Reason::NotLabelled { label } => format!("Skipped: the caller's IVR answer keeps the call to buyers labelled {label}."),
        }
    }

    /// True for the reasons given to ranked candidates.
    pub fn is_eligible(&self) -> bool {
        matches!(self, Reason::Selected { .. } | Reason::RepeatCaller)
    }
}

/// The engine's word on one candidate.
///
/// `name` is lent from the candidate (no copy per candidate per call); a
/// deserialized verdict owns it. [`Verdict::into_owned`] detaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verdict<'a> {
    pub buyer_id: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub name: Cow<'a, str>,
    /// Whether the buyer is in `Decision::ranked`.
    pub eligible: bool,
    /// 1-based place in `Decision::ranked`; `None` when skipped.
    pub rank: Option<u32>,
    pub reason: Reason,
    /// The money figures an eligible buyer was ordered by, in a tier routed by `revenue` or
    /// `epc`; absent in a `weighted` tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<MoneyFigures>,
}

/// How the eligible buyers of one priority tier are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    /// Even distribution by weight.
    #[default]
    Weighted,
    /// The highest price per qualified call first; equal prices by weight.
    Revenue,
    /// The highest earnings per call over the last `epc_days` first (from the rollups); a buyer
    /// with fewer than `exploration_calls` calls in that time is measured through an exploration
    /// share of the calls; equal figures by weight.
    Epc,
}

/// One priority tier's own mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierMode {
    /// One entry per priority (else 422 naming `routing.tiers[i].priority`).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Priority))]
    pub priority: i32,
    pub mode: RoutingMode,
}

/// How a campaign orders the eligible buyers within each priority tier (priority itself always
/// comes first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RoutingPolicy {
    /// The mode of every tier without its own.
    pub mode: RoutingMode,
    /// Tiers with a mode of their own (one entry per priority).
    pub tiers: Vec<TierMode>,
    /// Days of rollups an `epc` tier measures (1 to 90, default 7).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::EpcDays))]
    pub epc_days: i32,
    /// A buyer with fewer calls than this in `epc_days` is still being measured (0 to 10,000,
    /// default 20).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::ExplorationCalls))]
    pub exploration_calls: i32,
    /// Percent of calls offered first to the buyers still being measured (0 to 50, default 10).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::ExplorationPercent))]
    pub exploration_percent: i32,
    /// How the campaign's calls are sold to its bidders (when it has any).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::bidding::bid_settings_schema))]
    pub bids: crate::bidding::BidSettings,
}

impl Default for RoutingPolicy {
    fn default() -> Self {
        RoutingPolicy {
            mode: RoutingMode::Weighted,
            tiers: vec![],
            epc_days: 7,
            exploration_calls: 20,
            exploration_percent: 10,
            bids: crate::bidding::BidSettings::default(),
        }
    }
}

impl RoutingPolicy {
    /// The mode of the tier of `priority`.
    pub fn mode_of(&self, priority: i32) -> RoutingMode {
        self.tiers.iter().find(|t| t.priority == priority).map_or(self.mode, |t| t.mode)
    }

    /// Whether any tier is routed by earnings per call (the rollups must then be read).
    pub fn uses_epc(&self) -> bool {
        self.mode == RoutingMode::Epc || self.tiers.iter().any(|t| t.mode == RoutingMode::Epc)
    }
}

/// What a `revenue` or `epc` tier ordered a buyer by. Amounts in micro-units of the campaign's
/// currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyFigures {
    pub mode: RoutingMode,
    /// The buyer's price per qualified call on the campaign.
    pub price_micros: i64,
    /// Calls and revenue over the EPC window (`epc` tiers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epc_calls: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epc_revenue_micros: Option<i64>,
    /// Revenue per call over the window; absent while the buyer is still being measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epc_micros: Option<i64>,
    /// The buyer was still being measured and this call was one of the exploration share.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub explored: bool,
}

impl Verdict<'_> {
    /// The same verdict, owning its name.
    pub fn into_owned(self) -> Verdict<'static> {
        Verdict {
            buyer_id: self.buyer_id,
            name: Cow::Owned(self.name.into_owned()),
            eligible: self.eligible,
            rank: self.rank,
            reason: self.reason,
            figures: self.figures,
        }
    }
}

/// Where the caller's state came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StateSource {
    /// Twilio's `FromState` parameter.
    Twilio,
    /// The caller's NANP area code, looked up in the shipped table.
    AreaCode,
}

/// The caller's state or province (two-letter code) and how it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallerState {
    pub state: String,
    pub source: StateSource,
}

/// The routing answer for one call. It borrows the candidates' names; use
/// [`Decision::into_owned`] to keep it longer than the candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision<'a> {
    /// Eligible buyer ids, in the order to ring them. Empty: nobody can take
    /// the call.
    pub ranked: Vec<i64>,
    /// One verdict per candidate, in the order the candidates were given
    /// (`verdicts[i]` is about `candidates[i]`).
    pub verdicts: Vec<Verdict<'a>>,
    /// The caller's state as used for the geographic rules, if known.
    pub caller_state: Option<CallerState>,
}

impl Decision<'_> {
    /// The buyer to ring first, if any.
    pub fn first(&self) -> Option<i64> {
        self.ranked.first().copied()
    }

    /// The same decision, owning every text.
    pub fn into_owned(self) -> Decision<'static> {
        Decision {
            ranked: self.ranked,
            verdicts: self.verdicts.into_iter().map(Verdict::into_owned).collect(),
            caller_state: self.caller_state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_serialize_with_code_and_figures() {
        let json = serde_json::to_value(Reason::AtCapacity { in_progress: 3, max: 3 }).expect("serialize");
        assert_eq!(json, serde_json::json!({"code": "at_capacity", "in_progress": 3, "max": 3}));
        let json = serde_json::to_value(Reason::StateUnknown).expect("serialize");
        assert_eq!(json, serde_json::json!({"code": "state_unknown"}));
        let closed = Reason::OutsideHours {
            day: Day::Sun,
            local_time: ClockTime::new(8, 30).expect("time"),
            utc_offset_minutes: -300,
            timezone: "America/New_York".into(),
        };
        let json = serde_json::json!({
            "code": "outside_hours", "day": "sun", "local_time": "08:30",
            "utc_offset_minutes": -300, "timezone": "America/New_York"
        });
        assert_eq!(serde_json::to_value(&closed).expect("serialize"), json);
        let back: Reason = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, closed);
    }

    #[test]
    fn every_reason_has_a_sentence() {
        let all = [
            Reason::Selected { rank: 2, priority: 5, weight: 3, recent_calls: 12 },
            Reason::RepeatCaller,
            Reason::CampaignPaused,
            Reason::AlreadyTried,
            Reason::Inactive,
            Reason::StateDenied { state: "TX".into() },
            Reason::StateNotAllowed { state: "TX".into() },
            Reason::StateUnknown,
            Reason::OutsideHours {
                day: Day::Sun,
                local_time: ClockTime::new(8, 30).expect("time"),
                utc_offset_minutes: -300,
                timezone: "America/New_York".into(),
            },
            Reason::OutsideHours {
                day: Day::Mon,
                local_time: ClockTime::new(23, 5).expect("time"),
                utc_offset_minutes: 345,
                timezone: "Asia/Kathmandu".into(),
            },
            Reason::AtCapacity { in_progress: 2, max: 2 },
            Reason::AtCapacity { in_progress: 0, max: 0 },
            Reason::HourlyCap { count: 5, cap: 5 },
            Reason::DailyCap { count: 5, cap: 5 },
            Reason::MonthlyCap { count: 5, cap: 5 },
            Reason::TagRule { index: 0, tag: "FromState".into(), op: crate::TagOp::In, value: Some(r#"["CA","NY"]"#.into()), actual: None },
            Reason::TagRule { index: 2, tag: "Age".into(), op: crate::TagOp::Gte, value: Some("65".into()), actual: Some("40".into()) },
            Reason::NotRepeatBuyer { buyer_id: 7 },
            Reason::NotLabelled { label: "spanish".into() },
        ];
        for r in &all {
            let s = r.describe();
            assert!(s.ends_with('.'), "{s}");
            assert_eq!(r.is_eligible(), !s.starts_with("Skipped"), "{s}");
            let json = serde_json::to_string(r).expect("serialize");
            let back: Reason = serde_json::from_str(&json).expect("round trip");
            assert_eq!(&back, r);
        }
        assert!(all[1].describe().contains("repeat"));
        assert!(all[8].describe().contains("it is Sun 08:30 in America/New_York, UTC-05:00)"));
        assert!(all[9].describe().contains("Mon 23:05 in Asia/Kathmandu, UTC+05:45"));
        assert!(all[11].describe().contains("limit 0"));
    }

    #[test]
    fn reasons_read_by_hand_refuse_what_the_derive_refused() {
        let unknown = serde_json::from_str::<Reason>(r#"{"code": "on_holiday"}"#).expect_err("unknown code");
        assert!(unknown.to_string().contains("unknown variant `on_holiday`"), "{unknown}");
        let missing = serde_json::from_str::<Reason>(r#"{"code": "at_capacity", "in_progress": 3}"#).expect_err("missing max");
        assert!(missing.to_string().contains("missing field `max`"), "{missing}");
        assert!(serde_json::from_str::<Reason>(r#"{"in_progress": 3}"#).is_err(), "no code");
        let extra: Reason = serde_json::from_str(r#"{"code": "inactive", "note": 1}"#).expect("unknown fields ignored");
        assert_eq!(extra, Reason::Inactive);
    }
}
