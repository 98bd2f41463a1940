//! Prints the table of the reliability tests' counters (`target/reliability/results.jsonl`, one
//! JSON line per test run; see `callbroker_tests::report`). Exits non-zero when any data was lost,
//! any buyer went over capacity, any unexpected 5xx was seen or any check failed.
use callbroker_tests::report::{results_file, Tally};

fn main() {
    let path = results_file();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let rows: Vec<Tally> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a malformed line in {} ({e}): {l}", path.display())))
        .collect();
    if rows.is_empty() {
        println!("reliability: no results in {} (were the tests run?)", path.display());
        return;
    }
    let width = rows.iter().map(|r| r.check.len()).max().unwrap_or(5).max(5);
    let header = ["checks", "requests", "faults", "data lost", "overruns", "5xx"];
    println!("\nReliability summary ({})", path.display());
    println!("{:<width$} {:>8} {:>9} {:>6} {:>9} {:>8} {:>5}", "test", header[0], header[1], header[2], header[3], header[4], header[5]);
    let mut total = Tally::new("total");
    for r in &rows {
        println!(
            "{:<width$} {:>8} {:>9} {:>6} {:>9} {:>8} {:>5}",
            r.check, r.checks, r.requests, r.faults, r.data_lost, r.capacity_overruns, r.server_errors
        );
        total.checks += r.checks;
        total.requests += r.requests;
        total.faults += r.faults;
        total.data_lost += r.data_lost;
        total.capacity_overruns += r.capacity_overruns;
        total.server_errors += r.server_errors;
    }
    println!(
        "{:<width$} {:>8} {:>9} {:>6} {:>9} {:>8} {:>5}",
        total.check, total.checks, total.requests, total.faults, total.data_lost, total.capacity_overruns, total.server_errors
    );
    let failed: Vec<&Tally> = rows.iter().filter(|r| r.failed.is_some()).collect();
    for r in &failed {
        println!("FAILED {}: {}", r.check, r.failed.as_deref().unwrap_or_default());
    }
    if total.data_lost + total.capacity_overruns + total.server_errors > 0 || !failed.is_empty() {
        eprintln!("reliability: data lost, capacity overruns and 5xx must all be 0, and every check must hold");
        std::process::exit(1);
    }
}
