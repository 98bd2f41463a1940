//! The Twilio credentials in force: those set through the API (table `twilio_account`) win over
//! the configuration's. They leave this module only masked, or inside a [`TwilioClient`]. The
//! Auth Token and the API key secret are stored sealed ([`crate::crypto`]).
use callbroker_wire::{TwilioAccount, TwilioAccountUpdate};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::client::{Credentials, TwilioClient, TwilioError};
use crate::config::{Secret, TwilioConfig};
use crate::crypto::Keyring;
use crate::db::schema::twilio_account;
use crate::db::{now, Db, DbConnection};
use crate::error::{Error, FieldErrors};

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = twilio_account)]
struct StoredRow {
    account_sid: String,
    auth_token: String,
    api_key_sid: Option<String>,
    api_key_secret: Option<String>,
    updated_at: NaiveDateTime,
}

/// Credentials and where they come from.
#[derive(Clone, Debug)]
pub struct Effective {
    pub source: &'static str,
    pub account_sid: Option<String>,
    pub auth_token: Option<Secret>,
    pub api_key_sid: Option<String>,
    pub api_key_secret: Option<Secret>,
    pub updated_at: Option<NaiveDateTime>,
}

impl Effective {
    pub fn credentials(&self) -> Option<Credentials> {
        let sid = self.account_sid.clone().filter(|s| !s.is_empty())?;
        match (&self.api_key_sid, &self.api_key_secret) {
            (Some(k), Some(s)) if !k.is_empty() && !s.is_empty() => {
                Some(Credentials { account_sid: sid, username: k.clone(), password: s.clone() })
            }
            _ => {
                let token = self.auth_token.clone().filter(|t| !t.is_empty())?;
                Some(Credentials { username: sid.clone(), account_sid: sid, password: token })
            }
        }
    }
}

/// What the sealed columns are for (bound to their values: see [`crate::crypto`]).
const AUTH_TOKEN: &str = "twilio_account.auth_token";
const API_KEY_SECRET: &str = "twilio_account.api_key_secret";

fn stored(conn: &mut DbConnection) -> Result<Option<StoredRow>, Error> {
    Ok(crate::db::direct::run!(conn, first, twilio_account::table.find(1).select(StoredRow::as_select())).optional()?)
}

pub fn effective(conn: &mut DbConnection, cfg: &TwilioConfig, keys: &Keyring) -> Result<Effective, Error> {
    Ok(match stored(conn)? {
        Some(r) => Effective {
            source: "api",
            account_sid: Some(r.account_sid),
            auth_token: Some(Secret::new(keys.open(AUTH_TOKEN, &r.auth_token)?)),
            api_key_sid: r.api_key_sid,
            api_key_secret: r.api_key_secret.map(|s| keys.open(API_KEY_SECRET, &s)).transpose()?.map(Secret::new),
            updated_at: Some(r.updated_at),
        },
        None => from_config(cfg),
    })
}

/// Seals the stored secrets under the keyring's current key where they are in clear (stored
/// before secrets were sealed) or under another key; returns how many were sealed again.
pub fn reseal(conn: &mut DbConnection, keys: &Keyring) -> Result<usize, Error> {
    let Some(r) = stored(conn)? else { return Ok(0) };
    let token = keys.reseal(AUTH_TOKEN, &r.auth_token)?;
    let secret = r.api_key_secret.as_deref().map(|s| keys.reseal(API_KEY_SECRET, s)).transpose()?.flatten();
    let n = usize::from(token.is_some()) + usize::from(secret.is_some());
    if let Some(t) = token {
        diesel::update(twilio_account::table.find(1)).set(twilio_account::auth_token.eq(t)).execute(conn)?;
    }
    if let Some(s) = secret {
        diesel::update(twilio_account::table.find(1)).set(twilio_account::api_key_secret.eq(s)).execute(conn)?;
    }
    Ok(n)
}

/// The account the configuration gives, for when none was set through the API.
pub fn from_config(cfg: &TwilioConfig) -> Effective {
    Effective {
        source: if cfg.account_sid.is_some() { "config" } else { "none" },
        account_sid: cfg.account_sid.clone(),
        auth_token: cfg.auth_token.clone(),
        api_key_sid: cfg.api_key_sid.clone(),
        api_key_secret: cfg.api_key_secret.clone(),
        updated_at: None,
    }
}

/// The Auth Token that signs webhooks, cached for [`TokenCache::TTL`] so a webhook does not read
/// the database for it. A change through the API applies at once on the instance that took it
/// (which clears its cache) and within the TTL on the others.
#[derive(Default)]
pub struct TokenCache(std::sync::Mutex<Option<(std::time::Instant, Option<String>)>>);

impl TokenCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(5);

    /// The cached token (`Some(None)`: known to be unset), if still fresh.
    pub fn get(&self) -> Option<Option<String>> {
        let slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.as_ref().filter(|(at, _)| at.elapsed() < Self::TTL).map(|(_, token)| token.clone())
    }

    pub fn put(&self, token: Option<String>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((std::time::Instant::now(), token));
    }

    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// A client with the credentials in force.
pub async fn client(db: &Db, cfg: &TwilioConfig, keys: &std::sync::Arc<Keyring>) -> Result<TwilioClient, TwilioError> {
    let (c, keys) = (cfg.clone(), keys.clone());
    let eff = db.read(move |conn| effective(conn, &c, &keys)).await.map_err(|e| TwilioError::Transport(format!("database: {e}")))?;
    let creds = eff.credentials().ok_or(TwilioError::NotConfigured)?;
    TwilioClient::new(cfg, creds)
}

/// `AC12…cdef`.
pub fn mask_sid(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// `••••1234` (nothing of a short secret).
pub fn mask_secret(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 12 {
        return "••••".into();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••{tail}")
}

pub fn view(eff: &Effective, cfg: &TwilioConfig, public_url: &str) -> TwilioAccount {
    let public_url = public_url.trim_end_matches('/').to_string();
    TwilioAccount {
        source: eff.source.into(),
        account_sid: eff.account_sid.as_deref().map(mask_sid),
        auth_token: eff.auth_token.as_ref().filter(|t| !t.is_empty()).map(|t| mask_secret(t.expose())),
        api_key_sid: eff.api_key_sid.as_deref().map(mask_sid),
        api_key_secret_set: eff.api_key_secret.as_ref().is_some_and(|s| !s.is_empty()),
        api_base: cfg.api_base.clone(),
        transcription_available: cfg.intelligence_service_sid.is_some(),
        updated_at: eff.updated_at.map(|t| t.and_utc()),
        voice_url: format!("{public_url}{}", crate::routes::webhooks::VOICE_PATH),
        public_url,
    }
}

/// A Twilio Auth Token as stored ([`callbroker_wire::rules::AuthToken`]): 16 to 128 printable
/// ASCII characters, no spaces.
pub(crate) fn is_auth_token(token: &str) -> bool {
    (16..=128).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic())
}

/// A Twilio SID ([`callbroker_wire::rules::AccountSid`], `ApiKeySid`): `prefix` and 32
/// hexadecimal digits.
pub(crate) fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].chars().all(|c| c.is_ascii_hexdigit())
}

/// Checks and stores new credentials (replacing any set before), the secrets sealed.
pub fn set(conn: &mut DbConnection, u: &TwilioAccountUpdate, keys: &Keyring) -> Result<(), Error> {
    let mut errors = FieldErrors::new();
    let sid = u.account_sid.trim();
    if !is_sid(sid, "AC") {
        errors.add("account_sid", "must be AC followed by 32 hexadecimal digits");
    }
    let token = u.auth_token.trim();
    if !is_auth_token(token) {
        errors.add("auth_token", "must be 16 to 128 printable ASCII characters without spaces");
    }
    let key = u.api_key_sid.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let secret = u.api_key_secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    match (key, secret) {
        (Some(k), Some(_)) if !is_sid(k, "SK") => errors.add("api_key_sid", "must be SK followed by 32 hexadecimal digits"),
        (Some(_), None) => errors.add("api_key_secret", "is required with api_key_sid"),
        (None, Some(_)) => errors.add("api_key_sid", "is required with api_key_secret"),
        _ => {}
    }
    errors.into_result()?;
    let token = keys.seal(AUTH_TOKEN, token)?;
    let secret = secret.map(|s| keys.seal(API_KEY_SECRET, s)).transpose()?;
    diesel::delete(twilio_account::table).execute(conn)?;
    diesel::insert_into(twilio_account::table)
        .values((
            twilio_account::id.eq(1),
            twilio_account::account_sid.eq(sid),
            twilio_account::auth_token.eq(&token),
            twilio_account::api_key_sid.eq(key),
            twilio_account::api_key_secret.eq(secret),
            twilio_account::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets the credentials set through the API (the configuration's apply again).
pub fn clear(conn: &mut DbConnection) -> Result<(), Error> {
    diesel::delete(twilio_account::table).execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_little() {
        assert_eq!(mask_sid("AC0123456789abcdef0123456789abcdef"), "AC01…cdef");
        assert_eq!(mask_secret("0123456789abcdef0123456789abcdef"), "••••cdef");
        assert_eq!(mask_secret("short"), "••••");
    }
}
