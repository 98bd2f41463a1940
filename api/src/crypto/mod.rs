//! Secrets at rest: a value is sealed with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`)
//! under a 32-byte key, with a random 24-byte nonce of its own, and stored as text:
//!
//! ```text
//! cbs1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>
//! ```
//!
//! The key id (8 hex digits of a SHA-256 of the key) says which key opens the value, so keys can
//! rotate: a [`Keyring`] seals under its current key and opens under any key it holds. What a
//! value is for (`twilio_account.auth_token`, ...) is bound to it as associated data, so a value
//! copied into another column does not open there. Where the key comes from: [`keyfile`].
//!
//! Any table can keep secrets this way: seal on write, open on read, and add the table to the
//! re-sealing done at start and by `callbroker rotate-secret-key` (`crate::bootstrap`).
pub mod keyfile;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// The prefix of a sealed value (format version 1).
pub const SEALED_PREFIX: &str = "cbs1:";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// A 32-byte key. Never printed: `Debug` shows its id only.
#[derive(Clone)]
pub struct SecretKey {
    bytes: [u8; 32],
    id: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        let digest = Sha256::new().chain_update(b"callbroker secret key id\0").chain_update(bytes).finalize();
        SecretKey { bytes, id: hex::encode(&digest[..4]) }
    }

    /// A new key from the operating system's generator.
    pub fn generate() -> SecretKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SecretKey::from_bytes(bytes)
    }

    /// A key written as standard base64 of 32 bytes (`openssl rand -base64 32`).
    pub fn from_base64(text: &str) -> Result<SecretKey, String> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| "is not base64".to_string())?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| format!("is {} bytes; a key is 32 bytes", b.len()))?;
        Ok(SecretKey::from_bytes(bytes))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    /// Names the key in sealed values and messages (not secret).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The keys secrets are sealed and opened with: the current one, and older ones still readable.
#[derive(Debug, Clone)]
pub struct Keyring {
    current: SecretKey,
    older: Vec<SecretKey>,
}

impl Keyring {
    pub fn new(current: SecretKey, older: Vec<SecretKey>) -> Keyring {
        Keyring { current, older }
    }

    pub fn current(&self) -> &SecretKey {
        &self.current
    }

    /// This keyring with `new` as its current key; every key it held stays readable.
    #[must_use]
    pub fn rotated_to(&self, new: SecretKey) -> Keyring {
        let older = std::iter::once(&self.current).chain(&self.older).filter(|k| k.id != new.id).cloned().collect();
        Keyring { current: new, older }
    }

    fn key(&self, id: &str) -> Option<&SecretKey> {
        std::iter::once(&self.current).chain(&self.older).find(|k| k.id == id)
    }

    /// Seals `plain` for `purpose` under the current key, with a fresh random nonce.
    pub fn seal(&self, purpose: &str, plain: &str) -> Result<String, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.current.bytes));
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: purpose.as_bytes() })
            .map_err(|_| Error::internal(anyhow::anyhow!("sealing a secret failed")))?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}:{}", self.current.id, URL_SAFE_NO_PAD.encode(blob)))
    }

    /// Opens a stored value of `purpose`. A value without the sealed prefix was stored in clear
    /// before secrets were sealed, and is returned as it is ([`Keyring::needs_sealing`] says so).
    pub fn open(&self, purpose: &str, stored: &str) -> Result<String, Error> {
        let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_string());
        };
        let bad = |why: &str| Error::internal(anyhow::anyhow!("a sealed {purpose} cannot be opened: {why}"));
        let (id, blob) = rest.split_once(':').ok_or_else(|| bad("malformed"))?;
        let key = self.key(id).ok_or_else(|| bad(&format!("it was sealed under key {id}, which is not configured")))?;
        let blob = URL_SAFE_NO_PAD.decode(blob).map_err(|_| bad("malformed"))?;
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(bad("too short"));
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let plain = XChaCha20Poly1305::new(Key::from_slice(&key.bytes))
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: purpose.as_bytes() })
            .map_err(|_| bad("it does not authenticate (altered, or sealed for another purpose)"))?;
        String::from_utf8(plain).map_err(|_| bad("not UTF-8"))
    }

    /// Whether a stored value should be sealed again: stored in clear, or under an older key.
    pub fn needs_sealing(&self, stored: &str) -> bool {
        match stored.strip_prefix(SEALED_PREFIX).and_then(|rest| rest.split_once(':')) {
            Some((id, _)) => id != self.current.id,
            None => true,
        }
    }

    /// Opens `stored` and seals it under the current key when [`Keyring::needs_sealing`].
    pub fn reseal(&self, purpose: &str, stored: &str) -> Result<Option<String>, Error> {
        if !self.needs_sealing(stored) {
            return Ok(None);
        }
        self.seal(purpose, &self.open(purpose, stored)?).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_purpose() {
        let ring = Keyring::new(SecretKey::generate(), vec![]);
        let a = ring.seal("t.token", "hunter2-hunter2").expect("seal");
        let b = ring.seal("t.token", "hunter2-hunter2").expect("seal");
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(a.starts_with(&format!("{SEALED_PREFIX}{}:", ring.current().id())));
        assert!(!a.contains("hunter2"));
        assert_eq!(ring.open("t.token", &a).expect("open"), "hunter2-hunter2");
        assert!(ring.open("t.other", &a).is_err(), "bound to its purpose");
        let mut altered = a.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(ring.open("t.token", &String::from_utf8(altered).expect("utf8")).is_err(), "altered");
        let stranger = Keyring::new(SecretKey::generate(), vec![]);
        assert!(stranger.open("t.token", &a).is_err(), "another key");
        assert_eq!(ring.open("t.token", "legacy-plain").expect("legacy"), "legacy-plain");
        assert!(ring.needs_sealing("legacy-plain"));
        assert!(!ring.needs_sealing(&a));
    }

    #[test]
    fn rotation_reseals_under_the_new_key() {
        let old = SecretKey::generate();
        let sealed = Keyring::new(old.clone(), vec![]).seal("p", "v").expect("seal");
        let rotating = Keyring::new(SecretKey::generate(), vec![old]);
        assert!(rotating.needs_sealing(&sealed));
        let resealed = rotating.reseal("p", &sealed).expect("reseal").expect("resealed");
        let new_only = Keyring::new(rotating.current().clone(), vec![]);
        assert_eq!(new_only.open("p", &resealed).expect("open"), "v", "the old key is no longer needed");
        assert_eq!(new_only.reseal("p", &resealed).expect("reseal"), None);
    }

    #[test]
    fn keys_read_from_base64() {
        let k = SecretKey::generate();
        assert_eq!(SecretKey::from_base64(&k.to_base64()).expect("parse").id(), k.id());
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
        assert!(SecretKey::from_base64("not base64!").is_err());
        assert!(!format!("{k:?}").contains(&k.to_base64()));
    }
}
