//! A campaign's IVR as a pure step function: from a question, the try it is on and what the
//! caller pressed or said, to what comes next (ask again, the next question, routing, or the end
//! of the call) and the tags and buyer label the answer gives the call. The call flow stores the
//! position on the call between Twilio's `<Gather>` callbacks; the simulator walks the same
//! function over a list of answers.
use callbroker_wire::ivr::{
    Ivr, IvrAction, IvrAnswer, IvrFailure, IvrInput, IvrOutcome, IvrQuestion, DEFAULT_IVR_END_MESSAGE, DEFAULT_IVR_FAILURE_MESSAGE,
    MAX_IVR_ANSWERS, MAX_IVR_QUESTIONS,
};
use callbroker_wire::rules::{self, Int};
use callbroker_wire::{SimulatedIvr, SimulatedIvrStep};

use super::tags::{valid_name, valid_value};

/// What the caller gave a `<Gather>`: Twilio's `Digits`, `SpeechResult` and `Confidence`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Heard<'a> {
    pub digits: Option<&'a str>,
    pub speech: Option<&'a str>,
    pub confidence: Option<f64>,
}

impl<'a> Heard<'a> {
    /// A simulated answer: keys when it is only keypad characters, else words said with full
    /// confidence; `""` is silence.
    pub fn simulated(answer: &'a str) -> Heard<'a> {
        let answer = answer.trim();
        if answer.is_empty() {
            Heard::default()
        } else if answer.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#') {
            Heard { digits: Some(answer), ..Heard::default() }
        } else {
            Heard { speech: Some(answer), confidence: Some(1.0), ..Heard::default() }
        }
    }
}

/// How the caller's input was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// An answer was taken.
    Taken,
    /// Nothing pressed or said (of the kinds the question listens for).
    NoInput,
    /// Not one of the question's answers, or not a value a tag can hold.
    Invalid,
    /// Said, but recognised with less confidence than the question asks.
    LowConfidence,
}

impl Judged {
    pub fn as_str(self) -> &'static str {
        match self {
            Judged::Taken => "taken",
            Judged::NoInput => "no_input",
            Judged::Invalid => "invalid",
            Judged::LowConfidence => "low_confidence",
        }
    }
}

/// What follows an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Ask `question` (0-based), try `attempt` (1 = the first time); `retry`: say the retry
    /// message first.
    Ask { question: usize, attempt: u32, retry: bool },
    /// The IVR is over: route the call.
    Route,
    /// Say `message` and hang up; `outcome` is `ended` (an answer's action) or `failed`.
    End { message: String, outcome: IvrOutcome },
}

/// The result of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub judged: Judged,
    pub next: Next,
    /// Tags the answer sets on the call.
    pub tags: Vec<(String, String)>,
    /// The buyer label the answer keeps the call to.
    pub label: Option<String>,
}

/// The caller's input `heard` on try `attempt` of question `question` (a question past the end
/// routes the call: a stale position after the IVR was shortened).
pub fn step(ivr: &Ivr, question: usize, attempt: u32, heard: &Heard<'_>) -> Step {
    let Some(q) = ivr.questions.get(question) else {
        return Step { judged: Judged::NoInput, next: Next::Route, tags: vec![], label: None };
    };
    let (judged, answer, value) = judge(q, heard);
    let Judged::Taken = judged else {
        return Step { judged, next: not_taken(ivr, question, attempt), tags: vec![], label: None };
    };
    let mut tags = Vec::new();
    if let (Some(tag), Some(value)) = (&q.tag, value) {
        tags.push((tag.clone(), value));
    }
    let Some(answer) = answer else {
        return Step { judged, next: after(ivr, question), tags, label: None };
    };
    tags.extend(answer.set_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    let (next, label) = match answer.action {
        IvrAction::Continue => (after(ivr, question), None),
        IvrAction::Route => (after(ivr, question), answer.label.clone()),
        IvrAction::End => {
            let message = answer.message.clone().unwrap_or_else(|| DEFAULT_IVR_END_MESSAGE.to_string());
            (Next::End { message, outcome: IvrOutcome::Ended }, None)
        }
    };
    Step { judged, next, tags, label }
}

/// The question after `question`, or routing after the last.
fn after(ivr: &Ivr, question: usize) -> Next {
    if question + 1 < ivr.questions.len() {
        Next::Ask { question: question + 1, attempt: 1, retry: false }
    } else {
        Next::Route
    }
}

/// Silence or an answer not taken on try `attempt`: ask again while retries are left, then the
/// campaign's choice.
fn not_taken(ivr: &Ivr, question: usize, attempt: u32) -> Next {
    let retries = u32::try_from(ivr.retries).unwrap_or(0);
    if attempt <= retries {
        return Next::Ask { question, attempt: attempt + 1, retry: true };
    }
    match ivr.on_failure {
        IvrFailure::End => Next::End {
            message: ivr.failure_message.clone().unwrap_or_else(|| DEFAULT_IVR_FAILURE_MESSAGE.to_string()),
            outcome: IvrOutcome::Failed,
        },
        IvrFailure::Continue => after(ivr, question),
    }
}

/// Judges `heard` against `q`: the answer chosen (none for a question that takes any input) and
/// the value for the question's tag.
fn judge<'q>(q: &'q IvrQuestion, heard: &Heard<'_>) -> (Judged, Option<&'q IvrAnswer>, Option<String>) {
    let digits = heard.digits.filter(|_| q.input != IvrInput::Speech).map(|d| d.trim().trim_end_matches('#')).filter(|d| !d.is_empty());
    let speech = heard.speech.filter(|_| q.input != IvrInput::Dtmf).map(str::trim).filter(|s| !s.is_empty());
    if let Some(d) = digits {
        if q.answers.is_empty() {
            return if valid_value(d) { (Judged::Taken, None, Some(d.to_string())) } else { (Judged::Invalid, None, None) };
        }
        return match q.answers.iter().find(|a| a.digits.as_deref() == Some(d)) {
            Some(a) => (Judged::Taken, Some(a), Some(a.value.clone().unwrap_or_else(|| d.to_string()))),
            None => (Judged::Invalid, None, None),
        };
    }
    let Some(said) = speech else { return (Judged::NoInput, None, None) };
    if q.min_confidence > 0.0 && heard.confidence.unwrap_or(0.0) < q.min_confidence {
        return (Judged::LowConfidence, None, None);
    }
    if q.answers.is_empty() {
        return if valid_value(said) { (Judged::Taken, None, Some(said.to_string())) } else { (Judged::Invalid, None, None) };
    }
    let words = words(said);
    let chosen =
        q.answers.iter().find_map(|a| a.speech.iter().find(|phrase| contains_phrase(&words, &self::words(phrase))).map(|p| (a, p)));
    match chosen {
        Some((a, phrase)) => (Judged::Taken, Some(a), Some(a.value.clone().unwrap_or_else(|| phrase.trim().to_string()))),
        None => (Judged::Invalid, None, None),
    }
}

/// Lower-case words of `s` (letters and digits; anything else separates).
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Whether `phrase` occurs in `words` as consecutive whole words.
fn contains_phrase(words: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && words.windows(phrase.len()).any(|w| w == phrase)
}

/// The IVR walked with `answers` (one per question asked, silence once they run out), as the
/// simulator shows it, with the tags set.
pub fn walk(ivr: &Ivr, answers: &[String]) -> (SimulatedIvr, Vec<(String, String)>) {
    let mut steps = vec![];
    let mut tags = vec![];
    let mut label = None;
    let (mut question, mut attempt) = (0usize, 1u32);
    let mut given = answers.iter();
    // Each question is asked at most `retries + 1` times, so this bound is never reached.
    let bound = ivr.questions.len() * (usize::try_from(ivr.retries).unwrap_or(0) + 1) + 1;
    for _ in 0..bound {
        let answer = given.next().map_or("", String::as_str);
        let s = step(ivr, question, attempt, &Heard::simulated(answer));
        steps.push(SimulatedIvrStep {
            question: i32::try_from(question).unwrap_or(i32::MAX),
            attempt: i32::try_from(attempt).unwrap_or(i32::MAX),
            answer: answer.to_string(),
            result: s.judged.as_str().to_string(),
        });
        tags.extend(s.tags);
        if s.label.is_some() {
            label = s.label;
        }
        match s.next {
            Next::Ask { question: q, attempt: a, .. } => (question, attempt) = (q, a),
            Next::Route => return (SimulatedIvr { outcome: IvrOutcome::Completed, steps, route_label: label, message: None }, tags),
            Next::End { message, outcome } => {
                return (SimulatedIvr { outcome, steps, route_label: label, message: Some(message) }, tags);
            }
        }
    }
    (SimulatedIvr { outcome: IvrOutcome::InProgress, steps, route_label: label, message: None }, tags)
}

/// A buyer label: 1 to 50 letters, digits, `_` or `-`.
pub fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= rules::IvrLabel::MAX_CHARS
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// Whether a buyer with `labels` carries `label` (case aside).
pub fn has_label(labels: &[String], label: &str) -> bool {
    labels.iter().any(|l| l.eq_ignore_ascii_case(label))
}

/// Longest text said (a prompt, a message: [`rules::IvrText`]).
const MAX_TEXT: usize = rules::IvrText::MAX_CHARS;

/// What is wrong with a text said ([`rules::IvrText`]), if anything.
pub(crate) fn text_problem(v: &str) -> Option<String> {
    if v.trim().is_empty() {
        Some("must not be empty (leave it out for the default)".into())
    } else if v.chars().count() > MAX_TEXT || v.chars().any(|c| c.is_control() && c != '\n') {
        Some(format!("must be at most {MAX_TEXT} characters without control characters"))
    } else {
        None
    }
}

fn text(errors: &mut Vec<(String, String)>, field: String, value: Option<&str>) {
    if let Some(problem) = value.and_then(text_problem) {
        errors.push((field, problem));
    }
}

/// Keys that choose an answer ([`rules::Digits`]): 1 to 20 of `0`-`9` and `*`.
pub(crate) fn valid_digits(d: &str) -> bool {
    !d.is_empty() && d.len() <= rules::Digits::MAX_CHARS && d.bytes().all(|b| b.is_ascii_digit() || b == b'*')
}

/// An answer's stored value ([`rules::IvrValue`]): not blank, a tag value.
pub(crate) fn valid_answer_value(v: &str) -> bool {
    !v.trim().is_empty() && valid_value(v)
}

/// Checks an IVR as written; problems are `(field, sentence)`, fields named under `ivr.`.
pub fn check(ivr: &Ivr) -> Vec<(String, String)> {
    let mut errors = vec![];
    if ivr.questions.len() > MAX_IVR_QUESTIONS {
        errors.push(("ivr.questions".into(), format!("at most {MAX_IVR_QUESTIONS} questions")));
    }
    if !rules::IvrRetries::contains(ivr.retries) {
        errors.push(("ivr.retries".into(), format!("must be {} to {}", rules::IvrRetries::MIN, rules::IvrRetries::MAX)));
    }
    text(&mut errors, "ivr.retry_message".into(), ivr.retry_message.as_deref());
    text(&mut errors, "ivr.failure_message".into(), ivr.failure_message.as_deref());
    for (i, q) in ivr.questions.iter().enumerate() {
        check_question(&mut errors, &format!("ivr.questions[{i}]"), q);
    }
    errors
}

fn check_question(errors: &mut Vec<(String, String)>, at: &str, q: &IvrQuestion) {
    match (&q.say, &q.play) {
        (Some(_), Some(_)) | (None, None) => errors.push((format!("{at}.say"), "give exactly one of say and play".into())),
        (Some(say), None) => text(errors, format!("{at}.say"), Some(say)),
        (None, Some(url)) => {
            let max = rules::AudioUrl::MAX_CHARS;
            let ok = url.chars().count() <= max
                && url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if !ok {
                errors.push((format!("{at}.play"), format!("must be an http(s) URL of at most {max} characters")));
            }
        }
    }
    if q.num_digits.is_some_and(|n| !rules::NumDigits::contains(n)) {
        errors.push((format!("{at}.num_digits"), format!("must be {} to {}", rules::NumDigits::MIN, rules::NumDigits::MAX)));
    }
    if !rules::IvrTimeoutSecs::contains(q.timeout_secs) {
        errors.push((format!("{at}.timeout_secs"), format!("must be {} to {}", rules::IvrTimeoutSecs::MIN, rules::IvrTimeoutSecs::MAX)));
    }
    if q.tag.as_deref().is_some_and(|t| !valid_name(t)) {
        errors.push((format!("{at}.tag"), "must be 1 to 64 letters, digits, `_`, `-` or `.`".into()));
    }
    if !rules::Confidence::contains(q.min_confidence) {
        errors.push((format!("{at}.min_confidence"), "must be 0 to 1".into()));
    }
    if q.answers.len() > MAX_IVR_ANSWERS {
        errors.push((format!("{at}.answers"), format!("at most {MAX_IVR_ANSWERS} answers")));
    }
    let mut seen = std::collections::HashSet::new();
    for (j, a) in q.answers.iter().enumerate() {
        let at = format!("{at}.answers[{j}]");
        if a.digits.is_none() && a.speech.is_empty() {
            errors.push((format!("{at}.digits"), "give the keys (digits) or the words (speech) that choose this answer".into()));
        }
        if let Some(d) = &a.digits {
            if !valid_digits(d) {
                errors.push((format!("{at}.digits"), format!("must be 1 to {} of 0-9 and *", rules::Digits::MAX_CHARS)));
            } else if q.input == IvrInput::Speech {
                errors.push((format!("{at}.digits"), "the question listens for speech only".into()));
            } else if q.num_digits.is_some_and(|n| usize::try_from(n).is_ok_and(|n| d.len() > n)) {
                errors.push((format!("{at}.digits"), "is longer than the question's num_digits: it could never be pressed".into()));
            } else if !seen.insert(d.clone()) {
                errors.push((format!("{at}.digits"), "another answer of the question has the same keys".into()));
            }
        }
        if !a.speech.is_empty() && q.input == IvrInput::Dtmf {
            errors.push((format!("{at}.speech"), "the question listens for keys only".into()));
        }
        for (k, phrase) in a.speech.iter().enumerate() {
            if words(phrase).is_empty() || phrase.chars().count() > rules::SpeechPhrase::MAX_CHARS {
                errors.push((
                    format!("{at}.speech[{k}]"),
                    format!("must hold a word, at most {} characters", rules::SpeechPhrase::MAX_CHARS),
                ));
            }
        }
        if a.value.as_deref().is_some_and(|v| !valid_answer_value(v)) {
            errors.push((format!("{at}.value"), "must be 1 to 200 characters without control characters".into()));
        }
        for (name, value) in &a.set_tags {
            if !valid_name(name) || !valid_value(value) {
                errors.push((
                    format!("{at}.set_tags.{name}"),
                    "tag names are 1 to 64 letters, digits, `_`, `-` or `.`; values at most 200 characters".into(),
                ));
            }
        }
        match a.action {
            IvrAction::Route if !a.label.as_deref().is_some_and(valid_label) => {
                errors.push((format!("{at}.label"), "`route` needs a label of 1 to 50 letters, digits, `_` or `-`".into()));
            }
            IvrAction::Continue | IvrAction::End if a.label.is_some() => {
                errors.push((format!("{at}.label"), "only an answer with action `route` has a label".into()));
            }
            _ => {}
        }
        if a.action == IvrAction::End {
            text(errors, format!("{at}.message"), a.message.as_deref());
        } else if a.message.is_some() {
            errors.push((format!("{at}.message"), "only an answer with action `end` has a message".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn answer(digits: &str, value: &str, action: IvrAction) -> IvrAnswer {
        IvrAnswer { digits: Some(digits.into()), value: Some(value.into()), action, ..IvrAnswer::default() }
    }

    fn question(tag: &str, answers: Vec<IvrAnswer>) -> IvrQuestion {
        IvrQuestion {
            say: Some("Press 1 or 2".into()),
            play: None,
            input: IvrInput::DtmfSpeech,
            num_digits: Some(1),
            timeout_secs: 5,
            tag: Some(tag.into()),
            answers,
            min_confidence: 0.5,
        }
    }

    /// Age (1 = senior, 2 = ends the call), then language (2 = Spanish buyers), then a ZIP code
    /// taken as pressed.
    fn ivr() -> Ivr {
        let mut spanish = answer("2", "es", IvrAction::Route);
        spanish.label = Some("spanish".into());
        spanish.speech = vec!["español".into(), "spanish".into()];
        let mut yes = answer("1", "yes", IvrAction::Continue);
        yes.speech = vec!["yes".into(), "i am".into()];
        let mut no = answer("2", "no", IvrAction::End);
        no.message = Some("This line is for seniors.".into());
        let mut zip = question("Zip", vec![]);
        zip.num_digits = Some(5);
        Ivr {
            questions: vec![
                question("Senior", vec![yes, no]),
                question("Language", vec![answer("1", "en", IvrAction::Continue), spanish]),
                zip,
            ],
            ..Ivr::default()
        }
    }

    fn keys(d: &str) -> Heard<'_> {
        Heard { digits: Some(d), ..Heard::default() }
    }

    #[test]
    fn answers_tag_the_call_and_move_on() {
        let ivr = ivr();
        let s = step(&ivr, 0, 1, &keys("1"));
        assert_eq!(s.judged, Judged::Taken);
        assert_eq!(s.next, Next::Ask { question: 1, attempt: 1, retry: false });
        assert_eq!(s.tags, vec![("Senior".to_string(), "yes".to_string())]);
        let s = step(&ivr, 1, 1, &keys("2"));
        assert_eq!((s.label.as_deref(), s.tags), (Some("spanish"), vec![("Language".to_string(), "es".to_string())]));
        // A question without answers takes the keys as they are (`#` ends the input).
        let s = step(&ivr, 2, 1, &keys("17101#"));
        assert_eq!((s.next, s.tags), (Next::Route, vec![("Zip".to_string(), "17101".to_string())]));
    }

    #[test]
    fn an_answer_may_end_the_call() {
        let s = step(&ivr(), 0, 1, &keys("2"));
        assert_eq!(s.next, Next::End { message: "This line is for seniors.".into(), outcome: IvrOutcome::Ended });
        assert_eq!(s.tags, vec![("Senior".to_string(), "no".to_string())], "the answer is kept on the call");
    }

    #[test]
    fn silence_and_invalid_answers_are_asked_again_then_fail() {
        let mut ivr = ivr();
        assert_eq!(step(&ivr, 0, 1, &Heard::default()).judged, Judged::NoInput);
        assert_eq!(step(&ivr, 0, 1, &Heard::default()).next, Next::Ask { question: 0, attempt: 2, retry: true });
        assert_eq!(step(&ivr, 0, 2, &keys("9")).judged, Judged::Invalid);
        assert_eq!(step(&ivr, 0, 2, &keys("9")).next, Next::Ask { question: 0, attempt: 3, retry: true });
        let failed = step(&ivr, 0, 3, &keys("9"));
        assert_eq!(failed.next, Next::End { message: DEFAULT_IVR_FAILURE_MESSAGE.into(), outcome: IvrOutcome::Failed });
        assert!(failed.tags.is_empty());
        ivr.on_failure = IvrFailure::Continue;
        assert_eq!(step(&ivr, 0, 3, &keys("9")).next, Next::Ask { question: 1, attempt: 1, retry: false }, "goes on untagged");
        ivr.retries = 0;
        assert_eq!(step(&ivr, 2, 1, &Heard::default()).next, Next::Route);
    }

    #[test]
    fn speech_matches_whole_words_with_enough_confidence() {
        let ivr = ivr();
        let said = |s, c| Heard { speech: Some(s), confidence: Some(c), ..Heard::default() };
        assert_eq!(step(&ivr, 0, 1, &said("Yes, I am.", 0.9)).tags, vec![("Senior".to_string(), "yes".to_string())]);
        assert_eq!(step(&ivr, 0, 1, &said("yesterday", 0.9)).judged, Judged::Invalid, "whole words only");
        assert_eq!(step(&ivr, 0, 1, &said("yes", 0.2)).judged, Judged::LowConfidence);
        assert_eq!(step(&ivr, 1, 1, &said("Español por favor", 0.8)).label.as_deref(), Some("spanish"));
        // Keys win over words when both come.
        let both = Heard { digits: Some("1"), speech: Some("spanish"), confidence: Some(0.9) };
        assert_eq!(step(&ivr, 1, 1, &both).tags, vec![("Language".to_string(), "en".to_string())]);
    }

    #[test]
    fn a_question_hears_only_the_input_it_listens_for() {
        let mut ivr = ivr();
        ivr.questions[0].input = IvrInput::Dtmf;
        let said = Heard { speech: Some("yes"), confidence: Some(1.0), ..Heard::default() };
        assert_eq!(step(&ivr, 0, 1, &said).judged, Judged::NoInput);
        ivr.questions[0].input = IvrInput::Speech;
        assert_eq!(step(&ivr, 0, 1, &keys("1")).judged, Judged::NoInput);
    }

    #[test]
    fn the_simulator_walks_the_same_steps() {
        let ivr = ivr();
        let answers: Vec<String> = ["", "1", "spanish", "90210"].iter().map(ToString::to_string).collect();
        let (sim, tags) = walk(&ivr, &answers);
        assert_eq!(sim.outcome, IvrOutcome::Completed);
        assert_eq!(sim.route_label.as_deref(), Some("spanish"));
        let results: Vec<(i32, i32, &str)> = sim.steps.iter().map(|s| (s.question, s.attempt, s.result.as_str())).collect();
        assert_eq!(results, vec![(0, 1, "no_input"), (0, 2, "taken"), (1, 1, "taken"), (2, 1, "taken")]);
        assert_eq!(tags.last(), Some(&("Zip".to_string(), "90210".to_string())));
        let (ended, _) = walk(&ivr, &["2".to_string()]);
        assert_eq!((ended.outcome, ended.message.as_deref()), (IvrOutcome::Ended, Some("This line is for seniors.")));
        let (silent, _) = walk(&ivr, &[]);
        assert_eq!((silent.outcome, silent.steps.len()), (IvrOutcome::Failed, 3));
    }

    #[test]
    fn check_names_every_bad_field() {
        let mut bad = ivr();
        bad.retries = 9;
        bad.questions[0].play = Some("ftp://x".into());
        bad.questions[1].answers[1].label = None;
        bad.questions[1].answers[0].digits = Some("2".into());
        bad.questions[2].timeout_secs = 0;
        bad.questions[2].answers = vec![answer("123456", "x", IvrAction::Continue)];
        let fields: Vec<String> = check(&bad).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "ivr.retries",
                "ivr.questions[0].say",
                "ivr.questions[1].answers[1].digits",
                "ivr.questions[1].answers[1].label",
                "ivr.questions[2].timeout_secs",
                "ivr.questions[2].answers[0].digits",
            ]
        );
        assert!(check(&ivr()).is_empty());
        assert!(check(&Ivr::default()).is_empty());
    }

    proptest! {
        /// Whatever the caller does, the IVR ends (routed or ended) within `retries + 1` asks per
        /// question, never asks a question before an earlier one, and tags only the questions' tags.
        #[test]
        fn any_caller_gets_through_or_out(answers in proptest::collection::vec(prop_oneof![
            Just(String::new()), Just("1".to_string()), Just("2".to_string()), Just("9".to_string()),
            Just("yes".to_string()), Just("spanish".to_string()), "[0-9]{1,6}",
        ], 0..16), retries in 0i32..4, continue_on_failure in any::<bool>()) {
            let mut ivr = ivr();
            ivr.retries = retries;
            ivr.on_failure = if continue_on_failure { IvrFailure::Continue } else { IvrFailure::End };
            let (sim, tags) = walk(&ivr, &answers);
            prop_assert_ne!(sim.outcome, IvrOutcome::InProgress);
            let per_question = usize::try_from(retries).unwrap_or(0) + 1;
            prop_assert!(sim.steps.len() <= ivr.questions.len() * per_question);
            prop_assert!(sim.steps.windows(2).all(|w| (w[0].question, w[0].attempt) < (w[1].question, w[1].attempt)));
            prop_assert!(tags.iter().all(|(name, _)| ["Senior", "Language", "Zip"].contains(&name.as_str())));
            if sim.outcome == IvrOutcome::Failed {
                prop_assert!(!continue_on_failure);
            }
        }
    }
}
