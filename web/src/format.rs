//! Display and input helpers for times (UTC), written out by hand: chrono's `format` and
//! `parse_from_str` machinery would add tens of kilobytes to the wasm.
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};

/// `2026-11-26 10:27:27 UTC`
pub fn time(t: DateTime<Utc>) -> String {
    format!("{} UTC", short_time(t))
}

/// `2026-11-26 10:27:27` (tables, whose header says UTC).
pub fn short_time(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
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

/// `YYYY-MM-DD` (an `<input type=date>` value).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let mut it = s.trim().splitn(3, '-').map(|p| p.parse::<u32>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// `YYYY-MM-DDTHH:MM` (an `<input type=datetime-local>` value), read as UTC.
pub fn parse_datetime_utc(s: &str) -> Option<DateTime<Utc>> {
    let (date, time) = s.trim().split_once('T')?;
    let date = parse_date(date)?;
    let mut hm = time.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m) = (hm.next()??, hm.next()??);
    Some(Utc.from_utc_datetime(&date.and_hms_opt(h, m, 0)?))
}

/// Midnight UTC of a `YYYY-MM-DD` date.
pub fn date_start_utc(s: &str) -> Option<DateTime<Utc>> {
    Some(Utc.from_utc_datetime(&parse_date(s)?.and_hms_opt(0, 0, 0)?))
}

/// Micro-units as money: `1234.56 USD` (integer arithmetic: float formatting would add to the wasm).
pub fn money(micros: Option<i64>, currency: Option<&str>) -> String {
    let Some(m) = micros else { return "—".to_owned() };
    let cents = (m.unsigned_abs() + 5_000) / 10_000;
    let sign = if m < 0 && cents > 0 { "-" } else { "" };
    let cur = currency.map(|c| format!(" {c}")).unwrap_or_default();
    format!("{sign}{}.{:02}{cur}", cents / 100, cents % 100)
}

/// A ratio as a percentage with one decimal: `12.5%`.
pub fn percent(ratio: f64) -> String {
    let tenths = (ratio * 1000.0).round() as i64;
    format!("{}.{}%", tenths / 10, (tenths % 10).abs())
}

/// A ratio when known.
pub fn opt_percent(ratio: Option<f64>) -> String {
    ratio.map(percent).unwrap_or_else(|| "—".to_owned())
}

/// `2026-11-26`
pub fn date(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Seconds as `h:mm:ss`.
pub fn hms(s: i64) -> String {
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// An amount typed in currency units (`12`, `12.5`, `0.25`) as micro-units; at most six decimals.
pub fn parse_money(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.len() > 6 || !(whole.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().ok()? };
    whole.checked_mul(1_000_000)?.checked_add(frac)
}

/// Micro-units as an input's text: `12.5`, `3` (the inverse of [`parse_money`]).
pub fn money_input(micros: i64) -> String {
    let frac = format!("{:06}", micros.rem_euclid(1_000_000));
    let frac = frac.trim_end_matches('0');
    let whole = micros.div_euclid(1_000_000);
    if frac.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{frac}")
    }
}
