//! Twilio webhooks. Every request is authenticated by its `X-Twilio-Signature` (HMAC over the
//! public URL and the sorted POST parameters) before anything is read from it; a missing or wrong
//! signature gets 403 and writes nothing.
use actix_web::http::header::ContentType;
use actix_web::{post, web, HttpRequest, HttpResponse};
use callbroker_wire::ErrorBody;
use serde::de::DeserializeOwned;

use crate::callflow::Answer;
use crate::domain::acceptance::ACCEPT_PROMPT;
use crate::routes::AppError;
use crate::state::AppState;
use crate::twilio::params::{self, CallStatusCallback, DialActionCallback, GatherCallback, RecordingStatusCallback, VoiceWebhook};
use crate::twilio::signature::{self, SignatureKeys, SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER};
use crate::twilio::twiml::{self, CallEvent, Dial, Gather, Number, Response, Say};

pub const VOICE_PATH: &str = "/api/webhooks/twilio/voice";
pub const STATUS_PATH: &str = "/api/webhooks/twilio/status";
pub const DIAL_PATH: &str = "/api/webhooks/twilio/dial";
pub const RECORDING_PATH: &str = "/api/webhooks/twilio/recording";

/// A buyer leg's whisper (`{LEGS_PATH}/{leg_id}/whisper`) and its agent's acceptance
/// (`{LEGS_PATH}/{leg_id}/accept`).
pub const LEGS_PATH: &str = "/api/webhooks/twilio/legs";

/// A call's IVR answers: `{CALLS_PATH}/{call_id}/ivr/{question}/{attempt}`.
pub const CALLS_PATH: &str = "/api/webhooks/twilio/calls";

/// Said when the database cannot be reached (the answer is a 503 so Twilio may use the number's
/// fallback URL).
const UNAVAILABLE_MESSAGE: &str = "All agents are currently busy. Please try again later";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(voice).service(status).service(dial).service(recording).service(leg_whisper).service(leg_accept).service(ivr_answer);
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The Auth Token set through `PUT /api/twilio/account`, which wins over the configuration's
/// (the configuration's when the database cannot say). Cached for a few seconds.
async fn auth_token(state: &AppState) -> Option<String> {
    if let Some(token) = state.twilio_token.get() {
        return token;
    }
    let (twilio, keys) = (state.config.twilio.clone(), state.secrets.clone());
    let configured = || state.config.twilio.auth_token.as_ref().map(|t| t.expose().to_string());
    match state.db.read(move |c| crate::twilio::account::effective(c, &twilio, &keys)).await {
        Ok(e) => {
            let token = if e.source == "api" { e.auth_token.map(|t| t.expose().to_string()) } else { configured() };
            state.twilio_token.put(token.clone());
            token
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read the Twilio Auth Token set through the API; using the configuration's");
            configured()
        }
    }
}

/// Checks the signature and returns the typed parameters.
async fn verified<T: DeserializeOwned>(req: &HttpRequest, body: &[u8], state: &AppState) -> Result<T, AppError> {
    let cfg = &state.config;
    let auth_token = if cfg.twilio.insecure_skip_signature { None } else { auth_token(state).await };
    let is_form =
        header(req, "content-type").is_some_and(|ct| ct.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !cfg.twilio.insecure_skip_signature {
        let signature = header(req, SIGNATURE_HEADER);
        if signature.is_none() {
            return Err(AppError::Forbidden("missing X-Twilio-Signature".into()));
        }
        if !is_form {
            return Err(AppError::Forbidden("webhooks must be form-encoded and signed".into()));
        }
        let pairs = params::form_pairs(body).map_err(|_| AppError::Forbidden("invalid signature".into()))?;
        let url = format!(
            "{}{}",
            cfg.public_url.trim_end_matches('/'),
            req.uri().path_and_query().map_or("/", actix_web::http::uri::PathAndQuery::as_str)
        );
        let keys = SignatureKeys { auth_token, shared_key: cfg.twilio.webhook_shared_key.as_ref().map(|s| s.expose().to_string()) };
        if let Err(e) = signature::verify(&keys, &url, &pairs, signature, header(req, SIGNATURE_SETTINGS_HEADER)) {
            tracing::warn!(error = %e, path = req.path(), "webhook refused: bad signature");
            return Err(AppError::Forbidden("invalid signature".into()));
        }
        return params::from_pairs(&pairs).map_err(|e| AppError::bad_request(format!("webhook parameters: {e}")));
    }
    if !is_form {
        return Err(AppError::UnsupportedMediaType("expected application/x-www-form-urlencoded".into()));
    }
    params::from_form(body).map_err(|e| AppError::bad_request(format!("webhook parameters: {e}")))
}

fn leg_param(req: &HttpRequest) -> Result<Option<i64>, AppError> {
    let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    query.get("leg").map(|v| v.parse().map_err(|_| AppError::field("leg", "must be an integer"))).transpose()
}

/// Renders an answer as TwiML.
pub fn render(answer: &Answer, state: &AppState) -> String {
    let base = state.config.public_url.trim_end_matches('/');
    let routing = &state.config.routing;
    match answer {
        Answer::Ivr(ask) => ivr_twiml(ask, base).to_xml(),
        Answer::Dial { greeting, leg_id, buyer_number, caller_id, whisper } => {
            let mut number =
                Number::new(buyer_number.as_str()).status_callback(format!("{base}{STATUS_PATH}?leg={leg_id}"), &CallEvent::ALL);
            if *whisper {
                number = number.whisper_url(format!("{base}{LEGS_PATH}/{leg_id}/whisper"));
            }
            let dial_verb = Dial::new(number)
                .action(format!("{base}{DIAL_PATH}?leg={leg_id}"))
                .timeout(routing.dial_timeout_secs)
                .time_limit(routing.time_limit_secs)
                .caller_id(caller_id.as_str())
                .record_from_answer(format!("{base}{RECORDING_PATH}"));
            Response::greet_and_dial(greeting.as_deref().map(Say::new), dial_verb).to_xml()
        }
        Answer::Whisper { leg_id, say, accept_timeout: Some(timeout) } => {
            let prompt = match say {
                Some(whisper) => format!("{whisper} {ACCEPT_PROMPT}"),
                None => ACCEPT_PROMPT.to_string(),
            };
            let gather = Gather::dtmf(1)
                .action(format!("{base}{LEGS_PATH}/{leg_id}/accept"))
                .timeout(*timeout)
                .action_on_empty_result(true)
                .say(Say::new(prompt));
            // The hangup is only reached if Twilio did not request the action.
            Response::new().gather(gather).hangup().to_xml()
        }
        Answer::Whisper { say, accept_timeout: None, .. } => match say {
            Some(whisper) => Response::new().say(Say::new(whisper.as_str())).to_xml(),
            None => Response::new().to_xml(),
        },
        Answer::Bridge => Response::new().to_xml(),
        Answer::SayHangup(message) => Response::say_and_hangup(Say::new(message.as_str())).to_xml(),
        // `PingBidders` never leaves the call flow (it pings the bidders and answers again).
        Answer::Hangup | Answer::PingBidders(_) => Response::new().hangup().to_xml(),
        Answer::Reject => Response::new().reject(Some(twiml::RejectReason::Rejected)).to_xml(),
    }
}

/// A question of a campaign's IVR: what is said first (greeting or retry message), then the
/// question in a `<Gather>` whose action (silence included) names the call, question and try.
pub fn ivr_twiml(ask: &crate::callflow::ivr::Ask, base: &str) -> Response {
    use callbroker_wire::IvrInput;
    let q = &ask.q;
    let input = match q.input {
        IvrInput::Dtmf => vec![twiml::GatherInput::Dtmf],
        IvrInput::Speech => vec![twiml::GatherInput::Speech],
        IvrInput::DtmfSpeech => vec![twiml::GatherInput::Dtmf, twiml::GatherInput::Speech],
    };
    let speech = q.input != IvrInput::Dtmf;
    let mut gather = Gather {
        input,
        num_digits: q.num_digits.and_then(|n| u32::try_from(n).ok()),
        speech_timeout: speech.then(|| "auto".to_string()),
        ..Gather::default()
    }
    .action(format!("{base}{CALLS_PATH}/{}/ivr/{}/{}", ask.call_id, ask.question, ask.attempt))
    .timeout(u32::try_from(q.timeout_secs).unwrap_or(callbroker_wire::DEFAULT_IVR_TIMEOUT_SECS.unsigned_abs()))
    .action_on_empty_result(true);
    gather = match (&q.say, &q.play) {
        (_, Some(url)) => gather.play(url.as_str()),
        (Some(text), None) => gather.say(Say::new(text.as_str())),
        (None, None) => gather,
    };
    let mut response = Response::new();
    if let Some(before) = ask.before.as_deref().filter(|s| !s.trim().is_empty()) {
        response = response.say(Say::new(before));
    }
    response.gather(gather)
}

fn twiml_response(xml: String) -> HttpResponse {
    HttpResponse::Ok().content_type(twiml::CONTENT_TYPE).body(xml)
}

/// Database trouble on a TwiML route: the caller hears the busy message; the status is 503.
fn twiml_or_error(webhook: &str, result: Result<Answer, AppError>, req: &HttpRequest, state: &AppState) -> Result<HttpResponse, AppError> {
    if let Some(m) = req.app_data::<web::Data<crate::metrics::Metrics>>() {
        let kind = match &result {
            Ok(Answer::Dial { .. }) => "dial",
            Ok(Answer::Ivr(_)) => "ivr_question",
            Ok(Answer::Whisper { accept_timeout: Some(_), .. }) => "accept_prompt",
            Ok(Answer::Whisper { .. }) => "whisper",
            Ok(Answer::Bridge) => "bridge",
            Ok(Answer::SayHangup(_)) => "say_hangup",
            Ok(Answer::Hangup) => "hangup",
            Ok(Answer::Reject) => "reject",
            Ok(Answer::PingBidders(_)) => "ping_bidders",
            Err(AppError::Unavailable(_) | AppError::Internal(_)) => "unavailable",
            Err(_) => "refused",
        };
        m.webhook_answers.with_label_values(&[webhook, kind]).inc();
    }
    match result {
        Ok(answer) => Ok(twiml_response(render(&answer, state))),
        Err(e @ (AppError::Unavailable(_) | AppError::Internal(_))) => {
            tracing::error!(error = %e, "webhook failed; answering the busy message");
            let xml = Response::say_and_hangup(Say::new(UNAVAILABLE_MESSAGE)).to_xml();
            Ok(HttpResponse::ServiceUnavailable().content_type(twiml::CONTENT_TYPE).body(xml))
        }
        Err(e) => Err(e),
    }
}

/// A call arrives: Callbroker finds the campaign by the dialled number, picks a buyer and answers
/// TwiML (greeting, then `<Dial>` to the buyer with recording), or the busy message.
#[utoipa::path(operation_id = "twilio_voice_webhook", security(), tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Twilio's voice webhook parameters (CallSid, From, To, FromState, ...)"),
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    responses(
        (status = 200, description = "TwiML", content_type = "text/xml", body = String),
        (status = 400, description = "Malformed parameters", body = ErrorBody),
        (status = 403, description = "Missing or wrong signature", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 503, description = "Database unreachable: TwiML with the busy message", content_type = "text/xml", body = String),
    ))]
#[post("/webhooks/twilio/voice")]
pub async fn voice(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let v: VoiceWebhook = verified(&req, &body, &state).await?;
    let result = state.flow.voice(v, chrono::Utc::now()).await.map_err(AppError::from);
    twiml_or_error("voice", result, &req, &state)
}

/// The outcome of one `<Dial>` attempt: fails over to the next buyer when the attempt was busy,
/// unanswered or failed; otherwise hangs up.
#[utoipa::path(operation_id = "twilio_dial_webhook", security(), tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "DialCallStatus, DialCallSid, DialCallDuration, ..."),
    params(("leg" = i64, Query, description = "The attempt (buyer leg) this answers for"),
           ("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    responses(
        (status = 200, description = "TwiML", content_type = "text/xml", body = String),
        (status = 400, description = "Malformed parameters", body = ErrorBody),
        (status = 403, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "Unknown leg", body = ErrorBody),
        (status = 503, description = "Database unreachable: TwiML with the busy message", content_type = "text/xml", body = String),
    ))]
#[post("/webhooks/twilio/dial")]
pub async fn dial(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let d: DialActionCallback = verified(&req, &body, &state).await?;
    let leg = leg_param(&req)?.ok_or_else(|| AppError::field("leg", "is required"))?;
    let result = state.flow.dial(leg, d, chrono::Utc::now()).await.map_err(AppError::from);
    twiml_or_error("dial", result, &req, &state)
}

/// A buyer's agent answered leg `leg_id` (Twilio asks the dialled number's `url`): the whisper,
/// then either nothing more (the caller is put through) or, when the buyer requires acceptance,
/// "press 1 to accept" gathered to the leg's `accept` webhook, and a hangup.
#[utoipa::path(operation_id = "twilio_whisper_webhook", security(), tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "The dialled leg's call parameters: CallSid, ParentCallSid, CallStatus, ..."),
    params(("leg_id" = i64, Path, description = "The buyer leg whose agent answered"),
           ("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    responses(
        (status = 200, description = "TwiML for the agent", content_type = "text/xml", body = String),
        (status = 400, description = "Malformed parameters, or a call that is not the leg's", body = ErrorBody),
        (status = 403, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "Unknown leg", body = ErrorBody),
        (status = 422, description = "`leg_id` is not an integer", body = ErrorBody),
        (status = 503, description = "Database unreachable: TwiML that hangs up on the agent", content_type = "text/xml", body = String),
    ))]
#[post("/webhooks/twilio/legs/{leg_id}/whisper")]
pub async fn leg_whisper(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let g: GatherCallback = verified(&req, &body, &state).await?;
    let leg: i64 = path_number(&req, "leg_id")?;
    let result = state.flow.whisper(leg, g).await.map_err(AppError::from);
    twiml_or_error("whisper", result, &req, &state)
}

/// The agent's answer to "press 1 to accept" on leg `leg_id` (the `<Gather>` action; silence
/// comes too): `Digits=1` records the acceptance and answers an empty document, so the caller is
/// put through; anything else hangs up on the agent, and the `<Dial>` action that follows fails
/// over to the next buyer.
#[utoipa::path(operation_id = "twilio_accept_webhook", security(), tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Digits (absent or empty on silence), CallSid, ParentCallSid, ..."),
    params(("leg_id" = i64, Path, description = "The buyer leg whose agent answered the prompt"),
           ("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    responses(
        (status = 200, description = "TwiML for the agent: empty (put through) or a hangup", content_type = "text/xml", body = String),
        (status = 400, description = "Malformed parameters, or a call that is not the leg's", body = ErrorBody),
        (status = 403, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "Unknown leg", body = ErrorBody),
        (status = 422, description = "`leg_id` is not an integer", body = ErrorBody),
        (status = 503, description = "Database unreachable: TwiML that hangs up on the agent", content_type = "text/xml", body = String),
    ))]
#[post("/webhooks/twilio/legs/{leg_id}/accept")]
pub async fn leg_accept(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let g: GatherCallback = verified(&req, &body, &state).await?;
    let leg: i64 = path_number(&req, "leg_id")?;
    let result = state.flow.accept(leg, g, chrono::Utc::now()).await.map_err(AppError::from);
    twiml_or_error("accept", result, &req, &state)
}

/// A number from the path, read once the request is known to be Twilio's.
fn path_number<T: std::str::FromStr>(req: &HttpRequest, name: &'static str) -> Result<T, AppError> {
    req.match_info().get(name).and_then(|v| v.parse().ok()).ok_or_else(|| AppError::field(name, "must be a non-negative integer"))
}

/// The caller's answer to a question of the campaign's IVR (the `<Gather>` action; silence comes
/// too). Reads `Digits`, `SpeechResult` and `Confidence`; answers the next question, the routed
/// call's `<Dial>`, or a goodbye. A callback for a question the call is no longer on (a retry)
/// changes nothing and is answered with what the call is doing now.
#[utoipa::path(operation_id = "twilio_ivr_webhook", security(), tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "CallSid, Digits, SpeechResult, Confidence (absent or empty on silence), ..."),
    params(("call_id" = i64, Path, description = "The call"),
           ("question" = u32, Path, description = "The question answered (0-based)"),
           ("attempt" = u32, Path, description = "The try of that question (1 = first)"),
           ("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    responses(
        (status = 200, description = "TwiML for the caller", content_type = "text/xml", body = String),
        (status = 400, description = "Malformed parameters, or a CallSid that is not the call's", body = ErrorBody),
        (status = 403, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "Unknown call", body = ErrorBody),
        (status = 422, description = "A path segment is not a number", body = ErrorBody),
        (status = 503, description = "Database unreachable: TwiML with the busy message", content_type = "text/xml", body = String),
    ))]
#[post("/webhooks/twilio/calls/{call_id}/ivr/{question}/{attempt}")]
pub async fn ivr_answer(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let g: GatherCallback = verified(&req, &body, &state).await?;
    let call_id: i64 = path_number(&req, "call_id")?;
    let question: u32 = path_number(&req, "question")?;
    let attempt: u32 = path_number(&req, "attempt")?;
    let result = state.flow.ivr(call_id, question, attempt, g, chrono::Utc::now()).await.map_err(AppError::from);
    twiml_or_error("ivr", result, &req, &state)
}

/// Status callbacks of the inbound call, or of a buyer leg (`?leg=`).
#[utoipa::path(operation_id = "twilio_status_webhook", security(), tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "CallSid, CallStatus, CallDuration, SequenceNumber, Timestamp, ..."),
    params(("leg" = Option<i64>, Query, description = "Set on buyer-leg callbacks"),
           ("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, description = "Malformed parameters", body = ErrorBody),
        (status = 403, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "Unknown call or leg", body = ErrorBody),
        (status = 503, description = "Database unreachable", body = ErrorBody),
    ))]
#[post("/webhooks/twilio/status")]
pub async fn status(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let cb: CallStatusCallback = verified(&req, &body, &state).await?;
    let leg = leg_param(&req)?;
    state.flow.status(leg, cb, chrono::Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The recording of a call is ready (or failed).
#[utoipa::path(operation_id = "twilio_recording_webhook", security(), tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "RecordingSid, RecordingUrl, RecordingStatus, RecordingDuration, ..."),
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, description = "Malformed parameters", body = ErrorBody),
        (status = 403, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "Unknown call", body = ErrorBody),
        (status = 422, description = "`RecordingSid` is not a Twilio recording SID", body = ErrorBody),
        (status = 503, description = "Database unreachable", body = ErrorBody),
    ))]
#[post("/webhooks/twilio/recording")]
pub async fn recording(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let r: RecordingStatusCallback = verified(&req, &body, &state).await?;
    // It goes into Twilio REST paths later (the recording's download, its transcript).
    crate::domain::validate::recording_sid(&r.recording_sid).map_err(|e| AppError::field("RecordingSid", e))?;
    state.flow.recording(r, chrono::Utc::now()).await?;
    Ok(HttpResponse::NoContent().content_type(ContentType::plaintext()).finish())
}
