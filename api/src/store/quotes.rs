//! Publishers' quotes (the ping API): written once when given, read again for a repeated ping,
//! and matched by the voice webhook to the call that follows.
use callbroker_wire::bidding::{RtbQuote, RtbQuoteRecord, RtbRefusal};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::utc;
use crate::db::schema::{calls, phone_numbers, rtb_quotes};
use crate::db::stamp::Stamp;
use crate::db::DbConnection;
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = rtb_quotes)]
pub struct QuoteRow {
    pub ping_id: String,
    pub publisher_id: i64,
    pub campaign_id: i64,
    pub number_id: Option<i64>,
    pub caller: String,
    pub accepted: bool,
    pub reason: Option<String>,
    pub payout_micros: Option<i64>,
    pub currency: String,
    pub min_duration_secs: Option<i32>,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub expires_at: NaiveDateTime,
}

fn refusal(code: &str) -> Option<RtbRefusal> {
    [RtbRefusal::NoCapacity, RtbRefusal::Blocked, RtbRefusal::Duplicate, RtbRefusal::Filtered, RtbRefusal::NoBid, RtbRefusal::Closed]
        .into_iter()
        .find(|r| r.as_str() == code)
}

impl QuoteRow {
    /// The quote as the publisher gets it; `number`: the quoted number's E.164.
    #[allow(clippy::cast_precision_loss, reason = "at most 10^12 micro-units: exact in an f64")]
    pub fn into_wire(self, number: Option<String>) -> RtbQuote {
        RtbQuote {
            ping_id: self.ping_id,
            accepted: self.accepted,
            reason: self.reason.as_deref().and_then(refusal),
            payout: self.payout_micros.map(|m| m as f64 / 1_000_000.0),
            payout_micros: self.payout_micros,
            currency: self.currency,
            number: if self.accepted { number } else { None },
            expires_at: utc(self.expires_at),
            min_duration_secs: self.min_duration_secs,
        }
    }
}

/// Writes a quote; returns its row id.
pub fn insert(conn: &mut DbConnection, q: &QuoteRow) -> Result<i64, Error> {
    Ok(diesel::insert_into(rtb_quotes::table).values(q).returning(rtb_quotes::id).get_result(conn)?)
}

/// The accepted quote `publisher` holds for `caller` on `campaign` at `now`, with its number.
pub fn holding(
    conn: &mut DbConnection,
    publisher: i64,
    campaign: i64,
    caller: &str,
    now: NaiveDateTime,
) -> Result<Option<(QuoteRow, Option<String>)>, Error> {
    Ok(rtb_quotes::table
        .left_join(phone_numbers::table.on(phone_numbers::id.nullable().eq(rtb_quotes::number_id)))
        .filter(rtb_quotes::publisher_id.eq(publisher))
        .filter(rtb_quotes::campaign_id.eq(campaign))
        .filter(rtb_quotes::caller.eq(caller))
        .filter(rtb_quotes::accepted.eq(true))
        .filter(rtb_quotes::expires_at.gt(Stamp(now)))
        .order(rtb_quotes::id.desc())
        .select((QuoteRow::as_select(), phone_numbers::number.nullable()))
        .first(conn)
        .optional()?)
}

/// The quote a call from `caller` to number `number_id` of `campaign` arriving at `now` matches:
/// accepted, not expired, and not matched to another call yet. (ping id, payout)
pub fn matching(
    conn: &mut DbConnection,
    campaign: i64,
    number_id: i64,
    caller: &str,
    now: NaiveDateTime,
) -> Result<Option<(String, Option<i64>)>, Error> {
    let taken = calls::table.filter(calls::quote_ping_id.eq(rtb_quotes::ping_id.nullable())).select(calls::id);
    Ok(rtb_quotes::table
        .filter(rtb_quotes::campaign_id.eq(campaign))
        .filter(rtb_quotes::number_id.eq(number_id))
        .filter(rtb_quotes::caller.eq(caller))
        .filter(rtb_quotes::accepted.eq(true))
        .filter(rtb_quotes::expires_at.gt(Stamp(now)))
        .filter(diesel::dsl::not(diesel::dsl::exists(taken)))
        .order(rtb_quotes::id.desc())
        .select((rtb_quotes::ping_id, rtb_quotes::payout_micros))
        .first(conn)
        .optional()?)
}

/// `publisher`'s latest quotes, newest first, with the call each was matched to.
pub fn recent(conn: &mut DbConnection, publisher: i64, limit: i64) -> Result<Vec<RtbQuoteRecord>, Error> {
    let rows: Vec<(QuoteRow, Option<String>)> = rtb_quotes::table
        .left_join(phone_numbers::table.on(phone_numbers::id.nullable().eq(rtb_quotes::number_id)))
        .filter(rtb_quotes::publisher_id.eq(publisher))
        .order(rtb_quotes::id.desc())
        .limit(limit)
        .select((QuoteRow::as_select(), phone_numbers::number.nullable()))
        .load(conn)?;
    let ids: Vec<String> = rows.iter().map(|(q, _)| q.ping_id.clone()).collect();
    let calls: Vec<(i64, Option<String>)> = calls::table
        .filter(calls::quote_ping_id.eq_any(&ids))
        .filter(calls::publisher_id.eq(publisher))
        .select((calls::id, calls::quote_ping_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(q, number)| {
            let call_id = calls.iter().find(|(_, p)| p.as_deref() == Some(q.ping_id.as_str())).map(|(id, _)| *id);
            let (campaign_id, caller, created_at) = (q.campaign_id, q.caller.clone(), utc(q.created_at));
            RtbQuoteRecord { quote: q.into_wire(number), campaign_id, caller, created_at, call_id }
        })
        .collect())
}
