use callbroker_wire::{ApiKey, CreatedApiKey, NewApiKey, Page, PageParams, Role};
use diesel::prelude::*;

use super::{page, paging, utc};
use crate::auth::api_key;
use crate::db::schema::api_keys;
use crate::db::{now, DbConnection};
use crate::domain::validate;
use crate::error::{Error, FieldErrors};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub role: String,
    pub publisher_id: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
    pub last_used_at: Option<chrono::NaiveDateTime>,
    /// The user whose rights the key was granted from (the key dies with them).
    pub created_by: Option<i64>,
}

impl ApiKeyRow {
    pub fn role(&self) -> Result<Role, Error> {
        Role::parse(&self.role).ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown role on API key {}", self.id)))
    }
    pub fn into_wire(self) -> Result<ApiKey, Error> {
        Ok(ApiKey {
            role: self.role()?,
            id: self.id,
            name: self.name,
            prefix: self.prefix,
            publisher_id: self.publisher_id,
            created_at: utc(self.created_at),
            last_used_at: self.last_used_at.map(utc),
        })
    }
}

pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> Result<Option<ApiKeyRow>, Error> {
    Ok(api_keys::table.filter(api_keys::key_hash.eq(hash)).select(ApiKeyRow::as_select()).first(conn).optional()?)
}

pub fn touch(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    diesel::update(api_keys::table.find(id)).set(api_keys::last_used_at.eq(now())).execute(conn)?;
    Ok(())
}

/// Revokes the keys `user_id` granted whose role is one of `roles`; returns how many.
pub fn revoke_created_by(conn: &mut DbConnection, user_id: i64, roles: &[Role]) -> Result<usize, Error> {
    if roles.is_empty() {
        return Ok(0);
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let n = diesel::delete(api_keys::table.filter(api_keys::created_by.eq(user_id)).filter(api_keys::role.eq_any(names))).execute(conn)?;
    if n > 0 {
        tracing::info!(user_id, revoked = n, "API keys granted by a user who lost the right to grant them were revoked");
    }
    Ok(n)
}

/// Creates a key and returns it with its secret (the only time the secret is available).
/// `created_by` is the user whose rights the key is granted from.
pub fn create(conn: &mut DbConnection, n: &NewApiKey, created_by: Option<i64>) -> Result<CreatedApiKey, Error> {
    let mut errors = FieldErrors::new();
    let name = validate::name(&n.name).map_err(|e| errors.add("name", e)).unwrap_or_default();
    super::users::check_role_binding(conn, n.role, n.publisher_id, &mut errors)?;
    errors.into_result()?;
    let secret = api_key::generate();
    let id: i64 = diesel::insert_into(api_keys::table)
        .values((
            api_keys::name.eq(&name),
            api_keys::prefix.eq(api_key::display_prefix(&secret)),
            api_keys::key_hash.eq(api_key::hash(&secret)),
            api_keys::role.eq(n.role.as_str()),
            api_keys::publisher_id.eq(n.publisher_id),
            api_keys::created_by.eq(created_by),
            api_keys::created_at.eq(now()),
        ))
        .returning(api_keys::id)
        .get_result(conn)?;
    let key = get_row(conn, id)?.into_wire()?;
    Ok(CreatedApiKey { key, secret })
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<ApiKeyRow>, Error> {
    Ok(api_keys::table.find(id).select(ApiKeyRow::as_select()).first(conn).optional()?)
}

pub fn get_row(conn: &mut DbConnection, id: i64) -> Result<ApiKeyRow, Error> {
    find(conn, id)?.ok_or(Error::NotFound("API key"))
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    let n = diesel::delete(api_keys::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("API key"));
    }
    Ok(())
}

/// Lists keys; `roles` limits which roles' keys are shown.
pub fn list(conn: &mut DbConnection, p: &PageParams, roles: &[Role], publisher_id: Option<i64>) -> Result<Page<ApiKey>, Error> {
    let (offset, limit) = paging(p)?;
    let role_names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let query = || {
        let mut q = api_keys::table.filter(api_keys::role.eq_any(role_names.clone())).into_boxed();
        if let Some(pb) = publisher_id {
            q = q.filter(api_keys::publisher_id.eq(pb));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query().select(ApiKeyRow::as_select()).order(api_keys::id.asc()).offset(offset).limit(limit).load(conn)?;
    let items = rows.into_iter().map(ApiKeyRow::into_wire).collect::<Result<Vec<_>, _>>()?;
    Ok(page(items, total, p))
}
