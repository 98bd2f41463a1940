//! Where the secret key comes from: `CALLBROKER_SECRET_KEY` (base64 of 32 bytes) when set;
//! otherwise the file `secret-key` in the data folder, created owner-only (`0600`) on first start.
//! An existing key file that group or others may read is refused: the server does not start.
//!
//! `callbroker rotate-secret-key` first writes the new key beside the current one
//! (`secret-key.new`), then re-seals every stored secret in one transaction, then renames the new
//! file over the old. A start between those steps reads both files, so every stored secret opens
//! whichever step was the last.
use std::path::{Path, PathBuf};

use super::{Keyring, SecretKey};
use crate::config::Secret;

pub const KEY_FILE: &str = "secret-key";
pub const NEW_KEY_FILE: &str = "secret-key.new";

/// The key file of `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// The keyring of this instance (see the module's documentation).
pub fn load(configured: Option<&Secret>, data_dir: &Path) -> anyhow::Result<Keyring> {
    if let Some(text) = configured.filter(|s| !s.is_empty()) {
        let key = SecretKey::from_base64(text.expose()).map_err(|e| anyhow::anyhow!("CALLBROKER_SECRET_KEY {e}"))?;
        return Ok(Keyring::new(key, vec![]));
    }
    let current = match read(&path(data_dir))? {
        Some(key) => key,
        None => {
            let key = SecretKey::generate();
            match crate::fsperm::write_new_private(&path(data_dir), key.to_base64().as_bytes()) {
                Ok(()) => tracing::info!(path = %path(data_dir).display(), key_id = key.id(), "secret key created"),
                // Another process created it meanwhile: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => anyhow::bail!("cannot create the secret key file {}: {e}", path(data_dir).display()),
            }
            read(&path(data_dir))?.ok_or_else(|| anyhow::anyhow!("the secret key file {} vanished", path(data_dir).display()))?
        }
    };
    let pending = read(&data_dir.join(NEW_KEY_FILE))?;
    Ok(Keyring::new(current, pending.into_iter().collect()))
}

/// The key in `path`; `None` when there is no such file. Refuses a file group or others may
/// read or write.
pub fn read(path: &Path) -> anyhow::Result<Option<SecretKey>> {
    let shared = match crate::fsperm::shared_bits(path) {
        Ok(bits) => bits,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read the secret key file {}: {e}", path.display()),
    };
    if shared != 0 {
        anyhow::bail!(
            "the secret key file {} may be read or written by others (mode ...{:03o}); make it owner-only (chmod 600) and start again",
            path.display(),
            shared
        );
    }
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read the secret key file {}: {e}", path.display()))?;
    SecretKey::from_base64(&text).map(Some).map_err(|e| anyhow::anyhow!("the secret key file {} {e}", path.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_key_file_is_made_once_owner_only_and_refused_when_shared() {
        let tmp = tempfile::tempdir().expect("tmp");
        let data = tmp.path().join("data");
        let first = load(None, &data).expect("created");
        assert_eq!(std::fs::metadata(&data).expect("dir").permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(path(&data)).expect("file").permissions().mode() & 0o777, 0o600);
        assert_eq!(load(None, &data).expect("read again").current().id(), first.current().id(), "the same key next time");
        std::fs::set_permissions(path(&data), std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let refused = load(None, &data).expect_err("group-readable");
        assert!(refused.to_string().contains("chmod 600"), "{refused}");
        let configured = SecretKey::generate();
        let ring = load(Some(&Secret::new(configured.to_base64())), &data).expect("from the environment");
        assert_eq!(ring.current().id(), configured.id());
        assert!(load(Some(&Secret::new("dG9vIHNob3J0")), &data).is_err(), "a key of the wrong size");
    }
}
