//! Field checks shared by every resource. Each returns the normalised value or a sentence saying
//! what is wrong, collected into `FieldErrors` by the caller. The limits and patterns are the
//! rules the OpenAPI document states ([`callbroker_wire::rules`]); the tests below check each
//! check against its rule's pattern. Lengths count the characters of the value as sent.
use callbroker_wire::rules::{self, Int};
use callbroker_wire::ScheduleWindow;

pub const MAX_NAME_LEN: usize = rules::Name::MAX_CHARS;
pub const MAX_MESSAGE_LEN: usize = rules::Message::MAX_CHARS;

/// Whether `s` is longer than `max` characters.
fn longer_than(s: &str, max: usize) -> bool {
    s.chars().nth(max).is_some()
}

/// A name ([`rules::Name`]): at most 200 characters, non-empty once trimmed, no control
/// characters; returned trimmed.
pub fn name(s: &str) -> Result<String, String> {
    if longer_than(s, MAX_NAME_LEN) {
        return Err(format!("must be at most {MAX_NAME_LEN} characters"));
    }
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_string())
}

/// Text said to callers ([`rules::Message`]): at most 1000 characters, non-empty once trimmed,
/// no NUL; returned trimmed.
pub fn message(s: &str) -> Result<String, String> {
    if longer_than(s, MAX_MESSAGE_LEN) {
        return Err(format!("must be at most {MAX_MESSAGE_LEN} characters"));
    }
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    no_nul(t)?;
    Ok(t.to_string())
}

/// NUL cannot be stored in PostgreSQL text (the write would fail with a 500).
fn no_nul(t: &str) -> Result<(), String> {
    if t.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    Ok(())
}

/// Optional free text of at most `max` characters, no NUL ([`rules::ShortText`] and its kind);
/// returned trimmed, empty becomes `None`.
pub fn optional_text(s: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match s {
        Some(s) if longer_than(s, max) => Err(format!("must be at most {max} characters")),
        None => Ok(None),
        Some(s) => match s.trim() {
            "" => Ok(None),
            t => no_nul(t).map(|()| Some(t.to_string())),
        },
    }
}

/// A whisper template ([`rules::Whisper`], [`super::acceptance::Whisper`]): at most 1000
/// characters, no NUL, its placeholders well formed; returned trimmed. Empty is kept as empty
/// (the caller says what that means).
pub fn whisper(s: &str) -> Result<String, String> {
    if longer_than(s, rules::Whisper::MAX_CHARS) {
        return Err(format!("must be at most {} characters", rules::Whisper::MAX_CHARS));
    }
    let t = s.trim();
    no_nul(t)?;
    super::acceptance::Whisper::parse(t)?;
    Ok(t.to_string())
}

/// Shortest and longest time, in seconds, a buyer's agent may be given to accept a call.
pub const ACCEPT_TIMEOUT_SECS: std::ops::RangeInclusive<i32> = rules::AcceptTimeoutSecs::MIN..=rules::AcceptTimeoutSecs::MAX;

/// Seconds a buyer's agent has to press 1 ([`rules::AcceptTimeoutSecs`]).
pub fn accept_timeout(secs: i32) -> Result<i32, String> {
    if rules::AcceptTimeoutSecs::contains(secs) {
        Ok(secs)
    } else {
        Err(format!("must be between {} and {} seconds", ACCEPT_TIMEOUT_SECS.start(), ACCEPT_TIMEOUT_SECS.end()))
    }
}

/// An E.164 phone number ([`rules::PhoneNumber`]): `+`, a country code not starting with 0, 8 to
/// 15 digits in all. Spaces, dashes, dots and brackets are removed first.
pub fn e164(s: &str) -> Result<String, String> {
    let cleaned: String = s.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    let digits = cleaned.strip_prefix('+').ok_or("must be an E.164 number such as +14155550100")?;
    let ok = digits.len() >= 8 && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    if ok {
        Ok(cleaned)
    } else {
        Err("must be an E.164 number such as +14155550100".into())
    }
}

/// A contact phone number ([`rules::ContactPhone`]): at most 40 characters; blank is none, else
/// an E.164 number once trimmed.
pub fn contact_phone(s: &str) -> Result<Option<String>, String> {
    optional_text(Some(s), rules::ContactPhone::MAX_CHARS)?.map(|t| e164(&t)).transpose()
}

/// A contact email address ([`rules::ContactEmail`]): at most 254 characters; blank is none, else
/// an email address.
pub fn contact_email(s: &str) -> Result<Option<String>, String> {
    optional_text(Some(s), rules::ContactEmail::MAX_CHARS)?.map(|t| email(&t)).transpose()
}

/// An ISO 4217 currency code ([`rules::Currency`]): three ASCII letters once trimmed; returned
/// upper-case.
pub fn currency(s: &str) -> Result<String, String> {
    let c = s.trim().to_ascii_uppercase();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err("must be an ISO 4217 code of three letters, e.g. USD".into())
    }
}

/// A US state code or nothing ([`rules::OptionalUsState`]): blank is none.
pub fn optional_us_state(s: &str) -> Result<Option<String>, String> {
    match s.trim() {
        "" => Ok(None),
        t => us_states(&[t.to_string()]).map(|v| v.into_iter().next()),
    }
}

/// An IANA time zone name such as `America/New_York`.
pub fn timezone(s: &str) -> Result<chrono_tz::Tz, String> {
    s.trim().parse::<chrono_tz::Tz>().map_err(|_| format!("unknown IANA time zone {s:?}"))
}

/// US state (or DC / territory) codes ([`rules::UsState`]), upper-cased, de-duplicated, sorted.
pub fn us_states(list: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let code = s.trim().to_ascii_uppercase();
        if !rules::US_STATES.contains(&code.as_str()) {
            return Err(format!("{s:?} is not a US state code (two letters, e.g. CA)"));
        }
        out.push(code);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// An email address ([`rules::Email`]), at most 254 characters, returned trimmed and lower-cased:
/// one `@`, something on both sides, a dot in the domain.
pub fn email(s: &str) -> Result<String, String> {
    let t = s.trim().to_lowercase();
    let valid = !longer_than(s, rules::Email::MAX_CHARS)
        && !t.chars().any(|c| c.is_whitespace() || c.is_control())
        && t.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@')
        });
    if valid {
        Ok(t)
    } else {
        Err("must be an email address such as ops@example.com".into())
    }
}

/// Minutes since midnight of `HH:MM` (`24:00` allowed as an end: [`rules::WindowStart`],
/// [`rules::WindowEnd`]).
pub fn clock(s: &str) -> Result<u32, String> {
    let bad = || format!("{s:?} is not a time of day (HH:MM, 24-hour)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// First and last year an instant given to the API may fall in. Outside them a date is a typo
/// (or an attack): chrono's arithmetic overflows near its limits (±262,143), PostgreSQL's
/// timestamps stop at 294,276, and no call of this platform is that old or that far ahead.
pub const FIRST_YEAR: i32 = rules::Instant::FIRST_YEAR;
pub const LAST_YEAR: i32 = rules::Instant::LAST_YEAR;

/// An instant in years [`FIRST_YEAR`]..=[`LAST_YEAR`]: every date the API takes passes here
/// before any arithmetic is done with it.
pub fn instant(t: chrono::DateTime<chrono::Utc>) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::Datelike;
    if (FIRST_YEAR..=LAST_YEAR).contains(&t.year()) {
        Ok(t)
    } else {
        Err(format!("must be a date in the years {FIRST_YEAR} to {LAST_YEAR}"))
    }
}

/// [`instant`] of an optional field, adding its problem to `errors` under `field`; an absent or
/// refused value is `None`.
pub fn optional_instant(
    errors: &mut crate::error::FieldErrors,
    field: &str,
    t: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    t.and_then(|t| instant(t).map_err(|e| errors.add(field, e)).ok())
}

/// A Twilio recording SID: `RE` and 32 hexadecimal digits. Checked before a SID goes into a
/// Twilio REST path.
pub fn recording_sid(s: &str) -> Result<&str, String> {
    match s.strip_prefix("RE") {
        Some(hex) if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(s),
        _ => Err("must be a Twilio recording SID: RE and 32 hexadecimal digits".into()),
    }
}

/// Weekly windows ([`rules::ScheduleWindows`]): valid clocks, non-empty, at most 50 of them.
pub fn schedule(windows: &[ScheduleWindow]) -> Result<Vec<ScheduleWindow>, String> {
    if windows.len() > rules::ScheduleWindows::MAX_ITEMS {
        return Err(format!("at most {} windows", rules::ScheduleWindows::MAX_ITEMS));
    }
    let mut out = windows.to_vec();
    for (i, w) in windows.iter().enumerate() {
        let start = clock(&w.start).map_err(|e| format!("window {i}: start {e}"))?;
        let end = clock(&w.end).map_err(|e| format!("window {i}: end {e}"))?;
        if start == end {
            return Err(format!("window {i}: start and end are equal (use 00:00–24:00 for a whole day)"));
        }
        if start == 24 * 60 {
            return Err(format!("window {i}: start must be before 24:00"));
        }
    }
    out.sort_by(|a, b| (a.day, &a.start).cmp(&(b.day, &b.start)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use callbroker_wire::Day;

    #[test]
    fn text_with_nul_is_refused() {
        assert!(optional_text(Some("a\0b"), 100).is_err());
        assert!(message("busy\0").is_err());
        assert!(name("x\0").is_err());
        assert_eq!(optional_text(Some(" net 30\n "), 100), Ok(Some("net 30".into())));
    }

    #[test]
    fn e164_numbers() {
        assert_eq!(e164("+1 (415) 555-0100"), Ok("+14155550100".into()));
        assert!(e164("4155550100").is_err());
        assert!(e164("+0123456789").is_err());
        assert!(e164("+1415555010012345").is_err());
        assert!(e164("+1415abc0100").is_err());
        assert!(e164("+1234").is_err());
    }

    #[test]
    fn clocks_and_schedules() {
        assert_eq!(clock("00:00"), Ok(0));
        assert_eq!(clock("24:00"), Ok(1440));
        assert!(clock("24:01").is_err());
        assert!(clock("9:00").is_err());
        assert!(clock("09:60").is_err());
        let w = |s: &str, e: &str| ScheduleWindow { day: Day::Fri, start: s.into(), end: e.into() };
        assert!(schedule(&[w("22:00", "06:00")]).is_ok(), "overnight windows are allowed");
        assert!(schedule(&[w("10:00", "10:00")]).is_err());
    }

    #[test]
    fn instants_in_the_supported_years() {
        let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().expect("instant");
        assert!(instant(at("2000-01-01T00:00:00Z")).is_ok());
        assert!(instant(at("2100-12-31T23:59:59Z")).is_ok());
        assert!(instant(at("1999-12-31T23:59:59Z")).is_err());
        assert!(instant(at("2101-01-01T00:00:00Z")).is_err());
        assert!(instant(chrono::DateTime::<chrono::Utc>::MIN_UTC).is_err());
        assert!(instant(chrono::DateTime::<chrono::Utc>::MAX_UTC).is_err());
        let mut errors = crate::error::FieldErrors::new();
        assert_eq!(optional_instant(&mut errors, "to", Some(chrono::DateTime::<chrono::Utc>::MIN_UTC)), None);
        assert_eq!(optional_instant(&mut errors, "from", None), None);
        assert_eq!(errors.0.keys().collect::<Vec<_>>(), ["to"]);
    }

    #[test]
    fn recording_sids() {
        let good = format!("RE{}", "0123456789abcdef".repeat(2));
        assert_eq!(recording_sid(&good), Ok(good.as_str()));
        assert!(recording_sid(&good.to_uppercase()).is_ok(), "upper-case hex");
        assert!(recording_sid(&good[..33]).is_err(), "31 digits");
        assert!(recording_sid(&format!("{good}0")).is_err(), "33 digits");
        assert!(recording_sid(&good.replacen("RE", "CA", 1)).is_err());
        assert!(recording_sid(&format!("RE{}", "../../Calls/CA0000000000000000000000")).is_err());
        assert!(recording_sid(&format!("RE{}g", "0".repeat(31))).is_err());
        assert!(recording_sid("").is_err());
    }

    #[test]
    fn states_zones_emails() {
        assert_eq!(us_states(&["ca".into(), "NY".into(), "CA".into()]), Ok(vec!["CA".into(), "NY".into()]));
        assert!(us_states(&["XX".into()]).is_err());
        assert!(timezone("America/New_York").is_ok());
        assert!(timezone("Mars/Olympus").is_err());
        assert_eq!(email(" Ops@Example.com "), Ok("ops@example.com".into()));
        assert!(email("no-at-sign").is_err());
        assert!(email("a@b").is_err());
    }
}
