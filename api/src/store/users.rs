use callbroker_wire::{NewUser, Page, PageParams, Role, User, UserFilter, UserPatch};
use diesel::prelude::*;

use super::{page, paging, utc};
use crate::auth::password;
use crate::db::schema::users;
use crate::db::{now, DbConnection};
use crate::domain::{grants, validate};
use crate::error::{Error, FieldErrors};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub publisher_id: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    /// Moves on when the user's sessions must end (a password change); session tokens carry it.
    pub token_version: i64,
}

impl UserRow {
    pub fn role(&self) -> Result<Role, Error> {
        Role::parse(&self.role).ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown role {:?} on user {}", self.role, self.id)))
    }
    pub fn into_wire(self) -> Result<User, Error> {
        Ok(User {
            role: self.role()?,
            id: self.id,
            email: self.email,
            publisher_id: self.publisher_id,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

/// Checks the role/publisher pairing shared by users and API keys.
pub fn check_role_binding(conn: &mut DbConnection, role: Role, publisher_id: Option<i64>, errors: &mut FieldErrors) -> Result<(), Error> {
    match (role, publisher_id) {
        (Role::Publisher, None) => errors.add("publisher_id", "is required for the publisher role"),
        (Role::Publisher, Some(p)) => {
            if !super::publishers::exists(conn, p)? {
                errors.add("publisher_id", format!("publisher {p} does not exist"));
            }
        }
        (_, Some(_)) => errors.add("publisher_id", "is only allowed for the publisher role"),
        (_, None) => {}
    }
    Ok(())
}

/// A new password ([`callbroker_wire::rules::Password`]): 10 to 256 characters (so at most
/// 1 KiB for the hash to read).
pub fn check_password(pw: &str, errors: &mut FieldErrors) {
    let chars = pw.chars().count();
    if chars < password::MIN_PASSWORD_LEN {
        errors.add("password", format!("must be at least {} characters", password::MIN_PASSWORD_LEN));
    } else if chars > password::MAX_PASSWORD_LEN {
        errors.add("password", format!("must be at most {} characters", password::MAX_PASSWORD_LEN));
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<UserRow>, Error> {
    Ok(users::table.find(id).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<UserRow>, Error> {
    Ok(users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, Error> {
    Ok(users::table.count().get_result(conn)?)
}

/// Validates and creates a user; hashes the password (slow by design: call it off the async path).
pub fn create(conn: &mut DbConnection, n: &NewUser) -> Result<User, Error> {
    let mut errors = FieldErrors::new();
    let email = validate::email(&n.email).map_err(|e| errors.add("email", e)).unwrap_or_default();
    check_password(&n.password, &mut errors);
    check_role_binding(conn, n.role, n.publisher_id, &mut errors)?;
    errors.into_result()?;
    let hash = password::hash(&n.password)?;
    let t = now();
    let id: i64 = diesel::insert_into(users::table)
        .values((
            users::email.eq(&email),
            users::password_hash.eq(&hash),
            users::role.eq(n.role.as_str()),
            users::publisher_id.eq(n.publisher_id),
            users::created_at.eq(t),
            users::updated_at.eq(t),
        ))
        .returning(users::id)
        .get_result(conn)?;
    get(conn, id)
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<User, Error> {
    find(conn, id)?.ok_or(Error::NotFound("user"))?.into_wire()
}

/// Changes a user. A new password moves the token version on (every session of the user ends);
/// a new role revokes the API keys the user created that the new role could not grant.
pub fn update(conn: &mut DbConnection, id: i64, p: &UserPatch) -> Result<User, Error> {
    let row = find(conn, id)?.ok_or(Error::NotFound("user"))?;
    let mut errors = FieldErrors::new();
    let email = match &p.email {
        Some(e) => validate::email(e).map_err(|e| errors.add("email", e)).unwrap_or_default(),
        None => row.email.clone(),
    };
    if let Some(pw) = &p.password {
        check_password(pw, &mut errors);
    }
    let role = p.role.unwrap_or(row.role()?);
    let publisher_id = match p.publisher_id {
        Some(v) => v,
        None if role != Role::Publisher => None,
        None => row.publisher_id,
    };
    check_role_binding(conn, role, publisher_id, &mut errors)?;
    errors.into_result()?;
    let (hash, token_version) = match &p.password {
        Some(pw) => (password::hash(pw)?, row.token_version + 1),
        None => (row.password_hash.clone(), row.token_version),
    };
    diesel::update(users::table.find(id))
        .set((
            users::email.eq(&email),
            users::password_hash.eq(&hash),
            users::role.eq(role.as_str()),
            users::publisher_id.eq(publisher_id),
            users::token_version.eq(token_version),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    super::api_keys::revoke_created_by(conn, id, &grants::key_roles_lost(row.role()?, role))?;
    get(conn, id)
}

/// Deletes a user and the API keys they created.
pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    super::api_keys::revoke_created_by(conn, id, &Role::ALL)?;
    let n = diesel::delete(users::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("user"));
    }
    Ok(())
}

/// Number of admins other than `except`.
pub fn other_admins(conn: &mut DbConnection, except: i64) -> Result<i64, Error> {
    Ok(users::table.filter(users::role.eq("admin")).filter(users::id.ne(except)).count().get_result(conn)?)
}

pub fn list(conn: &mut DbConnection, f: &UserFilter, p: &PageParams) -> Result<Page<User>, Error> {
    let (offset, limit) = paging(p)?;
    let query = || {
        let mut q = users::table.into_boxed();
        if let Some(r) = f.role {
            q = q.filter(users::role.eq(r.as_str()));
        }
        if let Some(pb) = f.publisher_id {
            q = q.filter(users::publisher_id.eq(pb));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query().select(UserRow::as_select()).order(users::id.asc()).offset(offset).limit(limit).load(conn)?;
    let items = rows.into_iter().map(UserRow::into_wire).collect::<Result<Vec<_>, _>>()?;
    Ok(page(items, total, p))
}
