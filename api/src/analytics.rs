//! Analytics over the hourly rollups (`call_rollups`, kept by `money::settle`): totals and time
//! series, grouped and filtered by campaign, buyer, publisher or number.
//!
//! Ranges are whole UTC hours (`from` rounded down, `to` rounded up). Buckets are computed in the
//! requested IANA time zone from each UTC hour's start: in zones whose offset is a whole number
//! of hours that is exact; in zones with a :30 or :45 offset (India, Nepal, Newfoundland, parts
//! of Australia) each UTC hour is counted whole in the local bucket its start falls in, so local
//! days there run e.g. from 23:30 to 23:30 — every call is still counted exactly once.
use std::collections::BTreeMap;

use callbroker_wire::{AnalyticsQuery, Bucket, GroupBy, GroupMetrics, Metrics, Summary, Timeseries, TimeseriesPoint};
use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::schema::campaigns;
use crate::db::DbConnection;
use crate::domain::validate;
use crate::error::{Error, FieldErrors};
use crate::money::rollup::Sums;

/// Longest range one query may span.
pub const MAX_RANGE_DAYS: i64 = 400;

/// Longest range of an hourly time series (in hours).
pub const MAX_HOUR_BUCKETS: i64 = 8 * 24;

/// A range given as optional `from` and `to`: `to` defaults to `now`, `from` to `default_span`
/// before `to`. Each given bound must pass [`validate::instant`] and `from` must be before `to`;
/// problems go into `errors` under the field's name.
pub fn range(
    errors: &mut FieldErrors,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    default_span: chrono::Duration,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let given_from = validate::optional_instant(errors, "from", from);
    let given_to = validate::optional_instant(errors, "to", to);
    if given_from.is_none() != from.is_none() || given_to.is_none() != to.is_none() {
        return (now, now);
    }
    let to = given_to.unwrap_or(now);
    let from = given_from.unwrap_or_else(|| to.checked_sub_signed(default_span).unwrap_or(to));
    if from >= to {
        errors.add("from", "must be before to");
    }
    (from, to)
}

/// A checked query.
#[derive(Debug, Clone)]
pub struct Query {
    pub from_hour: i64,
    pub to_hour: i64,
    pub tz: Tz,
    pub group_by: Option<GroupBy>,
    pub bucket: Bucket,
    pub campaign_id: Option<i64>,
    pub buyer_id: Option<i64>,
    pub publisher_id: Option<i64>,
    pub number_id: Option<i64>,
    /// Hide revenue, cost, profit and buyer figures (a publisher asks).
    pub restricted: bool,
    /// The tag grouped by (`group_by=tag`).
    pub tag: Option<String>,
}

impl Query {
    /// Validates `q`; `scope` is the asking publisher (forced as the publisher filter).
    pub fn parse(q: &AnalyticsQuery, scope: Option<i64>, now: DateTime<Utc>) -> Result<Query, Error> {
        let mut errors = FieldErrors::new();
        let (from, to) = range(&mut errors, q.from, q.to, now, chrono::Duration::days(7));
        if to.signed_duration_since(from) > chrono::Duration::days(MAX_RANGE_DAYS) {
            errors.add("to", format!("the range may span at most {MAX_RANGE_DAYS} days"));
        }
        let tz = match q.tz.as_deref() {
            None | Some("") => Tz::UTC,
            Some(name) => crate::domain::validate::timezone(name).map_err(|e| errors.add("tz", e)).unwrap_or(Tz::UTC),
        };
        for (field, v) in
            [("campaign_id", q.campaign_id), ("buyer_id", q.buyer_id), ("publisher_id", q.publisher_id), ("number_id", q.number_id)]
        {
            if v.is_some_and(|v| v < 1) {
                errors.add(field, "must be a positive id");
            }
        }
        let hours = to.signed_duration_since(from).num_hours();
        if q.bucket == Some(Bucket::Hour) && hours > MAX_HOUR_BUCKETS {
            errors.add("bucket", format!("hour buckets cover at most {} days; use a shorter range or day buckets", MAX_HOUR_BUCKETS / 24));
        }
        let tag = q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty());
        match (q.group_by, tag) {
            (Some(GroupBy::Tag), None) => errors.add("tag", "required with group_by=tag: the name of the tag to group by"),
            (Some(GroupBy::Tag), Some(t)) if !crate::routing::tags::valid_name(t) => {
                errors.add("tag", "a tag name is 1 to 64 letters, digits, '_', '-' or '.'");
            }
            (Some(GroupBy::Tag), Some(_)) | (_, None) => {}
            (_, Some(_)) => errors.add("tag", "only with group_by=tag"),
        }
        errors.into_result()?;
        if scope.is_some() && (q.group_by == Some(GroupBy::Buyer) || q.buyer_id.is_some()) {
            return Err(Error::Forbidden("publishers cannot see buyers".into()));
        }
        let from_hour = from.timestamp().div_euclid(3600) * 3600;
        let to_hour = (to.timestamp() + 3599).div_euclid(3600) * 3600;
        Ok(Query {
            from_hour,
            to_hour,
            tz,
            group_by: q.group_by,
            bucket: q.bucket.unwrap_or_default(),
            campaign_id: q.campaign_id,
            buyer_id: q.buyer_id,
            publisher_id: scope.or(q.publisher_id),
            number_id: q.number_id,
            restricted: scope.is_some(),
            tag: tag.map(String::from),
        })
    }

    /// Whether the groups are text keys read from the calls themselves (a tag's value, the
    /// blocking rule), which the rollups do not keep.
    fn by_call_text(&self) -> bool {
        matches!(self.group_by, Some(GroupBy::Tag | GroupBy::BlockedBy))
    }

    fn group_column(&self) -> &'static str {
        match self.group_by {
            // Text keys are read from the calls themselves (`by_text`), not from the rollups.
            None | Some(GroupBy::Tag | GroupBy::BlockedBy) => "CAST(0 AS BIGINT)",
            Some(GroupBy::Campaign) => "campaign_id",
            Some(GroupBy::Buyer) => "buyer_id",
            Some(GroupBy::Publisher) => "publisher_id",
            Some(GroupBy::Number) => "number_id",
        }
    }

    /// The rollup level this query reads.
    fn level(&self) -> i64 {
        use crate::money::rollup::{level_for, BUYER, CAMPAIGN, NUMBER, PUBLISHER};
        let mut needed = 0;
        for (bit, filtered, grouped) in [
            (CAMPAIGN, self.campaign_id.is_some(), GroupBy::Campaign),
            (PUBLISHER, self.publisher_id.is_some(), GroupBy::Publisher),
            (BUYER, self.buyer_id.is_some(), GroupBy::Buyer),
            (NUMBER, self.number_id.is_some(), GroupBy::Number),
        ] {
            if filtered || self.group_by == Some(grouped) {
                needed |= bit;
            }
        }
        level_for(needed)
    }

    /// The rollup query over `level` rows whose `hour` is in `[from, to)` but in none of the
    /// `skip` intervals. Every interpolated value is an `i64` or a fixed column name.
    fn sql(&self, by_hour: bool, level: i64, from: i64, to: i64, skip: &[(i64, i64)]) -> String {
        let mut filters = vec![format!("level = {level}"), format!("hour >= {from}"), format!("hour < {to}")];
        for (a, b) in skip {
            filters.push(format!("NOT (hour >= {a} AND hour < {b})"));
        }
        for (col, v) in [
            ("campaign_id", self.campaign_id),
            ("buyer_id", self.buyer_id),
            ("publisher_id", self.publisher_id),
            ("number_id", self.number_id),
        ] {
            if let Some(v) = v {
                filters.push(format!("{col} = {v}"));
            }
        }
        let hour = if by_hour { "hour" } else { "CAST(0 AS BIGINT)" };
        let sums = [
            "calls",
            "answered",
            "qualified",
            "duplicates",
            "no_buyer",
            "talk_secs",
            "revenue_micros",
            "payout_micros",
            "cost_micros",
            "offered",
            "connected",
            "blocked",
        ]
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
        let group = match (by_hour, self.group_by.is_some()) {
            (true, true) => " GROUP BY hour, g",
            (true, false) => " GROUP BY hour",
            (false, true) => " GROUP BY g",
            (false, false) => "",
        };
        format!("SELECT {hour} AS h, {} AS g, {sums} FROM call_rollups WHERE {}{group}", self.group_column(), filters.join(" AND "))
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    h: i64,
    #[diesel(sql_type = BigInt)]
    g: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    calls: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    answered: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    qualified: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    duplicates: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    no_buyer: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    talk_secs: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    revenue_micros: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    payout_micros: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    cost_micros: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    offered: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    connected: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    blocked: Option<i64>,
}

impl Row {
    fn sums(&self) -> Sums {
        Sums {
            calls: self.calls.unwrap_or(0),
            answered: self.answered.unwrap_or(0),
            qualified: self.qualified.unwrap_or(0),
            duplicates: self.duplicates.unwrap_or(0),
            no_buyer: self.no_buyer.unwrap_or(0),
            talk_secs: self.talk_secs.unwrap_or(0),
            revenue_micros: self.revenue_micros.unwrap_or(0),
            payout_micros: self.payout_micros.unwrap_or(0),
            cost_micros: self.cost_micros.unwrap_or(0),
            offered: self.offered.unwrap_or(0),
            connected: self.connected.unwrap_or(0),
            blocked: self.blocked.unwrap_or(0),
        }
    }
}

/// `a / b` rounded to `1 / scale`, so that equal inputs always print equally; 0 when `b` is 0.
#[allow(clippy::cast_precision_loss, reason = "counts and seconds stay far below 2^52, where f64 is exact")]
fn rounded_ratio(a: i64, b: i64, scale: f64) -> f64 {
    if b == 0 {
        0.0
    } else {
        ((a as f64 / b as f64) * scale).round() / scale
    }
}

/// A rate, to 4 decimals.
fn ratio(a: i64, b: i64) -> f64 {
    rounded_ratio(a, b, 10_000.0)
}

/// Figures from sums; restricted queries hide what publishers must not see.
pub fn metrics(s: &Sums, restricted: bool) -> Metrics {
    let hide = |v: i64| (!restricted).then_some(v);
    Metrics {
        calls: s.calls,
        answered: s.answered,
        qualified: s.qualified,
        duplicates: s.duplicates,
        no_buyer: s.no_buyer,
        blocked: s.blocked,
        conversion_rate: ratio(s.qualified, s.calls),
        talk_secs_total: s.talk_secs,
        talk_secs_avg: rounded_ratio(s.talk_secs, s.answered, 100.0),
        revenue_micros: hide(s.revenue_micros),
        payout_micros: s.payout_micros,
        cost_micros: hide(s.cost_micros),
        profit_micros: hide(s.revenue_micros - s.payout_micros - s.cost_micros),
        offered: hide(s.offered),
        connected: hide(s.connected),
        fill_rate: (!restricted).then(|| ratio(s.connected, s.offered)),
    }
}

/// Reads the rollups: day rows for the UTC days in `whole_days` (contiguous `[start, end)`
/// intervals), hour rows for the rest of the range. Rows carry the hour (or day) they sum.
fn load(conn: &mut DbConnection, q: &Query, by_hour: bool, whole_days: &[(i64, i64)]) -> Result<Vec<Row>, Error> {
    use crate::money::rollup::DAY;
    let level = q.level();
    let mut rows = diesel::sql_query(q.sql(by_hour, level, q.from_hour, q.to_hour, whole_days)).load::<Row>(conn)?;
    for (a, b) in whole_days {
        rows.extend(diesel::sql_query(q.sql(by_hour, level | DAY, *a, *b, &[])).load::<Row>(conn)?);
    }
    Ok(rows)
}

/// The UTC days wholly inside `[from, to)` as one interval (empty when there is none).
fn inner_days(from: i64, to: i64) -> Vec<(i64, i64)> {
    let first = (from + 86_399).div_euclid(86_400) * 86_400;
    let last = to.div_euclid(86_400) * 86_400;
    if first < last {
        vec![(first, last)]
    } else {
        vec![]
    }
}

/// Contiguous intervals of UTC days that each lie wholly inside one bucket of the series.
fn days_within_buckets(q: &Query) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = vec![];
    for (a, b) in inner_days(q.from_hour, q.to_hour) {
        let mut d = a;
        while d < b {
            let whole = bucket_start(q.tz, q.bucket, d) == bucket_start(q.tz, q.bucket, d + 86_400 - 3600) && q.bucket != Bucket::Hour;
            if whole {
                match out.last_mut() {
                    Some(last) if last.1 == d => last.1 = d + 86_400,
                    _ => out.push((d, d + 86_400)),
                }
            }
            d += 86_400;
        }
    }
    out
}

/// The currency of the amounts, when the campaigns in scope share one.
fn currency(conn: &mut DbConnection, q: &Query) -> Result<Option<String>, Error> {
    let mut query = campaigns::table.select(campaigns::currency).distinct().into_boxed();
    if let Some(c) = q.campaign_id {
        query = query.filter(campaigns::id.eq(c));
    }
    let list: Vec<String> = query.limit(2).load(conn)?;
    Ok(if list.len() == 1 {
        list.into_iter().next()
    } else if list.is_empty() {
        Some("USD".into())
    } else {
        None
    })
}

fn instant(hour: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(hour, 0).unwrap_or_default()
}

fn group_id(q: &Query, g: i64) -> Option<i64> {
    q.group_by.and((g != 0).then_some(g))
}

pub fn summary(conn: &mut DbConnection, q: &Query) -> Result<Summary, Error> {
    if q.by_call_text() {
        return by_text::summary(conn, q);
    }
    let rows = load(conn, q, false, &inner_days(q.from_hour, q.to_hour))?;
    let mut total = Sums::default();
    let mut by_group: BTreeMap<i64, Sums> = BTreeMap::new();
    for r in &rows {
        let s = r.sums();
        total.add(&s);
        if q.group_by.is_some() {
            by_group.entry(r.g).or_default().add(&s);
        }
    }
    let mut groups: Vec<(i64, Sums)> = by_group.into_iter().collect();
    groups.sort_by_key(|(g, s)| (-s.calls, *g));
    Ok(Summary {
        from: instant(q.from_hour),
        to: instant(q.to_hour),
        currency: currency(conn, q)?,
        group_by: q.group_by,
        total: metrics(&total, q.restricted),
        groups: groups
            .into_iter()
            .map(|(g, s)| GroupMetrics { id: group_id(q, g), key: None, metrics: metrics(&s, q.restricted) })
            .collect(),
    })
}

/// The local start of the bucket holding the UTC hour starting at `hour`, as a UTC instant.
pub fn bucket_start(tz: Tz, bucket: Bucket, hour: i64) -> DateTime<Utc> {
    let local = instant(hour).with_timezone(&tz).naive_local();
    let day = local.date();
    let start: NaiveDateTime = match bucket {
        Bucket::Hour => local.date().and_hms_opt(chrono::Timelike::hour(&local), 0, 0).unwrap_or(local),
        Bucket::Day => day.and_hms_opt(0, 0, 0).unwrap_or(local),
        Bucket::Week => {
            (day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))).and_hms_opt(0, 0, 0).unwrap_or(local)
        }
    };
    // A local start that falls in a DST gap begins when the clocks resume.
    let mut probe = start;
    for _ in 0..4 {
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
        probe += chrono::Duration::minutes(30);
    }
    instant(hour)
}

pub fn timeseries(conn: &mut DbConnection, q: &Query) -> Result<Timeseries, Error> {
    if q.by_call_text() {
        return by_text::timeseries(conn, q);
    }
    let rows = load(conn, q, true, &days_within_buckets(q))?;
    let mut buckets: BTreeMap<(DateTime<Utc>, i64), Sums> = BTreeMap::new();
    let mut cache: BTreeMap<i64, DateTime<Utc>> = BTreeMap::new();
    for r in &rows {
        let start = *cache.entry(r.h).or_insert_with(|| bucket_start(q.tz, q.bucket, r.h));
        buckets.entry((start, r.g)).or_default().add(&r.sums());
    }
    Ok(Timeseries {
        from: instant(q.from_hour),
        to: instant(q.to_hour),
        tz: q.tz.name().to_string(),
        bucket: q.bucket,
        currency: currency(conn, q)?,
        group_by: q.group_by,
        points: buckets
            .into_iter()
            .map(|((start, g), s)| TimeseriesPoint {
                start,
                local_start: start.with_timezone(&q.tz).to_rfc3339(),
                id: group_id(q, g),
                key: None,
                metrics: metrics(&s, q.restricted),
            })
            .collect(),
    })
}

/// Figures grouped by a text read from each call (a tag's value with `group_by=tag`, the rule
/// that blocked it with `group_by=blocked_by`), summed over the settled calls themselves: the
/// rollups keep neither. Calls without the key form the group without one.
mod by_text {
    use std::collections::BTreeMap;

    use callbroker_wire::{GroupBy, GroupMetrics, Summary, Timeseries, TimeseriesPoint};
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Nullable, Text};

    use super::{bucket_start, currency, instant, metrics, Query};
    use crate::db::{Backend, DbConnection};
    use crate::error::Error;
    use crate::money::rollup::Sums;

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        h: i64,
        #[diesel(sql_type = Nullable<Text>)]
        g: Option<String>,
        #[diesel(sql_type = BigInt)]
        calls: i64,
        #[diesel(sql_type = BigInt)]
        answered: i64,
        #[diesel(sql_type = BigInt)]
        qualified: i64,
        #[diesel(sql_type = BigInt)]
        duplicates: i64,
        #[diesel(sql_type = BigInt)]
        no_buyer: i64,
        #[diesel(sql_type = BigInt)]
        blocked: i64,
        #[diesel(sql_type = BigInt)]
        talk_secs: i64,
        #[diesel(sql_type = BigInt)]
        revenue_micros: i64,
        #[diesel(sql_type = BigInt)]
        payout_micros: i64,
        #[diesel(sql_type = BigInt)]
        cost_micros: i64,
        #[diesel(sql_type = BigInt)]
        offered: i64,
        #[diesel(sql_type = BigInt)]
        connected: i64,
    }

    impl Row {
        fn sums(&self) -> Sums {
            Sums {
                calls: self.calls,
                answered: self.answered,
                qualified: self.qualified,
                duplicates: self.duplicates,
                no_buyer: self.no_buyer,
                talk_secs: self.talk_secs,
                revenue_micros: self.revenue_micros,
                payout_micros: self.payout_micros,
                cost_micros: self.cost_micros,
                offered: self.offered,
                connected: self.connected,
                blocked: self.blocked,
            }
        }
    }

    fn pg_instant(t: i64) -> String {
        format!("(to_timestamp({t}) AT TIME ZONE 'UTC')")
    }

    /// As stored (`YYYY-MM-DD HH:MM:SS[.ffffff]`), so that text comparisons order it.
    fn sqlite_instant(t: i64) -> String {
        format!("datetime({t}, 'unixepoch')")
    }

    /// The query. Every interpolated value is an `i64`, a fixed text, or a tag name checked to
    /// hold only letters, digits, `_`, `-` and `.`.
    fn sql(q: &Query, backend: Backend, by_hour: bool) -> String {
        let (group, hour, at) = match backend {
            Backend::Postgres => (
                match q.group_by {
                    Some(GroupBy::Tag) => format!("(calls.tags::jsonb ->> '{}')", q.tag.as_deref().unwrap_or("")),
                    _ => "calls.blocked_by".to_string(),
                },
                "CAST(EXTRACT(EPOCH FROM date_trunc('hour', calls.started_at)) AS BIGINT)",
                pg_instant as fn(i64) -> String,
            ),
            Backend::Sqlite => (
                match q.group_by {
                    Some(GroupBy::Tag) => format!("json_extract(calls.tags, '$.\"{}\"')", q.tag.as_deref().unwrap_or("")),
                    _ => "calls.blocked_by".to_string(),
                },
                "(CAST(strftime('%s', calls.started_at) AS INTEGER) / 3600 * 3600)",
                sqlite_instant as fn(i64) -> String,
            ),
        };
        let hour = if by_hour { hour } else { "CAST(0 AS BIGINT)" };
        let mut filters = vec![
            "calls.settled_at IS NOT NULL".to_string(),
            format!("calls.started_at >= {}", at(q.from_hour)),
            format!("calls.started_at < {}", at(q.to_hour)),
        ];
        for (col, v) in [
            ("calls.campaign_id", q.campaign_id),
            ("calls.money_buyer_id", q.buyer_id),
            ("calls.publisher_id", q.publisher_id),
            ("calls.number_id", q.number_id),
        ] {
            if let Some(v) = v {
                filters.push(format!("{col} = {v}"));
            }
        }
        let flag = |c: &str| format!("CAST(SUM(CASE WHEN calls.{c} THEN 1 ELSE 0 END) AS BIGINT)");
        let legs = |c: &str| format!("CAST(SUM((SELECT COUNT(*) FROM call_legs l WHERE l.call_id = calls.id AND l.{c})) AS BIGINT)");
        format!(
            "SELECT {hour} AS h, {group} AS g, CAST(COUNT(*) AS BIGINT) AS calls, {} AS answered, {} AS qualified, {} AS duplicates, \
             {} AS no_buyer, CAST(SUM(CASE WHEN calls.blocked_by IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS blocked, \
             CAST(SUM(calls.talk_secs) AS BIGINT) AS talk_secs, CAST(SUM(calls.revenue_micros) AS BIGINT) AS revenue_micros, \
             CAST(SUM(calls.payout_micros) AS BIGINT) AS payout_micros, CAST(SUM(calls.counted_cost_micros) AS BIGINT) AS cost_micros, \
             {} AS offered, {} AS connected FROM calls WHERE {} GROUP BY 1, 2",
            flag("answered"),
            flag("qualified"),
            flag("duplicate"),
            flag("no_buyer"),
            legs("counted"),
            legs("counted_connected"),
            filters.join(" AND "),
        )
    }

    fn load(conn: &mut DbConnection, q: &Query, by_hour: bool) -> Result<Vec<Row>, Error> {
        let backend = crate::store::calls::query::backend_of(conn);
        Ok(diesel::sql_query(sql(q, backend, by_hour)).load::<Row>(conn)?)
    }

    pub fn summary(conn: &mut DbConnection, q: &Query) -> Result<Summary, Error> {
        let rows = load(conn, q, false)?;
        let mut total = Sums::default();
        let mut groups: BTreeMap<Option<String>, Sums> = BTreeMap::new();
        for r in &rows {
            total.add(&r.sums());
            groups.entry(r.g.clone()).or_default().add(&r.sums());
        }
        let mut groups: Vec<(Option<String>, Sums)> = groups.into_iter().collect();
        groups.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then_with(|| a.0.cmp(&b.0)));
        Ok(Summary {
            from: instant(q.from_hour),
            to: instant(q.to_hour),
            currency: currency(conn, q)?,
            group_by: q.group_by,
            total: metrics(&total, q.restricted),
            groups: groups.into_iter().map(|(key, s)| GroupMetrics { id: None, key, metrics: metrics(&s, q.restricted) }).collect(),
        })
    }

    pub fn timeseries(conn: &mut DbConnection, q: &Query) -> Result<Timeseries, Error> {
        let rows = load(conn, q, true)?;
        let mut buckets: BTreeMap<(chrono::DateTime<chrono::Utc>, Option<String>), Sums> = BTreeMap::new();
        for r in &rows {
            buckets.entry((bucket_start(q.tz, q.bucket, r.h), r.g.clone())).or_default().add(&r.sums());
        }
        Ok(Timeseries {
            from: instant(q.from_hour),
            to: instant(q.to_hour),
            tz: q.tz.name().to_string(),
            bucket: q.bucket,
            currency: currency(conn, q)?,
            group_by: q.group_by,
            points: buckets
                .into_iter()
                .map(|((start, key), s)| TimeseriesPoint {
                    start,
                    local_start: start.with_timezone(&q.tz).to_rfc3339(),
                    id: None,
                    key,
                    metrics: metrics(&s, q.restricted),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).map(|t| t.timestamp()).unwrap_or_default()
    }

    #[test]
    fn buckets_in_whole_hour_and_half_hour_zones() {
        let ny: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        // 03:00 UTC on 26 Nov is 22:00 on 25 Nov in New York.
        assert_eq!(bucket_start(ny, Bucket::Day, h("2026-11-26T03:00:00Z")), instant(h("2026-11-25T05:00:00Z")));
        assert_eq!(bucket_start(ny, Bucket::Hour, h("2026-11-26T03:00:00Z")), instant(h("2026-11-26T03:00:00Z")));
        // 26 Nov 2026 is a Thursday: its week starts Monday 23 Nov.
        assert_eq!(bucket_start(Tz::UTC, Bucket::Week, h("2026-11-26T10:00:00Z")), instant(h("2026-11-23T00:00:00Z")));
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap_or(Tz::UTC);
        // 18:00 UTC is 23:30 local: counted in the local day it starts in.
        assert_eq!(bucket_start(kolkata, Bucket::Day, h("2026-11-26T18:00:00Z")), instant(h("2026-11-25T18:30:00Z")));
        assert_eq!(bucket_start(kolkata, Bucket::Day, h("2026-11-26T19:00:00Z")), instant(h("2026-11-26T18:30:00Z")));
    }

    #[test]
    fn day_start_inside_a_dst_gap() {
        // Santiago skips 00:00–01:00 on its spring-forward day (6 Sep 2026).
        let scl: Tz = "America/Santiago".parse().unwrap_or(Tz::UTC);
        let start = bucket_start(scl, Bucket::Day, h("2026-09-06T12:00:00Z"));
        assert_eq!(start.with_timezone(&scl).date_naive().to_string(), "2026-09-06");
    }
}
