use callbroker_wire::{Buyer, BuyerFilter, BuyerPatch, NewBuyer, Page, PageParams, ScheduleWindow, Status, TagRule};
use diesel::prelude::*;

use super::{json_column, page, paging, to_json, utc};
use crate::db::schema::{buyers, campaign_buyers};
use crate::db::{contains_pattern, lower, now, DbConnection};
use crate::domain::validate;
use crate::error::{Error, FieldErrors};
use callbroker_wire::rules::{self, Int};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = buyers)]
pub struct BuyerRow {
    pub id: i64,
    pub name: String,
    pub phone_number: String,
    pub status: String,
    pub priority: i32,
    pub weight: i32,
    pub max_concurrent_calls: i32,
    pub cap_hourly: Option<i32>,
    pub cap_daily: Option<i32>,
    pub cap_monthly: Option<i32>,
    pub timezone: String,
    pub schedule: String,
    pub allowed_states: String,
    pub denied_states: String,
    pub sticky_repeat_callers: bool,
    #[diesel(deserialize_as = crate::db::stamp::Stamp)]
    pub created_at: chrono::NaiveDateTime,
    #[diesel(deserialize_as = crate::db::stamp::Stamp)]
    pub updated_at: chrono::NaiveDateTime,
    pub tag_rules: String,
    pub whisper: Option<String>,
    pub require_accept: bool,
    pub accept_timeout_secs: i32,
    pub labels: String,
}

impl BuyerRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Paused)
    }
    pub fn schedule(&self) -> Result<Vec<ScheduleWindow>, Error> {
        json_column("buyers.schedule", &self.schedule)
    }
    pub fn allowed_states(&self) -> Result<Vec<String>, Error> {
        json_column("buyers.allowed_states", &self.allowed_states)
    }
    pub fn denied_states(&self) -> Result<Vec<String>, Error> {
        json_column("buyers.denied_states", &self.denied_states)
    }
    pub fn tag_rules(&self) -> Result<Vec<TagRule>, Error> {
        json_column("buyers.tag_rules", &self.tag_rules)
    }
    pub fn labels(&self) -> Result<Vec<String>, Error> {
        json_column("buyers.labels", &self.labels)
    }
    pub fn into_wire(self) -> Result<Buyer, Error> {
        Ok(Buyer {
            labels: self.labels()?,
            status: self.status(),
            schedule: self.schedule()?,
            allowed_states: self.allowed_states()?,
            denied_states: self.denied_states()?,
            tag_rules: self.tag_rules()?,
            id: self.id,
            name: self.name,
            phone_number: self.phone_number,
            priority: self.priority,
            weight: self.weight,
            max_concurrent_calls: self.max_concurrent_calls,
            cap_hourly: self.cap_hourly,
            cap_daily: self.cap_daily,
            cap_monthly: self.cap_monthly,
            timezone: self.timezone,
            sticky_repeat_callers: self.sticky_repeat_callers,
            whisper: self.whisper,
            require_accept: self.require_accept,
            accept_timeout_secs: self.accept_timeout_secs,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

/// Validated values of a buyer (what is written on create and update).
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = buyers, treat_none_as_null = true)]
pub struct BuyerValues {
    pub name: String,
    pub phone_number: String,
    pub status: String,
    pub priority: i32,
    pub weight: i32,
    pub max_concurrent_calls: i32,
    pub cap_hourly: Option<i32>,
    pub cap_daily: Option<i32>,
    pub cap_monthly: Option<i32>,
    pub timezone: String,
    pub schedule: String,
    pub allowed_states: String,
    pub denied_states: String,
    pub sticky_repeat_callers: bool,
    pub tag_rules: String,
    pub whisper: Option<String>,
    pub require_accept: bool,
    pub accept_timeout_secs: i32,
    pub labels: String,
}

/// Every field of a buyer before validation.
struct Draft<'a> {
    name: &'a str,
    phone_number: &'a str,
    status: Status,
    priority: i32,
    weight: i32,
    max_concurrent_calls: i32,
    caps: [(&'static str, Option<i32>); 3],
    timezone: &'a str,
    schedule: &'a [ScheduleWindow],
    allowed_states: &'a [String],
    denied_states: &'a [String],
    sticky: bool,
    tag_rules: &'a [TagRule],
    whisper: Option<&'a str>,
    require_accept: bool,
    accept_timeout_secs: i32,
    labels: &'a [String],
}

/// At most this many labels per buyer.
const MAX_LABELS: usize = rules::BuyerLabels::MAX_ITEMS;

/// The labels as stored: each checked, duplicates (case aside) dropped, in the order given.
fn labels(list: &[String], errors: &mut FieldErrors) -> Vec<String> {
    if list.len() > MAX_LABELS {
        errors.add("labels", format!("at most {MAX_LABELS} labels"));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, label) in list.iter().enumerate() {
        let label = label.trim();
        if !crate::routing::ivr::valid_label(label) {
            errors.add(format!("labels[{i}]"), "must be 1 to 50 letters, digits, `_` or `-`");
        } else if !crate::routing::ivr::has_label(&out, label) {
            out.push(label.to_string());
        }
    }
    out
}

impl BuyerValues {
    fn validate(d: Draft<'_>) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let name = validate::name(d.name).map_err(|e| errors.add("name", e)).unwrap_or_default();
        let phone_number = validate::e164(d.phone_number).map_err(|e| errors.add("phone_number", e)).unwrap_or_default();
        if !rules::Priority::contains(d.priority) {
            errors.add("priority", rules::Priority::refusal());
        }
        if !rules::Weight::contains(d.weight) {
            errors.add("weight", rules::Weight::refusal());
        }
        if !rules::MaxConcurrentCalls::contains(d.max_concurrent_calls) {
            errors.add("max_concurrent_calls", rules::MaxConcurrentCalls::refusal());
        }
        for (field, cap) in d.caps {
            if cap.is_some_and(|c| !rules::Cap::contains(c)) {
                errors.add(field, "must not be negative");
            }
        }
        let timezone =
            validate::timezone(d.timezone).map(|tz| tz.name().to_string()).map_err(|e| errors.add("timezone", e)).unwrap_or_default();
        let schedule = validate::schedule(d.schedule).map_err(|e| errors.add("schedule", e)).unwrap_or_default();
        let allowed = validate::us_states(d.allowed_states).map_err(|e| errors.add("allowed_states", e)).unwrap_or_default();
        let denied = validate::us_states(d.denied_states).map_err(|e| errors.add("denied_states", e)).unwrap_or_default();
        if let Some(both) = allowed.iter().find(|s| denied.contains(s)) {
            errors.add("denied_states", format!("{both} is both allowed and denied"));
        }
        let tag_rules = crate::routing::tags::parse("tag_rules", d.tag_rules)
            .map_err(|problems| problems.into_iter().for_each(|(f, e)| errors.add(f, e)))
            .unwrap_or_default();
        let whisper = match d.whisper.map(validate::whisper).transpose() {
            Ok(w) => w.filter(|w| !w.is_empty()),
            Err(e) => {
                errors.add("whisper", e);
                None
            }
        };
        if let Err(e) = validate::accept_timeout(d.accept_timeout_secs) {
            errors.add("accept_timeout_secs", e);
        }
        let labels = labels(d.labels, &mut errors);
        errors.into_result()?;
        Ok(Self {
            name,
            phone_number,
            status: d.status.as_str().into(),
            priority: d.priority,
            weight: d.weight,
            max_concurrent_calls: d.max_concurrent_calls,
            cap_hourly: d.caps[0].1,
            cap_daily: d.caps[1].1,
            cap_monthly: d.caps[2].1,
            timezone,
            schedule: to_json(&schedule),
            allowed_states: to_json(&allowed),
            denied_states: to_json(&denied),
            sticky_repeat_callers: d.sticky,
            tag_rules: to_json(&tag_rules.iter().map(crate::routing::tags::Rule::to_wire).collect::<Vec<_>>()),
            whisper,
            require_accept: d.require_accept,
            accept_timeout_secs: d.accept_timeout_secs,
            labels: to_json(&labels),
        })
    }

    pub fn from_new(n: &NewBuyer) -> Result<Self, Error> {
        Self::validate(Draft {
            name: &n.name,
            phone_number: &n.phone_number,
            status: n.status.unwrap_or_default(),
            priority: n.priority.unwrap_or(0),
            weight: n.weight.unwrap_or(1),
            max_concurrent_calls: n.max_concurrent_calls.unwrap_or(1),
            caps: [("cap_hourly", n.cap_hourly), ("cap_daily", n.cap_daily), ("cap_monthly", n.cap_monthly)],
            timezone: n.timezone.as_deref().unwrap_or("UTC"),
            schedule: &n.schedule,
            allowed_states: &n.allowed_states,
            denied_states: &n.denied_states,
            sticky: n.sticky_repeat_callers.unwrap_or(true),
            tag_rules: &n.tag_rules,
            whisper: n.whisper.as_deref(),
            require_accept: n.require_accept.unwrap_or(false),
            accept_timeout_secs: n.accept_timeout_secs.unwrap_or(callbroker_wire::DEFAULT_ACCEPT_TIMEOUT_SECS),
            labels: &n.labels,
        })
    }

    pub fn merge(row: &BuyerRow, p: &BuyerPatch) -> Result<Self, Error> {
        let schedule = row.schedule()?;
        let allowed = row.allowed_states()?;
        let denied = row.denied_states()?;
        let tag_rules = row.tag_rules()?;
        let labels = row.labels()?;
        Self::validate(Draft {
            name: p.name.as_deref().unwrap_or(&row.name),
            phone_number: p.phone_number.as_deref().unwrap_or(&row.phone_number),
            status: p.status.unwrap_or(row.status()),
            priority: p.priority.unwrap_or(row.priority),
            weight: p.weight.unwrap_or(row.weight),
            max_concurrent_calls: p.max_concurrent_calls.unwrap_or(row.max_concurrent_calls),
            caps: [
                ("cap_hourly", p.cap_hourly.unwrap_or(row.cap_hourly)),
                ("cap_daily", p.cap_daily.unwrap_or(row.cap_daily)),
                ("cap_monthly", p.cap_monthly.unwrap_or(row.cap_monthly)),
            ],
            timezone: p.timezone.as_deref().unwrap_or(&row.timezone),
            schedule: p.schedule.as_deref().unwrap_or(&schedule),
            allowed_states: p.allowed_states.as_deref().unwrap_or(&allowed),
            denied_states: p.denied_states.as_deref().unwrap_or(&denied),
            sticky: p.sticky_repeat_callers.unwrap_or(row.sticky_repeat_callers),
            tag_rules: p.tag_rules.as_deref().unwrap_or(&tag_rules),
            whisper: match &p.whisper {
                Some(set) => set.as_deref(),
                None => row.whisper.as_deref(),
            },
            require_accept: p.require_accept.unwrap_or(row.require_accept),
            accept_timeout_secs: p.accept_timeout_secs.unwrap_or(row.accept_timeout_secs),
            labels: p.labels.as_deref().unwrap_or(&labels),
        })
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<BuyerRow>, Error> {
    Ok(buyers::table.find(id).select(BuyerRow::as_select()).first(conn).optional()?)
}

pub fn get_row(conn: &mut DbConnection, id: i64) -> Result<BuyerRow, Error> {
    find(conn, id)?.ok_or(Error::NotFound("buyer"))
}

pub fn create(conn: &mut DbConnection, v: BuyerValues) -> Result<Buyer, Error> {
    let t = now();
    let id: i64 = diesel::insert_into(buyers::table)
        .values((&v, buyers::created_at.eq(t), buyers::updated_at.eq(t)))
        .returning(buyers::id)
        .get_result(conn)?;
    crate::store::calls::flow::init_buyer_load(conn, id)?;
    get_row(conn, id)?.into_wire()
}

pub fn update(conn: &mut DbConnection, id: i64, v: BuyerValues) -> Result<Buyer, Error> {
    let n = diesel::update(buyers::table.find(id)).set((&v, buyers::updated_at.eq(now()))).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("buyer"));
    }
    get_row(conn, id)?.into_wire()
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    let n = diesel::delete(buyers::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("buyer"));
    }
    Ok(())
}

pub fn list(conn: &mut DbConnection, f: &BuyerFilter, p: &PageParams) -> Result<Page<Buyer>, Error> {
    let (offset, limit) = paging(p)?;
    let query = || {
        let mut q = buyers::table.into_boxed();
        if let Some(s) = f.status {
            q = q.filter(buyers::status.eq(s.as_str()));
        }
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            q = q.filter(lower(buyers::name).like(contains_pattern(text.trim())).escape('\\'));
        }
        if let Some(c) = f.campaign_id {
            q = q.filter(
                buyers::id.eq_any(campaign_buyers::table.filter(campaign_buyers::campaign_id.eq(c)).select(campaign_buyers::buyer_id)),
            );
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query().select(BuyerRow::as_select()).order(buyers::id.asc()).offset(offset).limit(limit).load(conn)?;
    let items = rows.into_iter().map(BuyerRow::into_wire).collect::<Result<Vec<_>, _>>()?;
    Ok(page(items, total, p))
}
