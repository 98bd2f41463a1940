//! First start: the data folder, the session-token key, the key that seals stored secrets (and
//! its rotation), and the first admin.
use std::path::{Path, PathBuf};

use callbroker_wire::{NewUser, Role};

use crate::config::{Config, Secret};
use crate::crypto::{keyfile, Keyring, SecretKey};
use crate::db::Db;
use crate::error::Error;
use crate::store;

/// The configured JWT key, or a development key generated once and kept in `data_dir`.
pub fn jwt_secret(config: &Config) -> anyhow::Result<Secret> {
    if let Some(s) = config.jwt_secret.as_ref().filter(|s| !s.is_empty()) {
        if s.expose().len() < 32 {
            anyhow::bail!("CALLBROKER_JWT_SECRET must be at least 32 characters");
        }
        return Ok(s.clone());
    }
    let path = config.data_dir.join("jwt-secret");
    tracing::warn!(path = %path.display(), "CALLBROKER_JWT_SECRET is not set: using a development key kept in the data folder; set it in production");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(Secret::new(existing));
        }
    }
    let secret = crate::auth::random_token(64);
    write_private(&path, &secret)?;
    Ok(Secret::new(secret))
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::fsperm::create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, contents.as_bytes())?;
    Ok(())
}

/// The data folder (created owner-only) and the keyring of stored secrets ([`keyfile`]).
pub fn secret_keys(config: &Config) -> anyhow::Result<Keyring> {
    crate::fsperm::create_private_dir(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create the data folder {}: {e}", config.data_dir.display()))?;
    keyfile::load(config.secret_key.as_ref(), &config.data_dir)
}

/// Seals every stored secret under the keyring's current key where it is in clear (stored before
/// secrets were sealed) or under another key the keyring holds, in one transaction; returns how
/// many. Every table that keeps secrets is listed here.
pub fn seal_stored_secrets(db: &Db, keys: &Keyring) -> Result<usize, Error> {
    db.write_blocking(|c| Ok(crate::twilio::account::reseal(c, keys)? + crate::store::bidders::reseal_headers(c, keys)?))
}

/// What `callbroker rotate-secret-key` did.
#[derive(Debug)]
pub struct Rotation {
    pub old_key: String,
    pub new_key: String,
    pub resealed: usize,
    /// The key file now holding the new key (none when the key comes from the environment).
    pub key_file: Option<PathBuf>,
}

/// Seals every stored secret under a new key, in one transaction, so the old key is no longer
/// needed. With `CALLBROKER_SECRET_KEY` set, the new key is `new_key` (required), and the
/// operator then sets it as `CALLBROKER_SECRET_KEY`; otherwise a new key file is written. Run it
/// with the servers stopped: a server holding only the old key cannot open what was re-sealed.
pub fn rotate_secret_key(config: &Config, db: &Db, new_key: Option<&Secret>) -> anyhow::Result<Rotation> {
    let given = new_key.filter(|k| !k.is_empty()).map(|k| SecretKey::from_base64(k.expose())).transpose();
    let given = given.map_err(|e| anyhow::anyhow!("CALLBROKER_NEW_SECRET_KEY {e}"))?;
    let current = secret_keys(config)?;
    let from_env = config.secret_key.as_ref().is_some_and(|k| !k.is_empty());
    let pending = config.data_dir.join(keyfile::NEW_KEY_FILE);
    let new = match (from_env, given) {
        (true, Some(k)) => k,
        (true, None) => anyhow::bail!(
            "CALLBROKER_SECRET_KEY is set: give the new key as CALLBROKER_NEW_SECRET_KEY (base64 of 32 bytes, e.g. `openssl rand -base64 32`)"
        ),
        (false, given) => match (keyfile::read(&pending)?, given) {
            // A rotation that stopped before its end: finish it with the key it began.
            (Some(k), _) => k,
            (None, given) => {
                let k = given.unwrap_or_else(SecretKey::generate);
                crate::fsperm::write_new_private(&pending, k.to_base64().as_bytes())
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", pending.display()))?;
                k
            }
        },
    };
    let old_key = current.current().id().to_string();
    if new.id() == old_key {
        anyhow::bail!("the new key is the current key");
    }
    let rotated = current.rotated_to(new);
    let resealed = seal_stored_secrets(db, &rotated).map_err(|e| anyhow::anyhow!("re-sealing the stored secrets: {}", e.describe()))?;
    let key_file = if from_env {
        None
    } else {
        let file = keyfile::path(&config.data_dir);
        std::fs::rename(&pending, &file).map_err(|e| anyhow::anyhow!("cannot move {} to {}: {e}", pending.display(), file.display()))?;
        Some(file)
    };
    Ok(Rotation { old_key, new_key: rotated.current().id().to_string(), resealed, key_file })
}

/// On a database without users, creates the first admin from `CALLBROKER_ADMIN_EMAIL` /
/// `CALLBROKER_ADMIN_PASSWORD`, or a demo admin with a random password printed once on the console.
pub fn ensure_admin(db: &Db, config: &Config) -> anyhow::Result<()> {
    let given = config.admin_email.clone().zip(config.admin_password.clone());
    let created = db
        .write_blocking(|c| {
            if store::users::count(c)? > 0 {
                return Ok(None);
            }
            let (email, password, demo) = match &given {
                Some((e, p)) => (e.clone(), p.expose().to_string(), false),
                None => ("admin@example.com".to_string(), crate::auth::random_token(16), true),
            };
            let user = store::users::create(
                c,
                &NewUser { email: email.clone(), password: password.clone(), role: Role::Admin, publisher_id: None },
            )?;
            Ok::<_, Error>(Some((user, password, demo)))
        })
        .map_err(|e| anyhow::anyhow!("creating the first admin: {}", e.describe()))?;
    if let Some((user, password, demo)) = created {
        tracing::info!(user_id = user.id, email = %user.email, "first admin created");
        if demo {
            // Printed, not logged: this is the one time the demo password is shown.
            eprintln!(
                "\n  Demo admin created (set CALLBROKER_ADMIN_EMAIL/CALLBROKER_ADMIN_PASSWORD to choose your own):\n    \
                 email:    {}\n    password: {}\n",
                user.email, password
            );
        }
    }
    Ok(())
}
