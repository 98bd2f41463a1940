//! A publisher's attribution report: its calls with the number, time, caller (masked unless the
//! campaign shows full numbers), duration, qualification and payout. Never a buyer or revenue.
use callbroker_wire::{Page, PageParams, ReportRow};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{calls, campaigns};
use crate::db::DbConnection;
use crate::error::Error;
use crate::store::{page, paging, utc};

/// Rows per database round trip when streaming a CSV report: the server holds at most one batch.
pub const CSV_BATCH: i64 = 1000;

type Raw = (i64, String, NaiveDateTime, String, Option<i32>, Option<bool>, i64, Option<String>, Option<bool>);

/// The caller with every digit but the last 4 replaced by `X`.
pub fn mask_caller(caller: &str) -> String {
    let digits = caller.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    caller
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen + 4 <= digits {
                    return 'X';
                }
            }
            c
        })
        .collect()
}

fn row((id, dialled, started, caller, duration, qualified, payout, currency, full): Raw) -> ReportRow {
    ReportRow {
        call_id: id,
        number: dialled,
        started_at: utc(started),
        caller: if full.unwrap_or(false) { caller } else { mask_caller(&caller) },
        duration_secs: duration,
        qualified,
        payout_micros: payout,
        currency,
    }
}

/// Where a batch resumes: after this (start time, call id).
pub type Cursor = Option<(NaiveDateTime, i64)>;

/// Calls of `publisher` started in `[from, to)` after `after`, `limit` of them in time order
/// (read along the `(publisher_id, started_at)` index, so each batch costs the same).
fn rows(
    conn: &mut DbConnection,
    publisher: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
    after: Cursor,
    offset: i64,
    limit: i64,
) -> Result<Vec<ReportRow>, Error> {
    let mut q = calls::table
        .left_join(campaigns::table)
        .filter(calls::publisher_id.eq(publisher))
        .filter(calls::started_at.ge(from))
        .filter(calls::started_at.lt(to))
        .into_boxed();
    if let Some((t, id)) = after {
        q = q.filter(calls::started_at.gt(t).or(calls::started_at.eq(t).and(calls::id.gt(id))));
    }
    let raw: Vec<Raw> = q
        .order((calls::started_at.asc(), calls::id.asc()))
        .select((
            calls::id,
            calls::dialled,
            calls::started_at,
            calls::caller,
            calls::duration_secs,
            calls::qualified,
            calls::payout_micros,
            calls::currency,
            campaigns::show_full_caller.nullable(),
        ))
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok(raw.into_iter().map(row).collect())
}

pub fn page_of(
    conn: &mut DbConnection,
    publisher: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
    p: &PageParams,
) -> Result<Page<ReportRow>, Error> {
    let (offset, limit) = paging(p)?;
    let total: i64 = calls::table
        .filter(calls::publisher_id.eq(publisher))
        .filter(calls::started_at.ge(from))
        .filter(calls::started_at.lt(to))
        .count()
        .get_result(conn)?;
    Ok(page(rows(conn, publisher, from, to, None, offset, limit)?, total, p))
}

/// The next CSV batch after `after` (keyset paging: constant cost per batch).
pub fn batch(
    conn: &mut DbConnection,
    publisher: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
    after: Cursor,
) -> Result<Vec<ReportRow>, Error> {
    rows(conn, publisher, from, to, after, 0, CSV_BATCH)
}

pub const CSV_HEADER: &str = "call_id,number,started_at,caller,duration_secs,qualified,payout_micros,currency\n";

/// One report row as a CSV line (fields through [`callbroker_wire::csv`]: quoted, and
/// neutralised against formula injection).
pub fn csv_line(r: &ReportRow, out: &mut String) {
    out.push_str(&callbroker_wire::csv::line([
        r.call_id.to_string(),
        r.number.clone(),
        r.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        r.caller.clone(),
        r.duration_secs.map(|d| d.to_string()).unwrap_or_default(),
        r.qualified.map(|q| q.to_string()).unwrap_or_default(),
        r.payout_micros.to_string(),
        r.currency.clone().unwrap_or_default(),
    ]));
}

/// Calls per (IVR question, IVR outcome), with their IVR seconds summed.
type FunnelRow = (Option<i32>, Option<String>, i64, Option<i64>);

/// The IVR funnel of `campaign` over calls started in `[from, to)`: how many calls sit at (or
/// ended on) each question with each IVR outcome, summed into the steps. Counted from the calls.
pub fn ivr_funnel(
    conn: &mut DbConnection,
    campaign: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<callbroker_wire::IvrFunnel, Error> {
    use callbroker_wire::{IvrFunnel, IvrOutcome, IvrStep};
    use diesel::dsl::{count_star, sum};
    let rows: Vec<FunnelRow> = calls::table
        .filter(calls::campaign_id.eq(campaign))
        .filter(calls::started_at.ge(from))
        .filter(calls::started_at.lt(to))
        .filter(calls::ivr_outcome.is_not_null())
        .group_by((calls::ivr_question, calls::ivr_outcome))
        .select((calls::ivr_question, calls::ivr_outcome, count_star(), sum(calls::ivr_secs)))
        .load(conn)?;
    let mut f =
        IvrFunnel { entered: 0, completed: 0, ended: 0, failed: 0, abandoned: 0, in_progress: 0, mean_ivr_secs: None, steps: vec![] };
    let (mut secs, mut timed) = (0i64, 0i64);
    for (question, outcome, n, total_secs) in rows {
        let question = usize::try_from(question.unwrap_or(0)).unwrap_or(0);
        if f.steps.len() <= question {
            f.steps.extend((f.steps.len()..=question).map(|q| IvrStep {
                question: i32::try_from(q).unwrap_or(i32::MAX),
                reached: 0,
                abandoned: 0,
                ended: 0,
                failed: 0,
                in_progress: 0,
            }));
        }
        // A call on question `question` heard every question up to it.
        for step in &mut f.steps[..=question] {
            step.reached += n;
        }
        f.entered += n;
        let step = &mut f.steps[question];
        match outcome.as_deref().and_then(IvrOutcome::parse) {
            Some(IvrOutcome::Completed) => f.completed += n,
            Some(IvrOutcome::Ended) => (f.ended, step.ended) = (f.ended + n, step.ended + n),
            Some(IvrOutcome::Failed) => (f.failed, step.failed) = (f.failed + n, step.failed + n),
            Some(IvrOutcome::Abandoned) => (f.abandoned, step.abandoned) = (f.abandoned + n, step.abandoned + n),
            Some(IvrOutcome::InProgress) | None => (f.in_progress, step.in_progress) = (f.in_progress + n, step.in_progress + n),
        }
        if outcome.as_deref() != Some(IvrOutcome::InProgress.as_str()) {
            if let Some(s) = total_secs {
                secs += s;
                timed += n;
            }
        }
    }
    #[allow(clippy::cast_precision_loss, reason = "a mean shown with one decimal")]
    if timed > 0 {
        f.mean_ivr_secs = Some((secs as f64 / timed as f64 * 10.0).round() / 10.0);
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_last_four_digits() {
        assert_eq!(mask_caller("+12015550123"), "+XXXXXXX0123");
        assert_eq!(mask_caller("123"), "123");
        assert_eq!(mask_caller("anonymous"), "anonymous");
    }

    #[test]
    fn csv_lines_are_quoted_and_neutralised() {
        let row = |caller: &str| ReportRow {
            call_id: 7,
            number: "+17175550100".into(),
            started_at: utc(chrono::NaiveDate::from_ymd_opt(2026, 1, 2).and_then(|d| d.and_hms_opt(3, 4, 5)).unwrap_or_default()),
            caller: caller.into(),
            duration_secs: Some(61),
            qualified: Some(true),
            payout_micros: -1_500_000,
            currency: Some("USD".into()),
        };
        let mut out = String::new();
        csv_line(&row("+15551234567"), &mut out);
        csv_line(&row("=HYPERLINK(\"http://x\",\"y\")"), &mut out);
        assert_eq!(
            out,
            "7,+17175550100,2026-01-02T03:04:05Z,+15551234567,61,true,-1500000,USD\n\
             7,+17175550100,2026-01-02T03:04:05Z,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",61,true,-1500000,USD\n"
        );
    }
}
