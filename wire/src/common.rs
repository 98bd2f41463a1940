//! Envelopes shared by every resource: errors and pages.
use serde::{Deserialize, Serialize};

/// Every error the API returns has this body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "code": "validation_failed",
    "message": "The request has invalid fields",
    "details": {"fields": {"phone_number": "must be an E.164 number such as +14155550100"}}
})))]
pub struct ErrorBody {
    /// Stable `snake_case` code a client can match on (`validation_failed`, `not_found`, ...).
    pub code: String,
    /// A sentence for humans.
    pub message: String,
    /// Extra structure, e.g. `{"fields": {"name": "is required"}}` for validation failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Number of items matching the filters, over all pages.
    pub total: i64,
    /// 1-based page number.
    pub page: i64,
    pub per_page: i64,
}

/// Paging parameters accepted by every list route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PageParams {
    /// 1-based page number, 1 to 1,000,000 (default 1).
    #[serde(default = "default_page")]
    #[cfg_attr(feature = "openapi", param(value_type = crate::rules::PageNumber))]
    pub page: i64,
    /// Items per page, 1 to 500 (default 50).
    #[serde(default = "default_per_page")]
    #[cfg_attr(feature = "openapi", param(value_type = crate::rules::PerPage))]
    pub per_page: i64,
}

impl Default for PageParams {
    fn default() -> Self {
        Self { page: default_page(), per_page: default_per_page() }
    }
}

fn default_page() -> i64 {
    1
}
fn default_per_page() -> i64 {
    50
}

/// Active or paused: used by campaigns, buyers and publishers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Active,
    Paused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Paused => "paused",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Status::Active),
            "paused" => Some(Status::Paused),
            _ => None,
        }
    }
}
