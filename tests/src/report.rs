//! Counters of the reliability tests (fuzzing, crash, database faults, scale-out, secrets): each
//! test appends one JSON line to `target/reliability/results.jsonl`, and
//! `cargo run -p callbroker-tests --bin reliability-summary` prints the table
//! (`scripts/test.sh` does at the end of the run).
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Tally {
    /// Which test (and backend).
    pub check: String,
    /// Assertions that held (each a property checked, not a request).
    pub checks: u64,
    /// HTTP requests sent to the server under test.
    pub requests: u64,
    /// Faults injected: kill -9, database cut, ...
    pub faults: u64,
    /// Calls acknowledged (webhook 200) but missing from the database.
    pub data_lost: u64,
    /// Moments a buyer had more calls than its maximum.
    pub capacity_overruns: u64,
    /// 5xx answers outside the injected faults.
    pub server_errors: u64,
}

impl Tally {
    pub fn new(check: impl Into<String>) -> Tally {
        Tally { check: check.into(), ..Tally::default() }
    }

    /// Appends this tally to the results file.
    pub fn save(&self) {
        let path = results_file();
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let line = serde_json::to_string(self).expect("json");
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).expect("results file");
        writeln!(f, "{line}").expect("write results");
    }
}

/// `target/reliability/results.jsonl` (`CARGO_TARGET_DIR` honoured).
pub fn results_file() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("reliability").join("results.jsonl")
}
