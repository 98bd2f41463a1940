//! Who is calling: the `Auth` extractor turns `Authorization: Bearer <JWT or API key>` into a
//! typed principal with its current role. Every request reads the user's (or key's) row by its
//! primary key, so a deleted user, a revoked key or a session token issued before a password
//! change (its `ver` claim is no longer the user's `token_version`) loses access at once. That
//! read is the check: no cache, so no instance ever honours a revoked credential, at the cost of
//! one indexed read per request. Handlers then ask the principal for permissions.
pub mod api_key;
pub mod jwt;
pub mod password;

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use callbroker_wire::Role;
use rand::distributions::Alphanumeric;
use rand::Rng;

use crate::routes::AppError;
use crate::state::AppState;
use crate::store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    User,
    ApiKey,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth {
    pub kind: PrincipalKind,
    /// User id or API key id.
    pub id: i64,
    pub role: Role,
    /// The publisher a `publisher` principal is bound to.
    pub publisher_id: Option<i64>,
    /// Users: the token version the session was issued under.
    pub token_version: i64,
    /// When the credential expires (a session token's `exp`; API keys do not expire).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The user whose rights stand behind this caller: a user themself; for an API key, the user
    /// who granted it. Keys this caller creates are granted from that user's rights (and revoked
    /// when that user is deleted or can no longer grant them).
    pub grantor: Option<i64>,
}

impl Auth {
    /// Admins, operators and viewers read the whole directory.
    pub fn require_staff(&self) -> Result<(), AppError> {
        match self.role {
            Role::Admin | Role::Operator | Role::Viewer => Ok(()),
            Role::Publisher => Err(AppError::forbidden()),
        }
    }
    /// Admins and operators change the directory.
    pub fn require_writer(&self) -> Result<(), AppError> {
        match self.role {
            Role::Admin | Role::Operator => Ok(()),
            _ => Err(AppError::forbidden()),
        }
    }
    pub fn require_admin(&self) -> Result<(), AppError> {
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(AppError::forbidden()),
        }
    }
    /// `Some(id)` when every query must be scoped to one publisher.
    pub fn publisher_scope(&self) -> Option<i64> {
        match self.role {
            Role::Publisher => Some(self.publisher_id.unwrap_or(-1)),
            _ => None,
        }
    }
}

/// The token of an `Authorization: Bearer ...` header.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string()).filter(|t| !t.is_empty())
}

/// A token given as `?access_token=` (only `GET /api/events` honours it: browsers' `EventSource`
/// cannot set headers). The request-logging middleware never sees it: [`take_query_token`] moves
/// it from the URI into the request's extensions first.
#[derive(Clone)]
pub struct QueryToken(pub String);

impl std::fmt::Debug for QueryToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueryToken(***)")
    }
}

/// The query parameter name of [`QueryToken`].
pub const ACCESS_TOKEN_PARAM: &str = "access_token";

/// Removes `access_token` from the query of `uri`; returns the cleaned URI and the token (the
/// last one given, when non-empty). `None` when the query has no such parameter.
pub fn take_query_token(uri: &actix_web::http::Uri) -> Option<(actix_web::http::Uri, Option<String>)> {
    let query = uri.query()?;
    let mut token = None;
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    let mut found = false;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k == ACCESS_TOKEN_PARAM {
            found = true;
            token = Some(v.trim().to_string()).filter(|t| !t.is_empty());
        } else {
            kept.append_pair(&k, &v);
        }
    }
    if !found {
        return None;
    }
    let kept = kept.finish();
    let path_and_query = if kept.is_empty() { uri.path().to_string() } else { format!("{}?{}", uri.path(), kept) };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    let cleaned = actix_web::http::Uri::from_parts(parts).ok()?;
    Some((cleaned, token))
}

/// Resolves a bearer token (JWT or API key) to its principal.
pub async fn authenticate(state: &AppState, token: Option<String>) -> Result<Auth, AppError> {
    let token = token.ok_or_else(|| AppError::Unauthorized("missing bearer token".into()))?;
    if api_key::looks_like_key(&token) {
        let hash = api_key::hash(&token);
        let found = state.db.read(move |c| store::api_keys::find_by_hash(c, &hash)).await?;
        let key = found.ok_or_else(|| AppError::Unauthorized("unknown API key".into()))?;
        let stale = key.last_used_at.is_none_or(|t| crate::db::now() - t > chrono::Duration::seconds(60));
        if stale {
            let id = key.id;
            // Best effort: a failure to record the use must not refuse the request.
            if let Err(e) = state.db.write(move |c| store::api_keys::touch(c, id)).await {
                tracing::debug!(error = %e, "could not record API key use");
            }
        }
        return Ok(Auth {
            kind: PrincipalKind::ApiKey,
            id: key.id,
            role: key.role()?,
            publisher_id: key.publisher_id,
            token_version: 0,
            expires_at: None,
            grantor: key.created_by,
        });
    }
    let claims = state.jwt.verify(&token).ok_or_else(|| AppError::Unauthorized("invalid or expired token".into()))?;
    let user_id = claims.user_id;
    let user = state.db.read(move |c| store::users::find(c, user_id)).await?;
    let user = user.ok_or_else(|| AppError::Unauthorized("the account no longer exists".into()))?;
    if user.token_version != claims.version {
        return Err(AppError::Unauthorized("the session has ended (the password was changed); sign in again".into()));
    }
    Ok(Auth {
        kind: PrincipalKind::User,
        id: user.id,
        role: user.role()?,
        publisher_id: user.publisher_id,
        token_version: user.token_version,
        expires_at: Some(claims.expires_at),
        grantor: Some(user.id),
    })
}

/// Whether `auth` still stands as it was authenticated: its user or key exists with the same role,
/// publisher and (users) token version. One read by primary key; long-lived responses (the event
/// stream) call it periodically.
pub fn still_holds(conn: &mut crate::db::DbConnection, auth: &Auth) -> Result<bool, crate::error::Error> {
    Ok(match auth.kind {
        PrincipalKind::User => store::users::find(conn, auth.id)?.is_some_and(|u| {
            u.token_version == auth.token_version && u.role().ok() == Some(auth.role) && u.publisher_id == auth.publisher_id
        }),
        PrincipalKind::ApiKey => {
            store::api_keys::find(conn, auth.id)?.is_some_and(|k| k.role().ok() == Some(auth.role) && k.publisher_id == auth.publisher_id)
        }
    })
}

impl FromRequest for Auth {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Auth, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
            authenticate(&state, token).await
        })
    }
}

/// A random alphanumeric string of `len` characters from the OS generator.
pub fn random_token(len: usize) -> String {
    rand::rngs::OsRng.sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}
