//! Typed views of the form bodies Twilio posts to voice webhooks.
//!
//! Twilio sends `application/x-www-form-urlencoded` bodies. Verify the
//! signature on the raw pairs first ([`form_pairs`] then
//! [`super::signature::verify`]), then read the typed struct with
//! [`from_pairs`]. Every value arrives as text; required fields are `String`,
//! the others `Option<String>` (an empty value reads as `None`), and helper
//! methods parse numbers and statuses leniently so that an unexpected value
//! never makes a whole callback unreadable. Unknown parameters are ignored.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// Why a form body could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A name or value is not UTF-8 once percent-decoded.
    #[error("form body is not valid UTF-8")]
    NotUtf8,
    /// The pairs do not fit the expected struct (a required field is missing).
    #[error("unexpected webhook parameters: {0}")]
    Invalid(String),
}

/// Decodes an `application/x-www-form-urlencoded` body into its pairs, in
/// order, keeping repeated names. `+` means a space; `%XX` sequences are
/// decoded; a body (or a decoded sequence) that is not UTF-8 is rejected
/// rather than repaired, since the signature covers the exact text.
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    body.split(|&b| b == b'&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let (name, value) = match segment.iter().position(|&b| b == b'=') {
                Some(i) => (&segment[..i], &segment[i + 1..]),
                None => (segment, &segment[..0]),
            };
            Ok((decode_component(name)?, decode_component(value)?))
        })
        .collect()
}

fn decode_component(raw: &[u8]) -> Result<String, FormError> {
    let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(decoded).map_err(|_| FormError::NotUtf8)
}

/// Reads a typed webhook from decoded pairs. When a name is repeated the
/// first value is used.
pub fn from_pairs<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, FormError> {
    let mut first: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        // No database text column takes a NUL (PostgreSQL refuses it): a bad request, not a 5xx.
        if name.contains('\0') || value.contains('\0') {
            return Err(FormError::Invalid(format!("parameter {:?} contains a NUL character", name.replace('\0', "\\0"))));
        }
        if !first.iter().any(|(n, _)| *n == name) {
            first.push((name, value));
        }
    }
    let encoded = serde_urlencoded::to_string(&first).map_err(|e| FormError::Invalid(e.to_string()))?;
    serde_urlencoded::from_str(&encoded).map_err(|e| FormError::Invalid(e.to_string()))
}

/// [`form_pairs`] then [`from_pairs`].
pub fn from_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, FormError> {
    from_pairs(&form_pairs(body)?)
}

fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

fn parse_u32(value: Option<&str>) -> Option<u32> {
    value.and_then(|v| v.trim().parse().ok())
}

/// `CallStatus` values (Call resource and status callbacks).
pub use crate::domain::states::CallStatus;

/// `DialCallStatus` values posted to a `<Dial action>` URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialCallStatus {
    /// The dialed party answered and the call ended normally.
    Completed,
    /// The dialed party answered (seen while still connected, e.g. with `hangupOnStar`).
    Answered,
    Busy,
    NoAnswer,
    Failed,
    /// The call was hung up before the dialed party answered.
    Canceled,
}

impl DialCallStatus {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.trim() {
            "completed" => DialCallStatus::Completed,
            "answered" => DialCallStatus::Answered,
            "busy" => DialCallStatus::Busy,
            "no-answer" => DialCallStatus::NoAnswer,
            "failed" => DialCallStatus::Failed,
            "canceled" => DialCallStatus::Canceled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DialCallStatus::Completed => "completed",
            DialCallStatus::Answered => "answered",
            DialCallStatus::Busy => "busy",
            DialCallStatus::NoAnswer => "no-answer",
            DialCallStatus::Failed => "failed",
            DialCallStatus::Canceled => "canceled",
        }
    }

    /// The buyer picked up.
    pub fn was_answered(self) -> bool {
        matches!(self, DialCallStatus::Completed | DialCallStatus::Answered)
    }
}

/// `RecordingStatus` values posted to a recording status callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordingStatus {
    InProgress,
    Completed,
    /// Nothing was recorded (e.g. silence only).
    Absent,
    Failed,
}

impl RecordingStatus {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.trim() {
            "in-progress" => RecordingStatus::InProgress,
            "completed" => RecordingStatus::Completed,
            "absent" => RecordingStatus::Absent,
            "failed" => RecordingStatus::Failed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordingStatus::InProgress => "in-progress",
            RecordingStatus::Completed => "completed",
            RecordingStatus::Absent => "absent",
            RecordingStatus::Failed => "failed",
        }
    }
}

/// Incoming-call webhook: the number's voice URL (and its fallback URL).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VoiceWebhook {
    pub call_sid: String,
    pub account_sid: String,
    pub from: String,
    pub to: String,
    pub call_status: String,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub api_version: Option<String>,
    /// `inbound`, `outbound-api` or `outbound-dial`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub direction: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub forwarded_from: Option<String>,
    /// CNAM lookup result, only when enabled on the number.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub caller_name: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub parent_call_sid: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub call_token: Option<String>,
    /// Legacy duplicates of `To` / `From`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub called: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub caller: Option<String>,
    /// Caller geography, from the number's data: best effort, often absent.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub from_city: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub from_state: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub from_zip: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub from_country: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub to_city: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub to_state: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub to_zip: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub to_country: Option<String>,
    /// SHAKEN/STIR verification result, e.g. `TN-Validation-Passed-A`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub stir_verstat: Option<String>,
}

impl VoiceWebhook {
    pub fn status(&self) -> Option<CallStatus> {
        CallStatus::parse(&self.call_status)
    }
}

/// Call status callback (`statusCallback` of a call or of a `<Number>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallStatusCallback {
    pub call_sid: String,
    pub account_sid: String,
    pub call_status: String,
    /// For a `<Dial>` leg: the inbound call that dialed it.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub parent_call_sid: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub from: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub to: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub direction: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub api_version: Option<String>,
    /// Seconds, on the final callback.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub call_duration: Option<String>,
    /// Billed minutes (rounded up), on the final callback of some call types.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub duration: Option<String>,
    /// When the event happened, RFC 2822 (e.g. `Mon, 16 Aug 2010 03:45:01 +0000`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub timestamp: Option<String>,
    /// 0-based order of the callbacks of one call: callbacks may arrive out of order.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub sequence_number: Option<String>,
    /// `call-progress-events` for these callbacks.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub callback_source: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_url: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_sid: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_duration: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub sip_response_code: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub error_code: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub error_message: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub answered_by: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub forwarded_from: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub caller_name: Option<String>,
}

impl CallStatusCallback {
    pub fn status(&self) -> Option<CallStatus> {
        CallStatus::parse(&self.call_status)
    }

    pub fn call_duration_secs(&self) -> Option<u32> {
        parse_u32(self.call_duration.as_deref())
    }

    pub fn sequence(&self) -> Option<u32> {
        parse_u32(self.sequence_number.as_deref())
    }
}

/// Parameters posted to a `<Dial action>` URL when the dialed call ends
/// (besides the usual call parameters of the inbound call).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DialActionCallback {
    /// The inbound (parent) call.
    pub call_sid: String,
    pub account_sid: String,
    pub dial_call_status: String,
    /// The dialed (child) call, absent when no call could be placed.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub dial_call_sid: Option<String>,
    /// Seconds the dialed call was connected.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub dial_call_duration: Option<String>,
    /// `true` when the two calls were bridged.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub dial_bridged: Option<String>,
    /// Present when `<Dial record>` recorded something.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_url: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_sid: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_duration: Option<String>,
    /// The inbound call's own status.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub call_status: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub from: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub to: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub direction: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub api_version: Option<String>,
}

impl DialActionCallback {
    pub fn dial_status(&self) -> Option<DialCallStatus> {
        DialCallStatus::parse(&self.dial_call_status)
    }

    pub fn dial_call_duration_secs(&self) -> Option<u32> {
        parse_u32(self.dial_call_duration.as_deref())
    }

    pub fn bridged(&self) -> Option<bool> {
        match self.dial_bridged.as_deref().map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    pub fn recording_duration_secs(&self) -> Option<u32> {
        parse_u32(self.recording_duration.as_deref())
    }
}

/// What Twilio posts when it asks for TwiML on a call it dialled with `<Dial><Number url>` (the
/// whisper, run on the buyer's side once they answer), and to the `action` of a `<Gather>` said
/// on such a call (with what was gathered).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GatherCallback {
    /// The call the TwiML runs on (the dialled leg).
    pub call_sid: String,
    pub account_sid: String,
    /// For a `<Dial>` leg: the inbound call that dialled it.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub parent_call_sid: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub call_status: Option<String>,
    /// Keys pressed; absent or empty when nothing was (`actionOnEmptyResult`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub digits: Option<String>,
    /// `<Gather input="speech">`: what was understood, and how sure the recogniser is (0 to 1).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub speech_result: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub confidence: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub from: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub to: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub direction: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub api_version: Option<String>,
}

impl GatherCallback {
    pub fn status(&self) -> Option<CallStatus> {
        self.call_status.as_deref().and_then(CallStatus::parse)
    }
}

/// Recording status callback (`recordingStatusCallback`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordingStatusCallback {
    pub account_sid: String,
    pub call_sid: String,
    pub recording_sid: String,
    pub recording_status: String,
    /// Media URL (append `.mp3` / `.wav`); fetching it needs account credentials
    /// unless the account allows public recording media.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_url: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_duration: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_channels: Option<String>,
    /// RFC 2822.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_start_time: Option<String>,
    /// e.g. `DialVerb`, `OutboundAPI`, `StartCallRecordingAPI`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_source: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub recording_track: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub conference_sid: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub error_code: Option<String>,
}

impl RecordingStatusCallback {
    pub fn status(&self) -> Option<RecordingStatus> {
        RecordingStatus::parse(&self.recording_status)
    }

    pub fn duration_secs(&self) -> Option<u32> {
        parse_u32(self.recording_duration.as_deref())
    }

    pub fn channels(&self) -> Option<u32> {
        parse_u32(self.recording_channels.as_deref())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(n: &str, v: &str) -> (String, String) {
        (n.to_owned(), v.to_owned())
    }

    #[test]
    fn nul_characters_are_refused() {
        let err = from_form::<VoiceWebhook>(b"CallSid=CA1&From=%2B1%00&To=%2B2").expect_err("NUL in a value");
        assert!(err.to_string().contains("NUL"), "{err}");
        assert!(from_form::<VoiceWebhook>(b"Call%00Sid=CA1&CallSid=CA1&From=%2B1&To=%2B2").is_err(), "NUL in a name");
    }

    #[test]
    fn form_pairs_decodes_like_a_form() {
        let pairs = form_pairs(b"To=%2B17175550100&FromCity=SAN+FRANCISCO&Empty=&Flag&&Caf%C3%A9=%E2%98%8E&a=1&a=2").unwrap();
        assert_eq!(
            pairs,
            vec![
                p("To", "+17175550100"),
                p("FromCity", "SAN FRANCISCO"),
                p("Empty", ""),
                p("Flag", ""),
                p("Café", "☎"),
                p("a", "1"),
                p("a", "2"),
            ]
        );
        assert_eq!(form_pairs(b"").unwrap(), vec![]);
        // `=` inside a value, and a literal `+` sent encoded.
        assert_eq!(form_pairs(b"x=a=b&y=%2B1+2").unwrap(), vec![p("x", "a=b"), p("y", "+1 2")]);
        // Malformed percent sequences are kept literally, as form decoders do.
        assert_eq!(form_pairs(b"x=100%&y=%zz").unwrap(), vec![p("x", "100%"), p("y", "%zz")]);
    }

    #[test]
    fn form_pairs_rejects_non_utf8() {
        assert_eq!(form_pairs(b"From=%FF"), Err(FormError::NotUtf8));
        assert_eq!(form_pairs(b"From=\xff"), Err(FormError::NotUtf8));
        assert_eq!(form_pairs(b"%C3=x"), Err(FormError::NotUtf8));
        // An encoded U+FFFD is legitimate text, not an error.
        assert_eq!(form_pairs(b"x=%EF%BF%BD").unwrap(), vec![p("x", "\u{FFFD}")]);
    }

    #[test]
    fn voice_webhook() {
        let body = b"AccountSid=AC00000000000000000000000000000000&ApiVersion=2010-04-01\
&CallSid=CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&CallStatus=ringing&Called=%2B17175550100\
&Caller=%2B14155550123&Direction=inbound&From=%2B14155550123&FromCity=SAN+FRANCISCO\
&FromCountry=US&FromState=CA&FromZip=94105&To=%2B17175550100&ToCountry=US&ToState=PA\
&CallerName=&StirVerstat=TN-Validation-Passed-A&SomethingNew=ignored";
        let hook: VoiceWebhook = from_form(body).unwrap();
        assert_eq!(hook.call_sid, "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(hook.account_sid, "AC00000000000000000000000000000000");
        assert_eq!(hook.from, "+14155550123");
        assert_eq!(hook.to, "+17175550100");
        assert_eq!(hook.status(), Some(CallStatus::Ringing));
        assert_eq!(hook.direction.as_deref(), Some("inbound"));
        assert_eq!(hook.from_city.as_deref(), Some("SAN FRANCISCO"));
        assert_eq!(hook.from_state.as_deref(), Some("CA"));
        assert_eq!(hook.from_zip.as_deref(), Some("94105"));
        assert_eq!(hook.from_country.as_deref(), Some("US"));
        assert_eq!(hook.to_state.as_deref(), Some("PA"));
        assert_eq!(hook.caller_name, None, "empty value reads as None");
        assert_eq!(hook.forwarded_from, None);
        assert_eq!(hook.stir_verstat.as_deref(), Some("TN-Validation-Passed-A"));

        // A required field missing.
        let err = from_form::<VoiceWebhook>(b"CallSid=CA1&From=%2B1&To=%2B2&CallStatus=ringing").unwrap_err();
        assert!(matches!(err, FormError::Invalid(ref m) if m.contains("AccountSid")), "{err}");
    }

    #[test]
    fn repeated_names_take_the_first_value() {
        let pairs =
            vec![p("CallSid", "CA1"), p("AccountSid", "AC1"), p("From", "+1"), p("From", "+2"), p("To", "+3"), p("CallStatus", "ringing")];
        let hook: VoiceWebhook = from_pairs(&pairs).unwrap();
        assert_eq!(hook.from, "+1");
    }

    #[test]
    fn status_callback() {
        let body = b"CallSid=CA2&AccountSid=AC1&ParentCallSid=CA1&CallStatus=completed&CallDuration=42\
&Duration=1&Timestamp=Mon%2C+16+Aug+2010+03%3A45%3A01+%2B0000&SequenceNumber=3\
&CallbackSource=call-progress-events&Direction=outbound-dial&From=%2B1&To=%2B2";
        let cb: CallStatusCallback = from_form(body).unwrap();
        assert_eq!(cb.status(), Some(CallStatus::Completed));
        assert!(cb.status().is_some_and(CallStatus::is_final));
        assert_eq!(cb.parent_call_sid.as_deref(), Some("CA1"));
        assert_eq!(cb.call_duration_secs(), Some(42));
        assert_eq!(cb.duration.as_deref(), Some("1"));
        assert_eq!(cb.timestamp.as_deref(), Some("Mon, 16 Aug 2010 03:45:01 +0000"));
        assert_eq!(cb.sequence(), Some(3));
        assert_eq!(cb.callback_source.as_deref(), Some("call-progress-events"));

        let ringing: CallStatusCallback =
            from_form(b"CallSid=CA2&AccountSid=AC1&CallStatus=ringing&SequenceNumber=1&CallDuration=").unwrap();
        assert_eq!(ringing.call_duration_secs(), None);
        assert!(!ringing.status().is_some_and(CallStatus::is_final));
        // A status this code does not know stays readable.
        let odd: CallStatusCallback = from_form(b"CallSid=CA2&AccountSid=AC1&CallStatus=brand-new").unwrap();
        assert_eq!(odd.status(), None);
        assert_eq!(odd.call_status, "brand-new");
    }

    #[test]
    fn dial_action_callback() {
        let body = b"CallSid=CA1&AccountSid=AC1&CallStatus=in-progress&DialCallStatus=completed\
&DialCallSid=CA2&DialCallDuration=65&DialBridged=true&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FRecordings%2FRE1\
&RecordingSid=RE1&RecordingDuration=64";
        let cb: DialActionCallback = from_form(body).unwrap();
        assert_eq!(cb.dial_status(), Some(DialCallStatus::Completed));
        assert!(cb.dial_status().is_some_and(DialCallStatus::was_answered));
        assert_eq!(cb.dial_call_sid.as_deref(), Some("CA2"));
        assert_eq!(cb.dial_call_duration_secs(), Some(65));
        assert_eq!(cb.bridged(), Some(true));
        assert_eq!(cb.recording_sid.as_deref(), Some("RE1"));
        assert_eq!(cb.recording_duration_secs(), Some(64));
        assert_eq!(cb.recording_url.as_deref(), Some("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"));

        let busy: DialActionCallback = from_form(b"CallSid=CA1&AccountSid=AC1&DialCallStatus=no-answer&DialBridged=false").unwrap();
        assert_eq!(busy.dial_status(), Some(DialCallStatus::NoAnswer));
        assert!(!busy.dial_status().is_some_and(DialCallStatus::was_answered));
        assert_eq!(busy.bridged(), Some(false));
        assert_eq!(busy.dial_call_sid, None);
        assert_eq!(busy.dial_call_duration_secs(), None);
    }

    #[test]
    fn gather_callback() {
        let body = b"CallSid=CA2&AccountSid=AC1&ParentCallSid=CA1&CallStatus=in-progress&Digits=1\
&Direction=outbound-dial&From=%2B1&To=%2B2&ApiVersion=2010-04-01&FinishedOnKey=";
        let cb: GatherCallback = from_form(body).unwrap();
        assert_eq!(cb.call_sid, "CA2");
        assert_eq!(cb.parent_call_sid.as_deref(), Some("CA1"));
        assert_eq!(cb.status(), Some(CallStatus::InProgress));
        assert_eq!(cb.digits.as_deref(), Some("1"));
        assert_eq!(cb.direction.as_deref(), Some("outbound-dial"));
        // Silence, posted because of actionOnEmptyResult: no digits.
        let silent: GatherCallback = from_form(b"CallSid=CA2&AccountSid=AC1&Digits=").unwrap();
        assert_eq!(silent.digits, None);
        assert_eq!(silent.parent_call_sid, None);
        let err = from_form::<GatherCallback>(b"AccountSid=AC1&Digits=1").unwrap_err();
        assert!(matches!(err, FormError::Invalid(ref m) if m.contains("CallSid")), "{err}");
    }

    #[test]
    fn recording_status_callback() {
        let body = b"AccountSid=AC1&CallSid=CA1&RecordingSid=RE1&RecordingStatus=completed\
&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FRecordings%2FRE1\
&RecordingDuration=64&RecordingChannels=1&RecordingStartTime=Mon%2C+22+Aug+2011+20%3A58%3A45+%2B0000\
&RecordingSource=DialVerb&ErrorCode=0";
        let cb: RecordingStatusCallback = from_form(body).unwrap();
        assert_eq!(cb.status(), Some(RecordingStatus::Completed));
        assert_eq!(cb.duration_secs(), Some(64));
        assert_eq!(cb.channels(), Some(1));
        assert_eq!(cb.recording_source.as_deref(), Some("DialVerb"));
        assert_eq!(cb.recording_start_time.as_deref(), Some("Mon, 22 Aug 2011 20:58:45 +0000"));
        assert_eq!(cb.error_code.as_deref(), Some("0"));

        let absent: RecordingStatusCallback = from_form(b"AccountSid=AC1&CallSid=CA1&RecordingSid=RE2&RecordingStatus=absent").unwrap();
        assert_eq!(absent.status(), Some(RecordingStatus::Absent));
        assert_eq!(absent.recording_url, None);
    }

    #[test]
    fn status_names_round_trip() {
        for s in [
            CallStatus::Queued,
            CallStatus::Initiated,
            CallStatus::Ringing,
            CallStatus::InProgress,
            CallStatus::Completed,
            CallStatus::Busy,
            CallStatus::Failed,
            CallStatus::NoAnswer,
            CallStatus::Canceled,
        ] {
            assert_eq!(CallStatus::parse(s.as_str()), Some(s));
        }
        for s in [
            DialCallStatus::Completed,
            DialCallStatus::Answered,
            DialCallStatus::Busy,
            DialCallStatus::NoAnswer,
            DialCallStatus::Failed,
            DialCallStatus::Canceled,
        ] {
            assert_eq!(DialCallStatus::parse(s.as_str()), Some(s));
        }
        for s in [RecordingStatus::InProgress, RecordingStatus::Completed, RecordingStatus::Absent, RecordingStatus::Failed] {
            assert_eq!(RecordingStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn pairs_feed_the_signature_check() {
        use super::super::signature::{sign, verify, Algorithm, SignatureKeys};
        // The third shared vector, sent as a form body.
        let body = b"AccountSid=AC00000000000000000000000000000000&ApiVersion=2010-04-01\
&CallSid=CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&CallStatus=ringing&Called=%2B17175550100\
&Caller=%2B14155550123&Direction=inbound&From=%2B14155550123&FromCity=SAN+FRANCISCO\
&FromCountry=US&FromState=CA&FromZip=94105&To=%2B17175550100&ToCountry=US&ToState=PA";
        let pairs = form_pairs(body).unwrap();
        let url = "https://calls.example.org/api/webhooks/twilio/voice";
        assert_eq!(sign("12345", Algorithm::HmacSha1, url, &pairs), "EO5a3dcJ1xMa0f2hDrGUJAlc4j4=");
        let keys = SignatureKeys { auth_token: Some("12345".into()), shared_key: None };
        assert_eq!(verify(&keys, url, &pairs, Some("EO5a3dcJ1xMa0f2hDrGUJAlc4j4="), None), Ok(()));
    }
}
