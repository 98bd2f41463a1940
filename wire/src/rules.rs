//! What the server checks of one value, stated once: each rule is a unit type whose constants the
//! server's checks use (`api/src/domain/validate.rs`, the stores' `validate` functions,
//! `routing/tags.rs`, `routing/ivr.rs`) and, with the `openapi` feature, a named schema built from
//! the same constants, which the wire types' fields point at with
//! `#[cfg_attr(feature = "openapi", schema(value_type = rules::Name))]`. The document and the
//! server cannot drift apart: a limit changed here changes both, and the server's tests check each
//! pattern against the check it describes, value by value.
//!
//! How the texts are read:
//! - Lengths count characters (Unicode scalar values) of the text as sent, surrounding white
//!   space included (JSON Schema's `minLength` / `maxLength`).
//! - Where the server trims a value before checking it, the pattern allows the white space it
//!   trims: Unicode `White_Space`, written out ([`WHITE_SPACE`]), since `\s` differs between
//!   regex dialects.
//! - Patterns are anchored and use only what ECMA-262, Python's `re` and Rust's `regex` read
//!   alike: explicit classes (`[0-9]`, never `\d`, `\s` or `\w`), `\xHH` and `\uHHHH` escapes,
//!   counted repeats, `(?:...)` groups.
//!
//! Rules between fields (one field's value allowed only with another's), or on other records
//! (a campaign id that must exist), are in the fields' descriptions: the server answers them with
//! a 422 naming the field.

macro_rules! white_space {
    () => {
        r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

/// The white space the server trims (Unicode `White_Space`, as `str::trim` does): the inside of a
/// character class.
pub const WHITE_SPACE: &str = white_space!();

/// Control characters (Unicode `Cc`, as `char::is_control`): the inside of a character class.
pub const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";

/// Any run of trimmed white space.
macro_rules! ws {
    () => {
        concat!("[", white_space!(), "]*")
    };
}

/// A character that is neither white space nor a control character.
macro_rules! visible {
    () => {
        r"[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    };
}

/// A character that is not a control character.
macro_rules! not_control {
    () => {
        r"[^\x00-\x1F\x7F-\x9F]"
    };
}

/// Text trimmed of white space, then non-empty and free of control characters: it starts and ends
/// with a visible character.
macro_rules! trimmed_core {
    () => {
        concat!(visible!(), "(?:", not_control!(), "*", visible!(), ")?")
    };
}

/// An E.164 number once spaces, dashes, dots and brackets are taken out: `+`, a digit other than
/// 0, then 7 to 14 more digits.
macro_rules! e164 {
    () => {
        r"[ ().-]*\+[ ().-]*[1-9](?:[ ().-]*[0-9]){7,14}[ ().-]*"
    };
}

/// An email address: no white space, control character or second `@`; a dot inside the domain.
macro_rules! email {
    () => {
        concat!(
            r"[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@",
            r"[^@.\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
            r"[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.",
            r"[^@\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*",
            r"[^@.\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
        )
    };
}

/// A tag name.
macro_rules! tag_name {
    () => {
        "[A-Za-z0-9_.-]{1,64}"
    };
}

/// A time of day before midnight, `HH:MM`.
macro_rules! clock {
    () => {
        "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
    };
}

/// US state (and DC, territory) codes a buyer may allow or deny, and a simulated caller may be in.
pub const US_STATES: [&str; 56] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI",
    "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "DC", "PR", "VI", "GU", "AS", "MP",
];

/// [`US_STATES`] as an alternation, any letter case (`[Cc][Aa]|...`).
fn us_state_alternatives() -> String {
    let fold = |c: char| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase());
    US_STATES.iter().map(|s| s.chars().map(fold).collect::<String>()).collect::<Vec<_>>().join("|")
}

/// A rule on a text value.
pub trait Text {
    /// Fewest characters, as sent.
    const MIN_CHARS: Option<usize> = None;
    /// Most characters, as sent.
    const MAX_CHARS: Option<usize> = None;
    /// The anchored pattern the whole value matches, when there is one.
    fn pattern() -> Option<String> {
        None
    }
}

/// A rule on an integer: the server takes `MIN..=MAX`.
pub trait Int {
    const MIN: i64;
    const MAX: i64;
    /// Whether `v` is taken.
    fn contains(v: impl Into<i64>) -> bool {
        (Self::MIN..=Self::MAX).contains(&v.into())
    }
    /// The sentence of a refusal.
    fn refusal() -> String {
        format!("must be between {} and {}", Self::MIN, Self::MAX)
    }
}

/// A rule on the number of items of a list (or entries of a map).
pub trait Items {
    const MIN_ITEMS: usize = 0;
    const MAX_ITEMS: usize;
}

#[cfg(feature = "openapi")]
mod schema {
    use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type};
    use utoipa::openapi::{Ref, RefOr};

    /// The doc comment of a rule type as one paragraph per blank line.
    pub fn description(lines: &[&str]) -> String {
        let mut out = String::new();
        for line in lines {
            let line = line.trim();
            if line.is_empty() {
                out.push_str("\n\n");
            } else {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push(' ');
                }
                out.push_str(line);
            }
        }
        out.trim().to_string()
    }

    pub fn text(description: String, min: Option<usize>, max: Option<usize>, pattern: Option<String>) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some(description))
            .min_length(min)
            .max_length(max)
            .pattern(pattern)
            .into()
    }

    pub fn int(description: String, int32: bool, min: i64, max: i64, default: Option<i64>) -> RefOr<Schema> {
        let format = if int32 { KnownFormat::Int32 } else { KnownFormat::Int64 };
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Integer))
            .format(Some(SchemaFormat::KnownFormat(format)))
            .description(Some(description))
            .minimum(Some(min))
            .maximum(Some(max))
            .default(default.map(serde_json::Value::from))
            .into()
    }

    pub fn number(description: String, min: f64, max: f64) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Number))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
            .description(Some(description))
            .minimum(Some(min))
            .maximum(Some(max))
            .into()
    }

    pub fn list(description: String, items: RefOr<Schema>, min: usize, max: usize) -> RefOr<Schema> {
        ArrayBuilder::new().items(items).description(Some(description)).min_items((min > 0).then_some(min)).max_items(Some(max)).into()
    }

    pub fn reference(name: &str) -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name(name))
    }

    /// A map from tag names to tag values.
    pub fn tags(description: String, max: Option<usize>) -> RefOr<Schema> {
        let names = ObjectBuilder::new().schema_type(SchemaType::new(Type::String)).pattern(<super::TagName as super::Text>::pattern());
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Object))
            .description(Some(description))
            .property_names(Some(names))
            .additional_properties(Some(reference("TagText")))
            .max_properties(max)
            .into()
    }

    pub fn one_of(description: String, items: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        let mut b = OneOfBuilder::new().description(Some(description));
        for i in items {
            b = b.item(i);
        }
        b.into()
    }
}

/// A text rule: a unit type with its limits and pattern, and its schema.
macro_rules! text_rule {
    ($(#[doc = $doc:literal])* $name:ident { $(min: $min:expr,)? $(max: $max:expr,)? $(pattern: $pattern:expr,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl $name {
            $(pub const MIN_CHARS: usize = $min;)?
            $(pub const MAX_CHARS: usize = $max;)?
        }

        impl Text for $name {
            $(const MIN_CHARS: Option<usize> = Some($min);)?
            $(const MAX_CHARS: Option<usize> = Some($max);)?
            $(fn pattern() -> Option<String> {
                Some(String::from($pattern))
            })?
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                schema::text(schema::description(&[$($doc),*]), <Self as Text>::MIN_CHARS, <Self as Text>::MAX_CHARS, <Self as Text>::pattern())
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

/// An integer rule: a unit type with its range, and its schema.
macro_rules! int_rule {
    ($(#[doc = $doc:literal])* $name:ident: $ty:ident = $min:expr, $max:expr $(, default $default:expr)?;) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl $name {
            pub const MIN: $ty = $min;
            pub const MAX: $ty = $max;
        }

        impl Int for $name {
            const MIN: i64 = $min as i64;
            const MAX: i64 = $max as i64;
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let default: Option<i64> = None $(.or(Some($default)))?;
                schema::int(schema::description(&[$($doc),*]), stringify!($ty) == "i32", <Self as Int>::MIN, <Self as Int>::MAX, default)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

/// A list rule: a unit type with its bounds, and its schema (`$items`: the item's schema).
macro_rules! list_rule {
    ($(#[doc = $doc:literal])* $name:ident: [$(min $min:literal,)? max $max:expr] of $items:expr, $($deps:ty),*;) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl Items for $name {
            $(const MIN_ITEMS: usize = $min;)?
            const MAX_ITEMS: usize = $max;
        }

        impl $name {
            pub const MAX_ITEMS: usize = $max;
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                schema::list(schema::description(&[$($doc),*]), $items, <Self as Items>::MIN_ITEMS, <Self as Items>::MAX_ITEMS)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
                $(
                    out.push((<$deps as utoipa::ToSchema>::name().into_owned(), <$deps as utoipa::PartialSchema>::schema()));
                    <$deps as utoipa::ToSchema>::schemas(out);
                )*
            }
        }
    };
}

#[cfg(feature = "openapi")]
fn item<T: utoipa::ToSchema>() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    schema::reference(&T::name())
}

// ---------------------------------------------------------------- names and texts

text_rule! {
    /// A name: 1 to 200 characters once surrounding white space is trimmed (at most 200 as sent),
    /// without control characters.
    Name { max: 200, pattern: concat!("^", ws!(), trimmed_core!(), ws!(), "$"), }
}

text_rule! {
    /// Text said to callers (a greeting, the busy message, a block message): at most 1000
    /// characters, not blank, without NUL characters; stored trimmed.
    Message { max: 1000, pattern: concat!(r"^[^\x00]*[^\x00", white_space!(), r"][^\x00]*$"), }
}

text_rule! {
    /// A whisper template said to a buyer's agent: at most 1000 characters, without NUL
    /// characters; stored trimmed. Placeholders: `{campaign}`, `{caller_state}`, `{tag:NAME}`
    /// (a tag name); other names of letters, digits and `_` are said as nothing; names have 1 to
    /// 64 characters. `{{` and `}}` are braces; any other brace is refused.
    Whisper {
        max: 1000,
        pattern: concat!(r"^(?:[^{}\x00]|\{\{|\}\}|\{(?:tag:", tag_name!(), r"|[A-Za-z0-9_]{1,64})\})*$"),
    }
}

text_rule! {
    /// Text of an IVR (a question said, a retry, failure or goodbye message): at most 1000
    /// characters, not blank, without control characters other than line feeds.
    IvrText { max: 1000, pattern: concat!(r"^[^\x00-\x09\x0B-\x1F\x7F-\x9F]*", visible!(), r"[^\x00-\x09\x0B-\x1F\x7F-\x9F]*$"), }
}

text_rule! {
    /// The value an IVR answer stores in the question's tag: at most 200 characters, not blank,
    /// without control characters.
    IvrValue { max: 200, pattern: concat!("^", not_control!(), "*", visible!(), not_control!(), "*$"), }
}

text_rule! {
    /// Free text: at most 200 characters, without NUL characters; trimmed, and empty means none.
    ShortText { max: 200, pattern: r"^[^\x00]*$", }
}

text_rule! {
    /// The provider's id of a number (a Twilio `PN...` SID): at most 64 characters, without NUL
    /// characters; trimmed, and empty means none.
    ProviderSid { max: 64, pattern: r"^[^\x00]*$", }
}

text_rule! {
    /// A note: at most 500 characters, without NUL characters; trimmed, and empty means none.
    Note { max: 500, pattern: r"^[^\x00]*$", }
}

text_rule! {
    /// Free text: at most 2000 characters, without NUL characters; trimmed, and empty means none.
    LongText { max: 2000, pattern: r"^[^\x00]*$", }
}

text_rule! {
    /// A postback URL template: at most 2000 characters; trimmed, and empty means no postback.
    /// Filled with sample values it must be an `http://` or `https://` URL with a host, and a
    /// literal IP address must be public (unless the operator allowed it): otherwise 422 naming
    /// `postback_url`.
    PostbackUrl { max: 2000, }
}

text_rule! {
    /// An `http(s)` URL of audio, with a host: at most 2000 characters. Anything else is a 422
    /// naming the field.
    AudioUrl { max: 2000, }
}

text_rule! {
    /// Text in a query string: anything but NUL (`%00`), which the server refuses in any query
    /// string with a 400.
    QueryText { pattern: r"^[^\x00]*$", }
}

// ---------------------------------------------------------------- numbers, addresses, codes

text_rule! {
    /// An E.164 phone number such as `+14155550100`: `+`, a country code not starting with 0, 8
    /// to 15 digits in all. Spaces, dashes, dots and brackets are ignored (and dropped).
    E164Number { pattern: concat!("^", e164!(), "$"), }
}

text_rule! {
    /// A contact phone number: empty (none), or an E.164 number such as `+14155550100` (spaces,
    /// dashes, dots and brackets ignored) with white space around it; at most 40 characters.
    ContactPhone { max: 40, pattern: concat!("^", ws!(), "(?:", e164!(), ")?", ws!(), "$"), }
}

text_rule! {
    /// An email address such as `ops@example.com`, at most 254 characters: one `@` with
    /// something before it, a dot inside the domain, no white space or control characters
    /// (surrounding white space is trimmed). Stored lower-cased.
    Email { max: 254, pattern: concat!("^", ws!(), email!(), ws!(), "$"), }
}

text_rule! {
    /// A contact email address: empty (none), or an email address such as `ops@example.com`
    /// with white space around it; at most 254 characters. Stored lower-cased.
    ContactEmail { max: 254, pattern: concat!("^", ws!(), "(?:", email!(), ")?", ws!(), "$"), }
}

text_rule! {
    /// A password: 10 to 256 characters.
    Password { min: 10, max: 256, }
}

text_rule! {
    /// An ISO 4217 currency code of three letters, e.g. `USD` (any case; stored upper-case).
    Currency { pattern: concat!("^", ws!(), "[A-Za-z]{3}", ws!(), "$"), }
}

/// A US state code (or DC, or a territory), e.g. `CA`, any case; stored upper-case.
#[derive(Debug, Clone, Copy)]
pub struct UsState;

impl Text for UsState {
    fn pattern() -> Option<String> {
        Some(format!("^{ws}(?:{states}){ws}$", ws = ws!(), states = us_state_alternatives()))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for UsState {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let codes = US_STATES.join(", ");
        schema::text(format!("A US state code (or DC, or a territory), any case; stored upper-case: {codes}."), None, None, Self::pattern())
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for UsState {}

/// The caller's state in a simulated call: empty (derived from the area code), or a US state
/// code as in [`UsState`].
#[derive(Debug, Clone, Copy)]
pub struct OptionalUsState;

impl Text for OptionalUsState {
    fn pattern() -> Option<String> {
        Some(format!("^{ws}(?:{states})?{ws}$", ws = ws!(), states = us_state_alternatives()))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for OptionalUsState {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        schema::text("Empty (derived from the caller's area code), or a US state code as in `UsState`.".into(), None, None, Self::pattern())
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for OptionalUsState {}

text_rule! {
    /// When a window opens: `HH:MM`, 24-hour clock, `00:00` to `23:59`.
    WindowStart { pattern: concat!("^", clock!(), "$"), }
}

text_rule! {
    /// When a window closes: `HH:MM`, 24-hour clock, `00:00` to `24:00`. At or before `start`
    /// the window runs overnight; equal to `start` it is refused (422 naming `schedule`).
    WindowEnd { pattern: concat!("^(?:", clock!(), "|24:00)$"), }
}

text_rule! {
    /// A blocked number or prefix: `+` and 1 to 15 digits, the first not 0; a trailing `*` marks
    /// a prefix (`+1415*`). An `exact` entry needs 8 to 15 digits and no `*` (422 naming
    /// `number` otherwise).
    BlockedNumber { pattern: concat!("^", ws!(), r"\+[1-9][0-9]{0,14}\*?", ws!(), "$"), }
}

text_rule! {
    /// A Twilio Account SID: `AC` and 32 hexadecimal digits.
    AccountSid { pattern: concat!("^", ws!(), "AC[0-9A-Fa-f]{32}", ws!(), "$"), }
}

text_rule! {
    /// A Twilio API key SID: empty (none), or `SK` and 32 hexadecimal digits. Given with
    /// `api_key_secret` and only with it (422 naming the missing one otherwise).
    ApiKeySid { pattern: concat!("^", ws!(), "(?:SK[0-9A-Fa-f]{32})?", ws!(), "$"), }
}

text_rule! {
    /// A Twilio Auth Token: 16 to 128 printable ASCII characters, no spaces.
    AuthToken { pattern: concat!("^", ws!(), "[!-~]{16,128}", ws!(), "$"), }
}

text_rule! {
    /// The caller of a simulated call: an E.164 number (`+` first; spaces, dashes, dots and
    /// brackets ignored), or what Twilio sends for a withheld number, such as `Anonymous`: 1 to
    /// 32 characters, not starting with `+`, without control characters.
    SimulatedCaller {
        pattern: concat!(
            "^", ws!(), "(?:", r"\+[ ().-]*[1-9](?:[ ().-]*[0-9]){7,14}[ ().-]*", "|",
            r"[^+\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
            "(?:", not_control!(), "{0,30}", visible!(), ")?", ")", ws!(), "$"
        ),
    }
}

text_rule! {
    /// Twilio's `StirVerstat`: empty (not sent), or at most 200 characters without control
    /// characters once trimmed.
    StirVerstat { max: 200, pattern: concat!("^", ws!(), "(?:", trimmed_core!(), ")?", ws!(), "$"), }
}

/// An instant (an RFC 3339 date-time such as `2026-11-01T00:00:00Z`) in the years 2000 to 2100,
/// counted in UTC: outside them a date is a typo (or an attack), and the server answers 422
/// naming the field. The pattern checks the year as written, which can differ from the UTC year
/// only within a day of those bounds.
#[derive(Debug, Clone, Copy)]
pub struct Instant;

impl Instant {
    pub const FIRST_YEAR: i32 = 2000;
    pub const LAST_YEAR: i32 = 2100;
}

impl Text for Instant {
    fn pattern() -> Option<String> {
        Some("^(?:20[0-9]{2}|2100)-".into())
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Instant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(format!(
                "An RFC 3339 date-time in the years {} to {} (UTC); the pattern checks the year as written.",
                Self::FIRST_YEAR,
                Self::LAST_YEAR
            )))
            .pattern(<Self as Text>::pattern())
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Instant {}

// ---------------------------------------------------------------- tags and IVR answers

text_rule! {
    /// A tag name: 1 to 64 ASCII letters, digits, `_`, `-` or `.` (case-sensitive).
    TagName { min: 1, max: 64, pattern: concat!("^", tag_name!(), "$"), }
}

text_rule! {
    /// A tag value: at most 200 characters, without control characters.
    TagText { max: 200, pattern: concat!("^", not_control!(), "*$"), }
}

text_rule! {
    /// The tag to group by (with `group_by=tag`, and only then): a tag name, 1 to 64 ASCII
    /// letters, digits, `_`, `-` or `.`; surrounding white space is trimmed.
    GroupTag { pattern: concat!("^", ws!(), "(?:", tag_name!(), ")?", ws!(), "$"), }
}

text_rule! {
    /// A tag condition: `NAME` (the call has the tag) or `NAME:VALUE` (the tag equals `VALUE`,
    /// everything after the first `:`); a name of 1 to 64 ASCII letters, digits, `_`, `-` or `.`,
    /// a value of at most 200 characters without control characters.
    TagCondition { pattern: concat!("^", tag_name!(), "(?::", not_control!(), "{0,200})?$"), }
}

text_rule! {
    /// A buyer label: 1 to 50 ASCII letters, digits, `_` or `-` (surrounding white space is
    /// trimmed; case is ignored when matching).
    BuyerLabel { pattern: concat!("^", ws!(), "[A-Za-z0-9_-]{1,50}", ws!(), "$"), }
}

text_rule! {
    /// The buyer label a `route` answer keeps the call to: 1 to 50 ASCII letters, digits, `_`
    /// or `-`.
    IvrLabel { min: 1, max: 50, pattern: "^[A-Za-z0-9_-]{1,50}$", }
}

text_rule! {
    /// The keys that choose an IVR answer: 1 to 20 of `0`-`9` and `*`.
    Digits { min: 1, max: 20, pattern: r"^[0-9*]{1,20}$", }
}

text_rule! {
    /// Words that choose an IVR answer when said: 1 to 100 characters holding at least one word
    /// (a run of letters or digits; otherwise 422 naming the phrase).
    SpeechPhrase { min: 1, max: 100, }
}

text_rule! {
    /// A bidder's URL template: at most 2000 characters. Filled with sample values it must be an
    /// `http://` or `https://` URL with a host (else 422 naming `url`).
    BidderUrl { max: 2000, }
}

text_rule! {
    /// A header value sent to a bidder: 1 to 1000 visible characters or spaces.
    HeaderValue { min: 1, max: 1000, pattern: r"^[ -~]*[!-~][ -~]*$", }
}

text_rule! {
    /// A ping's body template: at most 10,000 characters, no NUL.
    BodyTemplate { max: 10_000, pattern: r"^[^\x00]*$", }
}

text_rule! {
    /// A JSON Pointer (RFC 6901): empty (the whole answer) or `/`-separated tokens, `~` written
    /// `~0` and `/` inside a token `~1`; at most 500 characters.
    JsonPointer { max: 500, pattern: r"^(?:/(?:[^~\x00]|~[01])*)*$", }
}

// ---------------------------------------------------------------- integers

int_rule! {
    /// Milliseconds a campaign waits for its bidders' answers, 50 to 5,000.
    PingBudgetMs: i32 = 50, 5_000, default 1_000;
}

int_rule! {
    /// Milliseconds a bidder has to answer a ping, 50 to 10,000.
    PingTimeoutMs: i32 = 50, 10_000, default 1_000;
}

int_rule! {
    /// A percentage, 0 to 100.
    Percent: i32 = 0, 100;
}

int_rule! {
    /// Seconds a publisher's quote holds, 5 to 600.
    QuoteTtlSecs: i32 = 5, 600, default 60;
}

int_rule! {
    /// Routing priority: higher first, -1000 to 1000.
    Priority: i32 = -1000, 1000;
}

int_rule! {
    /// Days of settled calls an `epc` tier measures, 1 to 90.
    EpcDays: i32 = 1, 90;
}

int_rule! {
    /// Calls a buyer needs in the EPC window to count as measured, 0 to 10,000.
    ExplorationCalls: i32 = 0, 10_000;
}

int_rule! {
    /// Percent of calls offered first to buyers still being measured, 0 to 50.
    ExplorationPercent: i32 = 0, 50;
}

int_rule! {
    /// Share among buyers of equal priority, 1 to 1000.
    Weight: i32 = 1, 1000;
}

int_rule! {
    /// Calls a buyer takes at once, 0 to 10,000 (0: none).
    MaxConcurrentCalls: i32 = 0, 10_000;
}

int_rule! {
    /// A call cap: calls a buyer takes per period, not negative.
    Cap: i32 = 0, i32::MAX;
}

int_rule! {
    /// Seconds a buyer's agent has to press 1, 1 to 60.
    AcceptTimeoutSecs: i32 = 1, 60;
}

int_rule! {
    /// An amount in micro-units (millionths) of the currency, 0 to one million units.
    AmountMicros: i64 = 0, 1_000_000_000_000;
}

int_rule! {
    /// Seconds a buyer leg must last for the call to qualify, 0 to 86,400 (a day).
    BufferSecs: i32 = 0, 86_400;
}

int_rule! {
    /// Seconds within which a repeat caller is a duplicate, 0 (off) to 7,776,000 (90 days).
    DuplicateWindowSecs: i32 = 0, 90 * 86_400;
}

int_rule! {
    /// Seconds within which a caller counts as a repeat caller, 0 (off) to 2,592,000 (30 days).
    RepeatWindowSecs: i32 = 0, 30 * 86_400;
}

int_rule! {
    /// Days within which a caller's qualified call blocks the next, 0 (off) to 365.
    QualifiedRepeatDays: i32 = 0, 365;
}

int_rule! {
    /// Calls from one caller within the rate window that block the next, 0 (off) to 10,000.
    /// With a limit set the window must be at least 1 minute (422 naming `rate_limit_minutes`).
    RateLimitCalls: i32 = 0, 10_000;
}

int_rule! {
    /// Minutes of the rate window, 0 to 10,080 (a week).
    RateLimitMinutes: i32 = 0, 10_080;
}

int_rule! {
    /// How many times an IVR question is asked again, 0 to 5.
    IvrRetries: i32 = 0, 5;
}

int_rule! {
    /// Seconds of silence before an IVR question counts as unanswered, 1 to 60.
    IvrTimeoutSecs: i32 = 1, 60;
}

int_rule! {
    /// Keys an IVR question expects, 1 to 20 (input stops once that many are pressed).
    NumDigits: i32 = 1, 20;
}

int_rule! {
    /// A 1-based page number, 1 to 1,000,000 (default 1).
    PageNumber: i64 = 1, 1_000_000, default 1;
}

int_rule! {
    /// Items per page, 1 to 500 (default 50).
    PerPage: i64 = 1, 500, default 50;
}

/// The lowest speech recognition confidence taken, 0 to 1.
#[derive(Debug, Clone, Copy)]
pub struct Confidence;

impl Confidence {
    pub const MIN: f64 = 0.0;
    pub const MAX: f64 = 1.0;
    /// Whether `v` is taken (a finite number in range).
    pub fn contains(v: f64) -> bool {
        v.is_finite() && (Self::MIN..=Self::MAX).contains(&v)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Confidence {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        schema::number("The lowest speech recognition confidence taken, 0 to 1.".into(), Self::MIN, Self::MAX)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Confidence {}

// ---------------------------------------------------------------- lists and maps

list_rule! {
    /// Weekly availability windows, at most 50; empty means always available.
    ScheduleWindows: [max 50] of item::<crate::ScheduleWindow>(), crate::ScheduleWindow;
}

list_rule! {
    /// Labels an IVR can keep calls to, at most 20 (repeats, case aside, are dropped).
    BuyerLabels: [max 20] of item::<BuyerLabel>(), BuyerLabel;
}

list_rule! {
    /// Tag rules, at most 20; all must hold.
    TagRules: [max 20] of item::<crate::TagRule>(), crate::TagRule;
}

list_rule! {
    /// The values of an `in` or `not_in` rule: 1 to 100 tag values.
    TagTexts: [min 1, max 100] of item::<TagText>(), TagText;
}

list_rule! {
    /// IVR questions, at most 20, asked in order.
    IvrQuestions: [max crate::ivr::MAX_IVR_QUESTIONS] of item::<crate::IvrQuestion>(), crate::IvrQuestion;
}

list_rule! {
    /// The answers a question takes, at most 20, in order (the first that matches is chosen).
    IvrAnswers: [max crate::ivr::MAX_IVR_ANSWERS] of item::<crate::IvrAnswer>(), crate::IvrAnswer;
}

list_rule! {
    /// Tag conditions, at most 10, all of which must hold.
    TagConditions: [max 10] of item::<TagCondition>(), TagCondition;
}

list_rule! {
    /// What a simulated caller answers, question by question (at most 120): keys (`1`) or words
    /// (`yes`), each a tag value; `""` is silence.
    SimulatedAnswers: [max 120] of item::<TagText>(), TagText;
}

/// Tags an IVR answer sets: tag names to tag values.
#[derive(Debug, Clone, Copy)]
pub struct SetTags;

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for SetTags {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        schema::tags("Tags set on the call: names (as `TagName`) to values (as `TagText`).".into(), None)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for SetTags {
    fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        out.push(("TagText".into(), <TagText as utoipa::PartialSchema>::schema()));
    }
}

/// Tags of a simulated call, at most 50: tag names to tag values.
#[derive(Debug, Clone, Copy)]
pub struct SimulatedTags;

impl SimulatedTags {
    pub const MAX_ITEMS: usize = 50;
}

impl Items for SimulatedTags {
    const MAX_ITEMS: usize = SimulatedTags::MAX_ITEMS;
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for SimulatedTags {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        schema::tags("At most 50 tags: names (as `TagName`) to values (as `TagText`).".into(), Some(<Self as Items>::MAX_ITEMS))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for SimulatedTags {
    fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        out.push(("TagText".into(), <TagText as utoipa::PartialSchema>::schema()));
    }
}

/// A tag rule's value (see `TagRule`): a tag value (`eq`, `ne`), a list of 1 to 100 (`in`,
/// `not_in`) or a number (`gte`, `lte`).
#[cfg(feature = "openapi")]
pub fn tag_value_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    schema::one_of(
        "A tag value for `eq` and `ne`, a list of 1 to 100 for `in` and `not_in`, a number for `gte` and `lte`: another kind of value for the rule's `op` is a 422 naming the value.".into(),
        vec![
            item::<TagText>(),
            ObjectBuilder::new().schema_type(SchemaType::new(Type::Number)).format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Double))).into(),
            item::<TagTexts>(),
        ],
    )
}
