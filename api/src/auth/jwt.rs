//! Session tokens: HS256 JWTs carrying the user id, the user's token version and an expiry.
use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's `token_version` when the token was issued: a token whose version is no longer
    /// the user's is refused (a password change moves it on). Tokens issued without it count as 0.
    #[serde(default)]
    pub ver: i64,
}

/// What a valid token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub user_id: i64,
    pub version: i64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_secs: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation, ttl_secs }
    }

    pub fn issue(&self, user_id: i64, version: i64, now: DateTime<Utc>) -> anyhow::Result<(String, DateTime<Utc>)> {
        let exp = now + chrono::Duration::seconds(self.ttl_secs);
        let claims = Claims { sub: user_id.to_string(), iat: now.timestamp(), exp: exp.timestamp(), ver: version };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, exp))
    }

    /// The claims of a valid, unexpired token signed with our key (HS256 only: `alg: none` and
    /// every other algorithm are refused).
    pub fn verify(&self, token: &str) -> Option<Verified> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let expires_at = DateTime::from_timestamp(data.claims.exp, 0)?;
        Some(Verified { user_id: data.claims.sub.parse().ok()?, version: data.claims.ver, expires_at })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Timelike;

    use super::*;

    #[test]
    fn issues_and_verifies() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef", 60);
        let (t, exp) = keys.issue(42, 3, Utc::now()).expect("issue");
        assert_eq!(keys.verify(&t), Some(Verified { user_id: 42, version: 3, expires_at: exp.with_nanosecond(0).expect("whole second") }));
        let other = JwtKeys::new(b"another key another key another k", 60);
        assert_eq!(other.verify(&t), None);
    }

    #[test]
    fn refuses_expired_and_tampered() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef", 60);
        let (t, _) = keys.issue(1, 0, Utc::now() - chrono::Duration::seconds(3600)).expect("issue");
        assert_eq!(keys.verify(&t), None);
        let (t, _) = keys.issue(1, 0, Utc::now()).expect("issue");
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1] = parts[1].replacen('e', "f", 1);
        assert_eq!(keys.verify(&parts.join(".")), None);
        // alg: none with no signature
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", t.split('.').nth(1).unwrap_or(""));
        assert_eq!(keys.verify(&none), None);
    }
}
