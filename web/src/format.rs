//! Display helpers.
use chrono::{DateTime, Utc};

pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn opt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(time).unwrap_or_else(|| "—".to_owned())
}

pub fn secs(s: Option<i32>) -> String {
    match s {
        None => "—".to_owned(),
        Some(s) if s < 60 => format!("{s} s"),
        Some(s) => format!("{}:{:02}", s / 60, s % 60),
    }
}

pub fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}
