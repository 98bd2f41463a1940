//! Signed postbacks: each request carries `X-Callbroker-Signature: t=<unix seconds>,v1=<hex>`,
//! the HMAC-SHA256, keyed with the publisher's postback secret, of `"<t>.<content>"`, where the
//! content is the form body of a `POST` and the request target (path and query, as sent) of a
//! `GET`. The publisher recomputes it and compares, and refuses old timestamps (replays).
//! `docs/postbacks.md` shows how to verify.
use hmac::{Hmac, Mac};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::Sha256;

pub const HEADER: &str = "X-Callbroker-Signature";
/// Prefix of postback secrets (tells them apart from API keys, `cbk_`).
const PREFIX: &str = "cbps_";

/// A new postback secret: the prefix and 40 random alphanumeric characters from the OS generator.
pub fn new_secret() -> String {
    let random: String = rand::rngs::OsRng.sample_iter(&Alphanumeric).take(40).map(char::from).collect();
    format!("{PREFIX}{random}")
}

/// The header value signing `content` at `t` (unix seconds) with `secret`.
pub fn header_value(secret: &str, t: i64, content: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(content);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_content() {
        // Computed independently:
        // printf '1735689600.call_id=42&payout=12.50' | openssl dgst -sha256 -hmac "$secret"
        let secret = "cbps_0123456789abcdefghijABCDEFGHIJ0123456789";
        assert_eq!(
            header_value(secret, 1_735_689_600, b"call_id=42&payout=12.50"),
            "t=1735689600,v1=23807c3d123aa4e099aa3212621ab4a33818e38e3b41ce4d2991a3860db7b3c0"
        );
        assert_ne!(
            header_value(secret, 1_735_689_601, b"call_id=42&payout=12.50"),
            header_value(secret, 1_735_689_600, b"call_id=42&payout=12.50")
        );
        assert_ne!(
            header_value("cbps_other", 1_735_689_600, b"call_id=42&payout=12.50"),
            header_value(secret, 1_735_689_600, b"call_id=42&payout=12.50")
        );
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("cbps_") && a.len() == 45 && a[5..].bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
    }
}
