//! A campaign's external bidders, and the pings sent to them (kept per call or per publisher
//! quote). Header values are sealed with the instance's keyring before they are written, and
//! leave only masked.
use std::collections::BTreeMap;

use callbroker_wire::bidding::{BidMapping, BidPing, Bidder, BidderPatch, NewBidder, PingMethod, PingOutcome};
use callbroker_wire::Status;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{json_column, to_json, utc};
use crate::crypto::Keyring;
use crate::db::schema::{bid_pings, bidders, campaigns};
use crate::db::stamp::{MaybeStamp, Stamp};
use crate::db::{now, DbConnection};
use crate::domain::validate;
use crate::error::{Error, FieldErrors};
use crate::routing::bids::{self, Escape, PingFacts};
use callbroker_wire::rules::{self, Int};

/// What header values are sealed for.
pub const HEADER_PURPOSE: &str = "bidder-header";

/// At most this many headers per bidder.
pub const MAX_HEADERS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = bidders)]
pub struct BidderRow {
    pub id: i64,
    pub campaign_id: i64,
    pub name: String,
    pub status: String,
    pub url: String,
    pub method: String,
    /// Name → sealed value, a JSON object.
    pub headers: String,
    pub body_template: String,
    pub timeout_ms: i32,
    pub mapping: String,
    pub allow_private: bool,
    pub expose_caller: bool,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
}

impl BidderRow {
    pub fn active(&self) -> bool {
        Status::parse(&self.status) == Some(Status::Active)
    }

    /// How long a ping may take.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::try_from(self.timeout_ms.max(1)).unwrap_or(1000))
    }

    pub fn method(&self) -> PingMethod {
        PingMethod::parse(&self.method).unwrap_or_default()
    }

    pub fn mapping(&self) -> Result<BidMapping, Error> {
        json_column("bidders.mapping", &self.mapping)
    }

    /// Header name → sealed value.
    pub fn sealed_headers(&self) -> Result<BTreeMap<String, String>, Error> {
        json_column("bidders.headers", &self.headers)
    }

    /// The headers in clear, to send.
    pub fn headers(&self, keys: &Keyring) -> Result<Vec<(String, String)>, Error> {
        self.sealed_headers()?.into_iter().map(|(name, sealed)| Ok((name, keys.open(HEADER_PURPOSE, &sealed)?))).collect()
    }

    pub fn into_wire(self, keys: &Keyring) -> Result<Bidder, Error> {
        let headers = self.headers(keys)?.into_iter().map(|(name, value)| (name, mask(&value))).collect();
        Ok(Bidder {
            mapping: self.mapping()?,
            status: Status::parse(&self.status).unwrap_or(Status::Paused),
            method: self.method(),
            id: self.id,
            campaign_id: self.campaign_id,
            name: self.name,
            url: self.url,
            headers,
            body_template: self.body_template,
            timeout_ms: self.timeout_ms,
            allow_private: self.allow_private,
            expose_caller: self.expose_caller,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

/// A secret as shown: its last four characters when it is long enough to keep the rest hidden.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= 12 {
        format!("••••{}", chars[chars.len() - 4..].iter().collect::<String>())
    } else {
        "••••".into()
    }
}

/// Validated values of a bidder; `headers` in clear (sealed by [`create`] and [`update`]).
#[derive(Debug, Clone)]
pub struct BidderValues {
    pub campaign_id: i64,
    pub name: String,
    pub status: Status,
    pub url: String,
    pub method: PingMethod,
    pub headers: BTreeMap<String, String>,
    pub body_template: String,
    pub timeout_ms: i32,
    pub mapping: BidMapping,
    pub allow_private: bool,
    pub expose_caller: bool,
}

/// [`rules::BidderUrl`].
pub fn url_fits(s: &str) -> bool {
    s.chars().count() <= rules::BidderUrl::MAX_CHARS
}

/// [`rules::HeaderValue`].
pub fn header_value_fits(s: &str) -> bool {
    let n = s.chars().count();
    (rules::HeaderValue::MIN_CHARS..=rules::HeaderValue::MAX_CHARS).contains(&n)
        && s.chars().all(|c| c == ' ' || c.is_ascii_graphic())
        && s.chars().any(|c| c.is_ascii_graphic())
}

/// [`rules::BodyTemplate`].
pub fn body_fits(s: &str) -> bool {
    s.chars().count() <= rules::BodyTemplate::MAX_CHARS && !s.contains('\0')
}

/// [`rules::JsonPointer`].
pub fn json_pointer_fits(s: &str) -> bool {
    if s.chars().count() > rules::JsonPointer::MAX_CHARS || s.contains('\0') || !(s.is_empty() || s.starts_with('/')) {
        return false;
    }
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return false;
        }
    }
    true
}

/// A header name: 1 to 64 letters, digits and `-`, not one the client sets itself.
fn header_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err("header names are 1 to 64 letters, digits and `-`");
    }
    let lower = name.to_ascii_lowercase();
    if ["host", "content-length", "transfer-encoding", "connection", "content-type"].contains(&lower.as_str()) {
        return Err("this header is set by Callbroker");
    }
    Ok(())
}

impl BidderValues {
    /// Checks every field (each problem named), the template and mapping filled with sample
    /// values, and the URL's target.
    pub fn validate(self, allow: &crate::outbound::AllowList) -> Result<BidderValues, Error> {
        let mut errors = FieldErrors::new();
        let mut v = self;
        match validate::name(&v.name) {
            Ok(n) => v.name = n,
            Err(e) => errors.add("name", e),
        }
        if !url_fits(&v.url) {
            errors.add("url", format!("at most {} characters", rules::BidderUrl::MAX_CHARS));
        } else if let Err(e) = check_url(v.url.trim(), v.expose_caller, v.allow_private, allow) {
            errors.add("url", e);
        }
        if v.headers.len() > MAX_HEADERS {
            errors.add("headers", format!("at most {MAX_HEADERS} headers"));
        }
        for (name, value) in &v.headers {
            if let Err(e) = header_name(name) {
                errors.add(format!("headers.{name}"), e);
            } else if !header_value_fits(value) {
                errors.add(format!("headers.{name}"), "1 to 1000 visible ASCII characters or spaces");
            }
        }
        if !body_fits(&v.body_template) {
            errors.add("body_template", format!("at most {} characters, without NUL", rules::BodyTemplate::MAX_CHARS));
        } else if let Err(e) = check_body(&v.body_template, v.method, v.expose_caller) {
            errors.add("body_template", e);
        }
        if !rules::PingTimeoutMs::contains(v.timeout_ms) {
            errors.add("timeout_ms", rules::PingTimeoutMs::refusal());
        }
        let m = &v.mapping;
        for (field, pointer) in [
            ("mapping.amount", Some(&m.amount)),
            ("mapping.number", Some(&m.number)),
            ("mapping.accept", m.accept.as_ref()),
            ("mapping.expires", m.expires.as_ref()),
            ("mapping.min_duration", m.min_duration.as_ref()),
        ] {
            if pointer.is_some_and(|p| !json_pointer_fits(p)) {
                errors.add(field, "a JSON Pointer: empty, or `/`-separated tokens with `~` written `~0` or `~1`");
            }
        }
        errors.into_result()?;
        v.url = v.url.trim().to_string();
        Ok(v)
    }

    pub fn from_new(n: &NewBidder) -> BidderValues {
        BidderValues {
            campaign_id: n.campaign_id,
            name: n.name.clone(),
            status: n.status.unwrap_or_default(),
            url: n.url.clone(),
            method: n.method.unwrap_or_default(),
            headers: n.headers.clone().unwrap_or_default(),
            body_template: n.body_template.clone().unwrap_or_default(),
            timeout_ms: n.timeout_ms.unwrap_or(1000),
            mapping: n.mapping.clone(),
            allow_private: n.allow_private.unwrap_or(false),
            expose_caller: n.expose_caller.unwrap_or(false),
        }
    }

    /// The row changed by `p` (headers: a value sets, `null` removes, others kept).
    pub fn merge(row: &BidderRow, p: &BidderPatch, keys: &Keyring) -> Result<BidderValues, Error> {
        let mut headers: BTreeMap<String, String> = row.headers(keys)?.into_iter().collect();
        for (name, value) in p.headers.iter().flatten() {
            match value {
                Some(v) => headers.insert(name.clone(), v.clone()),
                None => headers.remove(name),
            };
        }
        Ok(BidderValues {
            campaign_id: row.campaign_id,
            name: p.name.clone().unwrap_or_else(|| row.name.clone()),
            status: p.status.unwrap_or_else(|| Status::parse(&row.status).unwrap_or(Status::Paused)),
            url: p.url.clone().unwrap_or_else(|| row.url.clone()),
            method: p.method.unwrap_or_else(|| row.method()),
            headers,
            body_template: p.body_template.clone().unwrap_or_else(|| row.body_template.clone()),
            timeout_ms: p.timeout_ms.unwrap_or(row.timeout_ms),
            mapping: match &p.mapping {
                Some(m) => m.clone(),
                None => row.mapping()?,
            },
            allow_private: p.allow_private.unwrap_or(row.allow_private),
            expose_caller: p.expose_caller.unwrap_or(row.expose_caller),
        })
    }

    fn columns(&self, keys: &Keyring) -> Result<BidderColumns, Error> {
        let sealed: BTreeMap<String, String> =
            self.headers.iter().map(|(n, v)| Ok((n.clone(), keys.seal(HEADER_PURPOSE, v)?))).collect::<Result<_, Error>>()?;
        Ok(BidderColumns {
            campaign_id: self.campaign_id,
            name: self.name.clone(),
            status: self.status.as_str().to_string(),
            url: self.url.clone(),
            method: self.method.as_str().to_string(),
            headers: to_json(&sealed),
            body_template: self.body_template.clone(),
            timeout_ms: self.timeout_ms,
            mapping: to_json(&self.mapping),
            allow_private: self.allow_private,
            expose_caller: self.expose_caller,
        })
    }
}

/// The URL template: known placeholders, `{caller}` only when exposed, and filled with sample
/// values an `http(s)` URL with a host that is not a private literal address (unless allowed).
fn check_url(url: &str, expose_caller: bool, allow_private: bool, allow: &crate::outbound::AllowList) -> Result<(), String> {
    let pieces = bids::parse_template(url).map_err(|u| format!("{{{}}} is not a placeholder", u.0))?;
    if bids::exposes_caller(&pieces) && !expose_caller {
        return Err("{caller} needs expose_caller; use {caller_area_code}".into());
    }
    let filled = bids::fill(&pieces, &PingFacts::sample(), Escape::Url);
    let parsed = url::Url::parse(&filled).map_err(|_| "not a URL once filled with sample values".to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err("must be an http:// or https:// URL with a host".into());
    }
    if !allow_private {
        if let Err(crate::outbound::Failure::Refused) = crate::outbound::check_target(allow, &parsed) {
            return Err("points to a private address; set allow_private to ping it".into());
        }
    }
    Ok(())
}

/// The body template: known placeholders, `{caller}` only when exposed, and for `POST`, JSON once
/// filled with sample values (empty: the standard body).
fn check_body(template: &str, method: PingMethod, expose_caller: bool) -> Result<(), String> {
    let pieces = bids::parse_template(template).map_err(|u| format!("{{{}}} is not a placeholder", u.0))?;
    if bids::exposes_caller(&pieces) && !expose_caller {
        return Err("{caller} needs expose_caller; use {caller_area_code}".into());
    }
    if method == PingMethod::Post && !template.trim().is_empty() {
        let filled = bids::fill(&pieces, &PingFacts::sample(), Escape::Json);
        serde_json::from_str::<serde_json::Value>(&filled).map_err(|e| format!("not JSON once filled with sample values: {e}"))?;
    }
    Ok(())
}

#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = bidders)]
struct BidderColumns {
    campaign_id: i64,
    name: String,
    status: String,
    url: String,
    method: String,
    headers: String,
    body_template: String,
    timeout_ms: i32,
    mapping: String,
    allow_private: bool,
    expose_caller: bool,
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<BidderRow>, Error> {
    Ok(bidders::table.find(id).select(BidderRow::as_select()).first(conn).optional()?)
}

pub fn get_row(conn: &mut DbConnection, id: i64) -> Result<BidderRow, Error> {
    find(conn, id)?.ok_or(Error::NotFound("bidder"))
}

fn campaign_exists(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    let found: i64 = campaigns::table.filter(campaigns::id.eq(id)).count().get_result(conn)?;
    if found == 0 {
        return Err(Error::field("campaign_id", "no such campaign"));
    }
    Ok(())
}

pub fn create(conn: &mut DbConnection, v: &BidderValues, keys: &Keyring) -> Result<Bidder, Error> {
    campaign_exists(conn, v.campaign_id)?;
    let t = now();
    let id: i64 = diesel::insert_into(bidders::table)
        .values((&v.columns(keys)?, bidders::created_at.eq(t), bidders::updated_at.eq(t)))
        .returning(bidders::id)
        .get_result(conn)?;
    get_row(conn, id)?.into_wire(keys)
}

pub fn update(conn: &mut DbConnection, id: i64, v: &BidderValues, keys: &Keyring) -> Result<Bidder, Error> {
    let n = diesel::update(bidders::table.find(id)).set((&v.columns(keys)?, bidders::updated_at.eq(now()))).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("bidder"));
    }
    get_row(conn, id)?.into_wire(keys)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    if diesel::delete(bidders::table.find(id)).execute(conn)? == 0 {
        return Err(Error::NotFound("bidder"));
    }
    Ok(())
}

pub fn list(conn: &mut DbConnection, campaign: Option<i64>, keys: &Keyring) -> Result<Vec<Bidder>, Error> {
    let mut q = bidders::table.into_boxed();
    if let Some(c) = campaign {
        q = q.filter(bidders::campaign_id.eq(c));
    }
    let rows: Vec<BidderRow> = q.select(BidderRow::as_select()).order(bidders::id.asc()).load(conn)?;
    rows.into_iter().map(|r| r.into_wire(keys)).collect()
}

/// Every bidder (the directory's copy).
pub fn all(conn: &mut DbConnection) -> Result<Vec<BidderRow>, Error> {
    Ok(bidders::table.select(BidderRow::as_select()).order(bidders::id.asc()).load(conn)?)
}

/// Reseals every stored header value under the current key; returns how many values changed.
pub fn reseal_headers(conn: &mut DbConnection, keys: &Keyring) -> Result<usize, Error> {
    let rows: Vec<(i64, String)> = bidders::table.select((bidders::id, bidders::headers)).load(conn)?;
    let mut changed = 0;
    for (id, headers) in rows {
        let mut map: BTreeMap<String, String> = json_column("bidders.headers", &headers)?;
        let mut any = false;
        for value in map.values_mut() {
            if let Some(new) = keys.reseal(HEADER_PURPOSE, value)? {
                *value = new;
                any = true;
                changed += 1;
            }
        }
        if any {
            diesel::update(bidders::table.find(id)).set(bidders::headers.eq(to_json(&map))).execute(conn)?;
        }
    }
    Ok(changed)
}

/// A ping as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = bid_pings)]
pub struct PingRow {
    pub campaign_id: i64,
    pub bidder_id: Option<i64>,
    pub bidder_name: String,
    pub call_id: Option<i64>,
    pub quote_id: Option<i64>,
    #[diesel(deserialize_as = Stamp)]
    pub at: NaiveDateTime,
    pub latency_ms: i32,
    pub outcome: String,
    pub detail: Option<String>,
    pub bid_micros: Option<i64>,
    pub dial_to: Option<String>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub expires_at: Option<NaiveDateTime>,
    pub min_duration_secs: Option<i32>,
}

impl PingRow {
    /// Its bid as routing weighs it, when it made one (`won` or `outbid`).
    pub fn offer(&self) -> Option<crate::routing::bids::Offer> {
        if !self.outcome().is_bid() {
            return None;
        }
        Some(crate::routing::bids::Offer {
            bidder_id: self.bidder_id?,
            amount_micros: self.bid_micros?,
            latency_ms: self.latency_ms,
            expires_at: self.expires_at.map(|t| t.and_utc()),
        })
    }

    pub fn outcome(&self) -> PingOutcome {
        PingOutcome::parse(&self.outcome).unwrap_or(PingOutcome::Error)
    }

    pub fn into_wire(self, id: i64) -> BidPing {
        BidPing {
            id,
            outcome: self.outcome(),
            bidder_id: self.bidder_id,
            bidder_name: self.bidder_name,
            at: utc(self.at),
            latency_ms: self.latency_ms,
            detail: self.detail,
            bid_micros: self.bid_micros,
            dial_to: self.dial_to,
            expires_at: self.expires_at.map(utc),
            min_duration_secs: self.min_duration_secs,
        }
    }
}

/// Writes pings (outside the call flow's commit: a publisher's quote).
pub fn insert_pings(conn: &mut DbConnection, rows: &[PingRow]) -> Result<(), Error> {
    for row in rows {
        diesel::insert_into(bid_pings::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// The pings of call `call_id` (or of quote `quote_id`), in the order they were written.
pub fn pings_of(conn: &mut DbConnection, call_id: Option<i64>, quote_id: Option<i64>) -> Result<Vec<(i64, PingRow)>, Error> {
    let mut q = bid_pings::table.into_boxed();
    match (call_id, quote_id) {
        (Some(c), _) => q = q.filter(bid_pings::call_id.eq(c)),
        (None, Some(qid)) => q = q.filter(bid_pings::quote_id.eq(qid)),
        (None, None) => return Ok(vec![]),
    }
    Ok(q.select((bid_pings::id, PingRow::as_select())).order(bid_pings::id.asc()).load(conn)?)
}

/// Marks `bidder`'s ping of call `call_id` won (a failover dialled its bid).
pub fn mark_won(conn: &mut DbConnection, call_id: i64, bidder: i64) -> Result<(), Error> {
    diesel::update(bid_pings::table.filter(bid_pings::call_id.eq(call_id)).filter(bid_pings::bidder_id.eq(bidder)))
        .set(bid_pings::outcome.eq(PingOutcome::Won.as_str()))
        .execute(conn)?;
    Ok(())
}

/// A group of pings: bidder, its name, an outcome, pings, their bids' sum and latencies' sum.
type Group = (Option<i64>, String, String, i64, Option<i64>, Option<i64>);

/// The bidders' figures over pings sent in `[from, to)` (and the revenue of settled calls
/// started then), per bidder, busiest first.
pub fn stats(
    conn: &mut DbConnection,
    campaign: Option<i64>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<callbroker_wire::bidding::BidderStats>, Error> {
    use crate::db::schema::calls;
    use diesel::dsl::{count_star, sql};
    use diesel::sql_types::{BigInt, Nullable};
    // One campaign, or all.
    let (lo, hi) = campaign.map_or((i64::MIN, i64::MAX), |c| (c, c));
    let rows: Vec<Group> = bid_pings::table
        .filter(bid_pings::at.ge(Stamp(from)))
        .filter(bid_pings::at.lt(Stamp(to)))
        .filter(bid_pings::campaign_id.between(lo, hi))
        .group_by((bid_pings::bidder_id, bid_pings::bidder_name, bid_pings::outcome))
        .select((
            bid_pings::bidder_id,
            bid_pings::bidder_name,
            bid_pings::outcome,
            count_star(),
            sql::<Nullable<BigInt>>("CAST(SUM(bid_pings.bid_micros) AS BIGINT)"),
            sql::<Nullable<BigInt>>("CAST(SUM(bid_pings.latency_ms) AS BIGINT)"),
        ))
        .load(conn)?;
    let revenue: Vec<(Option<i64>, Option<i64>)> = calls::table
        .filter(calls::started_at.ge(Stamp(from)))
        .filter(calls::started_at.lt(Stamp(to)))
        .filter(calls::money_bidder_id.is_not_null())
        .filter(calls::campaign_id.between(lo, hi))
        .group_by(calls::money_bidder_id)
        .select((calls::money_bidder_id, sql::<Nullable<BigInt>>("CAST(SUM(calls.revenue_micros) AS BIGINT)")))
        .load(conn)?;
    let mut by: BTreeMap<(Option<i64>, String), callbroker_wire::bidding::BidderStats> = BTreeMap::new();
    let mut latency: BTreeMap<(Option<i64>, String), i64> = BTreeMap::new();
    for (bidder_id, name, outcome, n, bid_sum, latency_sum) in rows {
        let key = (bidder_id, name.clone());
        let s = by.entry(key.clone()).or_insert_with(|| callbroker_wire::bidding::BidderStats {
            bidder_id,
            bidder_name: name,
            pings: 0,
            bids: 0,
            wins: 0,
            win_rate: 0.0,
            timeouts: 0,
            other_failures: 0,
            total_bid_micros: 0,
            average_bid_micros: None,
            revenue_micros: 0,
            average_latency_ms: None,
        });
        s.pings += n;
        *latency.entry(key).or_default() += latency_sum.unwrap_or(0);
        match PingOutcome::parse(&outcome) {
            Some(o) if o.is_bid() => {
                s.bids += n;
                s.total_bid_micros += bid_sum.unwrap_or(0);
                if o == PingOutcome::Won {
                    s.wins += n;
                }
            }
            Some(PingOutcome::Timeout) => s.timeouts += n,
            _ => s.other_failures += n,
        }
    }
    let mut out: Vec<_> = by
        .into_iter()
        .map(|(key, mut s)| {
            s.win_rate = ratio(s.wins, s.pings);
            s.average_bid_micros = (s.bids > 0).then(|| s.total_bid_micros / s.bids);
            s.average_latency_ms = (s.pings > 0).then(|| latency.get(&key).copied().unwrap_or(0) / s.pings);
            s.revenue_micros =
                revenue.iter().filter(|(b, _)| *b == s.bidder_id && s.bidder_id.is_some()).map(|(_, r)| r.unwrap_or(0)).sum();
            s
        })
        .collect();
    out.sort_by_key(|s| (std::cmp::Reverse(s.pings), s.bidder_id));
    Ok(out)
}

/// `part / whole` (0 when `whole` is 0).
#[allow(clippy::cast_precision_loss, reason = "counts of pings, far below 2^52")]
fn ratio(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}
