//! The domain error: what went wrong below the HTTP layer (storage, call flow, money, jobs). It
//! knows nothing of HTTP; the handlers' [`crate::routes::AppError`] maps each kind to a status.
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input cannot be used (`code` is a stable `snake_case` name for clients).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// Named fields are invalid.
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change clashes with what is stored (a unique value, a reference, a rule).
    #[error("{0}")]
    Conflict(String),
    /// The database (or another dependency) cannot be reached or is overloaded; retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Field name → what is wrong with it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| problem.into());
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Ok(())` when nothing was added, the validation error otherwise.
    pub fn into_result(self) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self))
        }
    }
}

impl Error {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::BadRequest { code: "bad_request", message: message.into() }
    }
    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        let mut f = FieldErrors::new();
        f.add(field, problem);
        Error::Validation(f)
    }
    pub fn forbidden() -> Self {
        Error::Forbidden("your role does not allow this".into())
    }
    /// An unexpected failure, with its cause for the log.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Error::Internal(e.into())
    }
    /// The message, with each invalid field's problem when there are some (for logs and the CLI).
    pub fn describe(&self) -> String {
        match self {
            Error::Validation(f) => {
                let fields: Vec<String> = f.0.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{self} ({})", fields.join("; "))
            }
            _ => self.to_string(),
        }
    }
    /// Whether a transaction lost to a concurrent one (PostgreSQL's serialization failure or
    /// deadlock): running it again is the remedy, which [`crate::db::Db::write`] does.
    pub fn is_contention(&self) -> bool {
        matches!(self, Error::Unavailable(m) if m == CONTENTION)
    }
}

/// The message of a transaction that lost to a concurrent one.
pub const CONTENTION: &str = "database busy (concurrent update), retry";

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => Error::NotFound("record"),
            E::DatabaseError(K::UniqueViolation, info) => Error::Conflict(format!("already exists ({})", unique_target(info.message()))),
            E::DatabaseError(K::ForeignKeyViolation, _) => {
                Error::Conflict("the record is referenced by, or references, another record that prevents this change".into())
            }
            E::DatabaseError(K::ClosedConnection, _) => Error::Unavailable("database connection lost".into()),
            E::DatabaseError(K::SerializationFailure, _) => Error::Unavailable(CONTENTION.into()),
            E::DatabaseError(K::Unknown, info) if info.message().contains("deadlock detected") => Error::Unavailable(CONTENTION.into()),
            E::DatabaseError(K::Unknown, info) if is_unavailable_message(info.message()) => {
                Error::Unavailable(format!("database unavailable: {}", info.message()))
            }
            other => Error::Internal(anyhow::Error::new(other)),
        }
    }
}

fn is_unavailable_message(m: &str) -> bool {
    let m = m.to_ascii_lowercase();
    m.contains("database is locked")
        || m.contains("server closed the connection")
        || m.contains("connection") && (m.contains("refused") || m.contains("terminat"))
}

/// The column(s) named by a unique-violation message of either backend.
fn unique_target(msg: &str) -> String {
    const TABLES: [&str; 7] = ["campaign_buyers_", "phone_numbers_", "publishers_", "campaigns_", "api_keys_", "buyers_", "users_"];
    // SQLite: "UNIQUE constraint failed: buyers.name"; PostgreSQL: "duplicate key value violates
    // unique constraint \"buyers_name_key\"" (indexes are named <table>_<columns>_key).
    if let Some(cols) = msg.strip_prefix("UNIQUE constraint failed: ") {
        return cols.split(", ").map(|c| c.rsplit('.').next().unwrap_or(c)).collect::<Vec<_>>().join(", ");
    }
    let quoted = msg.split('"').nth(1).unwrap_or_default();
    let name = quoted.strip_suffix("_key").unwrap_or(quoted);
    TABLES.iter().find_map(|t| name.strip_prefix(t)).map_or_else(|| "a unique field".into(), str::to_string)
}

impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        Error::Unavailable(format!("database unavailable: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_clashing_column_on_both_backends() {
        assert_eq!(unique_target("UNIQUE constraint failed: buyers.name"), "name");
        assert_eq!(unique_target("duplicate key value violates unique constraint \"buyers_name_key\""), "name");
        assert_eq!(unique_target("duplicate key value violates unique constraint \"phone_numbers_number_key\""), "number");
    }
}
