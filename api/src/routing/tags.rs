//! Tag rules: a buyer's conditions on the call's tags, checked as written (validated once, when
//! they are stored) and kept parsed in the directory so that routing a call parses nothing.
//!
//! Semantics (case-sensitive, whole values): `eq` / `in` need the tag present and equal to the
//! value / one of the values; `ne` / `not_in` are their exact negations (an absent tag passes);
//! `exists` / `missing` test presence; `gte` / `lte` need the tag present and readable as a
//! finite number, compared with the rule's number.
use std::borrow::Cow;

use callbroker_wire::routing::Reason;
use callbroker_wire::rules;
use callbroker_wire::screening::{TagOp, TagRule, TagValue, Tags};

/// Longest tag name ([`rules::TagName`]).
pub const MAX_TAG_NAME: usize = rules::TagName::MAX_CHARS;
/// Longest tag value (a rule's string, a list item, a stored tag: [`rules::TagText`]).
pub const MAX_TAG_VALUE: usize = rules::TagText::MAX_CHARS;
/// Most values in an `in` / `not_in` list ([`rules::TagTexts`]).
pub const MAX_LIST: usize = rules::TagTexts::MAX_ITEMS;
/// Most rules on one buyer or assignment ([`rules::TagRules`]).
pub const MAX_RULES: usize = rules::TagRules::MAX_ITEMS;

/// A finite number compared by its bits, so that rules can be `Eq` (a rule's number is never
/// NaN: [`parse`] refuses it).
#[derive(Debug, Clone, Copy)]
pub struct Num(pub f64);

impl PartialEq for Num {
    fn eq(&self, other: &Num) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Num {}

/// What a rule wants of its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Eq(String),
    Ne(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    Missing,
    Gte(Num),
    Lte(Num),
}

/// A checked tag rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub tag: String,
    pub cond: Cond,
}

/// A tag's value read as a number, when it is one.
fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

impl Rule {
    pub fn op(&self) -> TagOp {
        match self.cond {
            Cond::Eq(_) => TagOp::Eq,
            Cond::Ne(_) => TagOp::Ne,
            Cond::In(_) => TagOp::In,
            Cond::NotIn(_) => TagOp::NotIn,
            Cond::Exists => TagOp::Exists,
            Cond::Missing => TagOp::Missing,
            Cond::Gte(_) => TagOp::Gte,
            Cond::Lte(_) => TagOp::Lte,
        }
    }

    /// Whether the rule holds for `tags`.
    pub fn holds(&self, tags: &Tags) -> bool {
        let actual = tags.get(&self.tag).map(String::as_str);
        match &self.cond {
            Cond::Eq(v) => actual == Some(v.as_str()),
            Cond::Ne(v) => actual != Some(v.as_str()),
            Cond::In(list) => actual.is_some_and(|a| list.iter().any(|v| v == a)),
            Cond::NotIn(list) => !actual.is_some_and(|a| list.iter().any(|v| v == a)),
            Cond::Exists => actual.is_some(),
            Cond::Missing => actual.is_none(),
            Cond::Gte(Num(n)) => actual.and_then(number).is_some_and(|a| a >= *n),
            Cond::Lte(Num(n)) => actual.and_then(number).is_some_and(|a| a <= *n),
        }
    }

    /// The rule's value as JSON text (for reasons and logs).
    fn value_text(&self) -> Option<String> {
        let text = |v: &str| serde_json::to_string(v).unwrap_or_default();
        match &self.cond {
            Cond::Eq(v) | Cond::Ne(v) => Some(text(v)),
            Cond::In(list) | Cond::NotIn(list) => Some(serde_json::to_string(list).unwrap_or_default()),
            Cond::Exists | Cond::Missing => None,
            Cond::Gte(Num(n)) | Cond::Lte(Num(n)) => Some(n.to_string()),
        }
    }

    /// The skip reason of rule number `index` failing on `tags`.
    pub fn reason(&self, index: usize, tags: &Tags) -> Reason {
        Reason::TagRule {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            tag: Cow::Owned(self.tag.clone()),
            op: self.op(),
            value: self.value_text(),
            actual: tags.get(&self.tag).cloned(),
        }
    }

    /// The rule as written on the wire.
    pub fn to_wire(&self) -> TagRule {
        let value = match &self.cond {
            Cond::Eq(v) | Cond::Ne(v) => Some(TagValue::Text(v.clone())),
            Cond::In(l) | Cond::NotIn(l) => Some(TagValue::List(l.clone())),
            Cond::Exists | Cond::Missing => None,
            Cond::Gte(Num(n)) | Cond::Lte(Num(n)) => Some(TagValue::Number(*n)),
        };
        TagRule { tag: self.tag.clone(), op: self.op(), value }
    }
}

/// The first of `rules` that does not hold for `tags`, as a skip reason.
pub fn first_failing(rules: &[Rule], tags: &Tags) -> Option<Reason> {
    rules.iter().enumerate().find(|(_, r)| !r.holds(tags)).map(|(i, r)| r.reason(i, tags))
}

/// Whether `name` is a tag name: 1 to 64 ASCII letters, digits, `_`, `-` or `.`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_TAG_NAME && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A tag value as stored: at most 200 characters, no control characters.
pub fn valid_value(value: &str) -> bool {
    value.chars().count() <= MAX_TAG_VALUE && !value.chars().any(char::is_control)
}

/// Checks a list of rules as written. Problems are `(field, sentence)` with the field named under
/// `at` (e.g. `tag_rules[2].value`).
pub fn parse(at: &str, rules: &[TagRule]) -> Result<Vec<Rule>, Vec<(String, String)>> {
    let mut errors = vec![];
    let mut out = Vec::with_capacity(rules.len());
    if rules.len() > MAX_RULES {
        errors.push((at.to_string(), format!("at most {MAX_RULES} rules")));
    }
    for (i, r) in rules.iter().enumerate() {
        let field = |name: &str| format!("{at}[{i}].{name}");
        if !valid_name(&r.tag) {
            errors.push((field("tag"), format!("must be 1 to {MAX_TAG_NAME} letters, digits, '_', '-' or '.'")));
        }
        let text = |v: &str| -> Result<String, String> {
            if valid_value(v) {
                Ok(v.to_string())
            } else {
                Err(format!("must be at most {MAX_TAG_VALUE} characters, without control characters"))
            }
        };
        let cond = match (r.op, &r.value) {
            (TagOp::Exists | TagOp::Missing, Some(_)) => Err(format!("must be absent for {}", r.op.as_str())),
            (TagOp::Exists, None) => Ok(Cond::Exists),
            (TagOp::Missing, None) => Ok(Cond::Missing),
            (TagOp::Eq, Some(TagValue::Text(v))) => text(v).map(Cond::Eq),
            (TagOp::Ne, Some(TagValue::Text(v))) => text(v).map(Cond::Ne),
            (TagOp::Eq | TagOp::Ne, _) => Err(format!("{} needs a string", r.op.as_str())),
            (TagOp::In | TagOp::NotIn, Some(TagValue::List(list))) => {
                if list.is_empty() || list.len() > MAX_LIST {
                    Err(format!("must list 1 to {MAX_LIST} strings"))
                } else {
                    list.iter().map(|v| text(v)).collect::<Result<Vec<_>, _>>().map(|l| {
                        if r.op == TagOp::In {
                            Cond::In(l)
                        } else {
                            Cond::NotIn(l)
                        }
                    })
                }
            }
            (TagOp::In | TagOp::NotIn, _) => Err(format!("{} needs a list of strings", r.op.as_str())),
            (TagOp::Gte | TagOp::Lte, Some(TagValue::Number(n))) if n.is_finite() => {
                Ok(if r.op == TagOp::Gte { Cond::Gte(Num(*n)) } else { Cond::Lte(Num(*n)) })
            }
            (TagOp::Gte | TagOp::Lte, _) => Err(format!("{} needs a number", r.op.as_str())),
        };
        match cond {
            Ok(cond) => out.push(Rule { tag: r.tag.clone(), cond }),
            Err(e) => errors.push((field("value"), e)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules(v: serde_json::Value) -> Result<Vec<Rule>, Vec<(String, String)>> {
        let list: Vec<TagRule> = serde_json::from_value(v).expect("rules as JSON");
        parse("tag_rules", &list)
    }

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn each_op_needs_its_kind_of_value() {
        let bad = rules(json!([
            {"tag": "A", "op": "in", "value": "CA"},
            {"tag": "A", "op": "gte", "value": "65"},
            {"tag": "A", "op": "exists", "value": "x"},
            {"tag": "A", "op": "eq", "value": ["x"]},
            {"tag": "A", "op": "not_in", "value": []},
            {"tag": "bad name", "op": "exists"},
            {"tag": "A", "op": "eq"},
        ]))
        .expect_err("every rule is wrong");
        let fields: Vec<&str> = bad.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "tag_rules[0].value",
                "tag_rules[1].value",
                "tag_rules[2].value",
                "tag_rules[3].value",
                "tag_rules[4].value",
                "tag_rules[5].tag",
                "tag_rules[6].value"
            ]
        );
        assert!(bad[0].1.contains("list"), "{bad:?}");
        assert!(bad[1].1.contains("number"), "{bad:?}");
        assert!(bad[2].1.contains("absent"), "{bad:?}");
        let ok = rules(json!([
            {"tag": "FromState", "op": "in", "value": ["CA", "NY"]},
            {"tag": "Age", "op": "gte", "value": 65},
            {"tag": "AreaCode", "op": "exists"},
        ]))
        .expect("valid");
        assert_eq!(ok.len(), 3);
        // Written back as they came.
        assert_eq!(serde_json::to_value(ok[0].to_wire()).expect("json"), json!({"tag": "FromState", "op": "in", "value": ["CA", "NY"]}));
    }

    #[test]
    fn rules_hold_as_documented() {
        let t = tags(&[("FromState", "CA"), ("Age", "70"), ("Zip", "abc")]);
        let check = |v: serde_json::Value| rules(json!([v])).expect("valid")[0].holds(&t);
        assert!(check(json!({"tag": "FromState", "op": "eq", "value": "CA"})));
        assert!(!check(json!({"tag": "FromState", "op": "eq", "value": "ca"})), "case-sensitive");
        assert!(check(json!({"tag": "Missing", "op": "ne", "value": "CA"})), "an absent tag is not equal");
        assert!(!check(json!({"tag": "Missing", "op": "in", "value": ["CA"]})));
        assert!(check(json!({"tag": "Missing", "op": "not_in", "value": ["CA"]})));
        assert!(check(json!({"tag": "Age", "op": "gte", "value": 65})));
        assert!(!check(json!({"tag": "Age", "op": "lte", "value": 65})));
        assert!(!check(json!({"tag": "Zip", "op": "gte", "value": 0})), "not a number");
        assert!(!check(json!({"tag": "Missing", "op": "lte", "value": 100})));
        assert!(check(json!({"tag": "Missing", "op": "missing"})));
        assert!(check(json!({"tag": "Zip", "op": "exists"})));
    }

    #[test]
    fn the_first_failing_rule_is_named_with_the_call_s_value() {
        let list = rules(json!([
            {"tag": "FromState", "op": "exists"},
            {"tag": "FromState", "op": "in", "value": ["NY", "NJ"]},
            {"tag": "Age", "op": "gte", "value": 18},
        ]))
        .expect("valid");
        let t = tags(&[("FromState", "CA")]);
        let reason = first_failing(&list, &t).expect("fails");
        assert_eq!(
            serde_json::to_value(&reason).expect("json"),
            json!({"code": "tag_rule", "index": 1, "tag": "FromState", "op": "in", "value": "[\"NY\",\"NJ\"]", "actual": "CA"})
        );
        assert!(reason.describe().contains("tag rule #2"), "{}", reason.describe());
        assert_eq!(first_failing(&list, &tags(&[("FromState", "NY"), ("Age", "18")])), None);
    }
}
