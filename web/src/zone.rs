//! Time zones through the browser's `Intl` (chrono-tz would add its whole database to the wasm):
//! the browser's own zone, whether a name is a zone, and a zone's calendar day as UTC instants.
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key)).ok()
}

/// `new Intl.DateTimeFormat("en-US", options)`, or `None` when the browser refuses the options
/// (an unknown time zone throws a RangeError, caught here).
fn formatter(tz: Option<&str>) -> Option<JsValue> {
    let ctor: Function = get(&get(&js_sys::global(), "Intl")?, "DateTimeFormat")?.dyn_into().ok()?;
    let options = Object::new();
    let set = |k: &str, v: &str| Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v)).ok();
    if let Some(tz) = tz {
        set("timeZone", tz)?;
    }
    for k in ["year", "month", "day", "hour", "minute", "second"] {
        set(k, "numeric")?;
    }
    set("hourCycle", "h23")?;
    Reflect::construct(&ctor, &Array::of2(&JsValue::from_str("en-US"), &options)).ok()
}

/// The browser's time zone (IANA name), `UTC` when it cannot say.
pub fn browser() -> String {
    formatter(None)
        .and_then(|f| {
            let resolved: Function = get(&f, "resolvedOptions")?.dyn_into().ok()?;
            get(&resolved.call0(&f).ok()?, "timeZone")?.as_string()
        })
        .unwrap_or_else(|| "UTC".to_owned())
}

/// Whether the browser knows the zone `tz`.
pub fn is_valid(tz: &str) -> bool {
    !tz.trim().is_empty() && formatter(Some(tz.trim())).is_some()
}

/// The wall-clock time in `tz` at `ms` (Unix milliseconds), read as if it were UTC.
fn wall_ms(f: &JsValue, ms: f64) -> Option<i64> {
    let parts: Function = get(f, "formatToParts")?.dyn_into().ok()?;
    let parts: Array = parts.call1(f, &js_sys::Date::new(&JsValue::from_f64(ms))).ok()?.dyn_into().ok()?;
    let mut v = [0u32; 6];
    for p in parts.iter() {
        let i = match get(&p, "type")?.as_string()?.as_str() {
            "year" => 0,
            "month" => 1,
            "day" => 2,
            "hour" => 3,
            "minute" => 4,
            "second" => 5,
            _ => continue,
        };
        v[i] = get(&p, "value")?.as_string()?.parse().ok()?;
    }
    let t = NaiveDate::from_ymd_opt(v[0] as i32, v[1], v[2])?.and_hms_opt(v[3] % 24, v[4], v[5])?;
    Some(t.and_utc().timestamp_millis())
}

/// Midnight starting `date` in `tz`, as a UTC instant.
pub fn day_start(tz: &str, date: NaiveDate) -> Option<DateTime<Utc>> {
    let f = formatter(Some(tz))?;
    let guess = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
    // Offset at the guess, then at the corrected instant (a DST change near midnight).
    let mut t = guess - (wall_ms(&f, guess as f64)? - guess);
    let offset = wall_ms(&f, t as f64)? - t;
    t = guess - offset;
    Utc.timestamp_millis_opt(t).single()
}

/// The wall-clock date and time now in `tz`.
pub fn now_in(tz: &str) -> Option<NaiveDateTime> {
    let f = formatter(Some(tz))?;
    let wall = wall_ms(&f, js_sys::Date::now())?;
    Some(Utc.timestamp_millis_opt(wall).single()?.naive_utc())
}

/// Today's date in `tz`.
pub fn today(tz: &str) -> Option<NaiveDate> {
    now_in(tz).map(|t| t.date())
}
