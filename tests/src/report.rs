//! Counters of the reliability tests (fuzzing, crash, database faults, scale-out, secrets): each
//! test appends one JSON line to `target/reliability/results.jsonl`, and
//! `cargo run -p callbroker-tests --bin reliability-summary` prints the table
//! (`scripts/test.sh` does at the end of the run).
//!
//! Every figure is counted where the thing happens: [`Tally::check`] at each property checked,
//! [`crate::TestApp::requests`] for the requests sent.
use std::io::Write;
use std::path::{Path, PathBuf};

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
    /// The check that did not hold, when one did not (the test failed on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl Tally {
    pub fn new(check: impl Into<String>) -> Tally {
        Tally { check: check.into(), ..Tally::default() }
    }

    /// Checks one property: counts it when it holds; otherwise saves this tally with `what` as its
    /// failure and fails the test with it.
    #[track_caller]
    pub fn check(&mut self, holds: bool, what: std::fmt::Arguments<'_>) {
        self.check_into(&results_file(), holds, what);
    }

    #[track_caller]
    fn check_into(&mut self, file: &Path, holds: bool, what: std::fmt::Arguments<'_>) {
        if holds {
            self.checks += 1;
            return;
        }
        let what = what.to_string();
        self.failed = Some(what.clone());
        self.save_into(file);
        panic!("{}: {what}", self.check);
    }

    /// Appends this tally to the results file.
    pub fn save(&self) {
        self.save_into(&results_file());
    }

    fn save_into(&self, file: &Path) {
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let line = serde_json::to_string(self).expect("json");
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(file).expect("results file");
        writeln!(f, "{line}").expect("write results");
    }
}

/// `target/reliability/results.jsonl` (`CARGO_TARGET_DIR` honoured).
pub fn results_file() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")), PathBuf::from);
    target.join("reliability").join("results.jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(file: &Path) -> Vec<Tally> {
        std::fs::read_to_string(file).unwrap_or_default().lines().map(|l| serde_json::from_str(l).expect("a tally")).collect()
    }

    #[test]
    fn checks_count_what_held_and_a_failure_is_saved_before_the_test_fails() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("results.jsonl");
        let mut tally = Tally::new("t");
        tally.check_into(&file, true, format_args!("first"));
        tally.check_into(&file, 1 + 1 == 2, format_args!("second"));
        assert_eq!(tally.checks, 2);
        assert!(saved(&file).is_empty(), "nothing saved while checks hold");
        let failed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tally.check_into(&file, false, format_args!("third: {}", 3))));
        let message = failed.expect_err("a failed check fails the test");
        assert_eq!(message.downcast_ref::<String>().map(String::as_str), Some("t: third: 3"));
        let rows = saved(&file);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].checks, rows[0].failed.as_deref()), (2, Some("third: 3")), "held checks only, and the failure");
    }
}
