//! Work done against the Twilio account: background jobs (call cost, transcripts, number
//! imports) and the webhook set-up of numbers.
use std::time::Duration;

use actix_web::web;
use callbroker_wire::{NumberImport, WebhookSettings, WebhookStatus};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::account;
use super::client::{price_micros, IncomingNumber, TwilioClient, TwilioError, VoiceWebhooks};
use crate::callflow::{settle, upkeep};
use crate::db::schema::{number_imports, phone_numbers};
use crate::db::{now, DbConnection};
use crate::error::Error;
use crate::jobs::{self, CallJob, CallWork, Job, JobError, Registry};
use crate::routes::webhooks::{STATUS_PATH, VOICE_PATH};
use crate::state::AppState;
use crate::store::calls as call_store;
use crate::store::calls::flow::Effects;

pub const IMPORT_JOB: &str = "twilio.import_numbers";

/// Numbers asked for per page of `IncomingPhoneNumbers`.
pub const IMPORT_PAGE_SIZE: u32 = 100;

#[derive(Debug, Serialize, Deserialize)]
pub struct ImportJob {
    pub import_id: i64,
}

/// Registers the Twilio jobs' handlers.
pub fn register(registry: &mut Registry, state: web::Data<AppState>) {
    let s = state.clone();
    registry.register(CallWork::Cost.kind(), move |job| fetch_cost(s.clone(), job));
    let s = state.clone();
    registry.register(CallWork::Transcript.kind(), move |job| transcribe(s.clone(), job));
    let s = state;
    registry.register(IMPORT_JOB, move |job| import_numbers(s.clone(), job));
}

fn job_error(e: TwilioError) -> JobError {
    if e.is_transient() {
        JobError::retry(e.to_string())
    } else {
        JobError::permanent(e.to_string())
    }
}

// ---------------------------------------------------------------- cost

/// Fetches the Call resources of the inbound call and of every buyer leg; stores their summed
/// price once Twilio has priced all that were connected, else asks to be retried.
async fn fetch_cost(state: web::Data<AppState>, job: Job) -> Result<(), JobError> {
    let CallJob { call_id } = job.payload()?;
    let client = match account::client(&state.db, &state.config.twilio, &state.secrets).await {
        Ok(c) => c,
        // The account was removed since the job was queued: the cost stays unknown (retrying
        // would only load the queue).
        Err(TwilioError::NotConfigured) => {
            let now = crate::db::now();
            state
                .flow
                .update(call_id, move |_, s, _| {
                    let mut e = Effects::new(&s, now);
                    upkeep::cost_unconfigured(&mut e);
                    Ok((Some(e), ()))
                })
                .await?;
            return Ok(());
        }
        Err(e) => return Err(job_error(e)),
    };
    let (sid, legs) = state.db.read(move |c| call_store::flow::priced_sids(c, call_id)).await?;
    let mut total: i64 = 0;
    let mut currency: Option<String> = None;
    for sid in std::iter::once(&sid).chain(legs.iter()) {
        let call = client.fetch_call(sid).await.map_err(job_error)?;
        match call.price.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => {
                let micros = price_micros(p).ok_or_else(|| JobError::permanent(format!("unreadable price {p:?} of {sid}")))?;
                total = total.checked_add(micros).ok_or_else(|| JobError::permanent("cost overflow"))?;
                if let Some(unit) = call.price_unit.filter(|u| !u.is_empty()) {
                    let unit = unit.to_ascii_uppercase();
                    if currency.as_ref().is_some_and(|c| *c != unit) {
                        return Err(JobError::permanent(format!("legs priced in different currencies ({unit} and {currency:?})")));
                    }
                    currency = Some(unit);
                }
            }
            // A call that never connected is not billed: Twilio may leave its price empty.
            None if call.status.as_deref().is_some_and(|s| matches!(s, "busy" | "no-answer" | "failed" | "canceled")) => {}
            None => return Err(JobError::retry(format!("Twilio has not priced {sid} yet"))),
        }
    }
    let currency = currency.unwrap_or_else(|| "USD".into());
    let now = crate::db::now();
    // Profit and the rollups include the cost from now on (in the same change).
    state
        .flow
        .update(call_id, move |run, s, dir| {
            let mut e = Effects::new(&s, now);
            upkeep::cost_known(&mut e, total, &currency, job.attempt);
            settle::if_ready(run, dir, &s, &mut e)?;
            Ok((Some(e), ()))
        })
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- transcripts

/// Changes call `call_id` as `change` says (a transcript's progress).
async fn transcript_change(state: &AppState, call_id: i64, change: impl Fn(&mut Effects) + Send + 'static) -> Result<(), Error> {
    let now = crate::db::now();
    state
        .flow
        .update(call_id, move |_, s, _| {
            let mut e = Effects::new(&s, now);
            change(&mut e);
            Ok((Some(e), ()))
        })
        .await
}

/// Creates the Voice Intelligence transcript of the recording (once), then polls it until it is
/// done and stores its sentences as text.
async fn transcribe(state: web::Data<AppState>, job: Job) -> Result<(), JobError> {
    let CallJob { call_id } = job.payload()?;
    let row = state.db.read(move |c| call_store::query::get_row(c, call_id)).await?;
    let Some(recording) = row.recording_sid.clone() else {
        return Err(JobError::permanent("the call has no recording"));
    };
    let Some(service) = state.config.twilio.intelligence_service_sid.clone() else {
        let why = "no Voice Intelligence Service is configured (twilio.intelligence_service_sid)";
        transcript_change(&state, call_id, move |e| upkeep::transcript_failed(e, why)).await?;
        return Err(JobError::permanent(why));
    };
    let client = account::client(&state.db, &state.config.twilio, &state.secrets).await.map_err(job_error)?;
    let sid = match row.transcript_sid {
        Some(sid) => sid,
        None => {
            let created = client.create_transcript(&service, &recording).await.map_err(job_error)?;
            let sid = created.sid.clone();
            transcript_change(&state, call_id, move |e| upkeep::transcript_requested(e, &sid)).await?;
            if created.status.as_deref() != Some("completed") {
                return Err(JobError::retry_after(
                    "transcript requested; not ready yet",
                    Duration::from_millis(state.config.jobs.backoff_base_ms),
                ));
            }
            created.sid
        }
    };
    let t = client.fetch_transcript(&sid).await.map_err(job_error)?;
    match t.status.as_deref() {
        Some("completed") => {}
        Some(s @ ("failed" | "canceled")) => {
            let why = format!("Twilio's transcript {sid} is {s}");
            let w = why.clone();
            transcript_change(&state, call_id, move |e| upkeep::transcript_failed(e, &w)).await?;
            return Err(JobError::permanent(why));
        }
        _ => return Err(JobError::retry("transcript not ready yet")),
    }
    let sentences = client.transcript_sentences(&sid).await.map_err(job_error)?;
    let text = sentences
        .into_iter()
        .filter_map(|s| s.transcript.map(|t| (s.media_channel, t)))
        .map(|(ch, t)| match ch {
            Some(ch) => format!("[{ch}] {}", t.trim()),
            None => t.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    transcript_change(&state, call_id, move |e| upkeep::transcript_done(e, &sid, text.clone())).await?;
    Ok(())
}

// ---------------------------------------------------------------- number import

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = number_imports)]
pub struct ImportRow {
    pub id: i64,
    pub status: String,
    pub pages: i32,
    pub processed: i32,
    pub new_count: i32,
    pub updated_count: i32,
    pub unchanged_count: i32,
    pub error: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub finished_at: Option<chrono::NaiveDateTime>,
}

impl ImportRow {
    pub fn into_wire(self) -> NumberImport {
        NumberImport {
            id: self.id,
            status: self.status,
            pages: self.pages,
            processed: self.processed,
            new: self.new_count,
            updated: self.updated_count,
            unchanged: self.unchanged_count,
            error: self.error,
            created_at: self.created_at.and_utc(),
            finished_at: self.finished_at.map(|t| t.and_utc()),
        }
    }
}

pub fn get_import(conn: &mut DbConnection, id: i64) -> Result<NumberImport, Error> {
    number_imports::table
        .find(id)
        .select(ImportRow::as_select())
        .first(conn)
        .optional()?
        .map(ImportRow::into_wire)
        .ok_or(Error::NotFound("number import"))
}

/// Starts an import: the row the SPA polls and the job that fills it.
pub fn start_import(conn: &mut DbConnection) -> Result<NumberImport, Error> {
    let id: i64 = diesel::insert_into(number_imports::table)
        .values((number_imports::status.eq("running"), number_imports::created_at.eq(now())))
        .returning(number_imports::id)
        .get_result(conn)?;
    jobs::enqueue_with(conn, IMPORT_JOB, &json!(ImportJob { import_id: id }), now(), 5)?;
    get_import(conn, id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    New,
    Updated,
    Unchanged,
}

/// Inserts or updates one number, matched by its SID, else by its E.164 number.
pub fn upsert_number(conn: &mut DbConnection, n: &IncomingNumber) -> Result<Upserted, Error> {
    let number =
        crate::domain::validate::e164(&n.phone_number).map_err(|e| Error::bad_request(format!("number {}: {e}", n.phone_number)))?;
    let friendly = n.friendly_name.clone().filter(|f| !f.trim().is_empty()).map(|f| f.chars().take(200).collect::<String>());
    let existing: Option<(i64, String, Option<String>, Option<String>)> = phone_numbers::table
        .filter(phone_numbers::provider_sid.eq(&n.sid))
        .select((phone_numbers::id, phone_numbers::number, phone_numbers::provider_sid, phone_numbers::friendly_name))
        .first(conn)
        .optional()?;
    let existing = match existing {
        Some(e) => Some(e),
        None => phone_numbers::table
            .filter(phone_numbers::number.eq(&number))
            .select((phone_numbers::id, phone_numbers::number, phone_numbers::provider_sid, phone_numbers::friendly_name))
            .first(conn)
            .optional()?,
    };
    let t = now();
    match existing {
        Some((id, num, sid, name)) => {
            if num == number && sid.as_deref() == Some(n.sid.as_str()) && name == friendly {
                return Ok(Upserted::Unchanged);
            }
            diesel::update(phone_numbers::table.find(id))
                .set((
                    phone_numbers::number.eq(&number),
                    phone_numbers::provider_sid.eq(Some(&n.sid)),
                    phone_numbers::friendly_name.eq(&friendly),
                    phone_numbers::updated_at.eq(t),
                ))
                .execute(conn)?;
            Ok(Upserted::Updated)
        }
        None => {
            diesel::insert_into(phone_numbers::table)
                .values((
                    phone_numbers::number.eq(&number),
                    phone_numbers::provider_sid.eq(Some(&n.sid)),
                    phone_numbers::friendly_name.eq(&friendly),
                    phone_numbers::created_at.eq(t),
                    phone_numbers::updated_at.eq(t),
                ))
                .execute(conn)?;
            Ok(Upserted::New)
        }
    }
}

fn fail_import(conn: &mut DbConnection, id: i64, why: &str) -> Result<(), Error> {
    diesel::update(number_imports::table.find(id))
        .set((number_imports::status.eq("failed"), number_imports::error.eq(why), number_imports::finished_at.eq(Some(now()))))
        .execute(conn)?;
    Ok(())
}

/// Reads every page of `IncomingPhoneNumbers` and upserts each number, one transaction per page;
/// the import row shows the progress after each page.
async fn import_numbers(state: web::Data<AppState>, job: Job) -> Result<(), JobError> {
    let ImportJob { import_id } = job.payload()?;
    let client = match account::client(&state.db, &state.config.twilio, &state.secrets).await {
        Ok(c) => c,
        Err(e) => {
            let why = e.to_string();
            state.db.write(move |c| fail_import(c, import_id, &why)).await?;
            return Err(JobError::permanent(e.to_string()));
        }
    };
    // A rerun after a crash starts over (upserts are idempotent); the counts restart with it.
    state
        .db
        .write(move |c| {
            diesel::update(number_imports::table.find(import_id))
                .set((
                    number_imports::status.eq("running"),
                    number_imports::pages.eq(0),
                    number_imports::processed.eq(0),
                    number_imports::new_count.eq(0),
                    number_imports::updated_count.eq(0),
                    number_imports::unchanged_count.eq(0),
                    number_imports::error.eq(None::<String>),
                ))
                .execute(c)?;
            Ok(())
        })
        .await?;
    let mut next: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    loop {
        let page = match client.numbers_page(next.as_deref(), IMPORT_PAGE_SIZE).await {
            Ok(p) => p,
            Err(e) => {
                let why = e.to_string();
                if e.is_transient() && job.attempt < job.max_attempts {
                    return Err(JobError::retry(why));
                }
                state.db.write(move |c| fail_import(c, import_id, &why)).await?;
                return Err(JobError::permanent(e.to_string()));
            }
        };
        let numbers = page.incoming_phone_numbers;
        state
            .db
            .write(move |c| {
                let (mut new, mut updated, mut unchanged) = (0i32, 0i32, 0i32);
                for n in &numbers {
                    match upsert_number(c, n)? {
                        Upserted::New => new += 1,
                        Upserted::Updated => updated += 1,
                        Upserted::Unchanged => unchanged += 1,
                    }
                }
                let count = i32::try_from(numbers.len()).unwrap_or(i32::MAX);
                diesel::update(number_imports::table.find(import_id))
                    .set((
                        number_imports::pages.eq(number_imports::pages + 1),
                        number_imports::processed.eq(number_imports::processed + count),
                        number_imports::new_count.eq(number_imports::new_count + new),
                        number_imports::updated_count.eq(number_imports::updated_count + updated),
                        number_imports::unchanged_count.eq(number_imports::unchanged_count + unchanged),
                    ))
                    .execute(c)?;
                Ok(())
            })
            .await?;
        match page.next_page_uri.filter(|u| !u.is_empty()) {
            // A server that hands the same page link again would loop forever.
            Some(uri) if seen.insert(uri.clone()) => next = Some(uri),
            _ => break,
        }
    }
    state
        .db
        .write(move |c| {
            diesel::update(number_imports::table.find(import_id))
                .set((number_imports::status.eq("done"), number_imports::finished_at.eq(Some(now()))))
                .execute(c)?;
            Ok(())
        })
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- webhook set-up

/// The webhooks this server wants on its numbers.
pub fn expected_webhooks(public_url: &str) -> VoiceWebhooks {
    let base = public_url.trim_end_matches('/');
    VoiceWebhooks {
        voice_url: format!("{base}{VOICE_PATH}"),
        voice_method: "POST".into(),
        status_callback: format!("{base}{STATUS_PATH}"),
        status_callback_method: "POST".into(),
    }
}

fn settings(w: &VoiceWebhooks) -> WebhookSettings {
    WebhookSettings {
        voice_url: Some(w.voice_url.clone()),
        voice_method: Some(w.voice_method.clone()),
        status_callback: Some(w.status_callback.clone()),
        status_callback_method: Some(w.status_callback_method.clone()),
    }
}

fn actual(n: &IncomingNumber) -> WebhookSettings {
    WebhookSettings {
        voice_url: n.voice_url.clone(),
        voice_method: n.voice_method.clone(),
        status_callback: n.status_callback.clone(),
        status_callback_method: n.status_callback_method.clone(),
    }
}

/// Which fields of Twilio's configuration differ from ours.
pub fn drift(expected: &VoiceWebhooks, n: &IncomingNumber) -> Vec<String> {
    let mut out = vec![];
    let same_method = |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    if n.voice_url.as_deref() != Some(expected.voice_url.as_str()) {
        out.push("voice_url".into());
    }
    if !same_method(&n.voice_method, &expected.voice_method) {
        out.push("voice_method".into());
    }
    if n.status_callback.as_deref() != Some(expected.status_callback.as_str()) {
        out.push("status_callback".into());
    }
    if !same_method(&n.status_callback_method, &expected.status_callback_method) {
        out.push("status_callback_method".into());
    }
    out
}

/// A number as the webhook check needs it.
#[derive(Debug, Clone)]
pub struct NumberRef {
    pub id: i64,
    pub number: String,
    pub provider_sid: Option<String>,
}

pub fn number_refs(conn: &mut DbConnection, id: Option<i64>) -> Result<Vec<NumberRef>, Error> {
    let mut q = phone_numbers::table.into_boxed();
    if let Some(id) = id {
        q = q.filter(phone_numbers::id.eq(id));
    }
    let rows: Vec<(i64, String, Option<String>)> =
        q.select((phone_numbers::id, phone_numbers::number, phone_numbers::provider_sid)).order(phone_numbers::id.asc()).load(conn)?;
    if id.is_some() && rows.is_empty() {
        return Err(Error::NotFound("phone number"));
    }
    Ok(rows.into_iter().map(|(id, number, provider_sid)| NumberRef { id, number, provider_sid }).collect())
}

/// Asks Twilio for the number's configuration (and fixes it first when `fix`).
pub async fn webhook_status(client: &TwilioClient, public_url: &str, n: NumberRef, fix: bool) -> WebhookStatus {
    let expected = expected_webhooks(public_url);
    let mut status = WebhookStatus {
        number_id: n.id,
        number: n.number,
        provider_sid: n.provider_sid.clone(),
        state: "not_on_twilio".into(),
        drift: vec![],
        expected: settings(&expected),
        actual: None,
        error: None,
    };
    let Some(sid) = n.provider_sid else { return status };
    let result = match client.fetch_number(&sid).await {
        Ok(found) if fix && !drift(&expected, &found).is_empty() => client.set_number_webhooks(&sid, &expected).await,
        other => other,
    };
    match result {
        Ok(found) => {
            status.drift = drift(&expected, &found);
            status.state = if status.drift.is_empty() { "in_sync" } else { "drift" }.into();
            status.actual = Some(actual(&found));
        }
        Err(e) => {
            status.state = "error".into();
            status.error = Some(e.to_string());
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(voice: &str, method: &str) -> IncomingNumber {
        IncomingNumber {
            sid: "PN1".into(),
            phone_number: "+15005550006".into(),
            friendly_name: None,
            voice_url: Some(voice.into()),
            voice_method: Some(method.into()),
            status_callback: Some("https://x.test/api/webhooks/twilio/status".into()),
            status_callback_method: Some("POST".into()),
        }
    }

    #[test]
    fn drift_names_the_fields_that_differ() {
        let e = expected_webhooks("https://x.test/");
        assert!(drift(&e, &number("https://x.test/api/webhooks/twilio/voice", "post")).is_empty());
        assert_eq!(drift(&e, &number("https://old.test/voice", "GET")), vec!["voice_url", "voice_method"]);
    }
}
