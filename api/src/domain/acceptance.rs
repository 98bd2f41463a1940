//! Buyer acceptance: the whisper said to a buyer's agent before the caller is put through, and
//! "press 1 to accept". Pure: the whisper template, and what an acceptance (or its absence) makes
//! of a buyer leg.
//!
//! A whisper is text with placeholders: `{campaign}`, `{caller_state}` and `{tag:NAME}`. Names
//! are letters, digits and `_` (tag names may also hold `.` and `-`); a placeholder the call has
//! no value for, or does not know, is said as nothing, so that a template written for tags a call
//! may lack still reads. `{{` and `}}` are literal braces; any other brace is malformed and
//! refused when the template is written ([`Whisper::parse`]).
use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::states::{CallStatus, LegStatus};

/// Longest placeholder name (and tag name) in a whisper.
const MAX_NAME_LEN: usize = callbroker_wire::rules::TagName::MAX_CHARS;

/// What a whisper is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Campaign,
    CallerState,
    Tag(String),
    /// A well-formed placeholder no call has: said as nothing.
    Unknown,
}

/// A parsed whisper template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whisper(Vec<Piece>);

/// What a whisper's placeholders stand for on one call.
#[derive(Debug, Clone, Copy)]
pub struct WhisperValues<'a> {
    pub campaign: &'a str,
    pub caller_state: Option<&'a str>,
    pub tags: &'a BTreeMap<String, String>,
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn tag_char(c: char) -> bool {
    name_char(c) || c == '.' || c == '-'
}

impl Whisper {
    /// Parses a template; the error says what is wrong and at which character (counted from 1).
    pub fn parse(text: &str) -> Result<Whisper, String> {
        let mut pieces = vec![];
        let mut literal = String::new();
        let mut chars = text.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(format!("has a `}}` without its `{{` at character {} (write `}}}}` for a brace)", i + 1)),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some((_, '}')) => break,
                            Some((j, '{')) => {
                                return Err(format!("has a `{{` inside the placeholder opened at character {} (at {})", i + 1, j + 1))
                            }
                            Some((_, ch)) => name.push(ch),
                            None => return Err(format!("has a placeholder opened at character {} and never closed", i + 1)),
                        }
                    }
                    let piece =
                        placeholder(&name).map_err(|why| format!("has a bad placeholder `{{{name}}}` at character {}: {why}", i + 1))?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(piece);
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Whisper(pieces))
    }

    /// The text to say on a call with `values`, spaces around an empty placeholder folded.
    pub fn render(&self, values: &WhisperValues<'_>) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Campaign => out.push_str(values.campaign),
                Piece::CallerState => out.push_str(values.caller_state.unwrap_or("")),
                Piece::Tag(name) => out.push_str(values.tags.get(name).map_or("", String::as_str)),
                Piece::Unknown => {}
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn placeholder(name: &str) -> Result<Piece, String> {
    if let Some(tag) = name.strip_prefix("tag:") {
        if tag.is_empty() {
            return Err("the tag's name is missing".into());
        }
        if tag.chars().count() > MAX_NAME_LEN {
            return Err(format!("a tag's name is at most {MAX_NAME_LEN} characters"));
        }
        if !tag.chars().all(tag_char) {
            return Err("a tag's name is letters, digits, `_`, `.` and `-`".into());
        }
        return Ok(Piece::Tag(tag.to_string()));
    }
    if name.is_empty() {
        return Err("the name is missing".into());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("a name is at most {MAX_NAME_LEN} characters"));
    }
    if !name.chars().all(name_char) {
        return Err("a name is letters, digits and `_` (or `tag:NAME`)".into());
    }
    Ok(match name {
        "campaign" => Piece::Campaign,
        "caller_state" => Piece::CallerState,
        _ => Piece::Unknown,
    })
}

/// Said after the whisper when the agent must accept.
pub const ACCEPT_PROMPT: &str = "Press 1 to accept this call.";

/// The digit that accepts a call.
pub const ACCEPT_DIGIT: &str = "1";

/// A buyer leg's acceptance: whether its agent had to accept, and when they did (the earliest
/// report: a repeated callback changes nothing, and it folds with status callbacks in any order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Acceptance {
    pub required: bool,
    pub accepted_at: Option<NaiveDateTime>,
}

impl Acceptance {
    /// Also knowing that the agent accepted at `at`.
    #[must_use]
    pub fn accept(self, at: NaiveDateTime) -> Acceptance {
        let accepted_at = Some(self.accepted_at.map_or(at, |t| t.min(at)));
        Acceptance { accepted_at, ..self }
    }

    /// Whether the leg's buyer took the call: it answered (`answered`, from the leg's status
    /// callbacks), or, when its agent had to accept, the agent accepted.
    pub fn took(self, answered: bool) -> bool {
        if self.required {
            self.accepted_at.is_some()
        } else {
            answered
        }
    }

    /// The leg's status as reported: a leg whose agent had to accept and did not is `no-answer`
    /// once it ended, whatever Twilio says of the agent's phone (it was picked up to hear the
    /// whisper).
    pub fn status(self, status: LegStatus) -> LegStatus {
        if self.required && self.accepted_at.is_none() && status.is_final() {
            LegStatus::Twilio(CallStatus::NoAnswer)
        } else {
            status
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn say(template: &str, tags: &[(&str, &str)]) -> String {
        let tags: BTreeMap<String, String> = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let w = Whisper::parse(template).unwrap_or_else(|e| panic!("{template:?}: {e}"));
        w.render(&WhisperValues { campaign: "Solar & Co", caller_state: Some("NJ"), tags: &tags })
    }

    #[test]
    fn placeholders_are_replaced() {
        // (template, tags, said)
        type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
        let table: &[Row<'_>] = &[
            ("", &[], ""),
            ("Plain text.", &[], "Plain text."),
            ("Call from {campaign}", &[], "Call from Solar & Co"),
            ("{campaign}, caller in {caller_state}.", &[], "Solar & Co, caller in NJ."),
            ("Age {tag:age}, zip {tag:FromZip}", &[("age", "67"), ("FromZip", "07102")], "Age 67, zip 07102"),
            ("Tag {tag:in.ivr-1_x}", &[("in.ivr-1_x", "yes")], "Tag yes"),
            // Unknown placeholders and missing tags are said as nothing, spaces folded.
            ("Lead {publisher} from {campaign}", &[], "Lead from Solar & Co"),
            ("Age {tag:age} years", &[], "Age years"),
            ("{tag:a}{tag:b}", &[("b", "B")], "B"),
            // Literal braces.
            ("{{campaign}} is {campaign}", &[], "{campaign} is Solar & Co"),
            ("}}{{", &[], "}{"),
            ("{{{campaign}}}", &[], "{Solar & Co}"),
        ];
        for (template, tags, said) in table {
            assert_eq!(say(template, tags), *said, "{template:?}");
        }
    }

    #[test]
    fn a_missing_caller_state_is_nothing() {
        let w = Whisper::parse("From {caller_state}, {campaign}").unwrap();
        let tags = BTreeMap::new();
        assert_eq!(w.render(&WhisperValues { campaign: "C", caller_state: None, tags: &tags }), "From , C");
    }

    #[test]
    fn malformed_templates_are_refused_with_where() {
        // (template, part of the error)
        let table: &[(&str, &str)] = &[
            ("Hello {campaign", "opened at character 7 and never closed"),
            ("Hello {", "opened at character 7 and never closed"),
            ("Hello }", "`}` without its `{` at character 7"),
            ("a {} b", "`{}` at character 3: the name is missing"),
            ("a {tag:} b", "the tag's name is missing"),
            ("a {camp aign}", "letters, digits and `_`"),
            ("a {tag:x y}", "a tag's name is letters"),
            ("a {x{y}}", "inside the placeholder opened at character 3"),
            ("{tag:é}", "a tag's name is letters"),
        ];
        for (template, why) in table {
            let e = Whisper::parse(template).expect_err(template);
            assert!(e.contains(why), "{template:?}: {e}");
        }
        let long = format!("{{{}}}", "a".repeat(65));
        assert!(Whisper::parse(&long).is_err());
        assert!(Whisper::parse(&format!("{{{}}}", "a".repeat(64))).is_ok());
    }

    fn t(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_780_000_000 + secs, 0).map(|d| d.naive_utc()).unwrap_or_default()
    }

    #[test]
    fn acceptance_is_the_earliest_and_idempotent() {
        let a = Acceptance { required: true, accepted_at: None };
        assert_eq!(a.accept(t(5)).accept(t(3)).accepted_at, Some(t(3)));
        assert_eq!(a.accept(t(3)).accept(t(5)), a.accept(t(5)).accept(t(3)));
        assert_eq!(a.accept(t(3)).accept(t(3)), a.accept(t(3)));
    }

    #[test]
    fn who_took_the_call_and_the_status_shown() {
        let completed = LegStatus::Twilio(CallStatus::Completed);
        let in_progress = LegStatus::Twilio(CallStatus::InProgress);
        let no_answer = LegStatus::Twilio(CallStatus::NoAnswer);
        let free = Acceptance::default();
        let waiting = Acceptance { required: true, accepted_at: None };
        let accepted = waiting.accept(t(1));
        // (acceptance, answered per callbacks, took, status in, status shown)
        let table = [
            (free, true, true, completed, completed),
            (free, false, false, no_answer, no_answer),
            (waiting, true, false, completed, no_answer),
            (waiting, true, false, in_progress, in_progress),
            (waiting, false, false, LegStatus::Reserved, LegStatus::Reserved),
            (accepted, true, true, completed, completed),
            // Accepted before the answer's callback came.
            (accepted, false, true, in_progress, in_progress),
        ];
        for (a, answered, took, status, shown) in table {
            assert_eq!(a.took(answered), took, "{a:?} {answered}");
            assert_eq!(a.status(status), shown, "{a:?} {status:?}");
        }
    }
}
