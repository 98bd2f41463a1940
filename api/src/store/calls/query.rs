//! Reads of the call tables for the API, the operators' tools and the metrics.
use std::collections::HashSet;

use callbroker_wire::{Call, CallDetail, CallEvent, CallFilter, Page, PageParams};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{CallRow, LegRow};
use crate::db::schema::{call_events, call_legs, calls, campaigns};
use crate::db::{Backend, DbConnection};
use crate::domain::states::{CallStatus, Outcome};
use crate::error::Error;
use crate::store::{page, paging, utc};

/// What a publisher may not see of a call: the buyer, the costs, the revenue, the recording's
/// Twilio URL (it names the Twilio account), and — unless the call's campaign shows full caller
/// numbers (`full_caller`) — all but the caller's last 4 digits.
pub fn hide_from_publisher(c: &mut Call, full_caller: bool) {
    if !full_caller {
        c.caller = super::reports::mask_caller(&c.caller);
    }
    if let Some(r) = c.recording.as_mut() {
        r.url = None;
    }
    c.buyer_id = None;
    c.cost_micros = None;
    c.cost_currency = None;
    c.cost_status = None;
    if let Some(m) = c.money.as_mut() {
        m.revenue_micros = None;
        m.cost_micros = None;
        m.profit_micros = None;
    }
}

/// The campaigns whose publishers see full caller numbers.
pub fn full_caller_campaigns(conn: &mut DbConnection) -> Result<HashSet<i64>, Error> {
    Ok(campaigns::table.filter(campaigns::show_full_caller.eq(true)).select(campaigns::id).load::<i64>(conn)?.into_iter().collect())
}

/// The call with this id.
pub fn get_row(conn: &mut DbConnection, id: i64) -> Result<CallRow, Error> {
    crate::db::direct::run!(conn, first, calls::table.find(id).select(CallRow::as_select())).optional()?.ok_or(Error::NotFound("call"))
}

/// The call's legs, in attempt order.
pub fn legs(conn: &mut DbConnection, call_id: i64) -> Result<Vec<LegRow>, Error> {
    Ok(call_legs::table.filter(call_legs::call_id.eq(call_id)).order(call_legs::attempt.asc()).select(LegRow::as_select()).load(conn)?)
}

/// A call with its legs and log; `scope` restricts it to one publisher (who then sees neither).
pub fn detail(conn: &mut DbConnection, id: i64, scope: Option<i64>) -> Result<CallDetail, Error> {
    let row = get_row(conn, id)?;
    if let Some(p) = scope {
        if row.publisher_id != Some(p) {
            return Err(Error::NotFound("call"));
        }
        let full = full_caller_campaigns(conn)?;
        let mut call = row.into_wire();
        let full_caller = call.campaign_id.is_some_and(|c| full.contains(&c));
        hide_from_publisher(&mut call, full_caller);
        let postbacks = crate::store::postbacks::attempts(conn, id)?;
        return Ok(CallDetail { call, legs: vec![], events: vec![], postbacks, bids: vec![] });
    }
    let legs = legs(conn, id)?.into_iter().map(LegRow::into_wire).collect();
    let events = call_events::table
        .filter(call_events::call_id.eq(id))
        .order(call_events::id.asc())
        .select((call_events::id, call_events::at, call_events::kind, call_events::data))
        .load::<(i64, NaiveDateTime, String, String)>(conn)?
        .into_iter()
        .map(|(id, at, kind, data)| CallEvent {
            id,
            at: utc(at),
            kind,
            data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
        })
        .collect();
    let postbacks = crate::store::postbacks::attempts(conn, id)?;
    let bids = crate::store::bidders::pings_of(conn, Some(id), None)?.into_iter().map(|(id, p)| p.into_wire(id)).collect();
    Ok(CallDetail { call: row.into_wire(), legs, events, postbacks, bids })
}

/// A `tag=` condition of the calls list: the call has the tag, or has it with this value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCondition {
    pub name: String,
    pub value: Option<String>,
}

impl TagCondition {
    /// `NAME` or `NAME:VALUE` (the value is everything after the first `:`).
    pub fn parse(s: &str) -> Result<TagCondition, String> {
        let (name, value) = match s.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (s, None),
        };
        if !crate::routing::tags::valid_name(name) {
            return Err(format!("{s:?}: NAME or NAME:VALUE, where NAME is 1 to 64 letters, digits, '_', '-' or '.'"));
        }
        if value.is_some_and(|v| !crate::routing::tags::valid_value(v)) {
            return Err(format!("{s:?}: the value must be at most 200 characters, without control characters"));
        }
        Ok(TagCondition { name: name.to_string(), value: value.map(String::from) })
    }
}

/// The SQL text reading tag `name` of a call (bound as the fragment's first parameter): the
/// backends spell JSON access differently.
pub(crate) fn tag_value_sql(backend: Backend) -> &'static str {
    match backend {
        // `tags` is a JSON object of strings; `->>` gives the text.
        Backend::Postgres => "(calls.tags::jsonb ->> ",
        // A path such as `$."FromState"` (names hold no quote).
        Backend::Sqlite => "json_extract(calls.tags, ",
    }
}

/// The argument that names tag `name` in [`tag_value_sql`].
pub(crate) fn tag_key(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Postgres => name.to_string(),
        Backend::Sqlite => format!("$.\"{name}\""),
    }
}

type CallCondition = Box<dyn diesel::BoxableExpression<calls::table, crate::db::DbBackend, SqlType = diesel::sql_types::Bool>>;

fn tag_condition(backend: Backend, c: &TagCondition) -> CallCondition {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    let read = sql::<Bool>(tag_value_sql(backend)).bind::<Text, _>(tag_key(backend, &c.name));
    match &c.value {
        Some(v) => Box::new(read.sql(") = ").bind::<Text, _>(v.clone())),
        None => Box::new(read.sql(") IS NOT NULL")),
    }
}

pub fn backend_of(conn: &DbConnection) -> Backend {
    match conn {
        DbConnection::Postgres(_) => Backend::Postgres,
        DbConnection::Sqlite(_) => Backend::Sqlite,
    }
}

pub fn list(conn: &mut DbConnection, f: &CallFilter, p: &PageParams, scope: Option<i64>) -> Result<Page<Call>, Error> {
    let (offset, limit) = paging(p)?;
    let backend = backend_of(conn);
    let tags = f.tag.iter().map(|t| TagCondition::parse(t)).collect::<Result<Vec<_>, _>>().map_err(|e| Error::field("tag", e))?;
    let query = || {
        let mut q = calls::table.into_boxed();
        for t in &tags {
            q = q.filter(tag_condition(backend, t));
        }
        if let Some(rule) = f.blocked_by {
            q = q.filter(calls::blocked_by.eq(rule.as_str()));
        }
        if let Some(o) = f.ivr_outcome {
            q = q.filter(calls::ivr_outcome.eq(o.as_str()));
        }
        if let Some(v) = f.campaign_id {
            q = q.filter(calls::campaign_id.eq(v));
        }
        if let Some(v) = f.buyer_id {
            q = q.filter(calls::buyer_id.eq(v));
        }
        if let Some(v) = f.publisher_id {
            q = q.filter(calls::publisher_id.eq(v));
        }
        if let Some(v) = scope {
            q = q.filter(calls::publisher_id.eq(v));
        }
        if let Some(v) = &f.status {
            q = q.filter(calls::status.eq(v.clone()));
        }
        if let Some(v) = &f.outcome {
            q = q.filter(calls::outcome.eq(v.clone()));
        }
        if let Some(v) = f.from {
            q = q.filter(calls::started_at.ge(v.naive_utc()));
        }
        if let Some(v) = f.to {
            q = q.filter(calls::started_at.lt(v.naive_utc()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query().select(CallRow::as_select()).order(calls::id.desc()).offset(offset).limit(limit).load(conn)?;
    let full = if scope.is_some() { full_caller_campaigns(conn)? } else { HashSet::default() };
    let items = rows
        .into_iter()
        .map(|r| {
            let mut c = r.into_wire();
            if scope.is_some() {
                let full_caller = c.campaign_id.is_some_and(|id| full.contains(&id));
                hide_from_publisher(&mut c, full_caller);
            }
            c
        })
        .collect();
    Ok(page(items, total, p))
}

/// Calls started since `since`, counted by (status, outcome).
pub fn count_by_status_since(conn: &mut DbConnection, since: NaiveDateTime) -> Result<Vec<(CallStatus, Outcome, i64)>, Error> {
    Ok(calls::table
        .filter(calls::started_at.ge(since))
        .group_by((calls::status, calls::outcome))
        .select((calls::status, calls::outcome, diesel::dsl::count_star()))
        .load(conn)?)
}

/// How many calls are recorded.
pub fn count(conn: &mut DbConnection) -> Result<i64, Error> {
    Ok(calls::table.count().get_result(conn)?)
}

/// The highest call id and leg id (0 when none).
pub fn last_ids(conn: &mut DbConnection) -> Result<(i64, i64), Error> {
    let call: Option<i64> = calls::table.select(diesel::dsl::max(calls::id)).first(conn)?;
    let leg: Option<i64> = call_legs::table.select(diesel::dsl::max(call_legs::id)).first(conn)?;
    Ok((call.unwrap_or(0), leg.unwrap_or(0)))
}
