//! TwiML answers for voice webhooks.
//!
//! A small typed builder over the verbs Callbroker needs (`<Say>`, `<Dial>`
//! with `<Number>`, `<Gather>`, `<Pause>`, `<Hangup>`, `<Reject>`). Output is written with
//! `quick-xml`, which escapes every text and attribute value; characters XML
//! 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) are dropped, and
//! tab / line breaks in attribute values become spaces.
//!
//! ```text
//! <?xml version="1.0" encoding="UTF-8"?><Response><Say>…</Say><Dial …><Number …>+1…</Number></Dial></Response>
//! ```

use std::borrow::Cow;
use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

/// `Content-Type` for a TwiML answer.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// HTTP method Twilio uses for a callback URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// `<Dial record>` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Record {
    DoNotRecord,
    RecordFromAnswer,
    RecordFromRinging,
    /// Two channels: caller and callee apart.
    RecordFromAnswerDual,
    RecordFromRingingDual,
}

impl Record {
    pub fn as_str(self) -> &'static str {
        match self {
            Record::DoNotRecord => "do-not-record",
            Record::RecordFromAnswer => "record-from-answer",
            Record::RecordFromRinging => "record-from-ringing",
            Record::RecordFromAnswerDual => "record-from-answer-dual",
            Record::RecordFromRingingDual => "record-from-ringing-dual",
        }
    }
}

/// `<Number statusCallbackEvent>` values (Twilio's default is `completed` only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallEvent {
    Initiated,
    Ringing,
    Answered,
    Completed,
}

impl CallEvent {
    pub const ALL: [CallEvent; 4] = [CallEvent::Initiated, CallEvent::Ringing, CallEvent::Answered, CallEvent::Completed];

    pub fn as_str(self) -> &'static str {
        match self {
            CallEvent::Initiated => "initiated",
            CallEvent::Ringing => "ringing",
            CallEvent::Answered => "answered",
            CallEvent::Completed => "completed",
        }
    }
}

/// `<Dial recordingStatusCallbackEvent>` values (default `completed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordingEvent {
    InProgress,
    Completed,
    Absent,
}

impl RecordingEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingEvent::InProgress => "in-progress",
            RecordingEvent::Completed => "completed",
            RecordingEvent::Absent => "absent",
        }
    }
}

/// `<Reject reason>` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    Rejected,
    Busy,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Rejected => "rejected",
            RejectReason::Busy => "busy",
        }
    }
}

/// `<Say>`: text-to-speech.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Say {
    pub text: String,
    /// e.g. `alice`, `Polly.Joanna`, `Google.en-US-Neural2-F`.
    pub voice: Option<String>,
    /// e.g. `en-US`.
    pub language: Option<String>,
}

impl Say {
    pub fn new(text: impl Into<String>) -> Self {
        Say { text: text.into(), voice: None, language: None }
    }

    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }

    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }
}

/// `<Number>` inside `<Dial>` (`<Sip>` when `number` is a `sip:` URI).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Number {
    /// E.164, e.g. `+14155550123`.
    pub number: String,
    pub status_callback: Option<String>,
    /// Empty: attribute left out (Twilio then sends `completed` only).
    pub status_callback_events: Vec<CallEvent>,
    pub status_callback_method: Option<Method>,
    /// TwiML played to the called party before connecting (a whisper).
    pub url: Option<String>,
    /// Method for `url`.
    pub method: Option<Method>,
    /// DTMF sent once the call connects (`w` waits half a second).
    pub send_digits: Option<String>,
}

impl Number {
    pub fn new(number: impl Into<String>) -> Self {
        Number { number: number.into(), ..Number::default() }
    }

    /// Status callbacks by POST for the given events.
    pub fn status_callback(mut self, url: impl Into<String>, events: &[CallEvent]) -> Self {
        self.status_callback = Some(url.into());
        self.status_callback_events = events.to_vec();
        self.status_callback_method = Some(Method::Post);
        self
    }

    /// TwiML run on the called party's side once they answer, before the bridge (a whisper,
    /// or a `<Gather>` to accept the call), requested by POST.
    pub fn whisper_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self.method = Some(Method::Post);
        self
    }

    pub fn send_digits(mut self, digits: impl Into<String>) -> Self {
        self.send_digits = Some(digits.into());
        self
    }
}

/// `<Dial>`: connect the caller to one or more numbers (first to answer wins,
/// at most ten).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Dial {
    pub numbers: Vec<Number>,
    /// Requested when the dialed call ends (`DialCallStatus` …).
    pub action: Option<String>,
    /// Method for `action`.
    pub method: Option<Method>,
    /// Seconds to ring (Twilio's default 30). Twilio wants a positive integer:
    /// 0 is written as 1.
    pub timeout: Option<u32>,
    /// Maximum call length in seconds (Twilio's default 14400). 0 is written as 1.
    pub time_limit: Option<u32>,
    /// Caller ID shown to the called party: a Twilio number or verified caller ID.
    pub caller_id: Option<String>,
    pub record: Option<Record>,
    pub recording_status_callback: Option<String>,
    /// Empty: attribute left out (Twilio's default `completed`).
    pub recording_status_callback_events: Vec<RecordingEvent>,
    pub recording_status_callback_method: Option<Method>,
    /// Keep the caller hearing ringback until the called party answers.
    pub answer_on_bridge: Option<bool>,
    /// Country code for the ringback tone, e.g. `us`.
    pub ring_tone: Option<String>,
}

impl Dial {
    pub fn new(number: Number) -> Self {
        Dial { numbers: vec![number], ..Dial::default() }
    }

    /// Adds another number to ring at the same time.
    pub fn number(mut self, number: Number) -> Self {
        self.numbers.push(number);
        self
    }

    /// `action` requested by POST.
    pub fn action(mut self, url: impl Into<String>) -> Self {
        self.action = Some(url.into());
        self.method = Some(Method::Post);
        self
    }

    pub fn timeout(mut self, secs: u32) -> Self {
        self.timeout = Some(secs);
        self
    }

    pub fn time_limit(mut self, secs: u32) -> Self {
        self.time_limit = Some(secs);
        self
    }

    pub fn caller_id(mut self, caller_id: impl Into<String>) -> Self {
        self.caller_id = Some(caller_id.into());
        self
    }

    /// Records from answer; the recording status callback (POST, `completed`)
    /// goes to `callback`.
    pub fn record_from_answer(mut self, callback: impl Into<String>) -> Self {
        self.record = Some(Record::RecordFromAnswer);
        self.recording_status_callback = Some(callback.into());
        self.recording_status_callback_events = vec![RecordingEvent::Completed];
        self.recording_status_callback_method = Some(Method::Post);
        self
    }

    pub fn answer_on_bridge(mut self, on: bool) -> Self {
        self.answer_on_bridge = Some(on);
        self
    }
}

/// `<Gather input>` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GatherInput {
    Dtmf,
    Speech,
}

impl GatherInput {
    pub fn as_str(self) -> &'static str {
        match self {
            GatherInput::Dtmf => "dtmf",
            GatherInput::Speech => "speech",
        }
    }
}

/// What `<Gather>` plays while it listens (the verbs Twilio allows inside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    Say(Say),
    /// Audio at this URL.
    Play(String),
    Pause {
        length: Option<u32>,
    },
}

/// `<Gather>`: collect keypresses (or speech) and post them to `action`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Gather {
    /// Empty: attribute left out (Twilio's default `dtmf`).
    pub input: Vec<GatherInput>,
    /// Requested with what was gathered (`Digits`, `SpeechResult`, …).
    pub action: Option<String>,
    pub method: Option<Method>,
    /// Seconds of silence before giving up (Twilio's default 5). 0 is written as 1.
    pub timeout: Option<u32>,
    /// Stop after this many digits.
    pub num_digits: Option<u32>,
    /// With speech: `auto` stops at the first pause (else `timeout` applies to speech too).
    pub speech_timeout: Option<String>,
    /// Key that ends the input (Twilio's default `#`).
    pub finish_on_key: Option<String>,
    /// Request `action` even when nothing was gathered (else TwiML goes on after `<Gather>`).
    pub action_on_empty_result: Option<bool>,
    pub prompts: Vec<Prompt>,
}

impl Gather {
    /// Up to `num_digits` keypresses.
    pub fn dtmf(num_digits: u32) -> Self {
        Gather { input: vec![GatherInput::Dtmf], num_digits: Some(num_digits), ..Gather::default() }
    }

    /// `action` requested by POST.
    pub fn action(mut self, url: impl Into<String>) -> Self {
        self.action = Some(url.into());
        self.method = Some(Method::Post);
        self
    }

    pub fn timeout(mut self, secs: u32) -> Self {
        self.timeout = Some(secs);
        self
    }

    pub fn action_on_empty_result(mut self, on: bool) -> Self {
        self.action_on_empty_result = Some(on);
        self
    }

    pub fn say(mut self, say: Say) -> Self {
        self.prompts.push(Prompt::Say(say));
        self
    }

    pub fn play(mut self, url: impl Into<String>) -> Self {
        self.prompts.push(Prompt::Play(url.into()));
        self
    }
}

/// One verb of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verb {
    Say(Say),
    Dial(Dial),
    Gather(Gather),
    /// Silence, in seconds (Twilio's default 1).
    Pause {
        length: Option<u32>,
    },
    Hangup,
    /// Refuse an incoming call before answering it (no charge to the caller).
    Reject {
        reason: Option<RejectReason>,
    },
}

/// A `<Response>` document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Response {
    pub verbs: Vec<Verb>,
}

impl Response {
    pub fn new() -> Self {
        Response::default()
    }

    pub fn verb(mut self, verb: Verb) -> Self {
        self.verbs.push(verb);
        self
    }

    pub fn say(self, say: Say) -> Self {
        self.verb(Verb::Say(say))
    }

    pub fn dial(self, dial: Dial) -> Self {
        self.verb(Verb::Dial(dial))
    }

    pub fn pause(self, length: Option<u32>) -> Self {
        self.verb(Verb::Pause { length })
    }

    pub fn gather(self, gather: Gather) -> Self {
        self.verb(Verb::Gather(gather))
    }

    pub fn hangup(self) -> Self {
        self.verb(Verb::Hangup)
    }

    pub fn reject(self, reason: Option<RejectReason>) -> Self {
        self.verb(Verb::Reject { reason })
    }

    /// An optional greeting, then the dial. Without a greeting this is the
    /// failover answer.
    pub fn greet_and_dial(greeting: Option<Say>, dial: Dial) -> Self {
        let response = match greeting {
            Some(say) => Response::new().say(say),
            None => Response::new(),
        };
        response.dial(dial)
    }

    /// A message, then hang up.
    pub fn say_and_hangup(message: Say) -> Self {
        Response::new().say(message).hangup()
    }

    /// The document, with its XML declaration.
    pub fn to_xml(&self) -> String {
        let mut writer = Writer::new(Vec::with_capacity(512));
        match self.write(&mut writer) {
            // Both arms are certain: writing to a Vec cannot fail, and every
            // byte written comes from `&str` values and ASCII markup.
            Ok(()) => String::from_utf8(writer.into_inner()).unwrap_or_else(|_| FALLBACK.to_owned()),
            Err(_) => FALLBACK.to_owned(),
        }
    }

    fn write(&self, w: &mut Writer<Vec<u8>>) -> io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("Response").write_inner_content(|w| {
            for verb in &self.verbs {
                write_verb(w, verb)?;
            }
            Ok(())
        })?;
        Ok(())
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_xml())
    }
}

/// Only ever returned if writing into memory failed, which it cannot.
const FALLBACK: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>";

/// Drops the characters XML 1.0 cannot represent even escaped.
fn xml_chars(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}');
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| allowed(c)).collect())
    }
}

/// Attribute list builder: values are cleaned here and escaped by quick-xml.
#[derive(Default)]
struct Attrs(Vec<(&'static str, String)>);

impl Attrs {
    fn opt(&mut self, name: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            // A parser turns tab / CR / LF in an attribute into spaces anyway
            // (attribute-value normalization); do it here so the written value
            // is the value read.
            let cleaned = xml_chars(v).replace(['\t', '\n', '\r'], " ");
            self.0.push((name, cleaned));
        }
    }

    fn num(&mut self, name: &'static str, value: Option<u32>) {
        if let Some(v) = value {
            self.0.push((name, v.max(1).to_string()));
        }
    }

    fn events(&mut self, name: &'static str, events: &[&'static str]) {
        if !events.is_empty() {
            self.0.push((name, events.join(" ")));
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

fn write_text_element(w: &mut Writer<Vec<u8>>, name: &str, attrs: &Attrs, text: &str) -> io::Result<()> {
    w.create_element(name).with_attributes(attrs.iter()).write_text_content(BytesText::new(&xml_chars(text)))?;
    Ok(())
}

fn write_say(w: &mut Writer<Vec<u8>>, say: &Say) -> io::Result<()> {
    let mut a = Attrs::default();
    a.opt("voice", say.voice.as_deref());
    a.opt("language", say.language.as_deref());
    write_text_element(w, "Say", &a, &say.text)
}

fn write_pause(w: &mut Writer<Vec<u8>>, length: Option<u32>) -> io::Result<()> {
    let mut a = Attrs::default();
    a.num("length", length);
    w.create_element("Pause").with_attributes(a.iter()).write_empty()?;
    Ok(())
}

fn write_gather(w: &mut Writer<Vec<u8>>, g: &Gather) -> io::Result<()> {
    let mut a = Attrs::default();
    let input: Vec<&'static str> = g.input.iter().map(|i| i.as_str()).collect();
    a.events("input", &input);
    a.opt("action", g.action.as_deref());
    a.opt("method", g.method.map(Method::as_str));
    a.num("timeout", g.timeout);
    a.num("numDigits", g.num_digits);
    a.opt("speechTimeout", g.speech_timeout.as_deref());
    a.opt("finishOnKey", g.finish_on_key.as_deref());
    a.opt("actionOnEmptyResult", g.action_on_empty_result.map(|b| if b { "true" } else { "false" }));
    w.create_element("Gather").with_attributes(a.iter()).write_inner_content(|w| {
        for prompt in &g.prompts {
            match prompt {
                Prompt::Say(say) => write_say(w, say)?,
                Prompt::Play(url) => write_text_element(w, "Play", &Attrs::default(), url)?,
                Prompt::Pause { length } => write_pause(w, *length)?,
            }
        }
        Ok(())
    })?;
    Ok(())
}

fn write_verb(w: &mut Writer<Vec<u8>>, verb: &Verb) -> io::Result<()> {
    match verb {
        Verb::Say(say) => write_say(w, say),
        Verb::Dial(dial) => write_dial(w, dial),
        Verb::Gather(gather) => write_gather(w, gather),
        Verb::Pause { length } => write_pause(w, *length),
        Verb::Hangup => {
            w.create_element("Hangup").write_empty()?;
            Ok(())
        }
        Verb::Reject { reason } => {
            let mut a = Attrs::default();
            a.opt("reason", reason.map(RejectReason::as_str));
            w.create_element("Reject").with_attributes(a.iter()).write_empty()?;
            Ok(())
        }
    }
}

fn write_dial(w: &mut Writer<Vec<u8>>, dial: &Dial) -> io::Result<()> {
    let mut a = Attrs::default();
    a.opt("action", dial.action.as_deref());
    a.opt("method", dial.method.map(Method::as_str));
    a.num("timeout", dial.timeout);
    a.num("timeLimit", dial.time_limit);
    a.opt("callerId", dial.caller_id.as_deref());
    a.opt("answerOnBridge", dial.answer_on_bridge.map(|b| if b { "true" } else { "false" }));
    a.opt("ringTone", dial.ring_tone.as_deref());
    a.opt("record", dial.record.map(Record::as_str));
    a.opt("recordingStatusCallback", dial.recording_status_callback.as_deref());
    let events: Vec<&'static str> = dial.recording_status_callback_events.iter().map(|e| e.as_str()).collect();
    a.events("recordingStatusCallbackEvent", &events);
    a.opt("recordingStatusCallbackMethod", dial.recording_status_callback_method.map(Method::as_str));
    w.create_element("Dial").with_attributes(a.iter()).write_inner_content(|w| {
        for number in &dial.numbers {
            let mut a = Attrs::default();
            a.opt("statusCallback", number.status_callback.as_deref());
            let events: Vec<&'static str> = number.status_callback_events.iter().map(|e| e.as_str()).collect();
            a.events("statusCallbackEvent", &events);
            a.opt("statusCallbackMethod", number.status_callback_method.map(Method::as_str));
            a.opt("url", number.url.as_deref());
            a.opt("method", number.method.map(Method::as_str));
            a.opt("sendDigits", number.send_digits.as_deref());
            // A SIP URI (a bidder may answer with one) is dialled with `<Sip>`, which takes the
            // same callback attributes.
            let noun = if number.number.starts_with("sip:") || number.number.starts_with("sips:") { "Sip" } else { "Number" };
            write_text_element(w, noun, &a, &number.number)?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use quick_xml::escape::resolve_predefined_entity;
    use quick_xml::Reader;

    /// Parses a document into a flat, comparable list: `<Name a="v" …>` with
    /// attributes sorted and unescaped, `text:…` with entities resolved and
    /// adjacent pieces merged, `</Name>`. Panics on malformed XML.
    fn canon(xml: &str) -> Vec<String> {
        let name = |b: &[u8]| std::str::from_utf8(b).unwrap().to_owned();
        let mut reader = Reader::from_str(xml);
        reader.config_mut().expand_empty_elements = true;
        let mut out = Vec::new();
        let mut text = String::new();
        let flush = |text: &mut String, out: &mut Vec<String>| {
            if !text.is_empty() {
                out.push(format!("text:{text}"));
                text.clear();
            }
        };
        let mut saw_decl = false;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Decl(_) => saw_decl = true,
                Event::Start(e) => {
                    flush(&mut text, &mut out);
                    let mut attrs: Vec<String> = e
                        .attributes()
                        .map(|a| {
                            let a = a.expect("valid attribute");
                            let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).expect("valid value");
                            format!("{}={:?}", name(a.key.as_ref()), value)
                        })
                        .collect();
                    attrs.sort();
                    out.push(format!("<{} {}>", name(e.name().as_ref()), attrs.join(" ")));
                }
                Event::End(e) => {
                    flush(&mut text, &mut out);
                    out.push(format!("</{}>", name(e.name().as_ref())));
                }
                Event::Text(t) => text.push_str(&t.xml10_content().unwrap()),
                Event::GeneralRef(r) => {
                    if let Some(c) = r.resolve_char_ref().expect("valid char ref") {
                        text.push(c);
                    } else {
                        let entity = r.xml10_content().unwrap();
                        text.push_str(resolve_predefined_entity(&entity).expect("predefined entity"));
                    }
                }
                Event::Eof => break,
                other => panic!("unexpected event {other:?}"),
            }
        }
        assert!(saw_decl, "XML declaration present");
        out
    }

    const NASTY: &str = "Tom & Jerry's <\"best\"> café ☎";

    // Expected documents produced once with the official twilio Python library
    // 9.13.0 (`twilio.twiml.voice_response.VoiceResponse`), e.g. for FULL:
    //   r = VoiceResponse(); r.say(NASTY + "\nline two", voice='Polly.Joanna', language='en-US')
    //   d = Dial(action=..., method='POST', timeout=25, time_limit=3600, caller_id=...,
    //            record='record-from-answer', recording_status_callback=...,
    //            recording_status_callback_event='completed', recording_status_callback_method='POST')
    //   d.number(..., status_callback=..., status_callback_event='initiated ringing answered completed',
    //            status_callback_method='POST'); r.append(d); str(r)
    // The library sorts attributes and writes `<Hangup />`; the comparison is
    // on structure and unescaped values, not bytes.
    const PY_FULL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say language=\"en-US\" voice=\"Polly.Joanna\">Tom &amp; Jerry's &lt;\"best\"&gt; café ☎\nline two</Say><Dial action=\"https://cb.example.com/dial?call=1&amp;leg=&quot;a&quot;&lt;b&gt;'c'\" callerId=\"+15550001111&amp;&lt;&gt;&quot;'\" method=\"POST\" record=\"record-from-answer\" recordingStatusCallback=\"https://cb.example.com/rec?x=1&amp;y=2\" recordingStatusCallbackEvent=\"completed\" recordingStatusCallbackMethod=\"POST\" timeLimit=\"3600\" timeout=\"25\"><Number statusCallback=\"https://cb.example.com/st?a=1&amp;b=&lt;2&gt;\" statusCallbackEvent=\"initiated ringing answered completed\" statusCallbackMethod=\"POST\">+1555&lt;123&gt;&amp;\"4567'</Number></Dial></Response>";
    const PY_FAILOVER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial action=\"https://cb.example.com/dial\" method=\"POST\" timeout=\"20\"><Number>+15557654321</Number></Dial></Response>";
    const PY_BYE: &str =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Tom &amp; Jerry's &lt;\"best\"&gt; café ☎</Say><Hangup /></Response>";
    const PY_MISC: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Pause length=\"2\" /><Reject reason=\"busy\" /></Response>";
    // r = VoiceResponse(); g = Gather(input='dtmf', num_digits=1, timeout=10, action=...,
    //     method='POST', action_on_empty_result=True); g.say(NASTY + " Press 1 to accept this call.")
    // r.append(g); r.hangup()
    const PY_ACCEPT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Gather action=\"https://cb.example.com/acc?x=1&amp;y=2\" actionOnEmptyResult=\"true\" input=\"dtmf\" method=\"POST\" numDigits=\"1\" timeout=\"10\"><Say>Tom &amp; Jerry's &lt;\"best\"&gt; café ☎ Press 1 to accept this call.</Say></Gather><Hangup /></Response>";
    // d = Dial(action=..., method='POST', timeout=20); d.number('+15557654321', url=..., method='POST')
    const PY_WHISPER_DIAL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial action=\"https://cb.example.com/dial\" method=\"POST\" timeout=\"20\"><Number method=\"POST\" url=\"https://cb.example.com/legs/7/whisper\">+15557654321</Number></Dial></Response>";

    fn full() -> Response {
        let dial = Dial::new(Number::new("+1555<123>&\"4567'").status_callback("https://cb.example.com/st?a=1&b=<2>", &CallEvent::ALL))
            .action("https://cb.example.com/dial?call=1&leg=\"a\"<b>'c'")
            .timeout(25)
            .time_limit(3600)
            .caller_id("+15550001111&<>\"'")
            .record_from_answer("https://cb.example.com/rec?x=1&y=2");
        Response::greet_and_dial(Some(Say::new(format!("{NASTY}\nline two")).voice("Polly.Joanna").language("en-US")), dial)
    }

    #[test]
    fn greet_and_dial_matches_python_library() {
        let xml = full().to_xml();
        assert_eq!(canon(&xml), canon(PY_FULL), "{xml}");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say"));
    }

    #[test]
    fn failover_dial_matches_python_library() {
        let dial = Dial::new(Number::new("+15557654321")).action("https://cb.example.com/dial").timeout(20);
        let xml = Response::greet_and_dial(None, dial).to_xml();
        assert_eq!(canon(&xml), canon(PY_FAILOVER), "{xml}");
    }

    #[test]
    fn say_and_hangup_matches_python_library() {
        let xml = Response::say_and_hangup(Say::new(NASTY)).to_xml();
        assert_eq!(canon(&xml), canon(PY_BYE), "{xml}");
        assert!(xml.ends_with("<Hangup/></Response>"));
    }

    #[test]
    fn pause_and_reject_match_python_library() {
        let xml = Response::new().pause(Some(2)).reject(Some(RejectReason::Busy)).to_xml();
        assert_eq!(canon(&xml), canon(PY_MISC), "{xml}");
    }

    #[test]
    fn accept_gather_matches_python_library() {
        let gather = Gather::dtmf(1)
            .action("https://cb.example.com/acc?x=1&y=2")
            .timeout(10)
            .action_on_empty_result(true)
            .say(Say::new(format!("{NASTY} Press 1 to accept this call.")));
        let xml = Response::new().gather(gather).hangup().to_xml();
        assert_eq!(canon(&xml), canon(PY_ACCEPT), "{xml}");
    }

    // r = VoiceResponse(); r.say("Welcome"); r.say("Sorry, I didn't get that.")
    // g = Gather(input='dtmf speech', num_digits=1, timeout=5, action=..., method='POST',
    //     action_on_empty_result=True, speech_timeout='auto'); g.play(URL); r.append(g)
    const PY_IVR: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Welcome</Say><Say>Sorry, I didn't get that.</Say><Gather action=\"https://cb.example.com/api/webhooks/twilio/calls/7/ivr/0/2\" actionOnEmptyResult=\"true\" input=\"dtmf speech\" method=\"POST\" numDigits=\"1\" speechTimeout=\"auto\" timeout=\"5\"><Play>https://cdn.example.com/q1.mp3?a=1&amp;b=2</Play></Gather></Response>";

    #[test]
    fn ivr_gather_with_speech_and_play_matches_python_library() {
        let gather = Gather {
            input: vec![GatherInput::Dtmf, GatherInput::Speech],
            num_digits: Some(1),
            speech_timeout: Some("auto".into()),
            ..Gather::default()
        }
        .action("https://cb.example.com/api/webhooks/twilio/calls/7/ivr/0/2")
        .timeout(5)
        .action_on_empty_result(true)
        .play("https://cdn.example.com/q1.mp3?a=1&b=2");
        let xml = Response::new().say(Say::new("Welcome")).say(Say::new("Sorry, I didn't get that.")).gather(gather).to_xml();
        assert_eq!(canon(&xml), canon(PY_IVR), "{xml}");
    }

    #[test]
    fn dial_with_a_whisper_url_matches_python_library() {
        let number = Number::new("+15557654321").whisper_url("https://cb.example.com/legs/7/whisper");
        let dial = Dial::new(number).action("https://cb.example.com/dial").timeout(20);
        let xml = Response::greet_and_dial(None, dial).to_xml();
        assert_eq!(canon(&xml), canon(PY_WHISPER_DIAL), "{xml}");
    }

    #[test]
    fn gather_escapes_and_nests_only_prompts() {
        let v = "&<>\"'";
        let gather = Gather {
            input: vec![GatherInput::Dtmf, GatherInput::Speech],
            action: Some(v.into()),
            method: Some(Method::Get),
            timeout: Some(0),
            num_digits: Some(3),
            finish_on_key: Some(v.into()),
            speech_timeout: None,
            action_on_empty_result: Some(false),
            prompts: vec![Prompt::Say(Say::new(v).voice(v)), Prompt::Pause { length: Some(1) }],
        };
        let c = canon(&Response::new().gather(gather).to_xml());
        for needle in [format!("action={v:?}"), format!("finishOnKey={v:?}"), format!("voice={v:?}")] {
            assert!(c.iter().any(|l| l.contains(&needle)), "{needle} in {c:?}");
        }
        assert!(c.iter().any(|l| l.contains(r#"input="dtmf speech""#) && l.contains(r#"timeout="1""#)), "{c:?}");
        assert!(c.iter().any(|l| l.contains(r#"actionOnEmptyResult="false""#) && l.contains(r#"method="GET""#)), "{c:?}");
        // Only the prompts, in order, inside the one <Gather>.
        let text = format!("text:{v}");
        let expected =
            ["<Say voice=\"&<>\\\"'\">", text.as_str(), "</Say>", "<Pause length=\"1\">", "</Pause>", "</Gather>", "</Response>"];
        assert_eq!(c[0], "<Response >");
        assert!(c[1].starts_with("<Gather "), "{c:?}");
        assert_eq!(&c[2..], expected.map(String::from).as_slice(), "{c:?}");
    }

    #[test]
    fn every_value_is_escaped() {
        let xml = full().to_xml();
        // No raw special character survives inside any value: the only `<`
        // and `>` are markup, and every `&` starts an entity.
        for (i, _) in xml.match_indices('&') {
            let rest = &xml[i..];
            assert!(["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| rest.starts_with(e)), "bare & at {i}: {xml}");
        }
        assert!(!xml.contains("<\"best\">") && !xml.contains("<b>") && !xml.contains("<123>"));
        // And the values read back exactly.
        let c = canon(&xml);
        assert!(c.contains(&format!("text:{NASTY}\nline two")), "{c:?}");
        assert!(c.contains(&"text:+1555<123>&\"4567'".to_owned()), "{c:?}");
        assert!(c.iter().any(|l| l.contains(r#"callerId="+15550001111&<>\"'""#)), "{c:?}");
        assert!(c.iter().any(|l| l.contains(r#"action="https://cb.example.com/dial?call=1&leg=\"a\"<b>'c'""#)), "{c:?}");
    }

    #[test]
    fn escaping_in_each_attribute_and_text() {
        let v = "&<>\"'";
        let dial = Dial {
            numbers: vec![Number {
                number: v.into(),
                status_callback: Some(v.into()),
                status_callback_events: vec![CallEvent::Answered],
                status_callback_method: Some(Method::Get),
                url: Some(v.into()),
                method: Some(Method::Post),
                send_digits: Some(v.into()),
            }],
            action: Some(v.into()),
            method: Some(Method::Get),
            timeout: Some(0),
            time_limit: Some(60),
            caller_id: Some(v.into()),
            record: Some(Record::RecordFromRingingDual),
            recording_status_callback: Some(v.into()),
            recording_status_callback_events: vec![RecordingEvent::InProgress, RecordingEvent::Absent],
            recording_status_callback_method: Some(Method::Post),
            answer_on_bridge: Some(true),
            ring_tone: Some(v.into()),
        };
        let xml = Response::new().say(Say::new(v).voice(v).language(v)).dial(dial).to_xml();
        let c = canon(&xml);
        let expect_attr = |name: &str| {
            let needle = format!("{name}={v:?}");
            assert!(c.iter().any(|l| l.contains(&needle)), "{name} in {c:?}");
        };
        for name in ["voice", "language", "action", "callerId", "ringTone", "recordingStatusCallback"] {
            expect_attr(name);
        }
        for name in ["statusCallback", "url", "sendDigits"] {
            expect_attr(name);
        }
        assert_eq!(c.iter().filter(|l| **l == format!("text:{v}")).count(), 2, "{c:?}");
        assert!(c.iter().any(|l| l.contains(r#"timeout="1""#)), "0 written as 1: {c:?}");
        assert!(c.iter().any(|l| l.contains(r#"recordingStatusCallbackEvent="in-progress absent""#)));
        assert!(c.iter().any(|l| l.contains(r#"record="record-from-ringing-dual""#)));
        assert!(c.iter().any(|l| l.contains(r#"answerOnBridge="true""#)));
    }

    #[test]
    fn control_characters_are_dropped_and_attribute_whitespace_normalized() {
        let xml = Response::new().say(Say::new("a\u{0}b\u{1b}c\u{FFFF}d\te").voice("x\ny")).to_xml();
        assert!(!xml.contains('\u{0}') && !xml.contains('\u{1b}') && !xml.contains('\u{FFFF}'));
        let c = canon(&xml);
        assert!(c.contains(&"text:abcd\te".to_owned()), "{c:?}");
        // A line break in an attribute becomes a space, as a parser would read it.
        assert!(xml.contains(r#"<Say voice="x y">"#), "{xml}");
        assert!(c.iter().any(|l| l.contains(r#"voice="x y""#)), "{c:?}");
    }

    #[test]
    fn empty_response_and_display() {
        let r = Response::new();
        assert_eq!(r.to_xml(), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>");
        assert_eq!(r.to_string(), r.to_xml());
        assert_eq!(canon(&r.to_xml()), vec!["<Response >".to_owned(), "</Response>".to_owned()]);
        assert!(CONTENT_TYPE.starts_with("text/xml"));
    }
}
