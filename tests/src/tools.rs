//! The outside tools the contract and fuzz tests run, installed by the project's own scripts at
//! pinned versions: the Python ones in one virtualenv (`scripts/fuzz-setup.sh`: schemathesis,
//! openapi-spec-validator, openapi-python-client), Redocly's CLI under `tests/contract/`
//! (`scripts/contract-setup.sh`).
//!
//! A tool that is not installed skips its test (saying so), except under `CI=true`, where it fails.
use std::path::PathBuf;

/// The virtualenv of `scripts/fuzz-setup.sh` (`CALLBROKER_FUZZ_VENV` overrides).
pub fn venv() -> PathBuf {
    std::env::var_os("CALLBROKER_FUZZ_VENV").map_or_else(
        || {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"), PathBuf::from);
            cache.join("callbroker").join("fuzz-venv")
        },
        PathBuf::from,
    )
}

/// A command of the virtualenv (`st`, `openapi-spec-validator`, `python`, ...).
pub fn python_tool(name: &str) -> Option<PathBuf> {
    installed(venv().join("bin").join(name), "scripts/fuzz-setup.sh")
}

/// Redocly's CLI.
pub fn redocly() -> Option<PathBuf> {
    installed(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/contract/node_modules/.bin/redocly")), "scripts/contract-setup.sh")
}

fn installed(path: PathBuf, setup: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "{} not installed under CI=true: run {setup}", path.display());
    eprintln!("SKIPPED ({} not installed: run {setup})", path.display());
    None
}

/// The committed OpenAPI document.
pub const OPENAPI_YAML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
