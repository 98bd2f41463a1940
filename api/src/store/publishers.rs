use callbroker_wire::{NewPublisher, Page, PageParams, PostbackMethod, Publisher, PublisherFilter, PublisherPatch, Status};
use diesel::prelude::*;

use super::{page, paging, utc};
use crate::db::schema::publishers;
use crate::db::{contains_pattern, lower, now, DbConnection};
use crate::domain::validate;
use crate::error::{Error, FieldErrors};
use crate::outbound::AllowList;
use callbroker_wire::rules;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = publishers)]
pub struct PublisherRow {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub payout_terms: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub postback_url: Option<String>,
    pub postback_method: String,
}

impl PublisherRow {
    pub fn into_wire(self) -> Publisher {
        Publisher {
            id: self.id,
            name: self.name,
            status: Status::parse(&self.status).unwrap_or(Status::Paused),
            contact_name: self.contact_name,
            contact_email: self.contact_email,
            contact_phone: self.contact_phone,
            payout_terms: self.payout_terms,
            postback_url: self.postback_url,
            postback_method: PostbackMethod::parse(&self.postback_method).unwrap_or_default(),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Validated values of a publisher.
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = publishers, treat_none_as_null = true)]
pub struct PublisherValues {
    pub name: String,
    pub status: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub payout_terms: Option<String>,
    pub postback_url: Option<String>,
    pub postback_method: String,
}

impl PublisherValues {
    #[allow(clippy::too_many_arguments)]
    fn validate(
        name: &str,
        status: Status,
        contact_name: Option<&str>,
        contact_email: Option<&str>,
        contact_phone: Option<&str>,
        payout_terms: Option<&str>,
        postback_url: Option<&str>,
        postback_method: PostbackMethod,
        allow: &AllowList,
    ) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let name = validate::name(name).map_err(|e| errors.add("name", e)).unwrap_or_default();
        let contact_name = validate::optional_text(contact_name, rules::ShortText::MAX_CHARS)
            .map_err(|e| errors.add("contact_name", e))
            .unwrap_or_default();
        let contact_email = contact_email
            .map(validate::contact_email)
            .transpose()
            .map_err(|e| errors.add("contact_email", e))
            .unwrap_or_default()
            .flatten();
        let contact_phone = contact_phone
            .map(validate::contact_phone)
            .transpose()
            .map_err(|e| errors.add("contact_phone", e))
            .unwrap_or_default()
            .flatten();
        let payout_terms = validate::optional_text(payout_terms, rules::LongText::MAX_CHARS)
            .map_err(|e| errors.add("payout_terms", e))
            .unwrap_or_default();
        let postback_url = match postback_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => {
                crate::postback::validate_template(u, allow).map(Some).map_err(|e| errors.add("postback_url", e)).unwrap_or_default()
            }
            None => None,
        };
        errors.into_result()?;
        Ok(Self {
            name,
            status: status.as_str().into(),
            contact_name,
            contact_email,
            contact_phone,
            payout_terms,
            postback_url,
            postback_method: postback_method.as_str().into(),
        })
    }

    /// `allow`: the addresses a postback may be aimed at besides public ones.
    pub fn from_new(n: &NewPublisher, allow: &AllowList) -> Result<Self, Error> {
        Self::validate(
            &n.name,
            n.status.unwrap_or_default(),
            n.contact_name.as_deref(),
            n.contact_email.as_deref(),
            n.contact_phone.as_deref(),
            n.payout_terms.as_deref(),
            n.postback_url.as_deref(),
            n.postback_method.unwrap_or_default(),
            allow,
        )
    }

    pub fn merge(row: &PublisherRow, p: &PublisherPatch, allow: &AllowList) -> Result<Self, Error> {
        fn pick<'a>(patch: Option<&'a Option<String>>, current: Option<&'a String>) -> Option<&'a str> {
            match patch {
                Some(v) => v.as_deref(),
                None => current.map(String::as_str),
            }
        }
        Self::validate(
            p.name.as_deref().unwrap_or(&row.name),
            p.status.unwrap_or(Status::parse(&row.status).unwrap_or_default()),
            pick(p.contact_name.as_ref(), row.contact_name.as_ref()),
            pick(p.contact_email.as_ref(), row.contact_email.as_ref()),
            pick(p.contact_phone.as_ref(), row.contact_phone.as_ref()),
            pick(p.payout_terms.as_ref(), row.payout_terms.as_ref()),
            pick(p.postback_url.as_ref(), row.postback_url.as_ref()),
            p.postback_method.unwrap_or(PostbackMethod::parse(&row.postback_method).unwrap_or_default()),
            allow,
        )
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<PublisherRow>, Error> {
    Ok(publishers::table.find(id).select(PublisherRow::as_select()).first(conn).optional()?)
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<PublisherRow, Error> {
    find(conn, id)?.ok_or(Error::NotFound("publisher"))
}

pub fn exists(conn: &mut DbConnection, id: i64) -> Result<bool, Error> {
    Ok(diesel::select(diesel::dsl::exists(publishers::table.find(id))).get_result(conn)?)
}

/// Creates a publisher whose postbacks are signed with `postback_secret`.
pub fn create(conn: &mut DbConnection, v: PublisherValues, postback_secret: &str) -> Result<Publisher, Error> {
    let t = now();
    let id: i64 = diesel::insert_into(publishers::table)
        .values((&v, publishers::postback_secret.eq(postback_secret), publishers::created_at.eq(t), publishers::updated_at.eq(t)))
        .returning(publishers::id)
        .get_result(conn)?;
    Ok(get(conn, id)?.into_wire())
}

pub fn update(conn: &mut DbConnection, id: i64, v: PublisherValues) -> Result<Publisher, Error> {
    let n = diesel::update(publishers::table.find(id)).set((&v, publishers::updated_at.eq(now()))).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("publisher"));
    }
    Ok(get(conn, id)?.into_wire())
}

/// Replaces the publisher's postback signing key.
pub fn set_postback_secret(conn: &mut DbConnection, id: i64, secret: &str) -> Result<(), Error> {
    let n = diesel::update(publishers::table.find(id))
        .set((publishers::postback_secret.eq(secret), publishers::updated_at.eq(now())))
        .execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("publisher"));
    }
    Ok(())
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    let users: i64 = crate::db::schema::users::table.filter(crate::db::schema::users::publisher_id.eq(id)).count().get_result(conn)?;
    if users > 0 {
        return Err(Error::Conflict(format!("the publisher still has {users} user(s); delete them or pause the publisher instead")));
    }
    let n = diesel::delete(publishers::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("publisher"));
    }
    Ok(())
}

/// Lists publishers; `scope` restricts the list to one publisher (publisher principals).
pub fn list(conn: &mut DbConnection, f: &PublisherFilter, p: &PageParams, scope: Option<i64>) -> Result<Page<Publisher>, Error> {
    let (offset, limit) = paging(p)?;
    let query = || {
        let mut q = publishers::table.into_boxed();
        if let Some(s) = f.status {
            q = q.filter(publishers::status.eq(s.as_str()));
        }
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            q = q.filter(lower(publishers::name).like(contains_pattern(text.trim())).escape('\\'));
        }
        if let Some(id) = scope {
            q = q.filter(publishers::id.eq(id));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query().select(PublisherRow::as_select()).order(publishers::id.asc()).offset(offset).limit(limit).load(conn)?;
    Ok(page(rows.into_iter().map(PublisherRow::into_wire).collect(), total, p))
}
