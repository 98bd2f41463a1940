//! The rules the OpenAPI document declares ([`callbroker_wire::rules`]) against the checks the
//! server makes, value by value: a value the document calls valid passes the server's check of
//! that one value, and a value the document calls invalid is refused. Each rule is tried on a
//! table of values chosen at its edges, and on random strings over the characters that matter
//! (white space of every kind, control characters, digits, separators, braces, letters).
//!
//! The document is read as a JSON Schema validator reads it: `minLength` / `maxLength` count
//! characters, and the pattern is searched for (it is anchored) with Rust's `regex`, the dialect
//! of schemathesis' own validator.
use callbroker_wire::rules::{self, Text};
use callbroker_wire::{AnalyticsQuery, BlockKind, GroupBy};
use proptest::prelude::*;
use regex::Regex;

use super::validate;

/// What the document says of `s` under rule `R`.
fn declared<R: Text>() -> impl Fn(&str) -> bool {
    let pattern = R::pattern().map(|p| Regex::new(&p).unwrap_or_else(|e| panic!("the pattern {p:?} is not a regex: {e}")));
    move |s: &str| {
        let n = s.chars().count();
        R::MIN_CHARS.is_none_or(|min| n >= min) && R::MAX_CHARS.is_none_or(|max| n <= max) && pattern.as_ref().is_none_or(|p| p.is_match(s))
    }
}

/// Fails on the first value of `values` the document and the server judge differently.
fn agree<R: Text>(rule: &str, server: impl Fn(&str) -> bool, values: &[String]) {
    let document = declared::<R>();
    for v in values {
        assert_eq!(
            document(v),
            server(v),
            "{rule}: the document says {}, the server {}, for {v:?}",
            verdict(document(v)),
            verdict(server(v))
        );
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "valid"
    } else {
        "invalid"
    }
}

fn strs(values: &[&str]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

/// White space the server trims, and characters that look like it but are not trimmed.
const SPACES: [&str; 8] = [" ", "\t", "\n", "\r", "\u{85}", "\u{a0}", "\u{2003}", "\u{3000}"];
const NOT_TRIMMED: [&str; 4] = ["\u{1c}", "\u{feff}", "\u{200b}", "\u{180e}"];

/// `core` alone, then with each kind of white space around it, and with each look-alike.
fn padded(core: &str) -> Vec<String> {
    let mut out = vec![core.to_string()];
    for s in SPACES.iter().chain(&NOT_TRIMMED) {
        out.push(format!("{s}{core}"));
        out.push(format!("{core}{s}"));
        out.push(format!("{s}{core}{s}"));
    }
    out
}

/// Every value of `cores`, [`padded`].
fn all_padded(cores: &[&str]) -> Vec<String> {
    cores.iter().flat_map(|c| padded(c)).collect()
}

/// Texts around a length limit: `n - 1`, `n` and `n + 1` characters of `c`, plain and padded
/// with a space on each side.
fn around(c: char, n: usize) -> Vec<String> {
    let mut out = vec![];
    for len in [n - 1, n, n + 1] {
        let s: String = std::iter::repeat_n(c, len).collect();
        out.push(format!(" {s} "));
        out.push(format!(" {}", &s[c.len_utf8()..]));
        out.push(s);
    }
    out
}

#[test]
fn names() {
    let mut values = all_padded(&["a", "Acme Inc.", "a b", "中文", "é", "a\tb", "a\u{1}b", "a\u{7f}", "a\u{85}b", "\u{0}", "a\u{a0}b"]);
    values.extend(strs(&["", " ", "\t\n", "\u{3000}", "\u{1}", "\u{9f}"]));
    values.extend(around('n', rules::Name::MAX_CHARS));
    values.extend(around('é', rules::Name::MAX_CHARS));
    agree::<rules::Name>("Name", |s| validate::name(s).is_ok(), &values);
}

#[test]
fn messages() {
    let mut values = all_padded(&["Please hold", "a\tb", "a\nb", "a\u{1}b", "a\u{0}b", "\u{0}", "中"]);
    values.extend(strs(&["", " ", "\n\t ", "\u{85}"]));
    values.extend(around('m', rules::Message::MAX_CHARS));
    agree::<rules::Message>("Message", |s| validate::message(s).is_ok(), &values);
}

#[test]
fn whispers() {
    let mut values = all_padded(&[
        "",
        "Call from {campaign}",
        "{caller_state}",
        "{tag:FromState} and {tag:a.b-c_d}",
        "{unknown_name}",
        "{{literal}} braces",
        "}}",
        "{{",
        "{",
        "}",
        "{}",
        "{tag:}",
        "{tag:bad name}",
        "{bad-name}",
        "{a{b}",
        "{campaign}}",
        "{campaign}}}",
        "{{}",
        "{tag:x}}}{{",
        "a\u{0}b",
        "{tag:é}",
    ]);
    values.push(format!("{{{}}}", "n".repeat(64)));
    values.push(format!("{{{}}}", "n".repeat(65)));
    values.push(format!("{{tag:{}}}", "t".repeat(64)));
    values.push(format!("{{tag:{}}}", "t".repeat(65)));
    values.extend(around('w', rules::Whisper::MAX_CHARS));
    agree::<rules::Whisper>("Whisper", |s| validate::whisper(s).is_ok(), &values);
}

#[test]
fn free_texts() {
    let mut values = all_padded(&["", "net 30", "a\u{0}b", "a\tb", "\u{1}"]);
    values.extend(around('x', rules::ShortText::MAX_CHARS));
    agree::<rules::ShortText>("ShortText", |s| validate::optional_text(Some(s), rules::ShortText::MAX_CHARS).is_ok(), &values);
    let mut values = all_padded(&["", "robocalls", "\u{0}"]);
    values.extend(around('x', rules::Note::MAX_CHARS));
    agree::<rules::Note>("Note", |s| validate::optional_text(Some(s), rules::Note::MAX_CHARS).is_ok(), &values);
    let mut values = all_padded(&["", "PN0123"]);
    values.extend(around('x', rules::ProviderSid::MAX_CHARS));
    agree::<rules::ProviderSid>("ProviderSid", |s| validate::optional_text(Some(s), rules::ProviderSid::MAX_CHARS).is_ok(), &values);
    let mut values = all_padded(&["", "terms\nmore"]);
    values.extend(around('x', rules::LongText::MAX_CHARS));
    agree::<rules::LongText>("LongText", |s| validate::optional_text(Some(s), rules::LongText::MAX_CHARS).is_ok(), &values);
}

const PHONES: [&str; 20] = [
    "+14155550100",
    "+1 (415) 555-0100",
    "+1.415.555.0100",
    "(+1) 415 555 0100",
    "-+14155550100-",
    "+12345678",
    "+1234567",
    "+123456789012345",
    "+1234567890123456",
    "+01234567890",
    "14155550100",
    "+1415555010a",
    "+1415\t5550100",
    "++14155550100",
    "+",
    "",
    "+1 4 1 5 5 5 5 0 1 0 0",
    "+١٤١٥٥٥٥٠١٠٠",
    "+14155550100*",
    "+1415_5550100",
];

#[test]
fn phone_numbers() {
    agree::<rules::E164Number>("E164Number", |s| validate::e164(s).is_ok(), &strs(&PHONES));
    let mut values = all_padded(&PHONES);
    values.extend(strs(&["", "   ", "\t"]));
    values.push(format!("+1{}", " ".repeat(38)));
    values.push(format!("+14155550100{}", " ".repeat(28)));
    values.push(format!("+14155550100{}", " ".repeat(29)));
    agree::<rules::ContactPhone>("ContactPhone", |s| validate::contact_phone(s).is_ok(), &values);
}

const EMAILS: [&str; 18] = [
    "ops@example.com",
    "Ops@Example.COM",
    "a@b.c",
    "a@b",
    "@b.c",
    "a@.b",
    "a@b.",
    "a@b..c",
    "a@@b.c",
    "a@b@c.d",
    "a b@c.d",
    "a@b c.d",
    "a\u{1}@b.c",
    "é@ü.de",
    "a.b@c.d",
    ".a@b.c",
    "a@b.c\u{a0}d",
    "",
];

#[test]
fn emails() {
    let mut values = all_padded(&EMAILS);
    values.push(format!("{}@example.com", "a".repeat(242)));
    values.push(format!("{}@example.com", "a".repeat(243)));
    values.push(format!("{}@example.com", "é".repeat(242)));
    values.push(format!(" {}@example.com", "a".repeat(242)));
    agree::<rules::Email>("Email", |s| validate::email(s).is_ok(), &values);
    values.extend(strs(&["", " ", "\u{3000}"]));
    agree::<rules::ContactEmail>("ContactEmail", |s| validate::contact_email(s).is_ok(), &values);
}

#[test]
fn passwords() {
    let server = |s: &str| {
        let mut errors = crate::error::FieldErrors::new();
        crate::store::users::check_password(s, &mut errors);
        errors.0.is_empty()
    };
    let mut values = strs(&["", "short", "ten chars!", "nine char", "          "]);
    values.extend(around('p', rules::Password::MAX_CHARS));
    values.extend(around('é', rules::Password::MAX_CHARS));
    values.extend(around('😀', rules::Password::MAX_CHARS));
    values.extend(around('p', rules::Password::MIN_CHARS));
    agree::<rules::Password>("Password", server, &values);
}

#[test]
fn codes() {
    let values = all_padded(&["USD", "usd", "uSd", "US", "USDX", "U$D", "ÉUR", "", "U S"]);
    agree::<rules::Currency>("Currency", |s| validate::currency(s).is_ok(), &values);
    let values = all_padded(&["CA", "ca", "nY", "DC", "mp", "XX", "C", "CAL", "", "C A", "ÇA"]);
    agree::<rules::UsState>("UsState", |s| validate::us_states(&[s.to_string()]).is_ok(), &values);
    let mut values = values;
    values.extend(strs(&["", " ", "\t\u{3000}"]));
    agree::<rules::OptionalUsState>("OptionalUsState", |s| validate::optional_us_state(s).is_ok(), &values);
}

#[test]
fn clocks() {
    let values = strs(&[
        "00:00",
        "09:30",
        "23:59",
        "24:00",
        "24:01",
        "25:00",
        "9:00",
        "09:0",
        "09:60",
        "+9:00",
        "09:+5",
        "-1:00",
        "0900",
        "09:00 ",
        " 09:00",
        "٠٩:٠٠",
        "",
    ]);
    agree::<rules::WindowStart>("WindowStart", |s| validate::clock(s).is_ok_and(|m| m < 24 * 60), &values);
    agree::<rules::WindowEnd>("WindowEnd", |s| validate::clock(s).is_ok(), &values);
}

#[test]
fn blocked_numbers() {
    let mut values = all_padded(&[
        "+1",
        "+1415",
        "+1415*",
        "+14155550100",
        "+123456789012345",
        "+1234567890123456",
        "+0415",
        "1415",
        "+",
        "+*",
        "+1415**",
        "+14 15",
        "*+1415",
        "+1415a",
    ]);
    values.push(String::new());
    // The shape alone: `kind` (and so the 8 digits of an exact number) is a rule between fields.
    let server = |s: &str| crate::store::blocklist::check_number(s, Some(BlockKind::Prefix)).is_ok();
    agree::<rules::BlockedNumber>("BlockedNumber", server, &values);
}

#[test]
fn twilio_credentials() {
    let sid = |p: &str, hex: &str| format!("{p}{hex}");
    let hex = "0123456789abcdefABCDEF0123456789";
    let sids = [
        sid("AC", hex),
        sid("SK", hex),
        sid("AC", &hex[1..]),
        sid("AC", &format!("{hex}0")),
        sid("ac", hex),
        sid("AC", &hex.replace('f', "g")),
    ];
    let mut values: Vec<String> = sids.iter().flat_map(|s| padded(s)).collect();
    values.push(String::new());
    let account = |s: &str| crate::twilio::account::is_sid(s.trim(), "AC");
    agree::<rules::AccountSid>("AccountSid", account, &values);
    let key = |s: &str| s.trim().is_empty() || crate::twilio::account::is_sid(s.trim(), "SK");
    agree::<rules::ApiKeySid>("ApiKeySid", key, &values);
    let mut values = all_padded(&["0123456789abcdef", "0123456789abcde", "0123456789 abcdef", "0123456789abcdeé", "!\"#$%&'()*+,-./0"]);
    values.push("t".repeat(128));
    values.push("t".repeat(129));
    agree::<rules::AuthToken>("AuthToken", |s| crate::twilio::account::is_auth_token(s.trim()), &values);
}

#[test]
fn simulated_calls() {
    let mut values = all_padded(&["+12015550123", "+1 201 555 0123", "Anonymous", "+266696687", "+Anonymous", "anon\u{1}", "Restricted"]);
    values.push("a".repeat(32));
    values.push("a".repeat(33));
    values.push(format!("a{}b", " ".repeat(30)));
    values.push(String::new());
    agree::<rules::SimulatedCaller>("SimulatedCaller", |s| crate::routes::calls::simulated_caller(s).is_ok(), &values);
    let mut values = all_padded(&["", "TN-Validation-Passed-A", "a\u{1}b", "a b"]);
    values.extend(around('v', rules::StirVerstat::MAX_CHARS));
    agree::<rules::StirVerstat>("StirVerstat", |s| crate::routes::calls::stir_verstat(s).is_ok(), &values);
}

#[test]
fn tags() {
    let mut values = strs(&["FromState", "a.b-c_d", "", "bad name", "é", "a:b", "Tag\n"]);
    values.push("t".repeat(64));
    values.push("t".repeat(65));
    agree::<rules::TagName>("TagName", crate::routing::tags::valid_name, &values);
    let mut values = strs(&["", "CA", " padded ", "a\u{1}b", "line\nbreak", "中"]);
    values.extend(around('v', rules::TagText::MAX_CHARS));
    agree::<rules::TagText>("TagText", crate::routing::tags::valid_value, &values);
    let mut values = strs(&["FromState", "FromState:CA", "A:", "A:b:c", ":CA", "bad name:x", "A:x\u{1}", "A: spaced "]);
    values.push(format!("A:{}", "v".repeat(200)));
    values.push(format!("A:{}", "v".repeat(201)));
    values.push(format!("{}:x", "t".repeat(65)));
    agree::<rules::TagCondition>("TagCondition", |s| crate::store::calls::query::TagCondition::parse(s).is_ok(), &values);
    let mut values = all_padded(&["FromState", "bad name", "é", ""]);
    values.push("t".repeat(65));
    let server = |s: &str| {
        let group_by = (!s.trim().is_empty()).then_some(GroupBy::Tag);
        let q = AnalyticsQuery { tag: Some(s.to_string()), group_by, ..AnalyticsQuery::default() };
        crate::analytics::Query::parse(&q, None, chrono::Utc::now()).is_ok()
    };
    agree::<rules::GroupTag>("GroupTag", server, &values);
}

#[test]
fn labels_and_ivr_values() {
    let mut cores = vec!["spanish", "a-b_C9", "", "has space", "é", "a.b"];
    let long = "l".repeat(50);
    let longer = "l".repeat(51);
    cores.push(&long);
    cores.push(&longer);
    let values = all_padded(&cores);
    agree::<rules::BuyerLabel>("BuyerLabel", |s| crate::routing::ivr::valid_label(s.trim()), &values);
    agree::<rules::IvrLabel>("IvrLabel", crate::routing::ivr::valid_label, &values);
    let mut values = strs(&["1", "12*", "*", "", "1#", "a", "١"]);
    values.push("1".repeat(20));
    values.push("1".repeat(21));
    agree::<rules::Digits>("Digits", crate::routing::ivr::valid_digits, &values);
    let mut values = all_padded(&["yes", "", "a\u{1}b", "a\nb"]);
    values.extend(around('v', rules::IvrValue::MAX_CHARS));
    agree::<rules::IvrValue>("IvrValue", crate::routing::ivr::valid_answer_value, &values);
    let mut values = all_padded(&["Press 1", "", "two\nlines", "tab\tinside", "a\u{1}b", "\u{0}"]);
    values.extend(around('s', rules::IvrText::MAX_CHARS));
    agree::<rules::IvrText>("IvrText", |s| crate::routing::ivr::text_problem(s).is_none(), &values);
}

#[test]
fn bidder_texts() {
    use crate::store::bidders::{body_fits, header_value_fits, json_pointer_fits, url_fits};
    let mut values = all_padded(&["https://rtb.example.com/bid?s={state}", "", "not a url", "a\u{0}b"]);
    values.extend(around('u', rules::BidderUrl::MAX_CHARS));
    agree::<rules::BidderUrl>("BidderUrl", url_fits, &values);
    let mut values = all_padded(&["Bearer abc", "", "x", "a\u{1}b", "é", "tab\tin"]);
    values.extend(around('h', rules::HeaderValue::MAX_CHARS));
    agree::<rules::HeaderValue>("HeaderValue", header_value_fits, &values);
    let mut values = all_padded(&["{\"a\": \"{state}\"}", "", "two\nlines", "a\u{0}b", "中"]);
    values.extend(around('b', rules::BodyTemplate::MAX_CHARS));
    agree::<rules::BodyTemplate>("BodyTemplate", body_fits, &values);
    let mut values = strs(&["", "/", "/bid", "/a/b/0", "bid", "/a~0b", "/a~1b", "/a~2", "/a~", "~0", "/a\u{0}", "//", "/é"]);
    values.extend(around('p', rules::JsonPointer::MAX_CHARS).into_iter().map(|p| format!("/{}", p.trim())));
    agree::<rules::JsonPointer>("JsonPointer", json_pointer_fits, &values);
}

#[test]
fn instants() {
    let values = strs(&[
        "2000-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2100-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "2026-11-01T08:30:00.123+02:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2050-06-15T12:00:00-07:00",
        "+262142-12-31T23:59:59Z",
        "-262143-01-01T00:00:00Z",
    ]);
    let document = declared::<rules::Instant>();
    for v in values {
        // As the server reads it: parsed (a string that does not parse is a 400), then checked.
        let Ok(t) = v.parse::<chrono::DateTime<chrono::Utc>>() else { continue };
        assert_eq!(document(&v), validate::instant(t).is_ok(), "Instant: {v}");
    }
}

/// Characters random texts are made of: every class the patterns tell apart.
const ALPHABET: [char; 42] = [
    'a', 'Z', 'e', 'g', 't', ':', 'A', 'C', 'S', 'K', '0', '1', '4', '9', '+', '-', '.', '(', ')', '*', '@', '_', '{', '}', ' ', '\t',
    '\n', '\r', '\u{0}', '\u{1}', '\u{1c}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2003}', '\u{3000}', '\u{feff}', 'é', '中', '١', '😀', '#',
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(&ALPHABET[..]), 0..24).prop_map(String::from_iter)
}

/// Texts near what `R` takes: a valid `seed` with random characters put in, taken out or replaced.
fn near(seed: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec((0usize..32, prop::sample::select(&ALPHABET[..]), 0u8..3), 1..4).prop_map(move |edits| {
        let mut chars: Vec<char> = seed.chars().collect();
        for (at, c, how) in edits {
            let at = at % (chars.len() + 1);
            match how {
                0 => chars.insert(at, c),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ if at < chars.len() => chars[at] = c,
                _ => chars.push(c),
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_texts_are_judged_alike(s in prop_oneof![
        text(),
        near("+1 (415) 555-0100"),
        near("ops@example.com"),
        near("{tag:FromState} {{x}} {campaign}"),
        near("09:30"),
        near("+1415*"),
        near(" Acme "),
        near("FromState:CA"),
        near("Anonymous"),
    ]) {
        let one = [s];
        agree::<rules::Name>("Name", |s| validate::name(s).is_ok(), &one);
        agree::<rules::Message>("Message", |s| validate::message(s).is_ok(), &one);
        agree::<rules::Whisper>("Whisper", |s| validate::whisper(s).is_ok(), &one);
        agree::<rules::ShortText>("ShortText", |s| validate::optional_text(Some(s), rules::ShortText::MAX_CHARS).is_ok(), &one);
        agree::<rules::E164Number>("E164Number", |s| validate::e164(s).is_ok(), &one);
        agree::<rules::ContactPhone>("ContactPhone", |s| validate::contact_phone(s).is_ok(), &one);
        agree::<rules::Email>("Email", |s| validate::email(s).is_ok(), &one);
        agree::<rules::ContactEmail>("ContactEmail", |s| validate::contact_email(s).is_ok(), &one);
        agree::<rules::Currency>("Currency", |s| validate::currency(s).is_ok(), &one);
        agree::<rules::UsState>("UsState", |s| validate::us_states(&[s.to_string()]).is_ok(), &one);
        agree::<rules::WindowStart>("WindowStart", |s| validate::clock(s).is_ok_and(|m| m < 24 * 60), &one);
        agree::<rules::WindowEnd>("WindowEnd", |s| validate::clock(s).is_ok(), &one);
        agree::<rules::BlockedNumber>("BlockedNumber", |s| crate::store::blocklist::check_number(s, Some(BlockKind::Prefix)).is_ok(), &one);
        agree::<rules::SimulatedCaller>("SimulatedCaller", |s| crate::routes::calls::simulated_caller(s).is_ok(), &one);
        agree::<rules::StirVerstat>("StirVerstat", |s| crate::routes::calls::stir_verstat(s).is_ok(), &one);
        agree::<rules::TagName>("TagName", crate::routing::tags::valid_name, &one);
        agree::<rules::TagText>("TagText", crate::routing::tags::valid_value, &one);
        agree::<rules::TagCondition>("TagCondition", |s| crate::store::calls::query::TagCondition::parse(s).is_ok(), &one);
        agree::<rules::BuyerLabel>("BuyerLabel", |s| crate::routing::ivr::valid_label(s.trim()), &one);
        agree::<rules::IvrLabel>("IvrLabel", crate::routing::ivr::valid_label, &one);
        agree::<rules::Digits>("Digits", crate::routing::ivr::valid_digits, &one);
        agree::<rules::IvrValue>("IvrValue", crate::routing::ivr::valid_answer_value, &one);
        agree::<rules::IvrText>("IvrText", |s| crate::routing::ivr::text_problem(s).is_none(), &one);
    }
}

/// A speech phrase must also hold a word, which no pattern of these dialects can say (letters of
/// every script): the document declares its length only, and the server refuses at least what
/// the document refuses.
#[test]
fn speech_phrases_refused_by_the_document_are_refused() {
    let document = declared::<rules::SpeechPhrase>();
    let ivr = |phrase: &str| {
        let q = callbroker_wire::IvrQuestion {
            say: Some("Say yes".into()),
            play: None,
            input: callbroker_wire::IvrInput::Speech,
            num_digits: None,
            timeout_secs: 5,
            tag: None,
            answers: vec![callbroker_wire::IvrAnswer { speech: vec![phrase.to_string()], ..Default::default() }],
            min_confidence: 0.0,
        };
        crate::routing::ivr::check(&callbroker_wire::Ivr { questions: vec![q], ..Default::default() }).is_empty()
    };
    for phrase in ["", "yes", "¡sí!", "...", &"y".repeat(100), &"y".repeat(101)] {
        if !document(phrase) {
            assert!(!ivr(phrase), "{phrase:?}");
        }
    }
    assert!(ivr("¡sí!"));
    assert!(!ivr("..."), "no word");
}
