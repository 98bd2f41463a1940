//! Analytics (totals and time series over settled calls), publisher reports and the money recompute.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What to group the figures by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Campaign,
    Buyer,
    Publisher,
    Number,
    /// The value of the call tag named by `tag` (groups carry `key`, the value; calls without
    /// the tag have none).
    Tag,
    /// The screening rule that blocked the call (groups carry `key`, the rule; unblocked calls
    /// have none).
    BlockedBy,
}

/// Time-series bucket width, in the requested time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    #[default]
    Day,
    /// Weeks start on Monday.
    Week,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AnalyticsQuery {
    /// Calls started at or after this instant (RFC 3339; rounded down to the UTC hour).
    /// Default: 7 days before `to`. Must be before `to` and at most 400 days before it: otherwise
    /// 422 naming `from` (or `to`), a rule between two parameters the schema cannot state.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub from: Option<DateTime<Utc>>,
    /// Calls started before this instant (RFC 3339; rounded up to the UTC hour). Default: now.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub to: Option<DateTime<Utc>>,
    /// IANA time zone of the buckets (default `UTC`); a name the server does not know is a 422
    /// naming `tz`.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::QueryText>))]
    pub tz: Option<String>,
    pub group_by: Option<GroupBy>,
    /// Time series only (default `day`). `hour` buckets cover at most 8 days (else 422 naming
    /// `bucket`).
    pub bucket: Option<Bucket>,
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub campaign_id: Option<i64>,
    /// Not allowed for publishers.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub buyer_id: Option<i64>,
    /// Publishers always get their own.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub publisher_id: Option<i64>,
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub number_id: Option<i64>,
    /// The tag to group by with `group_by=tag` (required then, else 422 naming `tag`): a name of
    /// 1 to 64 letters, digits, `_`, `-` or `.`.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::GroupTag>))]
    pub tag: Option<String>,
}

/// Figures over a set of settled calls. Amounts are integer micro-units of the response's
/// currency. The figures hidden from publishers are absent from their answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metrics {
    pub calls: i64,
    /// Calls a buyer answered.
    pub answered: i64,
    pub qualified: i64,
    pub duplicates: i64,
    /// Calls no buyer could take.
    pub no_buyer: i64,
    /// Calls blocked by screening before any buyer rang (counted in `calls`, never on a buyer).
    #[serde(default)]
    pub blocked: i64,
    /// qualified / calls (0 when there are no calls).
    pub conversion_rate: f64,
    /// Seconds talked with buyers.
    pub talk_secs_total: i64,
    /// Average over answered calls.
    pub talk_secs_avg: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_micros: Option<i64>,
    pub payout_micros: i64,
    /// Known telephony cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_micros: Option<i64>,
    /// revenue − payout − cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit_micros: Option<i64>,
    /// Attempts (buyer legs) offered to buyers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered: Option<i64>,
    /// Attempts a buyer answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected: Option<i64>,
    /// connected / offered (0 when nothing was offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_rate: Option<f64>,
}

/// The figures of one group (`id` of the campaign, buyer, publisher or number; `None` for calls
/// without one, e.g. unrouted calls when grouping by buyer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupMetrics {
    pub id: Option<i64>,
    /// The group's text key when grouping by `tag` (the tag's value) or `blocked_by` (the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub metrics: Metrics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    /// The effective range (whole UTC hours).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The currency of the amounts; `None` when the campaigns involved use several.
    pub currency: Option<String>,
    pub group_by: Option<GroupBy>,
    pub total: Metrics,
    /// One entry per group when `group_by` is set, largest call count first.
    pub groups: Vec<GroupMetrics>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeseriesPoint {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Start of the bucket in the requested time zone (RFC 3339 with offset).
    pub local_start: String,
    /// Present when `group_by` is set.
    pub id: Option<i64>,
    /// The group's text key when grouping by `tag` or `blocked_by`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub metrics: Metrics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timeseries {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub tz: String,
    pub bucket: Bucket,
    pub currency: Option<String>,
    pub group_by: Option<GroupBy>,
    /// Buckets with calls, in time order (then by group).
    pub points: Vec<TimeseriesPoint>,
}

/// An explicit re-application of the current money rules to past calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"})))]
pub struct RecomputeRequest {
    /// Calls started at or after this instant. Must be before `to` and at most 400 days before
    /// it: otherwise 422 naming `from` (or `to`), a rule the schema cannot state.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Instant))]
    pub from: DateTime<Utc>,
    /// Calls started before this instant.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Instant))]
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecomputeResult {
    /// Calls re-settled.
    pub calls: i64,
}

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    #[default]
    Json,
    /// Streamed `text/csv`, every row of the range (paging ignored).
    Csv,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ReportQuery {
    /// Calls started at or after this instant (RFC 3339). Default: 30 days before `to`. Must be
    /// before `to`: otherwise 422 naming `from`, a rule the schema cannot state.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub from: Option<DateTime<Utc>>,
    /// Calls started before this instant (RFC 3339).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub to: Option<DateTime<Utc>>,
    /// `json` (default) or `csv`.
    #[cfg_attr(feature = "openapi", param(inline))]
    pub format: Option<ReportFormat>,
}

/// One call of a publisher's attribution report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportRow {
    pub call_id: i64,
    /// The tracking number dialled.
    pub number: String,
    pub started_at: DateTime<Utc>,
    /// The caller, masked to the last 4 digits unless the campaign shows full numbers.
    pub caller: String,
    /// Length of the inbound call (seconds).
    pub duration_secs: Option<i32>,
    /// `None` until the call is settled.
    pub qualified: Option<bool>,
    /// The publisher's payout (micro-units of `currency`).
    pub payout_micros: i64,
    pub currency: Option<String>,
}
