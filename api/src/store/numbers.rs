use callbroker_wire::{NewPhoneNumber, Page, PageParams, PhoneNumber, PhoneNumberFilter, PhoneNumberPatch};
use diesel::prelude::*;

use super::{page, paging, utc};
use crate::db::schema::phone_numbers;
use crate::db::{contains_pattern, lower, now, DbConnection};
use crate::domain::validate;
use crate::error::{Error, FieldErrors};
use callbroker_wire::rules;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = phone_numbers)]
pub struct NumberRow {
    pub id: i64,
    pub number: String,
    pub provider_sid: Option<String>,
    pub friendly_name: Option<String>,
    pub campaign_id: Option<i64>,
    pub publisher_id: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl NumberRow {
    pub fn into_wire(self) -> PhoneNumber {
        PhoneNumber {
            id: self.id,
            number: self.number,
            provider_sid: self.provider_sid,
            friendly_name: self.friendly_name,
            campaign_id: self.campaign_id,
            publisher_id: self.publisher_id,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = phone_numbers)]
pub struct NewNumberValues {
    pub number: String,
    pub provider_sid: Option<String>,
    pub friendly_name: Option<String>,
    pub campaign_id: Option<i64>,
    pub publisher_id: Option<i64>,
}

#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = phone_numbers, treat_none_as_null = true)]
pub struct NumberLinks {
    pub friendly_name: Option<String>,
    pub campaign_id: Option<i64>,
    pub publisher_id: Option<i64>,
}

/// Checks that the referenced campaign and publisher exist.
fn check_links(conn: &mut DbConnection, campaign: Option<i64>, publisher: Option<i64>, errors: &mut FieldErrors) -> Result<(), Error> {
    if let Some(c) = campaign {
        if !super::campaigns::exists(conn, c)? {
            errors.add("campaign_id", format!("campaign {c} does not exist"));
        }
    }
    if let Some(p) = publisher {
        if !super::publishers::exists(conn, p)? {
            errors.add("publisher_id", format!("publisher {p} does not exist"));
        }
    }
    Ok(())
}

pub fn validate_new(conn: &mut DbConnection, n: &NewPhoneNumber) -> Result<NewNumberValues, Error> {
    let mut errors = FieldErrors::new();
    let number = validate::e164(&n.number).map_err(|e| errors.add("number", e)).unwrap_or_default();
    let provider_sid = validate::optional_text(n.provider_sid.as_deref(), rules::ProviderSid::MAX_CHARS)
        .map_err(|e| errors.add("provider_sid", e))
        .unwrap_or_default();
    let friendly_name = validate::optional_text(n.friendly_name.as_deref(), rules::ShortText::MAX_CHARS)
        .map_err(|e| errors.add("friendly_name", e))
        .unwrap_or_default();
    check_links(conn, n.campaign_id, n.publisher_id, &mut errors)?;
    errors.into_result()?;
    Ok(NewNumberValues { number, provider_sid, friendly_name, campaign_id: n.campaign_id, publisher_id: n.publisher_id })
}

pub fn validate_patch(conn: &mut DbConnection, row: &NumberRow, p: &PhoneNumberPatch) -> Result<NumberLinks, Error> {
    let mut errors = FieldErrors::new();
    let friendly = match &p.friendly_name {
        Some(v) => v.as_deref(),
        None => row.friendly_name.as_deref(),
    };
    let friendly_name =
        validate::optional_text(friendly, rules::ShortText::MAX_CHARS).map_err(|e| errors.add("friendly_name", e)).unwrap_or_default();
    let campaign_id = p.campaign_id.unwrap_or(row.campaign_id);
    let publisher_id = p.publisher_id.unwrap_or(row.publisher_id);
    check_links(conn, campaign_id, publisher_id, &mut errors)?;
    errors.into_result()?;
    Ok(NumberLinks { friendly_name, campaign_id, publisher_id })
}

/// A number, optionally only if it belongs to `scope`'s publisher.
pub fn find(conn: &mut DbConnection, id: i64, scope: Option<i64>) -> Result<Option<NumberRow>, Error> {
    let mut q = phone_numbers::table.filter(phone_numbers::id.eq(id)).into_boxed();
    if let Some(p) = scope {
        q = q.filter(phone_numbers::publisher_id.eq(p));
    }
    Ok(q.select(NumberRow::as_select()).first(conn).optional()?)
}

pub fn get_row(conn: &mut DbConnection, id: i64, scope: Option<i64>) -> Result<NumberRow, Error> {
    find(conn, id, scope)?.ok_or(Error::NotFound("phone number"))
}

pub fn create(conn: &mut DbConnection, v: NewNumberValues) -> Result<PhoneNumber, Error> {
    let t = now();
    let id: i64 = diesel::insert_into(phone_numbers::table)
        .values((&v, phone_numbers::created_at.eq(t), phone_numbers::updated_at.eq(t)))
        .returning(phone_numbers::id)
        .get_result(conn)?;
    Ok(get_row(conn, id, None)?.into_wire())
}

pub fn update(conn: &mut DbConnection, id: i64, v: NumberLinks) -> Result<PhoneNumber, Error> {
    let n = diesel::update(phone_numbers::table.find(id)).set((&v, phone_numbers::updated_at.eq(now()))).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("phone number"));
    }
    Ok(get_row(conn, id, None)?.into_wire())
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    let n = diesel::delete(phone_numbers::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("phone number"));
    }
    Ok(())
}

pub fn list(conn: &mut DbConnection, f: &PhoneNumberFilter, p: &PageParams, scope: Option<i64>) -> Result<Page<PhoneNumber>, Error> {
    let (offset, limit) = paging(p)?;
    let query = || {
        let mut q = phone_numbers::table.into_boxed();
        if let Some(c) = f.campaign_id {
            q = q.filter(phone_numbers::campaign_id.eq(c));
        }
        if let Some(pb) = f.publisher_id {
            q = q.filter(phone_numbers::publisher_id.eq(pb));
        }
        if let Some(s) = scope {
            q = q.filter(phone_numbers::publisher_id.eq(s));
        }
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            let pattern = contains_pattern(text.trim());
            q = q.filter(
                lower(phone_numbers::number).like(pattern.clone()).escape('\\').or(lower(diesel::dsl::sql::<diesel::sql_types::Text>(
                    "COALESCE(friendly_name, '')",
                ))
                .like(pattern)
                .escape('\\')),
            );
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query().select(NumberRow::as_select()).order(phone_numbers::id.asc()).offset(offset).limit(limit).load(conn)?;
    Ok(page(rows.into_iter().map(NumberRow::into_wire).collect(), total, p))
}
