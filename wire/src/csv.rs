//! CSV fields for every CSV this project writes (the publisher report on the server, the analytics
//! export in the dashboard): quoted as RFC 4180 says, and neutralised against formula injection.
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula (and some strip a
//! leading tab or carriage return first), so a caller ID or a name such as
//! `=HYPERLINK("http://evil.example","open")` would run on the analyst's machine. Such a cell
//! gets a leading `'`, which spreadsheets show as text. A plain number (`+15551234567`, `-12.50`)
//! is left alone: it is read as a number, never as a formula.

/// One CSV field: neutralised when a spreadsheet would run it, then quoted when it holds a comma,
/// a quote or a line break.
pub fn field(s: &str) -> String {
    let neutral = if runs_as_formula(s) { format!("'{s}") } else { s.to_owned() };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// A line of fields, each through [`field`], ended by `\n`.
pub fn line<S: AsRef<str>>(fields: impl IntoIterator<Item = S>) -> String {
    let mut out = fields.into_iter().map(|f| field(f.as_ref())).collect::<Vec<_>>().join(",");
    out.push('\n');
    out
}

/// Starts with a character spreadsheets treat as the start of a formula, and is not a plain
/// number (an optional sign, digits, at most one decimal point).
fn runs_as_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(s)
}

fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && fraction.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(field("=1+2"), "'=1+2");
        assert_eq!(field("=HYPERLINK(\"http://evil.example\",\"x\")"), "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"");
        assert_eq!(field("+1+cmd|' /C calc'!A0"), "'+1+cmd|' /C calc'!A0");
        assert_eq!(field("-2+3"), "'-2+3");
        assert_eq!(field("@SUM(A1:A9)"), "'@SUM(A1:A9)");
        assert_eq!(field("\t=1"), "'\t=1");
        assert_eq!(field("\r=1"), "\"'\r=1\"");
        assert_eq!(field("+"), "'+");
        assert_eq!(field("-"), "'-");
        assert_eq!(field("+1.2.3"), "'+1.2.3");
        assert_eq!(field("+1555 123"), "'+1555 123", "not a plain number");
    }

    #[test]
    fn plain_values_are_left_alone() {
        assert_eq!(field("+15551234567"), "+15551234567");
        assert_eq!(field("+XXXXXXX4567"), "'+XXXXXXX4567", "a masked number starts like a formula");
        assert_eq!(field("-12.50"), "-12.50");
        assert_eq!(field("42"), "42");
        assert_eq!(field("anonymous"), "anonymous");
        assert_eq!(field("a = b"), "a = b");
        assert_eq!(field(""), "");
    }

    #[test]
    fn quoted_as_rfc_4180_says() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(line(["a", "=b", "c,d"]), "a,'=b,\"c,d\"\n");
    }
}
