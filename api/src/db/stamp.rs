//! [`Stamp`] and [`MaybeStamp`]: a `chrono::NaiveDateTime` (UTC) in a `Timestamp` column, read
//! and written the way diesel does, with a fast path on SQLite. The call flow's hot statements
//! bind and read their timestamps through them; everything else keeps diesel's own conversions.
//!
//! SQLite has no timestamp type: diesel stores a `Timestamp` as text in chrono's `%F %T%.f`
//! format, and chrono interprets its format string again for every value it formats or parses
//! (when reading, it tries up to 18 formats in turn). In the SQLite writer thread that was about
//! 11% of the instructions per call (`make writer-instructions`). [`format`] writes exactly the
//! text diesel writes, so stored values, and the text comparisons SQLite makes between them, stay
//! the same whichever code wrote them; [`parse`] reads that one format directly, and any other
//! text (or a number) goes to diesel's own reader. On PostgreSQL both are diesel's `Timestamp`.
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::{Sqlite, SqliteType};

use super::MultiBackend;

/// A timestamp bound or read with the fast path (see the module docs). `Option<Stamp>` binds a
/// nullable one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Timestamp)]
pub struct Stamp(pub NaiveDateTime);

/// A nullable timestamp read with the fast path: `#[diesel(deserialize_as = MaybeStamp)]` on an
/// `Option<NaiveDateTime>` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct MaybeStamp(pub Option<NaiveDateTime>);

impl From<NaiveDateTime> for Stamp {
    fn from(t: NaiveDateTime) -> Self {
        Stamp(t)
    }
}

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> Self {
        s.0
    }
}

impl From<MaybeStamp> for Option<NaiveDateTime> {
    fn from(s: MaybeStamp) -> Self {
        s.0
    }
}

impl ToSql<Timestamp, Sqlite> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        match format(&self.0) {
            Some(text) => {
                out.set_value(text);
                Ok(IsNull::No)
            }
            None => <NaiveDateTime as ToSql<Timestamp, Sqlite>>::to_sql(&self.0, out),
        }
    }
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if value.value_type() == Some(SqliteType::Text) {
            if let Some(t) = parse(value.read_text()) {
                return Ok(Stamp(t));
            }
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl ToSql<Timestamp, Pg> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(bytes).map(Stamp)
    }
}

// The two-backend connection's own backend, as diesel's `MultiConnection` documents for a type
// of one's own: each call goes to the impl of the backend in use.
impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Stamp, Timestamp>()
    }
}

impl ToSql<Timestamp, MultiBackend> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Timestamp, self));
        Ok(IsNull::No)
    }
}

impl<DB: Backend> FromSql<Nullable<Timestamp>, DB> for MaybeStamp
where
    Stamp: FromSql<Timestamp, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Stamp::from_sql(bytes).map(|s| MaybeStamp(Some(s.0)))
    }

    fn from_nullable_sql(bytes: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match bytes {
            Some(b) => Self::from_sql(b),
            None => Ok(MaybeStamp(None)),
        }
    }
}

/// How a row's field is bound in an update written from the row ([`crate::store::calls::update_row!`]):
/// a timestamp as [`Stamp`], anything else as it is.
pub trait Bind {
    type Out<'a>
    where
        Self: 'a;
    fn bind(&self) -> Self::Out<'_>;
}

impl Bind for NaiveDateTime {
    type Out<'a> = Stamp;
    fn bind(&self) -> Stamp {
        Stamp(*self)
    }
}

impl Bind for Option<NaiveDateTime> {
    type Out<'a> = Option<Stamp>;
    fn bind(&self) -> Option<Stamp> {
        self.map(Stamp)
    }
}

macro_rules! bound_as_they_are {
    ($($t:ty),*) => {$(
        impl Bind for $t {
            type Out<'a> = &'a $t;
            fn bind(&self) -> &$t {
                self
            }
        }
        impl Bind for Option<$t> {
            type Out<'a> = &'a Option<$t>;
            fn bind(&self) -> &Option<$t> {
                self
            }
        }
    )*};
}
bound_as_they_are!(String, i32, i64, bool);

/// `t` as chrono's `%F %T%.f` writes it: `YYYY-MM-DD HH:MM:SS`, then the fraction of a second
/// with 3, 6 or 9 digits (as few as show it exactly), or none when it is zero. `None` for what
/// chrono writes differently (a year outside 0–9999, a leap second): the caller asks chrono.
pub fn format(t: &NaiveDateTime) -> Option<String> {
    let (year, nanos) = (t.year(), t.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let (fraction, digits) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    let mut out = Vec::with_capacity(29);
    push_digits(&mut out, u32::try_from(year).ok()?, 4);
    out.push(b'-');
    push_digits(&mut out, t.month(), 2);
    out.push(b'-');
    push_digits(&mut out, t.day(), 2);
    out.push(b' ');
    push_digits(&mut out, t.hour(), 2);
    out.push(b':');
    push_digits(&mut out, t.minute(), 2);
    out.push(b':');
    push_digits(&mut out, t.second(), 2);
    if digits > 0 {
        out.push(b'.');
        push_digits(&mut out, fraction, digits);
    }
    String::from_utf8(out).ok()
}

/// `value` as `width` decimal digits, zero-padded (`value` has at most `width` digits).
fn push_digits(out: &mut Vec<u8>, value: u32, width: u32) {
    for i in (0..width).rev() {
        out.push(b'0' + (value / 10_u32.pow(i) % 10) as u8);
    }
}

/// Reads `YYYY-MM-DD HH:MM:SS`, optionally followed by `.` and 1 to 9 digits of a second, as
/// chrono's `%F %T%.f` reads it. `None` for any other text, and for a date or time that does
/// not exist.
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0_u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(number(0, 4)?).ok()?, number(5, 7)?, number(8, 10)?)?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => number(20, b.len())? * 10_u32.pow(9 - u32::try_from(digits.len()).ok()?),
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHRONO: &str = "%F %T%.f";

    fn datetime() -> impl Strategy<Value = NaiveDateTime> {
        // Whole seconds, milliseconds, microseconds and nanoseconds: each of chrono's widths.
        let nanos = prop_oneof![
            Just(0_u32),
            (1..1000_u32).prop_map(|m| m * 1_000_000),
            (1..1_000_000_u32).prop_map(|u| u * 1000),
            1..1_000_000_000_u32
        ];
        (-1_000_i32..11_000, 1..=366_u32, 0..86_400_u32, nanos).prop_filter_map("a day of the year", |(y, d, s, n)| {
            Some(NaiveDate::from_yo_opt(y, d)?.and_time(NaiveTime::from_num_seconds_from_midnight_opt(s, n)?))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn writes_what_chrono_writes(t in datetime()) {
            let chrono = t.format(CHRONO).to_string();
            match format(&t) {
                Some(ours) => prop_assert_eq!(ours, chrono),
                None => prop_assert!(!(0..=9999).contains(&t.year()), "only years chrono writes with a sign are left to it"),
            }
        }

        #[test]
        fn reads_back_what_chrono_writes(t in datetime()) {
            let text = t.format(CHRONO).to_string();
            if (0..=9999).contains(&t.year()) {
                prop_assert_eq!(parse(&text), Some(t));
            }
        }

        /// Text shaped like a timestamp, its fields anything: whatever the fast path accepts,
        /// chrono reads the same (what it refuses goes to diesel's reader, which is chrono).
        #[test]
        fn accepts_only_what_chrono_reads_alike(
            fields in (0..10_000_u32, 0..100_u32, 0..100_u32, 0..100_u32, 0..100_u32, 0..100_u32),
            fraction in prop::option::of("[0-9]{0,11}"),
            seps in prop::sample::select(vec!["-- ::", "-- :.", "/- ::", "--T::", "-- ::"]),
        ) {
            let s: Vec<char> = seps.chars().collect();
            let (y, mo, d, h, mi, se) = fields;
            let mut text = format!("{y:04}{}{mo:02}{}{d:02}{}{h:02}{}{mi:02}{}{se:02}", s[0], s[1], s[2], s[3], s[4]);
            if let Some(f) = &fraction {
                text.push('.');
                text.push_str(f);
            }
            if let Some(ours) = parse(&text) {
                prop_assert_eq!(Ok(ours), NaiveDateTime::parse_from_str(&text, CHRONO), "{}", text);
            }
        }
    }

    diesel::table! {
        ts (id) {
            id -> BigInt,
            at -> Nullable<Timestamp>,
        }
    }

    /// Through a real SQLite database, on SQLite's own connection and on the two-backend one:
    /// [`Stamp`] stores the very text diesel stores, and reads what diesel wrote, in its format
    /// and in the others diesel reads (ISO `T`, a julian day number), NULL included.
    #[test]
    fn stores_and_reads_what_diesel_does() {
        use crate::db::{direct, DbConnection};
        use diesel::connection::SimpleConnection;
        use diesel::prelude::*;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let mut conn = DbConnection::Sqlite(diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("sqlite"));
        conn.batch_execute("CREATE TABLE ts (id INTEGER PRIMARY KEY, at TIMESTAMP)").expect("table");
        let t = |s: &str| NaiveDateTime::parse_from_str(s, CHRONO).expect("valid");
        let times =
            [t("2026-11-27 10:11:12"), t("2026-11-27 10:11:12.250"), t("1999-12-31 23:59:59.000001"), t("2026-11-27 10:11:12.123456789")];
        for (i, at) in (0_i64..).step_by(10).zip(&times) {
            // diesel's own conversion, then ours on SQLite's connection and on the two-backend one.
            diesel::insert_into(ts::table).values((ts::id.eq(i), ts::at.eq(at))).execute(&mut conn).expect("diesel");
            direct::run!(&mut conn, execute, diesel::insert_into(ts::table).values((ts::id.eq(i + 1), ts::at.eq(Stamp(*at)))))
                .expect("direct");
            diesel::insert_into(ts::table).values((ts::id.eq(i + 2), ts::at.eq(Some(Stamp(*at))))).execute(&mut conn).expect("multi");
            let texts: Vec<String> = diesel::sql_query(format!("SELECT at AS text FROM ts WHERE id BETWEEN {i} AND {}", i + 2))
                .load::<Text>(&mut conn)
                .expect("texts")
                .into_iter()
                .map(|r| r.text)
                .collect();
            assert_eq!(texts, vec![texts[0].clone(); 3], "the same text stored for {at}");
        }
        conn.batch_execute("INSERT INTO ts VALUES (100, '2026-11-27T10:11:12'), (101, 2461371.5), (102, NULL)").expect("other forms");
        let theirs: Vec<Option<NaiveDateTime>> = ts::table.order(ts::id).select(ts::at).load(&mut conn).expect("diesel reads");
        let ours: Vec<MaybeStamp> = direct::run!(&mut conn, load, ts::table.order(ts::id).select(ts::at)).expect("direct reads");
        let multi: Vec<MaybeStamp> = ts::table.order(ts::id).select(ts::at).load(&mut conn).expect("multi reads");
        assert_eq!(theirs.len(), 15);
        assert_eq!(theirs[12], Some(t("2026-11-27 10:11:12")));
        assert_eq!(theirs[13].map(|t| t.date()), NaiveDate::from_ymd_opt(2026, 11, 27), "a julian day");
        assert_eq!(theirs[14], None);
        assert_eq!(ours.iter().map(|s| s.0).collect::<Vec<_>>(), theirs);
        assert_eq!(multi.iter().map(|s| s.0).collect::<Vec<_>>(), theirs);
        let first: Stamp =
            direct::run!(&mut conn, first, ts::table.filter(ts::id.eq(1_i64)).select(ts::at.assume_not_null())).expect("not null");
        assert_eq!(first, Stamp(times[0]));
    }

    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
    }

    #[test]
    fn examples() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, CHRONO).expect("valid");
        assert_eq!(format(&t("2026-11-27 09:05:03")).as_deref(), Some("2026-11-27 09:05:03"));
        assert_eq!(format(&t("2026-11-27 09:05:03.120")).as_deref(), Some("2026-11-27 09:05:03.120"));
        assert_eq!(format(&t("2026-11-27 09:05:03.000042")).as_deref(), Some("2026-11-27 09:05:03.000042"));
        assert_eq!(format(&t("0001-01-01 00:00:00.000000001")).as_deref(), Some("0001-01-01 00:00:00.000000001"));
        assert_eq!(parse("2026-11-27 09:05:03.5"), Some(t("2026-11-27 09:05:03.500")));
        assert_eq!(parse("2026-02-29 00:00:00"), None, "no such day");
        assert_eq!(parse("2026-11-27 24:00:00"), None);
        assert_eq!(parse("2026-11-27T09:05:03"), None, "another format: left to diesel's reader");
        assert_eq!(parse("2026-11-27 09:05:03."), None);
        assert_eq!(parse("2026-11-27 09:05:03+00:00"), None);
        assert_eq!(parse("+2026-11-27 09:05:03"), None);
    }
}
