//! Screening callers before any buyer rings: call tags, buyers' tag rules, a campaign's screening
//! settings (anonymous callers, STIR/SHAKEN attestation, repeat callers, a rate limit) and the
//! blocklist.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A call's tags: name → value. Set from Twilio's parameters when the call arrives
/// (`FromState`, `FromZip`, `FromCity`, `StirVerstat`, `AreaCode` from the caller's NANP number)
/// and by later steps of the call (an IVR's answers).
pub type Tags = BTreeMap<String, String>;

/// The tag names Callbroker sets itself when a call arrives.
pub const TAG_FROM_STATE: &str = "FromState";
pub const TAG_FROM_ZIP: &str = "FromZip";
pub const TAG_FROM_CITY: &str = "FromCity";
pub const TAG_STIR_VERSTAT: &str = "StirVerstat";
pub const TAG_AREA_CODE: &str = "AreaCode";

// ---------------------------------------------------------------- tag rules

/// How a tag rule compares the call's tag with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TagOp {
    /// The tag is present and equal to `value` (a string).
    Eq,
    /// The tag is absent or differs from `value` (a string).
    Ne,
    /// The tag is present and one of `value` (a list of strings).
    In,
    /// The tag is absent or none of `value` (a list of strings).
    NotIn,
    /// The tag is present (no `value`).
    Exists,
    /// The tag is absent (no `value`).
    Missing,
    /// The tag is present, reads as a number, and is at least `value` (a number).
    Gte,
    /// The tag is present, reads as a number, and is at most `value` (a number).
    Lte,
}

impl TagOp {
    pub fn as_str(self) -> &'static str {
        match self {
            TagOp::Eq => "eq",
            TagOp::Ne => "ne",
            TagOp::In => "in",
            TagOp::NotIn => "not_in",
            TagOp::Exists => "exists",
            TagOp::Missing => "missing",
            TagOp::Gte => "gte",
            TagOp::Lte => "lte",
        }
    }
}

/// A tag rule's value: a string (`eq`, `ne`), a list of strings (`in`, `not_in`) or a number
/// (`gte`, `lte`). Its schema states the rules' limits ([`crate::rules::tag_value_schema`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TagValue {
    Text(String),
    Number(f64),
    List(Vec<String>),
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for TagValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::rules::tag_value_schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for TagValue {
    fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use crate::rules::{TagText, TagTexts};
        use utoipa::{PartialSchema, ToSchema};
        out.push((<TagText as ToSchema>::name().into_owned(), <TagText as PartialSchema>::schema()));
        out.push((<TagTexts as ToSchema>::name().into_owned(), <TagTexts as PartialSchema>::schema()));
    }
}

/// A condition on one of the call's tags. A buyer (or its assignment to a campaign) takes a call
/// only when every one of its rules holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"tag": "FromState", "op": "in", "value": ["CA", "NY"]})))]
pub struct TagRule {
    /// The tag's name (case-sensitive), e.g. `FromState`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::TagName))]
    pub tag: String,
    pub op: TagOp,
    /// Absent for `exists` and `missing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<TagValue>,
}

// ---------------------------------------------------------------- campaign settings

/// Let a kind of caller through, or block it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScreenAction {
    #[default]
    Allow,
    Block,
}

/// A STIR/SHAKEN attestation level, or `none` (nothing required).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Attestation {
    #[default]
    None,
    /// Partial: the carrier knows the customer, not that it may use the number.
    C,
    /// The carrier knows the customer but cannot vouch for the number.
    B,
    /// Full: the carrier vouches for the caller and the number.
    A,
}

/// What happens to a caller who called this campaign within `repeat_window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RepeatAction {
    /// Routed like any call.
    #[default]
    Allow,
    /// Blocked (rule `repeat`).
    Block,
    /// Offered only to the buyer that took the caller's last connected call in the window (when
    /// there is one; otherwise routed like any call).
    SameBuyer,
}

/// A campaign's screening, checked before any buyer is rung. The defaults screen nobody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Screening {
    /// Callers without a usable number (`From` not an E.164 number, such as `Anonymous`, or one
    /// of the numbers Twilio shows for withheld caller IDs, such as `+266696687`): `allow` or
    /// `block` (rule `anonymous`).
    pub anonymous: ScreenAction,
    /// The lowest STIR/SHAKEN attestation taken (Twilio's `StirVerstat`): `a`, `b`, `c` or `none`.
    /// A failed validation (`TN-Validation-Failed-*`) and `No-TN-Validation` are below any level
    /// but `none` (rule `attestation`).
    pub min_attestation: Attestation,
    /// With a minimum set, what a call without `StirVerstat` gets: `allow` or `block`.
    pub missing_attestation: ScreenAction,
    /// A caller who called this campaign within this many seconds before (0: off) gets
    /// `repeat_action`.
    pub repeat_window_secs: i32,
    pub repeat_action: RepeatAction,
    /// A caller with a qualified (paid) call on this campaign within this many days is blocked
    /// (rule `qualified_repeat`; 0: off).
    pub qualified_repeat_days: i32,
    /// A caller with this many calls on this campaign within `rate_limit_minutes` is blocked
    /// (rule `rate_limit`; 0: off).
    pub rate_limit_calls: i32,
    pub rate_limit_minutes: i32,
    /// Said to a blocked caller before hanging up; absent: the call is rejected unanswered
    /// (`<Reject reason="rejected"/>`, not billed by the carrier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_message: Option<String>,
}

impl Default for Screening {
    fn default() -> Self {
        Screening {
            anonymous: ScreenAction::Allow,
            min_attestation: Attestation::None,
            missing_attestation: ScreenAction::Allow,
            repeat_window_secs: 0,
            repeat_action: RepeatAction::Allow,
            qualified_repeat_days: 0,
            rate_limit_calls: 0,
            rate_limit_minutes: 0,
            block_message: None,
        }
    }
}

/// Changes to a campaign's screening; absent fields keep their value, `block_message: null`
/// goes back to rejecting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScreeningPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<ScreenAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_attestation: Option<Attestation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_attestation: Option<ScreenAction>,
    /// 0 to 2,592,000 (30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::RepeatWindowSecs>))]
    pub repeat_window_secs: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_action: Option<RepeatAction>,
    /// 0 to 365.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::QualifiedRepeatDays>))]
    pub qualified_repeat_days: Option<i32>,
    /// 0 to 10,000; set with `rate_limit_minutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::RateLimitCalls>))]
    pub rate_limit_calls: Option<i32>,
    /// 0 to 10,080 (a week); at least 1 when `rate_limit_calls` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::RateLimitMinutes>))]
    pub rate_limit_minutes: Option<i32>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Message>))]
    pub block_message: Option<Option<String>>,
}

// ---------------------------------------------------------------- blocks

/// The screening rule that blocked a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BlockRule {
    /// The caller matches a blocklist entry (exact number or prefix).
    Blocklist,
    /// The caller withheld its number.
    Anonymous,
    /// The call's STIR/SHAKEN attestation is below the campaign's minimum, or absent.
    Attestation,
    /// The caller called the campaign within its repeat window.
    Repeat,
    /// The caller already had a qualified call on the campaign within its window.
    QualifiedRepeat,
    /// Too many calls from the caller within the campaign's rate window.
    RateLimit,
}

impl BlockRule {
    pub const ALL: [BlockRule; 6] = [
        BlockRule::Blocklist,
        BlockRule::Anonymous,
        BlockRule::Attestation,
        BlockRule::Repeat,
        BlockRule::QualifiedRepeat,
        BlockRule::RateLimit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BlockRule::Blocklist => "blocklist",
            BlockRule::Anonymous => "anonymous",
            BlockRule::Attestation => "attestation",
            BlockRule::Repeat => "repeat",
            BlockRule::QualifiedRepeat => "qualified_repeat",
            BlockRule::RateLimit => "rate_limit",
        }
    }

    pub fn parse(s: &str) -> Option<BlockRule> {
        BlockRule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Why a call was blocked: the rule, and a sentence with the figures that decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Block {
    pub rule: BlockRule,
    pub detail: String,
}

// ---------------------------------------------------------------- blocklist

/// Whether a blocklist entry is one number or every number that starts with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Exact,
    Prefix,
}

impl BlockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Exact => "exact",
            BlockKind::Prefix => "prefix",
        }
    }

    pub fn parse(s: &str) -> Option<BlockKind> {
        match s {
            "exact" => Some(BlockKind::Exact),
            "prefix" => Some(BlockKind::Prefix),
            _ => None,
        }
    }
}

/// A blocked caller number, or prefix of numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlocklistEntry {
    pub id: i64,
    /// `+` and digits: the whole number (`exact`) or its start (`prefix`, e.g. `+1415`).
    pub number: String,
    pub kind: BlockKind,
    /// The campaign it applies to; absent: every campaign.
    pub campaign_id: Option<i64>,
    pub note: Option<String>,
    /// From this instant on the entry blocks nobody.
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new blocklist entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"number": "+1415", "kind": "prefix", "note": "San Francisco robocalls"})))]
pub struct NewBlocklistEntry {
    /// `+` and 1 to 15 digits; a trailing `*` marks a prefix (`+1415*`).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::BlockedNumber))]
    pub number: String,
    /// Default: `prefix` when `number` ends with `*` or has fewer than 8 digits (no number is that
    /// short), else `exact`. An `exact` entry needs a number of 8 to 15 digits without `*` (else 422
    /// naming `number`).
    #[serde(default)]
    pub kind: Option<BlockKind>,
    /// The campaign the entry applies to, one that exists (else 422 naming the field); absent: every
    /// campaign.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub campaign_id: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Note>))]
    pub note: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Instant>))]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Changes to a blocklist entry; absent fields keep their value, `null` clears an optional one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlocklistPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::BlockedNumber>))]
    pub number: Option<String>,
    /// An `exact` entry needs a number of 8 to 15 digits without `*` (else 422 naming `number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<BlockKind>,
    /// The campaign the entry applies to, one that exists (else 422 naming the field); absent: every
    /// campaign.
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, minimum = 1))]
    pub campaign_id: Option<Option<i64>>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Note>))]
    pub note: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Instant>))]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct BlocklistFilter {
    /// Entries of this campaign (global entries are not included).
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub campaign_id: Option<i64>,
    /// Only global entries (`true`) or only campaign entries (`false`).
    pub global: Option<bool>,
    /// Number or note contains.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::QueryText>))]
    pub q: Option<String>,
}

/// What a CSV import wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlocklistImport {
    /// Entries created.
    pub created: i64,
}

/// The columns of the blocklist CSV (import and export), in export order. An import reads them
/// by the header row; only `number` is required.
pub const BLOCKLIST_CSV_COLUMNS: [&str; 5] = ["number", "kind", "campaign_id", "note", "expires_at"];
