//! Weekly availability windows, as the buyer writes them in its own local time.
//!
//! Serde only (no chrono, no chrono-tz): these types travel over JSON and can
//! move into the wire crate. Turning an instant into the buyer's local day and
//! minute is done by `local_time.rs`; this file only answers "is a local
//! wall-clock moment inside the windows?".
//!
//! JSON form: `[{"day":"mon","start":"09:00","end":"17:00"}, ...]`.
//! - `end` after `start`: the window covers `start..end` on `day`.
//! - `end` at or before `start`: an overnight window from `start` on `day` to
//!   `end` on the next day (`{"day":"fri","start":"22:00","end":"06:00"}` is
//!   Fri 22:00 – Sat 06:00; Sunday runs into Monday). `start == end` is thus
//!   24 hours from `start`.
//! - `end` may be `"24:00"` (midnight at the end of `day`); `start` may not.
//! - Windows may overlap; the schedule is open when any window is.
//! - An empty schedule is always open.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most windows a schedule may hold (two shifts a day is 14).
pub const MAX_WINDOWS: usize = 100;

/// Minutes in a day; also the value of `"24:00"`.
const DAY_MINUTES: u16 = 24 * 60;

/// A day of the week, serialized as `"mon"` … `"sun"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    /// Monday first.
    pub const ALL: [Day; 7] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];

    /// 0 for Monday … 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The day with that index modulo 7 (0 = Monday).
    pub fn from_index(i: usize) -> Day {
        Day::ALL[i % 7]
    }

    /// The following day (Sunday → Monday).
    #[must_use]
    pub fn next(self) -> Day {
        Day::from_index(self.index() + 1)
    }

    /// Three-letter English name, capitalised ("Mon").
    pub fn short_name(self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.index()]
    }
}

/// A wall-clock time `"HH:MM"` from `"00:00"` to `"24:00"`, kept as minutes
/// after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "09:00")
)]
pub struct ClockTime(u16);

impl ClockTime {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: ClockTime = ClockTime(0);
    /// `"24:00"`: midnight at the end of the day (only meaningful as an end).
    pub const END_OF_DAY: ClockTime = ClockTime(DAY_MINUTES);

    /// From hours and minutes; `None` unless it is 00:00..=24:00.
    pub fn new(hour: u16, minute: u16) -> Option<ClockTime> {
        if minute >= 60 || hour > 24 || (hour == 24 && minute != 0) {
            return None;
        }
        Some(ClockTime(hour * 60 + minute))
    }

    /// From minutes after midnight; `None` past 1440 (`"24:00"`).
    pub fn from_minutes(minutes: u16) -> Option<ClockTime> {
        (minutes <= DAY_MINUTES).then_some(ClockTime(minutes))
    }

    /// Parses exactly `"HH:MM"` (two digits each).
    pub fn parse(s: &str) -> Result<ClockTime, ScheduleError> {
        let bad = || ScheduleError::BadTime { value: s.to_string() };
        let b = s.as_bytes();
        if b.len() != 5 || b[2] != b':' {
            return Err(bad());
        }
        let digit = |i: usize| -> Result<u16, ScheduleError> {
            match b[i] {
                c @ b'0'..=b'9' => Ok(u16::from(c - b'0')),
                _ => Err(bad()),
            }
        };
        let hour = digit(0)? * 10 + digit(1)?;
        let minute = digit(3)? * 10 + digit(4)?;
        ClockTime::new(hour, minute).ok_or_else(bad)
    }

    /// Minutes after midnight, 0..=1440.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl std::str::FromStr for ClockTime {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClockTime::parse(s)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ClockTime::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One weekly window; see the module documentation for overnight windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub day: Day,
    pub start: ClockTime,
    pub end: ClockTime,
}

impl Window {
    /// `day`, `start`–`end`; not validated (see [`WeeklySchedule::validate`]).
    pub fn new(day: Day, start: ClockTime, end: ClockTime) -> Window {
        Window { day, start, end }
    }

    /// True when `end <= start`: the window runs into the next day.
    pub fn is_overnight(&self) -> bool {
        self.end <= self.start
    }

    /// Whether local wall-clock `minute` (0..1440) of `day` is inside.
    pub fn covers(&self, day: Day, minute: u16) -> bool {
        let (s, e) = (self.start.0, self.end.0);
        if e > s {
            day == self.day && s <= minute && minute < e
        } else {
            (day == self.day && minute >= s) || (day == self.day.next() && minute < e)
        }
    }
}

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    /// Not `"HH:MM"` between 00:00 and 24:00.
    BadTime { value: String },
    /// A window starting at `"24:00"`.
    StartsAtEndOfDay { index: usize },
    /// More windows than [`MAX_WINDOWS`].
    TooManyWindows { count: usize },
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::BadTime { value } => write!(f, "invalid time {value:?}: expected \"HH:MM\" between \"00:00\" and \"24:00\""),
            ScheduleError::StartsAtEndOfDay { index } => {
                write!(f, "window {index} starts at \"24:00\"; start it at \"00:00\" on the next day")
            }
            ScheduleError::TooManyWindows { count } => {
                write!(f, "{count} windows: a schedule holds at most {MAX_WINDOWS}")
            }
        }
    }
}

impl std::error::Error for ScheduleError {}

/// A buyer's weekly availability. Serialized as the bare list of windows;
/// deserializing validates (so stored or posted JSON that parses is valid).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WeeklySchedule {
    pub windows: Vec<Window>,
}

impl WeeklySchedule {
    /// The always-open schedule (no windows).
    pub fn always_open() -> WeeklySchedule {
        WeeklySchedule::default()
    }

    /// Validated schedule from windows.
    pub fn new(windows: Vec<Window>) -> Result<WeeklySchedule, ScheduleError> {
        let s = WeeklySchedule { windows };
        s.validate()?;
        Ok(s)
    }

    /// Parses and validates the JSON form; the error is a sentence for the
    /// API's 400 answer.
    pub fn from_json(json: &str) -> Result<WeeklySchedule, String> {
        serde_json::from_str(json).map_err(|e| format!("invalid schedule: {e}"))
    }

    /// Checks what the types alone cannot: no window starts at `"24:00"`, at
    /// most [`MAX_WINDOWS`] windows.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if self.windows.len() > MAX_WINDOWS {
            return Err(ScheduleError::TooManyWindows { count: self.windows.len() });
        }
        match self.windows.iter().position(|w| w.start == ClockTime::END_OF_DAY) {
            Some(index) => Err(ScheduleError::StartsAtEndOfDay { index }),
            None => Ok(()),
        }
    }

    /// True when the schedule has no windows (always open).
    pub fn is_always_open(&self) -> bool {
        self.windows.is_empty()
    }

    /// Whether the buyer is open at local `day`, `minute` (0..1440).
    pub fn is_open(&self, day: Day, minute: u16) -> bool {
        self.windows.is_empty() || self.windows.iter().any(|w| w.covers(day, minute))
    }
}

/// OpenAPI: the schema of the bare list of windows.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for WeeklySchedule {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <Vec<Window> as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for WeeklySchedule {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        <Window as utoipa::ToSchema>::schemas(schemas);
    }
}

impl Serialize for WeeklySchedule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.windows.serialize(s)
    }
}

impl<'de> Deserialize<'de> for WeeklySchedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let windows = Vec::<Window>::deserialize(d)?;
        WeeklySchedule::new(windows).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> ClockTime {
        ClockTime::parse(s).expect("valid time")
    }

    fn w(day: Day, start: &str, end: &str) -> Window {
        Window::new(day, t(start), t(end))
    }

    #[test]
    fn clock_time_parsing_is_strict() {
        assert_eq!(t("00:00").minutes(), 0);
        assert_eq!(t("09:30").minutes(), 570);
        assert_eq!(t("23:59").minutes(), 1439);
        assert_eq!(t("24:00").minutes(), 1440);
        for bad in ["24:01", "25:00", "9:00", "09:60", "0900", "09:00:00", "ab:cd", "", " 9:00", "+9:00"] {
            assert_eq!(ClockTime::parse(bad), Err(ScheduleError::BadTime { value: bad.into() }), "{bad}");
        }
        assert_eq!(t("07:05").to_string(), "07:05");
        assert_eq!(ClockTime::from_minutes(425), Some(t("07:05")));
        assert_eq!(ClockTime::from_minutes(1440), Some(ClockTime::END_OF_DAY));
        assert_eq!(ClockTime::from_minutes(1441), None);
    }

    #[test]
    fn windows_serialize_as_day_start_end() {
        let s = WeeklySchedule::new(vec![w(Day::Mon, "09:00", "17:00"), w(Day::Fri, "22:00", "06:00")]).expect("valid");
        let json = serde_json::to_string(&s).expect("serialize");
        assert_eq!(json, r#"[{"day":"mon","start":"09:00","end":"17:00"},{"day":"fri","start":"22:00","end":"06:00"}]"#);
        assert_eq!(WeeklySchedule::from_json(&json), Ok(s));
        assert_eq!(WeeklySchedule::from_json("[]"), Ok(WeeklySchedule::always_open()));
    }

    #[test]
    fn invalid_json_gives_a_clear_error() {
        let cases = [
            (r#"[{"day":"mon","start":"9:00","end":"17:00"}]"#, "invalid time \"9:00\""),
            (r#"[{"day":"mon","start":"24:00","end":"06:00"}]"#, "window 0 starts at \"24:00\""),
            (r#"[{"day":"monday","start":"09:00","end":"17:00"}]"#, "unknown variant `monday`"),
            (r#"[{"day":"mon","start":"09:00"}]"#, "missing field `end`"),
            (r#"[{"day":"mon","start":"09:00","end":"17:00","tz":"UTC"}]"#, "unknown field `tz`"),
            (r#"{"day":"mon"}"#, "invalid type"),
        ];
        for (json, expected) in cases {
            let err = WeeklySchedule::from_json(json).expect_err(json);
            assert!(err.starts_with("invalid schedule: "), "{err}");
            assert!(err.contains(expected), "{json}: {err}");
        }
        let many = vec![w(Day::Mon, "09:00", "10:00"); MAX_WINDOWS + 1];
        assert_eq!(WeeklySchedule::new(many), Err(ScheduleError::TooManyWindows { count: MAX_WINDOWS + 1 }));
    }

    #[test]
    fn day_window() {
        let s = WeeklySchedule::new(vec![w(Day::Mon, "09:00", "17:00")]).expect("valid");
        assert!(!s.is_open(Day::Mon, 8 * 60 + 59));
        assert!(s.is_open(Day::Mon, 9 * 60));
        assert!(s.is_open(Day::Mon, 16 * 60 + 59));
        assert!(!s.is_open(Day::Mon, 17 * 60), "end is exclusive");
        assert!(!s.is_open(Day::Tue, 10 * 60));
    }

    #[test]
    fn overnight_window_runs_into_the_next_day() {
        let s = WeeklySchedule::new(vec![w(Day::Fri, "22:00", "06:00")]).expect("valid");
        assert!(!s.is_open(Day::Fri, 21 * 60 + 59));
        assert!(s.is_open(Day::Fri, 22 * 60));
        assert!(s.is_open(Day::Fri, 1439));
        assert!(s.is_open(Day::Sat, 0));
        assert!(s.is_open(Day::Sat, 5 * 60 + 59));
        assert!(!s.is_open(Day::Sat, 6 * 60));
        assert!(!s.is_open(Day::Sat, 23 * 60), "only the night after Friday");
        assert!(!s.is_open(Day::Fri, 3 * 60), "not the night before Friday");

        let sunday = WeeklySchedule::new(vec![w(Day::Sun, "20:00", "02:00")]).expect("valid");
        assert!(sunday.is_open(Day::Mon, 60), "Sunday night wraps to Monday");
        assert!(!sunday.is_open(Day::Sat, 60));
    }

    #[test]
    fn end_of_day_and_equal_bounds() {
        let s = WeeklySchedule::new(vec![w(Day::Tue, "18:00", "24:00")]).expect("valid");
        assert!(s.is_open(Day::Tue, 1439));
        assert!(!s.is_open(Day::Wed, 0), "24:00 ends at midnight, not overnight");

        let whole = WeeklySchedule::new(vec![w(Day::Wed, "00:00", "24:00")]).expect("valid");
        assert!(whole.is_open(Day::Wed, 0) && whole.is_open(Day::Wed, 1439));
        assert!(!whole.is_open(Day::Thu, 0));

        let same = WeeklySchedule::new(vec![w(Day::Thu, "12:00", "12:00")]).expect("valid");
        assert!(same.is_open(Day::Thu, 12 * 60) && same.is_open(Day::Fri, 11 * 60 + 59));
        assert!(!same.is_open(Day::Thu, 11 * 60 + 59) && !same.is_open(Day::Fri, 12 * 60));
    }

    #[test]
    fn empty_schedule_is_always_open_and_windows_union() {
        let empty = WeeklySchedule::always_open();
        assert!(Day::ALL.iter().all(|&d| empty.is_open(d, 0) && empty.is_open(d, 1439)));
        let split = WeeklySchedule::new(vec![w(Day::Sat, "08:00", "12:00"), w(Day::Sat, "13:00", "17:00"), w(Day::Sat, "11:00", "14:00")])
            .expect("valid");
        assert!((8 * 60..17 * 60).all(|m| split.is_open(Day::Sat, m)));
        assert!(!split.is_open(Day::Sat, 17 * 60));
    }

    #[test]
    fn day_helpers() {
        assert_eq!(Day::Sun.next(), Day::Mon);
        assert_eq!(Day::from_index(9), Day::Wed);
        assert_eq!(Day::Thu.short_name(), "Thu");
        assert_eq!(serde_json::to_string(&Day::Sat).expect("serialize"), "\"sat\"");
    }
}
