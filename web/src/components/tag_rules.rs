//! The editor of a buyer's (or an assignment's) tag rules: one row per rule, `tag op value`, all
//! of which must hold for the buyer to take a call. Used on the buyer page and, per assignment, on
//! the campaign page.
use callbroker_wire::{TagOp, TagRule, TagValue, TAG_AREA_CODE, TAG_FROM_CITY, TAG_FROM_STATE, TAG_FROM_ZIP, TAG_STIR_VERSTAT};
use leptos::prelude::*;

use crate::components::form::{Check, Errors};

const OPS: [(TagOp, &str); 8] = [
    (TagOp::Eq, "equals"),
    (TagOp::Ne, "is not"),
    (TagOp::In, "is one of"),
    (TagOp::NotIn, "is none of"),
    (TagOp::Exists, "is present"),
    (TagOp::Missing, "is absent"),
    (TagOp::Gte, "is at least"),
    (TagOp::Lte, "is at most"),
];

/// The tags Callbroker sets on every call, offered as suggestions.
const KNOWN_TAGS: [&str; 5] = [TAG_FROM_STATE, TAG_FROM_ZIP, TAG_FROM_CITY, TAG_AREA_CODE, TAG_STIR_VERSTAT];

fn parse_op(s: &str) -> TagOp {
    OPS.iter().find(|(op, _)| op.as_str() == s).map_or(TagOp::Eq, |(op, _)| *op)
}

fn needs_value(op: TagOp) -> bool {
    !matches!(op, TagOp::Exists | TagOp::Missing)
}

/// A rule's value as typed: a list as `a, b`, a number as written.
fn value_text(v: Option<&TagValue>) -> String {
    match v {
        None => String::new(),
        Some(TagValue::Text(t)) => t.clone(),
        Some(TagValue::Number(n)) => n.to_string(),
        Some(TagValue::List(l)) => l.join(", "),
    }
}

#[derive(Clone, Copy)]
struct RuleRow {
    key: usize,
    tag: RwSignal<String>,
    op: RwSignal<String>,
    value: RwSignal<String>,
}

/// The rules being edited.
#[derive(Clone, Copy)]
pub struct RulesEdit {
    rows: RwSignal<Vec<RuleRow>>,
    next: StoredValue<usize>,
}

impl RulesEdit {
    pub fn new(rules: &[TagRule]) -> Self {
        let edit = RulesEdit { rows: RwSignal::new(Vec::new()), next: StoredValue::new(0) };
        let rows = rules.iter().map(|r| edit.row(&r.tag, r.op, value_text(r.value.as_ref()))).collect();
        edit.rows.set(rows);
        edit
    }

    fn row(&self, tag: &str, op: TagOp, value: String) -> RuleRow {
        let key = self.next.get_value();
        self.next.set_value(key + 1);
        RuleRow { key, tag: RwSignal::new(tag.to_owned()), op: RwSignal::new(op.as_str().to_owned()), value: RwSignal::new(value) }
    }

    /// The rules as the API takes them, after the page's own checks (problems named
    /// `{at}[i].tag` / `{at}[i].value`, as the API names them).
    pub fn read(&self, at: &str, c: &mut Check) -> Vec<TagRule> {
        let mut out = Vec::new();
        for (i, r) in self.rows.get_untracked().iter().enumerate() {
            let tag = r.tag.get_untracked().trim().to_owned();
            let ok_name =
                !tag.is_empty() && tag.len() <= 64 && tag.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if !ok_name {
                c.fail(&format!("{at}[{i}].tag"), "must be a tag name: letters, digits, '_', '-' or '.'");
            }
            let op = parse_op(&r.op.get_untracked());
            let raw = r.value.get_untracked();
            let raw = raw.trim();
            let field = format!("{at}[{i}].value");
            let value = match op {
                TagOp::Exists | TagOp::Missing => None,
                TagOp::Eq | TagOp::Ne => {
                    if raw.is_empty() {
                        c.fail(&field, "is required");
                    }
                    Some(TagValue::Text(raw.to_owned()))
                }
                TagOp::In | TagOp::NotIn => {
                    let list: Vec<String> = raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
                    if list.is_empty() {
                        c.fail(&field, "list one or more values, separated by commas");
                    }
                    Some(TagValue::List(list))
                }
                TagOp::Gte | TagOp::Lte => match raw.parse::<f64>() {
                    Ok(n) if n.is_finite() => Some(TagValue::Number(n)),
                    _ => {
                        c.fail(&field, "must be a number");
                        None
                    }
                },
            };
            out.push(TagRule { tag, op, value });
        }
        out
    }
}

/// The rows of `rules`, with add / remove; `prefix` starts the inputs' ids (`{id}-tag-0`, …) and
/// `at` is the API's name of the list, under which its field errors arrive.
#[component]
pub fn TagRulesEditor(rules: RulesEdit, prefix: String, at: String, errors: Errors) -> impl IntoView {
    let id = prefix;
    let list_id = format!("{id}-known");
    let add_id = format!("{id}-add");
    let list_ref = list_id.clone();
    let at_all = at.clone();
    let div_id = id.clone();
    view! {
        <div class="cb-rules" id=div_id>
            <datalist id=list_id>{KNOWN_TAGS.map(|t| view! { <option value=t></option> }).collect_view()}</datalist>
            {move || {
                let rows = rules.rows.get();
                if rows.is_empty() {
                    return view! { <p class="cb-help">"No tag rules: every call qualifies."</p> }.into_any();
                }
                rows.into_iter().enumerate().map(|(i, r)| {
                    let (tid, oid, vid) = (format!("{id}-tag-{i}"), format!("{id}-op-{i}"), format!("{id}-value-{i}"));
                    let (tf, vf) = (format!("{at}[{i}].tag"), format!("{at}[{i}].value"));
                    let err = move |f: String| move || errors.with(|e| e.get(&f).cloned()).map(|m| view! { <span class="cb-field-error">{m}</span> });
                    view! {
                        <div class="cb-row rule-row">
                            <div class="cb-field">
                                <label for=tid.clone()>"Tag"</label>
                                <input id=tid list=list_ref.clone() placeholder="FromState" prop:value=move || r.tag.get() on:input=move |ev| r.tag.set(event_target_value(&ev))/>
                                {err(tf)}
                            </div>
                            <div class="cb-field">
                                <label for=oid.clone()>"Condition"</label>
                                <select id=oid on:change=move |ev| r.op.set(event_target_value(&ev))>
                                    {OPS.map(|(op, label)| { let sel = r.op.get_untracked() == op.as_str(); view! { <option value=op.as_str() selected=sel>{label}</option> } }).collect_view()}
                                </select>
                            </div>
                            <Show when=move || needs_value(parse_op(&r.op.get()))>
                                <div class="cb-field">
                                    <label for=vid.clone()>"Value"</label>
                                    <input id=vid.clone() prop:value=move || r.value.get() on:input=move |ev| r.value.set(event_target_value(&ev))
                                        placeholder=move || match parse_op(&r.op.get()) { TagOp::In | TagOp::NotIn => "CA, NY", TagOp::Gte | TagOp::Lte => "65", _ => "" }/>
                                </div>
                            </Show>
                            {err(vf)}
                            <button type="button" class="cb-secondary" aria-label=format!("Remove tag rule {}", i + 1)
                                on:click=move |_| rules.rows.update(|v| v.retain(|x| x.key != r.key))>"Remove"</button>
                        </div>
                    }
                }).collect_view().into_any()
            }}
            {move || errors.with(|e| e.get(&at_all).cloned()).map(|m| view! { <span class="cb-field-error">{m}</span> })}
            <button type="button" class="cb-secondary" id=add_id
                on:click=move |_| rules.rows.update(|v| v.push(rules.row("", TagOp::Eq, String::new())))>"Add tag rule"</button>
        </div>
    }
}
