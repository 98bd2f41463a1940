//! Login, users, roles and API keys.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a user or API key may do.
/// - `admin`: everything, including users, API keys and settings.
/// - `operator`: reads and writes campaigns, buyers, publishers and numbers.
/// - `viewer`: reads everything an operator can see, changes nothing.
/// - `publisher`: bound to one publisher; sees only that publisher, its numbers and its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Operator,
    Viewer,
    Publisher,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Viewer, Role::Publisher];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
            Role::Publisher => "publisher",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "admin@example.com", "password": "correct horse battery staple"})))]
pub struct LoginRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Email))]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// JWT (HS256) to send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// Set for (and only for) publisher users.
    pub publisher_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "ops@example.com", "password": "a long passphrase", "role": "operator"})))]
pub struct NewUser {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Email))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Password))]
    pub password: String,
    pub role: Role,
    /// Required for the publisher role, forbidden for the others. It must exist (else 422 naming the
    /// field).
    #[serde(default)]
    pub publisher_id: Option<i64>,
}

/// Partial update; absent fields are left alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Email>))]
    pub email: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Password>))]
    pub password: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// `null` clears it (for non-publisher roles). Required for the publisher role, forbidden for the
    /// others; it must exist (else 422 naming the field).
    #[serde(default, with = "::serde_with::rust::double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub publisher_id: Option<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, to recognise it; the key itself is never shown again.
    pub prefix: String,
    pub role: Role,
    pub publisher_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Publisher A reporting", "role": "publisher", "publisher_id": 1})))]
pub struct NewApiKey {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Name))]
    pub name: String,
    pub role: Role,
    /// Required for the publisher role, forbidden for the others; it must exist (else 422 naming the
    /// field).
    #[serde(default)]
    pub publisher_id: Option<i64>,
}

/// Returned once, when a key is created: `secret` is not stored and cannot be shown again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// Send as `Authorization: Bearer <secret>`.
    pub secret: String,
}
