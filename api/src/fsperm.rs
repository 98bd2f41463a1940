//! Private files and folders: the data folder is created `0700`, secrets and the SQLite database
//! `0600` (owner only), on Unix.
use std::io::Write;
use std::path::Path;

/// Creates `dir` (and missing parents) readable by the owner only. An existing folder is left
/// as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` with `contents`, owner-only, failing when it exists (`create_new`).
pub fn write_new_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Makes an existing file owner-only (`0600`) when group or others may read or write it; creates
/// it empty and owner-only when missing.
pub fn make_private_file(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if meta.permissions().mode() & 0o077 != 0 {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
                }
            }
            #[cfg(not(unix))]
            let _ = meta;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match write_new_private(path, b"") {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        },
        Err(e) => Err(e),
    }
}

/// The permission bits group and others have on `path` (0 when none, or not on Unix).
pub fn shared_bits(path: &Path) -> std::io::Result<u32> {
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(meta.permissions().mode() & 0o077)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(0)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn private_things_are_owner_only() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("a/b");
        create_private_dir(&dir).expect("dir");
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        write_new_private(&file, b"x").expect("write");
        assert_eq!(mode(&file), 0o600);
        assert!(write_new_private(&file, b"y").is_err(), "never overwrites");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(shared_bits(&file).expect("bits"), 0o044);
        make_private_file(&file).expect("private");
        assert_eq!(mode(&file), 0o600);
        let db = dir.join("db");
        make_private_file(&db).expect("created");
        assert_eq!(mode(&db), 0o600);
    }
}
