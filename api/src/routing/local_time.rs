//! The buyer's local wall clock: IANA time-zone conversion (chrono-tz) for
//! availability windows, and the period keys under which the I/O layer counts
//! calls for hourly, daily and monthly caps.
//!
//! Everything works on wall-clock time, which is what a buyer means by
//! "09:00–17:00" and by "per day":
//! - Spring forward (e.g. `America/New_York` 2026-03-08, 02:00 → 03:00): local
//!   times 02:00–02:59 do not happen that day; a window 01:00–03:00 is open for
//!   one real hour, a window 02:00–02:30 not at all.
//! - Fall back (`America/New_York` 2026-11-01, 02:00 → 01:00): 01:00–01:59
//!   happens twice; a window covering it is open both times, and both real
//!   hours share one hour key (see [`PeriodKeys`]).

use chrono::{DateTime, Datelike, Offset, Timelike, Utc};
use chrono_tz::Tz;

use callbroker_wire::schedule::Day;

/// Keys of the local periods an instant falls in, for storing and resetting
/// cap counters: a counter whose stored key differs from the current key
/// belongs to a past period and counts as 0.
///
/// At the fall-back change the repeated local hour (01:00–01:59 twice in New
/// York) has one hour key, so an hourly cap covers both real hours together
/// (the buyer gets at most its cap over those two hours, never more). At
/// spring forward the skipped hour has no key. Days and months follow local
/// midnight, so a "day" is 23 or 25 hours long on change days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeriodKeys {
    /// Local `YYYYMMDDHH`, e.g. 2026030801.
    pub hour: i64,
    /// Local `YYYYMMDD`, e.g. 20260308.
    pub day: i64,
    /// Local `YYYYMM`, e.g. 202603.
    pub month: i64,
}

/// The local periods of `now` in `tz`.
pub fn period_keys(tz: Tz, now: DateTime<Utc>) -> PeriodKeys {
    let local = now.with_timezone(&tz);
    let month = i64::from(local.year()) * 100 + i64::from(local.month());
    let day = month * 100 + i64::from(local.day());
    let hour = day * 100 + i64::from(local.hour());
    PeriodKeys { hour, day, month }
}

/// A local wall-clock moment, reduced to what weekly windows and skip
/// reasons need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalClock {
    pub day: Day,
    /// Minutes after local midnight, 0..1440.
    pub minute: u16,
    /// Local time minus UTC, in minutes (-240 for New York in summer).
    pub utc_offset_minutes: i32,
}

/// `now` on the wall clock of `tz`.
pub fn local_clock(tz: Tz, now: DateTime<Utc>) -> LocalClock {
    let local = now.with_timezone(&tz);
    let day = Day::from_index(local.weekday().num_days_from_monday() as usize);
    #[allow(clippy::cast_possible_truncation, reason = "hour() < 24 and minute() < 60: at most 1,439")]
    let minute = (local.hour() * 60 + local.minute()) as u16;
    let utc_offset_minutes = local.offset().fix().local_minus_utc() / 60;
    LocalClock { day, minute, utc_offset_minutes }
}

/// Per-call memo of local clocks by time zone. Candidates share a handful of
/// zones, so a short list beats hashing; past `CAPACITY` zones it simply
/// converts without remembering.
pub(crate) struct LocalClocks {
    now: DateTime<Utc>,
    entries: Vec<(Tz, LocalClock)>,
}

impl LocalClocks {
    const CAPACITY: usize = 24;

    pub(crate) fn new(now: DateTime<Utc>) -> LocalClocks {
        LocalClocks { now, entries: Vec::new() }
    }

    pub(crate) fn clock(&mut self, tz: Tz) -> LocalClock {
        if let Some(&(_, clock)) = self.entries.iter().find(|e| e.0 == tz) {
            return clock;
        }
        let clock = local_clock(tz, self.now);
        if self.entries.len() < Self::CAPACITY {
            self.entries.push((tz, clock));
        }
        clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::{Los_Angeles, New_York};
    use chrono_tz::Europe::London;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid instant")
    }

    fn clock(day: Day, h: u16, m: u16, utc_offset_hours: i32) -> LocalClock {
        LocalClock { day, minute: h * 60 + m, utc_offset_minutes: utc_offset_hours * 60 }
    }

    #[test]
    fn new_york_spring_forward() {
        // 2026-03-08 07:00 UTC: 02:00 EST becomes 03:00 EDT.
        assert_eq!(local_clock(New_York, utc(2026, 3, 8, 6, 59)), clock(Day::Sun, 1, 59, -5));
        assert_eq!(local_clock(New_York, utc(2026, 3, 8, 7, 0)), clock(Day::Sun, 3, 0, -4));
        assert_eq!(local_clock(New_York, utc(2026, 3, 8, 13, 0)), clock(Day::Sun, 9, 0, -4));
        assert_eq!(local_clock(New_York, utc(2026, 3, 7, 13, 0)), clock(Day::Sat, 8, 0, -5));
    }

    #[test]
    fn new_york_fall_back() {
        // 2026-11-01 06:00 UTC: 02:00 EDT becomes 01:00 EST; 01:30 happens twice.
        assert_eq!(local_clock(New_York, utc(2026, 11, 1, 5, 30)), clock(Day::Sun, 1, 30, -4));
        assert_eq!(local_clock(New_York, utc(2026, 11, 1, 6, 30)), clock(Day::Sun, 1, 30, -5));
        assert_eq!(local_clock(New_York, utc(2026, 11, 1, 14, 0)), clock(Day::Sun, 9, 0, -5));
    }

    #[test]
    fn london_summer_time() {
        // BST from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC.
        assert_eq!(local_clock(London, utc(2026, 3, 28, 8, 30)), clock(Day::Sat, 8, 30, 0));
        assert_eq!(local_clock(London, utc(2026, 3, 29, 8, 30)), clock(Day::Sun, 9, 30, 1));
        assert_eq!(local_clock(London, utc(2026, 10, 25, 0, 30)), clock(Day::Sun, 1, 30, 1));
        assert_eq!(local_clock(London, utc(2026, 10, 25, 1, 30)), clock(Day::Sun, 1, 30, 0));
        assert_eq!(local_clock(London, utc(2026, 7, 1, 12, 0)), clock(Day::Wed, 13, 0, 1));
    }

    #[test]
    #[allow(clippy::unreadable_literal, reason = "keys are YYYYMMDDHH digits, read as dates")]
    fn period_keys_follow_local_midnight() {
        // 03:30 UTC on Jan 1 is still Dec 31 in Los Angeles.
        let k = period_keys(Los_Angeles, utc(2026, 1, 1, 3, 30));
        assert_eq!(k, PeriodKeys { hour: 2025123119, day: 20251231, month: 202512 });
        let k = period_keys(chrono_tz::UTC, utc(2026, 1, 1, 3, 30));
        assert_eq!((k.hour, k.day, k.month), (2026010103, 20260101, 202601));
    }

    #[test]
    #[allow(clippy::unreadable_literal, reason = "keys are YYYYMMDDHH digits, read as dates")]
    fn period_keys_across_dst() {
        // Fall back: both real 01:xx hours share the key 2026110101.
        let first = period_keys(New_York, utc(2026, 11, 1, 5, 30));
        let second = period_keys(New_York, utc(2026, 11, 1, 6, 30));
        assert_eq!(first, second);
        assert_eq!(first.hour, 2026110101);
        assert_eq!(period_keys(New_York, utc(2026, 11, 1, 7, 30)).hour, 2026110102);
        // Spring forward: 01:59 EST then 03:00 EDT; hour 02 never exists.
        assert_eq!(period_keys(New_York, utc(2026, 3, 8, 6, 59)).hour, 2026030801);
        assert_eq!(period_keys(New_York, utc(2026, 3, 8, 7, 0)).hour, 2026030803);
        // The local day still changes at local midnight after the change.
        assert_eq!(period_keys(New_York, utc(2026, 3, 9, 3, 59)).day, 20260308);
        assert_eq!(period_keys(New_York, utc(2026, 3, 9, 4, 0)).day, 20260309);
        // London: midnight is 23:00 UTC in summer.
        assert_eq!(period_keys(London, utc(2026, 6, 30, 23, 0)).month, 202607);
        assert_eq!(period_keys(London, utc(2026, 6, 30, 22, 59)).month, 202606);
    }

    #[test]
    fn odd_offsets() {
        let now = utc(2026, 1, 15, 12, 0);
        assert_eq!(local_clock(chrono_tz::Asia::Kathmandu, now).utc_offset_minutes, 345);
        assert_eq!(local_clock(chrono_tz::America::St_Johns, now).utc_offset_minutes, -210);
        // Lord Howe moves by half an hour: +11:00 in January, +10:30 in July.
        assert_eq!(local_clock(chrono_tz::Australia::Lord_Howe, now).utc_offset_minutes, 660);
        assert_eq!(local_clock(chrono_tz::Australia::Lord_Howe, utc(2026, 7, 15, 12, 0)).utc_offset_minutes, 630);
    }

    #[test]
    fn memo_matches_direct_conversion() {
        let now = utc(2026, 11, 1, 6, 30);
        let mut memo = LocalClocks::new(now);
        let zones: Vec<Tz> = chrono_tz::TZ_VARIANTS.iter().copied().take(60).collect();
        for _ in 0..2 {
            for &tz in &zones {
                assert_eq!(memo.clock(tz), local_clock(tz, now));
            }
        }
    }
}
