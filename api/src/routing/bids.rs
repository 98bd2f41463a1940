//! Bidders, without the I/O: filling a ping's template with the call's facts, reading a bid from
//! a bidder's answer through its mapping, and placing the valid bids in the routing order beside
//! the static buyers the engine ranked.
//!
//! Pure: the answers, the clock and the static decision are inputs; [`crate::bidding`] sends the
//! pings and the call flow dials what [`order`] returns.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Serialize;

use callbroker_wire::bidding::{BidMapping, BidSettings, PingOutcome};
use callbroker_wire::screening::Tags;

/// What a ping may tell a bidder of the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PingFacts {
    /// The call's id for the bidder: its Twilio `CallSid` (or a quote's ping id).
    pub call_id: String,
    /// E.164; sent only to bidders that may see it ([`Placeholder::Caller`]).
    pub caller: String,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub city: Option<String>,
    pub publisher_id: Option<i64>,
    pub campaign_id: i64,
    pub tags: Tags,
}

impl PingFacts {
    /// The values a template is checked with.
    pub fn sample() -> PingFacts {
        PingFacts {
            call_id: "CA00000000000000000000000000000000".into(),
            caller: "+12015550123".into(),
            state: Some("NJ".into()),
            zip: Some("07030".into()),
            city: Some("Hoboken".into()),
            publisher_id: Some(1),
            campaign_id: 1,
            tags: Tags::new(),
        }
    }
}

/// A placeholder of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder<'a> {
    CallId,
    Caller,
    CallerAreaCode,
    State,
    Zip,
    City,
    PublisherId,
    CampaignId,
    Tag(&'a str),
}

impl<'a> Placeholder<'a> {
    /// The placeholder named `name` (what stands between the braces), if it is one.
    fn named(name: &'a str) -> Option<Placeholder<'a>> {
        Some(match name {
            "call_id" => Placeholder::CallId,
            "caller" => Placeholder::Caller,
            "caller_area_code" => Placeholder::CallerAreaCode,
            "state" => Placeholder::State,
            "zip" => Placeholder::Zip,
            "city" => Placeholder::City,
            "publisher_id" => Placeholder::PublisherId,
            "campaign_id" => Placeholder::CampaignId,
            _ => Placeholder::Tag(name.strip_prefix("tag:").filter(|t| super::tags::valid_name(t))?),
        })
    }

    fn value(&self, f: &PingFacts) -> String {
        match self {
            Placeholder::CallId => f.call_id.clone(),
            Placeholder::Caller => f.caller.clone(),
            Placeholder::CallerAreaCode => super::nanp_area_code(&f.caller).map(|a| format!("{a:03}")).unwrap_or_default(),
            Placeholder::State => f.state.clone().unwrap_or_default(),
            Placeholder::Zip => f.zip.clone().unwrap_or_default(),
            Placeholder::City => f.city.clone().unwrap_or_default(),
            Placeholder::PublisherId => f.publisher_id.map(|p| p.to_string()).unwrap_or_default(),
            Placeholder::CampaignId => f.campaign_id.to_string(),
            Placeholder::Tag(name) => f.tags.get(*name).cloned().unwrap_or_default(),
        }
    }
}

/// A piece of a template: literal text, or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Slot(Placeholder<'a>),
}

/// A brace followed by something that looks like a placeholder's name but is none: the template
/// cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPlaceholder(pub String);

/// Splits a template into text and placeholders. `{name}` where `name` is made of lower-case
/// letters, digits, `_` (or is `tag:NAME`) is a placeholder and must be a known one; any other
/// brace is literal (a JSON body's own braces).
pub fn parse_template(template: &str) -> Result<Vec<Piece<'_>>, UnknownPlaceholder> {
    let mut pieces = vec![];
    let mut rest = template;
    let mut literal_from = 0usize;
    let mut at = 0usize;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let candidate = after.find('}').map(|close| &after[..close]).filter(|name| looks_like_placeholder(name));
        match candidate {
            Some(name) => {
                let slot = Placeholder::named(name).ok_or_else(|| UnknownPlaceholder(name.to_string()))?;
                let start = at + open;
                if start > literal_from {
                    pieces.push(Piece::Text(&template[literal_from..start]));
                }
                pieces.push(Piece::Slot(slot));
                let consumed = open + 1 + name.len() + 1;
                at += consumed;
                literal_from = at;
                rest = &rest[consumed..];
            }
            None => {
                at += open + 1;
                rest = after;
            }
        }
    }
    if literal_from < template.len() {
        pieces.push(Piece::Text(&template[literal_from..]));
    }
    Ok(pieces)
}

fn looks_like_placeholder(name: &str) -> bool {
    let (head, tail) = name.split_once(':').map_or((name, None), |(h, t)| (h, Some(t)));
    !head.is_empty()
        && head.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && tail.is_none_or(|t| !t.is_empty() && !t.contains(['"', '{', '}', ' ', '\n']))
}

/// How values are written into a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Inside a JSON string: quotes, backslashes and control characters escaped.
    Json,
    /// Inside a URL: percent-encoded.
    Url,
}

/// Fills a parsed template.
pub fn fill(pieces: &[Piece<'_>], facts: &PingFacts, escape: Escape) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Slot(p) => {
                let value = p.value(facts);
                match escape {
                    Escape::Json => {
                        let quoted = serde_json::to_string(&value).unwrap_or_default();
                        out.push_str(&quoted[1..quoted.len().saturating_sub(1)]);
                    }
                    Escape::Url => out.extend(url::form_urlencoded::byte_serialize(value.as_bytes())),
                }
            }
        }
    }
    out
}

/// Whether a template holds the caller's whole number.
pub fn exposes_caller(pieces: &[Piece<'_>]) -> bool {
    pieces.iter().any(|p| matches!(p, Piece::Slot(Placeholder::Caller)))
}

/// A bid read from an answer, before the floor and the clock are applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bid {
    pub amount_micros: i64,
    /// E.164 or `sip:` URI.
    pub dial_to: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub min_duration_secs: Option<i32>,
}

/// Why an answer holds no usable bid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoBid {
    pub outcome: PingOutcome,
    pub detail: String,
}

impl NoBid {
    fn new(outcome: PingOutcome, detail: impl Into<String>) -> NoBid {
        NoBid { outcome, detail: detail.into() }
    }
}

/// Reads a bid out of a bidder's answer (`status`, `body`) through `mapping`, received at `now`;
/// a bid below `floor_micros` is out.
#[allow(clippy::cast_possible_truncation, reason = "a whole number of seconds, range-checked after")]
pub fn read_answer(mapping: &BidMapping, status: u16, body: &[u8], floor_micros: i64, now: DateTime<Utc>) -> Result<Bid, NoBid> {
    if !(200..300).contains(&status) {
        return Err(NoBid::new(PingOutcome::Error, format!("HTTP {status}")));
    }
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|_| NoBid::new(PingOutcome::Invalid, "the answer is not JSON"))?;
    let at = |pointer: &str| doc.pointer(pointer).filter(|v| !v.is_null());
    if let Some(accept) = mapping.accept.as_deref() {
        match at(accept) {
            Some(serde_json::Value::Bool(true)) => {}
            Some(serde_json::Value::Bool(false)) => return Err(NoBid::new(PingOutcome::Rejected, "the bidder declined")),
            Some(_) => return Err(NoBid::new(PingOutcome::Invalid, format!("{accept} is not true or false"))),
            None => return Err(NoBid::new(PingOutcome::Rejected, format!("no {accept} in the answer"))),
        }
    }
    let amount = match at(&mapping.amount) {
        None => return Err(NoBid::new(PingOutcome::Rejected, format!("no bid at {}", mapping.amount))),
        Some(v) => amount_micros(v).ok_or_else(|| NoBid::new(PingOutcome::Invalid, format!("{} is not an amount", mapping.amount)))?,
    };
    if amount <= 0 {
        return Err(NoBid::new(PingOutcome::Rejected, "a bid of zero"));
    }
    let dial_to = match at(&mapping.number) {
        Some(serde_json::Value::String(s)) if dialable(s.trim()) => s.trim().to_string(),
        Some(_) => return Err(NoBid::new(PingOutcome::Invalid, format!("{} is not an E.164 number or a SIP URI", mapping.number))),
        None => return Err(NoBid::new(PingOutcome::Invalid, format!("no number at {}", mapping.number))),
    };
    let expires_at = match mapping.expires.as_deref().map(|p| (p, at(p))) {
        None | Some((_, None)) => None,
        Some((p, Some(v))) => Some(expiry(v, now).ok_or_else(|| NoBid::new(PingOutcome::Invalid, format!("{p} is not a time")))?),
    };
    let min_duration_secs = match mapping.min_duration.as_deref().map(|p| (p, at(p))) {
        None | Some((_, None)) => None,
        Some((p, Some(v))) => Some(
            v.as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .and_then(|s| i32::try_from(s).ok())
                .filter(|s| (0..=86_400).contains(s))
                .ok_or_else(|| NoBid::new(PingOutcome::Invalid, format!("{p} is not a number of seconds")))?,
        ),
    };
    if amount < floor_micros {
        return Err(NoBid::new(PingOutcome::BelowFloor, format!("{amount} below the floor {floor_micros}")));
    }
    Ok(Bid { amount_micros: amount, dial_to, expires_at, min_duration_secs })
}

/// An amount in currency units (a number or a decimal text) as micro-units; at most a million
/// units.
#[allow(clippy::cast_possible_truncation, reason = "at most 10^12 micro-units, checked before the cast")]
fn amount_micros(v: &serde_json::Value) -> Option<i64> {
    let units = match v {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().trim_start_matches('$').parse::<f64>().ok()?,
        _ => return None,
    };
    (units.is_finite() && (0.0..=1_000_000.0).contains(&units)).then(|| (units * 1_000_000.0).round() as i64)
}

/// An E.164 number or a SIP URI.
pub fn dialable(s: &str) -> bool {
    let e164 =
        s.strip_prefix('+').is_some_and(|d| (2..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'));
    let sip = s.len() <= 500
        && s.strip_prefix("sip:")
            .or_else(|| s.strip_prefix("sips:"))
            .is_some_and(|r| r.contains('@') && !r.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>'));
    e164 || sip
}

/// A bid's expiry: seconds from `now`, or an RFC 3339 time.
#[allow(clippy::cast_possible_truncation, reason = "at most a day of milliseconds, checked before the cast")]
fn expiry(v: &serde_json::Value, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match v {
        serde_json::Value::Number(n) => {
            let secs = n.as_f64().filter(|s| s.is_finite() && (0.0..=86_400.0).contains(s))?;
            Some(now + chrono::Duration::milliseconds((secs * 1000.0) as i64))
        }
        serde_json::Value::String(s) => DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

/// A valid bid of one bidder, as routing weighs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub bidder_id: i64,
    pub amount_micros: i64,
    pub latency_ms: i32,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A static buyer the engine ranked, as [`order`] weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranked {
    pub buyer_id: i64,
    pub priority: i32,
    pub price_micros: i64,
    /// The repeat caller's buyer the engine moved to the front: it stays first.
    pub pinned: bool,
}

/// One entry of the final ringing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Buyer { buyer_id: i64 },
    Bid { bidder_id: i64 },
}

/// Why a bid is not in the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dropped {
    pub bidder_id: i64,
    pub reason: Cow<'static, str>,
}

/// The ringing order of a call with bids: the static buyers as ranked and the valid bids
/// (highest first; equal bids by the faster answer, then the lower bidder id), placed as the
/// campaign says: as a tier of `settings.priority` (before static buyers of that priority), or,
/// with `route_by_bid_winner`, by money alone (a static buyer weighs its price per call; on equal
/// money the static buyer first). A pinned repeat buyer stays first. Bids of bidders in `tried`
/// and bids expired at `now` are dropped, with the reason.
pub fn order(
    ranked: &[Ranked],
    offers: &[Offer],
    settings: &BidSettings,
    tried: &[i64],
    now: DateTime<Utc>,
) -> (Vec<Target>, Vec<Dropped>) {
    let mut dropped = vec![];
    let mut bids: Vec<&Offer> = vec![];
    for o in offers {
        if tried.contains(&o.bidder_id) {
            dropped.push(Dropped { bidder_id: o.bidder_id, reason: Cow::Borrowed("already_tried") });
        } else if o.expires_at.is_some_and(|t| t <= now) {
            dropped.push(Dropped { bidder_id: o.bidder_id, reason: Cow::Borrowed("expired") });
        } else {
            bids.push(o);
        }
    }
    bids.sort_by_key(|o| (std::cmp::Reverse(o.amount_micros), o.latency_ms, o.bidder_id));
    let bid_target = |o: &&Offer| Target::Bid { bidder_id: o.bidder_id };
    let (pinned, rest): (Vec<&Ranked>, Vec<&Ranked>) = ranked.iter().partition(|r| r.pinned);
    let mut out: Vec<Target> = pinned.iter().map(|r| Target::Buyer { buyer_id: r.buyer_id }).collect();
    if settings.route_by_bid_winner {
        // By money; on equal money the static buyers (in the engine's order) before the bids
        // (in theirs).
        let statics = rest.iter().enumerate().map(|(i, r)| (r.price_micros, i, Target::Buyer { buyer_id: r.buyer_id }));
        let offered = bids.iter().enumerate().map(|(i, o)| (o.amount_micros, rest.len() + i, bid_target(o)));
        let mut by_money: Vec<(i64, usize, Target)> = statics.chain(offered).collect();
        by_money.sort_by_key(|(money, tie, _)| (std::cmp::Reverse(*money), *tie));
        out.extend(by_money.into_iter().map(|(_, _, t)| t));
    } else {
        let cut = rest.iter().position(|r| r.priority <= settings.priority).unwrap_or(rest.len());
        out.extend(rest[..cut].iter().map(|r| Target::Buyer { buyer_id: r.buyer_id }));
        out.extend(bids.iter().map(bid_target));
        out.extend(rest[cut..].iter().map(|r| Target::Buyer { buyer_id: r.buyer_id }));
    }
    (out, dropped)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 15, 0, 0).single().expect("time")
    }

    fn mapping() -> BidMapping {
        BidMapping {
            amount: "/bid".into(),
            accept: Some("/ok".into()),
            number: "/to".into(),
            expires: Some("/ttl".into()),
            min_duration: Some("/secs".into()),
        }
    }

    #[test]
    fn templates_fill_known_placeholders_and_keep_other_braces() {
        let t = r#"{"cid": "{call_id}", "area": "{caller_area_code}", "st": "{state}", "age": "{tag:Age}", "x": {"y": 1}}"#;
        let pieces = parse_template(t).expect("template");
        let mut f = PingFacts::sample();
        f.tags.insert("Age".into(), "7\"0".into());
        let body = fill(&pieces, &f, Escape::Json);
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["area"], "201");
        assert_eq!(v["st"], "NJ");
        assert_eq!(v["age"], "7\"0", "values are escaped for JSON");
        assert_eq!(v["x"]["y"], 1);
        assert!(!exposes_caller(&pieces));
        assert!(!body.contains("5550123"), "the whole number is not sent");
        assert_eq!(parse_template("{calller}"), Err(UnknownPlaceholder("calller".into())));
        assert_eq!(parse_template("{tag:}").map(|p| p.len()), Ok(1), "not a placeholder: literal");
        assert!(exposes_caller(&parse_template("n={caller}").expect("t")));
        let url = fill(&parse_template("https://b.example/?c={caller}&s={state}").expect("t"), &f, Escape::Url);
        assert_eq!(url, "https://b.example/?c=%2B12015550123&s=NJ");
    }

    #[test]
    fn answers_are_read_through_the_mapping() {
        let m = mapping();
        let read = |body: &str| read_answer(&m, 200, body.as_bytes(), 5_000_000, now());
        let bid = read(r#"{"bid": 12.5, "ok": true, "to": "+14155550100", "ttl": 30, "secs": 90}"#).expect("bid");
        assert_eq!(bid.amount_micros, 12_500_000);
        assert_eq!(bid.expires_at, Some(now() + chrono::Duration::seconds(30)));
        assert_eq!(bid.min_duration_secs, Some(90));
        let bid = read(r#"{"bid": "7.25", "ok": true, "to": "sip:agent@pbx.example.com", "ttl": "2026-12-05T15:01:00Z"}"#).expect("bid");
        assert_eq!((bid.amount_micros, bid.dial_to.as_str()), (7_250_000, "sip:agent@pbx.example.com"));
        let outcome = |body: &str| read(body).map_err(|e| e.outcome).err();
        assert_eq!(outcome(r#"{"bid": 12, "ok": false, "to": "+14155550100"}"#), Some(PingOutcome::Rejected));
        assert_eq!(outcome(r#"{"bid": 4.99, "ok": true, "to": "+14155550100"}"#), Some(PingOutcome::BelowFloor));
        assert_eq!(outcome("<html>"), Some(PingOutcome::Invalid));
        assert_eq!(outcome(r#"{"bid": "lots", "ok": true, "to": "+14155550100"}"#), Some(PingOutcome::Invalid));
        assert_eq!(outcome(r#"{"bid": 12, "ok": true, "to": "call me"}"#), Some(PingOutcome::Invalid));
        assert_eq!(outcome(r#"{"bid": 12, "ok": "yes", "to": "+14155550100"}"#), Some(PingOutcome::Invalid));
        assert_eq!(outcome(r#"{"ok": true, "to": "+14155550100"}"#), Some(PingOutcome::Rejected));
        assert_eq!(outcome(r#"{"bid": 0, "ok": true, "to": "+14155550100"}"#), Some(PingOutcome::Rejected));
        assert_eq!(read_answer(&m, 500, b"{}", 0, now()).map_err(|e| e.outcome).err(), Some(PingOutcome::Error));
    }

    fn offer(bidder_id: i64, amount: i64, latency: i32) -> Offer {
        Offer { bidder_id, amount_micros: amount, latency_ms: latency, expires_at: None }
    }

    fn buyer(buyer_id: i64, priority: i32, price: i64) -> Ranked {
        Ranked { buyer_id, priority, price_micros: price, pinned: false }
    }

    #[test]
    fn the_highest_bid_first_and_ties_by_speed_then_id() {
        let settings = BidSettings::default();
        let (order, _) = order(&[], &[offer(1, 10, 50), offer(2, 30, 70), offer(3, 30, 20), offer(4, 10, 50)], &settings, &[], now());
        let ids: Vec<_> = order.iter().map(|t| if let Target::Bid { bidder_id } = t { *bidder_id } else { 0 }).collect();
        assert_eq!(ids, [3, 2, 1, 4]);
    }

    #[test]
    fn the_bid_tier_sits_by_priority_or_by_money() {
        let ranked = [buyer(10, 5, 50), buyer(11, 0, 90), buyer(12, -1, 5)];
        let offers = [offer(1, 40, 10), offer(2, 60, 10)];
        let mut settings = BidSettings::default();
        let (o, _) = order(&ranked, &offers, &settings, &[], now());
        assert_eq!(
            o,
            [
                Target::Buyer { buyer_id: 10 },
                Target::Bid { bidder_id: 2 },
                Target::Bid { bidder_id: 1 },
                Target::Buyer { buyer_id: 11 },
                Target::Buyer { buyer_id: 12 }
            ]
        );
        settings.route_by_bid_winner = true;
        let (o, _) = order(&ranked, &offers, &settings, &[], now());
        assert_eq!(
            o,
            [
                Target::Buyer { buyer_id: 11 },
                Target::Bid { bidder_id: 2 },
                Target::Buyer { buyer_id: 10 },
                Target::Bid { bidder_id: 1 },
                Target::Buyer { buyer_id: 12 }
            ]
        );
        // Equal money: the static buyer first; a pinned repeat buyer stays first.
        let pinned = [Ranked { pinned: true, ..buyer(12, -1, 5) }, buyer(11, 0, 60)];
        let (o, _) = order(&pinned, &offers, &settings, &[], now());
        assert_eq!(o[..3], [Target::Buyer { buyer_id: 12 }, Target::Buyer { buyer_id: 11 }, Target::Bid { bidder_id: 2 }]);
    }

    #[test]
    fn tried_and_expired_bids_are_dropped_with_the_reason() {
        let expired = Offer { expires_at: Some(now()), ..offer(2, 99, 1) };
        let (o, dropped) = order(&[], &[offer(1, 10, 1), expired, offer(3, 50, 1)], &BidSettings::default(), &[3], now());
        assert_eq!(o, [Target::Bid { bidder_id: 1 }]);
        let reasons: Vec<_> = dropped.iter().map(|d| (d.bidder_id, d.reason.as_ref())).collect();
        assert_eq!(reasons, [(2, "expired"), (3, "already_tried")]);
    }

    proptest! {
        /// Every static buyer and every valid bid appears exactly once; bids keep their own order
        /// (highest first) whatever the placement; without `route_by_bid_winner` the static
        /// buyers keep the engine's order.
        #[test]
        fn order_keeps_everyone_once_and_bids_by_amount(
            prices in proptest::collection::vec((-3i32..3, 0i64..100), 0..8),
            amounts in proptest::collection::vec((0i64..100, 0i32..100), 0..8),
            by_money in any::<bool>(),
            priority in -3i32..3,
        ) {
            let mut ranked: Vec<Ranked> = prices.iter().enumerate().map(|(i, (p, m))| buyer(i64::try_from(i).unwrap_or(0) + 100, *p, *m)).collect();
            ranked.sort_by_key(|r| std::cmp::Reverse(r.priority));
            let offers: Vec<Offer> = amounts.iter().enumerate().map(|(i, (a, l))| offer(i64::try_from(i).unwrap_or(0) + 1, *a, *l)).collect();
            let settings = BidSettings { priority, route_by_bid_winner: by_money, ..BidSettings::default() };
            let (o, dropped) = order(&ranked, &offers, &settings, &[], now());
            prop_assert!(dropped.is_empty());
            prop_assert_eq!(o.len(), ranked.len() + offers.len());
            let bid_amounts: Vec<i64> = o.iter().filter_map(|t| match t {
                Target::Bid { bidder_id } => offers.iter().find(|x| x.bidder_id == *bidder_id).map(|x| x.amount_micros),
                Target::Buyer { .. } => None,
            }).collect();
            prop_assert!(bid_amounts.windows(2).all(|w| w[0] >= w[1]));
            let buyers: Vec<i64> = o.iter().filter_map(|t| match t { Target::Buyer { buyer_id } => Some(*buyer_id), Target::Bid { .. } => None }).collect();
            if by_money {
                let money: Vec<i64> = o.iter().map(|t| match t {
                    Target::Buyer { buyer_id } => ranked.iter().find(|r| r.buyer_id == *buyer_id).map_or(0, |r| r.price_micros),
                    Target::Bid { bidder_id } => offers.iter().find(|x| x.bidder_id == *bidder_id).map_or(0, |x| x.amount_micros),
                }).collect();
                prop_assert!(money.windows(2).all(|w| w[0] >= w[1]), "by money: {:?}", money);
            } else {
                prop_assert_eq!(buyers, ranked.iter().map(|r| r.buyer_id).collect::<Vec<_>>());
            }
        }

        /// Any answer is read without a panic, and a bid read is at or above the floor.
        #[test]
        fn any_answer_reads_safely(body in ".{0,200}", amount in -10.0f64..2_000_000.0, floor in 0i64..50_000_000) {
            let m = mapping();
            let _ = read_answer(&m, 200, body.as_bytes(), floor, now());
            let doc = serde_json::json!({"bid": amount, "ok": true, "to": "+14155550100"});
            if let Ok(bid) = read_answer(&m, 200, doc.to_string().as_bytes(), floor, now()) {
                prop_assert!(bid.amount_micros >= floor && bid.amount_micros > 0);
            }
        }
    }
}
