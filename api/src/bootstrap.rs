//! First start: the session-token key and the first admin.
use std::path::Path;

use callbroker_wire::{NewUser, Role};

use crate::config::{Config, Secret};
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
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, contents.as_bytes())?;
    Ok(())
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
