//! API keys for integrators: `cbk_` followed by 40 random characters. Only a SHA-256 of the key
//! is stored (the key is high-entropy, so a slow hash adds nothing); it is shown once.
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "cbk_";

pub fn generate() -> String {
    format!("{PREFIX}{}", super::random_token(40))
}

pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// What is kept to recognise a key in lists: its first 12 characters.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_hash_stably() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(looks_like_key(&a));
        assert_eq!(a.len(), 44);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
    }
}
