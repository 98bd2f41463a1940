//! A campaign's IVR: questions put to the caller before any buyer is rung, whose answers tag the
//! call, end it, or narrow the buyers it may go to.
use serde::{Deserialize, Serialize};

use crate::screening::Tags;

/// Said before a question is asked again after silence or an answer it does not take.
pub const DEFAULT_IVR_RETRY_MESSAGE: &str = "Sorry, I didn't get that.";
/// Said before hanging up on a caller who gave no usable answer (`on_failure: end`).
pub const DEFAULT_IVR_FAILURE_MESSAGE: &str = "We could not process your answer. Goodbye.";
/// Said when an answer ends the call and names no message of its own.
pub const DEFAULT_IVR_END_MESSAGE: &str = "Thank you for calling. Goodbye.";
/// How many times a question is asked again by default.
pub const DEFAULT_IVR_RETRIES: i32 = 2;
/// Seconds of silence a question waits by default.
pub const DEFAULT_IVR_TIMEOUT_SECS: i32 = 5;
/// At most this many questions per campaign.
pub const MAX_IVR_QUESTIONS: usize = 20;
/// At most this many answers per question.
pub const MAX_IVR_ANSWERS: usize = 20;

/// How the caller may answer a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IvrInput {
    /// Keypresses (`Digits`).
    #[default]
    Dtmf,
    /// Speech (`SpeechResult`, `Confidence`).
    Speech,
    /// Either.
    DtmfSpeech,
}

/// What the IVR does once an answer is taken (after storing it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IvrAction {
    /// The next question, or routing after the last.
    #[default]
    Continue,
    /// Say the answer's `message` (or a goodbye) and hang up: no buyer is rung.
    End,
    /// From now on only buyers carrying the answer's `label` may take the call; then the next
    /// question, or routing after the last.
    Route,
}

/// One answer a question takes, chosen by keys or by words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"digits": "1", "speech": ["yes"], "value": "yes", "action": "continue"})))]
// Defaults field by field, not for the whole struct: utoipa would write the struct's default of
// `set_tags` (`{}`) into the document, and a default on an object is what generated clients
// (openapi-python-client) cannot take.
pub struct IvrAnswer {
    /// The keys that choose this answer (e.g. `1`). Only on a question listening for keys (`dtmf`,
    /// `dtmf_speech`), distinct among its answers and no longer than its `num_digits` (else 422 naming
    /// the field). An answer gives `digits` or `speech`, or both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Digits>))]
    pub digits: Option<String>,
    /// Words or phrases that choose this answer when said (case and punctuation aside, as whole words
    /// of `SpeechResult`). Only on a question listening for speech (`speech`, `dtmf_speech`; else 422
    /// naming the field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::rules::SpeechPhrase>))]
    pub speech: Vec<String>,
    /// The value stored in the question's `tag`; absent: the keys pressed, or the first of
    /// `speech` when the answer was said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::IvrValue>))]
    pub value: Option<String>,
    /// More tags set on the call by this answer.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::SetTags))]
    pub set_tags: Tags,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(default = "continue"))]
    pub action: IvrAction,
    /// With `end`: said before hanging up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::IvrText>))]
    pub message: Option<String>,
    /// With `route`: the buyer label the call is kept to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::IvrLabel>))]
    pub label: Option<String>,
}

/// One question: a prompt said (`say`) or played (`play`), and the answers it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "say": "Press 1 if you are 65 or older, 2 otherwise.", "input": "dtmf", "num_digits": 1, "tag": "Senior",
    "answers": [{"digits": "1", "value": "yes"}, {"digits": "2", "value": "no", "action": "end", "message": "This line is for seniors. Goodbye."}]
})))]
pub struct IvrQuestion {
    /// Text said to the caller (one of `say` and `play`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::IvrText>))]
    pub say: Option<String>,
    /// An `http(s)` URL of audio played to the caller (one of `say` and `play`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::AudioUrl>))]
    pub play: Option<String>,
    #[serde(default)]
    pub input: IvrInput,
    /// Keys expected (1 to 20); input stops once that many are pressed. Absent: until `#` or
    /// the timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::NumDigits>))]
    pub num_digits: Option<i32>,
    /// Seconds of silence before the question counts as unanswered (1 to 60, default 5).
    #[serde(default = "default_timeout")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::IvrTimeoutSecs))]
    pub timeout_secs: i32,
    /// The call tag the answer is stored in; absent: not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::TagName>))]
    pub tag: Option<String>,
    /// The answers taken, in order (the first that matches is chosen). Empty: any input is taken
    /// as it is (a ZIP code, an age).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::IvrAnswers))]
    pub answers: Vec<IvrAnswer>,
    /// The lowest speech recognition `Confidence` (0 to 1) taken; below it the answer counts as
    /// not understood. Default 0.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::Confidence))]
    pub min_confidence: f64,
}

fn default_timeout() -> i32 {
    DEFAULT_IVR_TIMEOUT_SECS
}

fn default_retries() -> i32 {
    DEFAULT_IVR_RETRIES
}

/// What happens to a caller who gave no usable answer to a question after its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IvrFailure {
    /// Say `failure_message` and hang up.
    #[default]
    End,
    /// Go on to the next question (or routing), the question's tag left unset.
    Continue,
}

/// A campaign's IVR. No questions: callers go straight to routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Ivr {
    /// Asked in order, after the greeting and before any buyer is rung.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::IvrQuestions))]
    pub questions: Vec<IvrQuestion>,
    /// How many times a question is asked again after silence or an answer it does not take
    /// (0 to 5, default 2).
    #[serde(default = "default_retries")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::IvrRetries))]
    pub retries: i32,
    /// Said before a question is asked again (default "Sorry, I didn't get that.").
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::IvrText>))]
    pub retry_message: Option<String>,
    pub on_failure: IvrFailure,
    /// Said before hanging up with `on_failure: end`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::IvrText>))]
    pub failure_message: Option<String>,
}

impl Default for Ivr {
    fn default() -> Self {
        Ivr { questions: vec![], retries: DEFAULT_IVR_RETRIES, retry_message: None, on_failure: IvrFailure::End, failure_message: None }
    }
}

impl Ivr {
    pub fn is_on(&self) -> bool {
        !self.questions.is_empty()
    }
}

/// Where a call's IVR stands or how it ended (the call's `ivr_outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IvrOutcome {
    /// The caller is answering the questions.
    InProgress,
    /// Every question answered (or passed over with `on_failure: continue`): routed.
    Completed,
    /// An answer ended the call.
    Ended,
    /// No usable answer after the retries: ended (`on_failure: end`).
    Failed,
    /// The caller hung up during the IVR.
    Abandoned,
}

impl IvrOutcome {
    pub const ALL: &'static [IvrOutcome] =
        &[IvrOutcome::InProgress, IvrOutcome::Completed, IvrOutcome::Ended, IvrOutcome::Failed, IvrOutcome::Abandoned];

    pub fn as_str(self) -> &'static str {
        match self {
            IvrOutcome::InProgress => "in_progress",
            IvrOutcome::Completed => "completed",
            IvrOutcome::Ended => "ended",
            IvrOutcome::Failed => "failed",
            IvrOutcome::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<IvrOutcome> {
        IvrOutcome::ALL.iter().copied().find(|o| o.as_str() == s)
    }
}

/// Asks for the TwiML a campaign's IVR would answer (unsaved settings may be previewed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IvrPreviewRequest {
    pub ivr: Ivr,
    /// The greeting said before the first question; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::Message>))]
    pub greeting: Option<String>,
}

/// The TwiML of each question as the caller first hears it, and of a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IvrPreview {
    /// One document per question, in order (the first with the greeting).
    pub questions: Vec<String>,
    /// The first question asked again after silence (with the retry message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<String>,
}

/// IVR drop-off of a campaign over a period: per question, how many callers were asked it and
/// what became of them there. Counted from the calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IvrStep {
    /// 0-based question index.
    pub question: i32,
    /// Callers who heard this question.
    pub reached: i64,
    /// Hung up while on it.
    pub abandoned: i64,
    /// Ended by an answer to it.
    pub ended: i64,
    /// Ended for want of a usable answer to it.
    pub failed: i64,
    /// Still on it now.
    pub in_progress: i64,
}

/// The IVR funnel: calls that entered it, how they left it, and the steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IvrFunnel {
    pub entered: i64,
    pub completed: i64,
    pub ended: i64,
    pub failed: i64,
    pub abandoned: i64,
    pub in_progress: i64,
    /// Mean seconds spent in the IVR by calls that left it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_ivr_secs: Option<f64>,
    pub steps: Vec<IvrStep>,
}

/// Which calls the IVR funnel counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct IvrFunnelQuery {
    /// The campaign.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub campaign_id: i64,
    /// Calls started at or after this instant (RFC 3339). Default: 7 days before `to`. Must be before
    /// `to` (else 422 naming `from`), a rule between two parameters the schema cannot state.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Calls started before this instant (RFC 3339). Default: now.
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::rules::Instant>))]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}
