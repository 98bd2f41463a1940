//! Plays Twilio: signed webhook requests exactly as Twilio sends them, and reading TwiML answers.
use callbroker::twilio::signature::{sign, Algorithm, SIGNATURE_HEADER};

use crate::{TestApp, PUBLIC_URL, TWILIO_AUTH_TOKEN};

pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";

/// A webhook answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    /// The `leg` of the dial action URL in a `<Dial>` answer.
    pub fn leg(&self) -> Option<i64> {
        let at = self.body.find("/api/webhooks/twilio/dial?leg=")? + "/api/webhooks/twilio/dial?leg=".len();
        let digits: String = self.body[at..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }
    /// The number in `<Number>`, if the answer dials.
    pub fn dialled_number(&self) -> Option<String> {
        let start = self.body.find("<Number")?;
        let open_end = self.body[start..].find('>')? + start + 1;
        let close = self.body[open_end..].find("</Number>")? + open_end;
        Some(self.body[open_end..close].to_string())
    }
    /// The `url` of the dialled `<Number>` (its whisper webhook), if it has one.
    pub fn whisper_url(&self) -> Option<String> {
        let start = self.body.find("<Number")?;
        let tag = &self.body[start..start + self.body[start..].find('>')?];
        let at = tag.find(" url=\"")? + " url=\"".len();
        Some(tag[at..at + tag[at..].find('"')?].to_string())
    }
    /// The `(call, question, try)` of the IVR `<Gather>` action, if the answer asks a question.
    pub fn ivr_question(&self) -> Option<(i64, u32, u32)> {
        let at = self.body.find("/api/webhooks/twilio/calls/")? + "/api/webhooks/twilio/calls/".len();
        let rest = &self.body[at..];
        let path: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '/' || c.is_ascii_alphabetic()).collect();
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            [call, "ivr", q, a, ..] => Some((call.parse().ok()?, q.parse().ok()?, a.parse().ok()?)),
            _ => None,
        }
    }
    pub fn says(&self, text: &str) -> bool {
        self.body.contains("<Say") && self.body.contains(text)
    }
    pub fn hangs_up(&self) -> bool {
        self.body.contains("<Hangup/>") || self.body.contains("<Hangup></Hangup>")
    }
    /// Well-formed XML with a `<Response>` root.
    pub fn is_twiml(&self) -> bool {
        self.content_type.starts_with("text/xml") && self.body.contains("<Response>") && quick_xml_ok(&self.body)
    }
}

fn quick_xml_ok(xml: &str) -> bool {
    // A minimal well-formedness check: balanced tags. (The server's TwiML writer has its own
    // XML-parsing tests; here we guard against truncated or mixed answers.)
    let opens = xml.matches("<Response>").count();
    let closes = xml.matches("</Response>").count();
    opens == 1 && closes == 1
}

pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl TestApp {
    /// POSTs form parameters to a webhook path, signed as Twilio would sign them.
    pub async fn twilio(&self, path_and_query: &str, pairs: &[(String, String)]) -> Answer {
        let signature = sign(TWILIO_AUTH_TOKEN, Algorithm::HmacSha1, &format!("{PUBLIC_URL}{path_and_query}"), pairs);
        self.twilio_raw(path_and_query, pairs, Some(&signature)).await
    }

    /// POSTs with the given signature header (or none).
    pub async fn twilio_raw(&self, path_and_query: &str, pairs: &[(String, String)], signature: Option<&str>) -> Answer {
        self.try_twilio_raw(path_and_query, pairs, signature).await.expect("webhook request")
    }

    /// As [`TestApp::twilio`], but a request that gets no answer (server down) is an error.
    pub async fn try_twilio(&self, path_and_query: &str, pairs: &[(String, String)]) -> Result<Answer, reqwest::Error> {
        let signature = sign(TWILIO_AUTH_TOKEN, Algorithm::HmacSha1, &format!("{PUBLIC_URL}{path_and_query}"), pairs);
        self.try_twilio_raw(path_and_query, pairs, Some(&signature)).await
    }

    async fn try_twilio_raw(
        &self,
        path_and_query: &str,
        pairs: &[(String, String)],
        signature: Option<&str>,
    ) -> Result<Answer, reqwest::Error> {
        let body = serde_urlencoded::to_string(pairs).expect("form");
        let mut req = self.client.post(self.url(path_and_query)).header("content-type", "application/x-www-form-urlencoded").body(body);
        if let Some(s) = signature {
            req = req.header(SIGNATURE_HEADER, s);
        }
        let res = self.send(req).await?;
        let status = res.status().as_u16();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        Ok(Answer { status, content_type, body: res.text().await? })
    }

    /// A call arrives.
    pub async fn incoming_call(&self, call_sid: &str, from: &str, to: &str, extra: &[(&str, &str)]) -> Answer {
        let mut p = params(&[
            ("CallSid", call_sid),
            ("AccountSid", ACCOUNT_SID),
            ("From", from),
            ("To", to),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("ApiVersion", "2010-04-01"),
        ]);
        p.extend(params(extra));
        self.twilio("/api/webhooks/twilio/voice", &p).await
    }

    /// A status callback of buyer leg `leg` (child call `child_sid` of `call_sid`).
    pub async fn leg_status(&self, leg: i64, call_sid: &str, child_sid: &str, status: &str, seq: u32, duration: Option<u32>) -> Answer {
        let seq = seq.to_string();
        let duration = duration.map(|d| d.to_string());
        let mut p = params(&[
            ("CallSid", child_sid),
            ("ParentCallSid", call_sid),
            ("AccountSid", ACCOUNT_SID),
            ("CallStatus", status),
            ("SequenceNumber", &seq),
            ("CallbackSource", "call-progress-events"),
            ("Direction", "outbound-dial"),
        ]);
        if let Some(d) = &duration {
            p.extend(params(&[("CallDuration", d)]));
        }
        self.twilio(&format!("/api/webhooks/twilio/status?leg={leg}"), &p).await
    }

    /// The `<Dial action>` callback of leg `leg`.
    pub async fn dial_result(&self, leg: i64, call_sid: &str, child_sid: &str, dial_status: &str, duration: Option<u32>) -> Answer {
        let duration = duration.map(|d| d.to_string());
        let mut p = params(&[
            ("CallSid", call_sid),
            ("AccountSid", ACCOUNT_SID),
            ("CallStatus", "in-progress"),
            ("DialCallStatus", dial_status),
            ("DialCallSid", child_sid),
        ]);
        if let Some(d) = &duration {
            p.extend(params(&[("DialCallDuration", d)]));
        }
        self.twilio(&format!("/api/webhooks/twilio/dial?leg={leg}"), &p).await
    }

    /// A status callback of buyer leg `leg` with more parameters (e.g. Twilio's `Timestamp`).
    #[allow(clippy::too_many_arguments)]
    pub async fn leg_status_with(
        &self,
        leg: i64,
        call_sid: &str,
        child_sid: &str,
        status: &str,
        seq: u32,
        duration: Option<u32>,
        extra: &[(&str, &str)],
    ) -> Answer {
        let seq = seq.to_string();
        let duration = duration.map(|d| d.to_string());
        let mut p = params(&[
            ("CallSid", child_sid),
            ("ParentCallSid", call_sid),
            ("AccountSid", ACCOUNT_SID),
            ("CallStatus", status),
            ("SequenceNumber", &seq),
            ("CallbackSource", "call-progress-events"),
            ("Direction", "outbound-dial"),
        ]);
        if let Some(d) = &duration {
            p.extend(params(&[("CallDuration", d)]));
        }
        p.extend(params(extra));
        self.twilio(&format!("/api/webhooks/twilio/status?leg={leg}"), &p).await
    }

    /// The buyer's agent on leg `leg` (child call `child_sid` of `call_sid`) answered: Twilio asks
    /// the dialled number's `url` for the whisper.
    pub async fn whisper(&self, leg: i64, call_sid: &str, child_sid: &str) -> Answer {
        let p = params(&[
            ("CallSid", child_sid),
            ("ParentCallSid", call_sid),
            ("AccountSid", ACCOUNT_SID),
            ("CallStatus", "in-progress"),
            ("Direction", "outbound-dial"),
            ("ApiVersion", "2010-04-01"),
        ]);
        self.twilio(&format!("/api/webhooks/twilio/legs/{leg}/whisper"), &p).await
    }

    /// The agent's keypress (`None`: silence, posted because of `actionOnEmptyResult`) on leg `leg`.
    pub async fn accept(&self, leg: i64, call_sid: &str, child_sid: &str, digits: Option<&str>) -> Answer {
        let p = params(&[
            ("CallSid", child_sid),
            ("ParentCallSid", call_sid),
            ("AccountSid", ACCOUNT_SID),
            ("CallStatus", "in-progress"),
            ("Direction", "outbound-dial"),
            ("Digits", digits.unwrap_or("")),
        ]);
        self.twilio(&format!("/api/webhooks/twilio/legs/{leg}/accept"), &p).await
    }

    /// The caller's answer to question `q` (try `attempt`) of call `call_id`'s IVR: keys, or words
    /// with a confidence; neither is silence.
    pub async fn ivr_answer(
        &self,
        call_id: i64,
        q: u32,
        attempt: u32,
        call_sid: &str,
        digits: Option<&str>,
        speech: Option<(&str, &str)>,
    ) -> Answer {
        let mut p = params(&[
            ("CallSid", call_sid),
            ("AccountSid", ACCOUNT_SID),
            ("CallStatus", "in-progress"),
            ("Direction", "inbound"),
            ("Digits", digits.unwrap_or("")),
        ]);
        if let Some((said, confidence)) = speech {
            p.extend(params(&[("SpeechResult", said), ("Confidence", confidence)]));
        }
        self.twilio(&format!("/api/webhooks/twilio/calls/{call_id}/ivr/{q}/{attempt}"), &p).await
    }

    /// A status callback of the inbound call.
    pub async fn call_status(&self, call_sid: &str, status: &str, seq: u32, duration: Option<u32>) -> Answer {
        let seq = seq.to_string();
        let duration = duration.map(|d| d.to_string());
        let mut p = params(&[
            ("CallSid", call_sid),
            ("AccountSid", ACCOUNT_SID),
            ("CallStatus", status),
            ("SequenceNumber", &seq),
            ("Direction", "inbound"),
        ]);
        if let Some(d) = &duration {
            p.extend(params(&[("CallDuration", d)]));
        }
        self.twilio("/api/webhooks/twilio/status", &p).await
    }

    /// The recording status callback of a completed recording of call `call_sid`.
    pub async fn recording_completed(&self, call_sid: &str, recording_sid: &str, url: &str, duration_secs: u32, channels: u32) -> Answer {
        let (duration, channels) = (duration_secs.to_string(), channels.to_string());
        let p = params(&[
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", call_sid),
            ("RecordingSid", recording_sid),
            ("RecordingUrl", url),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", &duration),
            ("RecordingChannels", &channels),
        ]);
        self.twilio("/api/webhooks/twilio/recording", &p).await
    }

    /// The call with `call_sid`, via the API (detail with legs and events).
    pub async fn call_by_sid(&self, call_sid: &str) -> serde_json::Value {
        let (status, page) = self.admin("GET", "/api/calls?per_page=500", None).await;
        assert_eq!(status, 200, "{page}");
        let id = page["items"]
            .as_array()
            .and_then(|items| items.iter().find(|c| c["call_sid"] == call_sid))
            .map_or_else(|| panic!("call {call_sid} not found"), |c| c["id"].clone());
        let (status, detail) = self.admin("GET", &format!("/api/calls/{id}"), None).await;
        assert_eq!(status, 200, "{detail}");
        detail
    }
}
