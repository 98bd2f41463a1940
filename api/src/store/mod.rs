//! Database access, one module per resource. Functions take a connection and return domain or
//! wire values; they never see HTTP. Input arrives already validated.
pub mod api_keys;
pub mod bidders;
pub mod blocklist;
pub mod buyers;
pub mod calls;
pub mod campaigns;
pub mod directory;
pub mod jobs;
pub mod live_events;
pub mod numbers;
pub mod postbacks;
pub mod publishers;
pub mod quotes;
pub mod rollups;
pub mod users;

pub use calls::reports;

use callbroker_wire::{Page, PageParams};
use chrono::{DateTime, NaiveDateTime, Utc};

use callbroker_wire::rules::{Int, PageNumber, PerPage};

use crate::error::{Error, FieldErrors};

pub const MAX_PER_PAGE: i64 = PerPage::MAX;
/// The last page a list serves (500 million records at the largest pages); declared in the
/// document (`PageParams`, [`PageNumber`]).
pub const MAX_PAGE: i64 = PageNumber::MAX;

/// Checks paging parameters; returns (offset, limit).
pub fn paging(p: &PageParams) -> Result<(i64, i64), Error> {
    let mut errors = FieldErrors::new();
    if !PageNumber::contains(p.page) {
        errors.add("page", PageNumber::refusal());
    }
    if !PerPage::contains(p.per_page) {
        errors.add("per_page", PerPage::refusal());
    }
    errors.into_result()?;
    Ok(((p.page - 1) * p.per_page, p.per_page))
}

pub fn page<T>(items: Vec<T>, total: i64, p: &PageParams) -> Page<T> {
    Page { items, total, page: p.page, per_page: p.per_page }
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Decodes a JSON text column written by this program.
pub fn json_column<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::Internal(anyhow::anyhow!("corrupt JSON in column {column}: {e}")))
}

pub fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}
