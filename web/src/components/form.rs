//! Form fields: every input has a label, an id, and its validation message linked by
//! `aria-describedby`. Messages come from the page's own checks or from the API's 422
//! `details.fields`, both kept in one [`Errors`] map keyed by the API's field names.

use std::collections::BTreeMap;

use callbroker_wire::Status;
use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::api::ApiError;

/// Field name → message.
pub type Errors = RwSignal<BTreeMap<String, String>>;

/// The form's state beside its fields: its errors, a general message, whether it is sending.
#[derive(Clone, Copy)]
pub struct FormState {
    pub errors: Errors,
    pub message: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
    pub saved: RwSignal<Option<String>>,
}

impl FormState {
    pub fn new() -> Self {
        FormState {
            errors: RwSignal::new(BTreeMap::new()),
            message: RwSignal::new(None),
            busy: RwSignal::new(false),
            saved: RwSignal::new(None),
        }
    }

    /// Starts a submission with the page's own checks: false (and the messages shown) when
    /// they failed.
    pub fn begin(&self, errors: BTreeMap<String, String>) -> bool {
        self.saved.set(None);
        let ok = errors.is_empty();
        self.message.set((!ok).then(|| "Please correct the highlighted fields.".to_owned()));
        self.errors.set(errors);
        if ok {
            self.busy.set(true);
        }
        ok
    }

    /// Shows what the API refused.
    pub fn failed(&self, e: ApiError) {
        self.busy.set(false);
        let fields = e.fields();
        self.message.set(Some(if fields.is_empty() { e.message() } else { format!("{} — see the highlighted fields.", e.message()) }));
        self.errors.set(fields);
    }

    pub fn done(&self, text: impl Into<String>) {
        self.busy.set(false);
        self.errors.set(BTreeMap::new());
        self.message.set(None);
        self.saved.set(Some(text.into()));
    }
}

impl Default for FormState {
    fn default() -> Self {
        Self::new()
    }
}

/// The general message and the "saved" notice of a form.
#[component]
pub fn FormStatus(state: FormState) -> impl IntoView {
    view! {
        {move || state.message.get().map(|m| view! { <p class="cb-error" role="alert">{m}</p> })}
        {move || state.saved.get().map(|m| view! { <p class="cb-saved" role="status">{m}</p> })}
    }
}

/// The message for `key`, else the first for an item of the list `key` (`key[2]`, `key[2].x`).
pub fn error_at(errors: Errors, key: &str) -> Option<String> {
    let item = format!("{key}[");
    errors.with(|e| e.get(key).or_else(|| e.range(item.clone()..).next().filter(|(k, _)| k.starts_with(&item)).map(|(_, v)| v)).cloned())
}

fn field_error(errors: Errors, name: &'static str) -> impl Fn() -> Option<AnyView> + Send + Sync + Copy {
    move || {
        errors.with(|e| e.get(name).cloned()).map(|m| view! { <span class="cb-field-error" id=format!("err-{name}")>{m}</span> }.into_any())
    }
}

/// A labelled text input bound to `value`.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    errors: Errors,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] help: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autocomplete: Option<&'static str>,
) -> impl IntoView {
    let id = format!("f-{name}");
    let invalid = move || errors.with(|e| e.contains_key(name)).to_string();
    view! {
        <div class="cb-field">
            <label for=id.clone()>{label}{required.then_some(" *")}</label>
            <input
                id=id
                name=name
                type=kind
                placeholder=placeholder
                autocomplete=autocomplete
                required=required
                aria-invalid=invalid
                aria-describedby=format!("err-{name}")
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {help.map(|h| view! { <small class="cb-help">{h}</small> })}
            {field_error(errors, name)}
        </div>
    }
}

/// A labelled textarea.
#[component]
pub fn TextArea(label: &'static str, name: &'static str, value: RwSignal<String>, errors: Errors) -> impl IntoView {
    let id = format!("f-{name}");
    view! {
        <div class="cb-field">
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows="2" aria-describedby=format!("err-{name}")
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))></textarea>
            {field_error(errors, name)}
        </div>
    }
}

/// A labelled select over `(value, label)` options.
#[component]
pub fn SelectField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    errors: Errors,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let id = format!("f-{name}");
    view! {
        <div class="cb-field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name aria-describedby=format!("err-{name}")
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))>
                {move || options.get().into_iter().map(|(v, l)| {
                    let selected = value.get_untracked() == v;
                    view! { <option value=v selected=selected>{l}</option> }
                }).collect_view()}
            </select>
            {field_error(errors, name)}
        </div>
    }
}

pub fn status_options() -> Vec<(String, String)> {
    vec![("active".into(), "Active".into()), ("paused".into(), "Paused".into())]
}

pub fn parse_status(s: &str) -> Status {
    Status::parse(s).unwrap_or_default()
}

/// A labelled checkbox.
#[component]
pub fn CheckField(label: &'static str, name: &'static str, value: RwSignal<bool>) -> impl IntoView {
    let id = format!("f-{name}");
    view! {
        <div class="cb-field cb-check">
            <input id=id.clone() name=name type="checkbox" prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))/>
            <label for=id>{label}</label>
        </div>
    }
}

// ---------------------------------------------------------------- checks before sending

/// Collects the page's own field checks.
#[derive(Default)]
pub struct Check(pub BTreeMap<String, String>);

impl Check {
    pub fn fail(&mut self, field: &str, msg: &str) {
        self.0.entry(field.to_owned()).or_insert_with(|| msg.to_owned());
    }
    pub fn required(&mut self, field: &str, v: &str) -> String {
        let v = v.trim().to_owned();
        if v.is_empty() {
            self.fail(field, "is required");
        }
        v
    }
    pub fn e164(&mut self, field: &str, v: &str) -> String {
        let v = v.trim().to_owned();
        let digits = v.strip_prefix('+').unwrap_or("");
        if !(8..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) || digits.starts_with('0') {
            self.fail(field, "must be an E.164 number such as +14155550100");
        }
        v
    }
    /// An integer in `min..=max`.
    pub fn int(&mut self, field: &str, v: &str, min: i32, max: i32) -> i32 {
        match v.trim().parse::<i32>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                self.fail(field, &format!("must be a whole number from {min} to {max}"));
                0
            }
        }
    }
    /// Empty → `None`, else an integer in `min..=max`.
    pub fn opt_int(&mut self, field: &str, v: &str, min: i32, max: i32) -> Option<i32> {
        if v.trim().is_empty() {
            None
        } else {
            Some(self.int(field, v, min, max))
        }
    }
    /// An amount of money (currency units, up to six decimals, not negative) as micro-units.
    pub fn money(&mut self, field: &str, v: &str) -> i64 {
        crate::format::parse_money(v).unwrap_or_else(|| {
            self.fail(field, "must be an amount such as 12.50");
            0
        })
    }
    /// A comma- or space-separated list of two-letter state codes, upper-cased.
    pub fn states(&mut self, field: &str, v: &str) -> Vec<String> {
        let list: Vec<String> = v.split([',', ' ', ';']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_uppercase).collect();
        if list.iter().any(|s| s.len() != 2 || !s.chars().all(|c| c.is_ascii_alphabetic())) {
            self.fail(field, "must be two-letter state codes separated by commas, e.g. NY, NJ");
        }
        list
    }
    pub fn email(&mut self, field: &str, v: &str) -> String {
        let v = v.trim().to_owned();
        if !v.contains('@') || v.starts_with('@') || v.ends_with('@') {
            self.fail(field, "must be an email address");
        }
        v
    }
    /// The days `from` to `to` (`YYYY-MM-DD`, both included) in the zone `tz`, as UTC instants:
    /// `[midnight starting from, midnight after to)`.
    pub fn date_range(&mut self, tz: &str, from: &str, to: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !crate::zone::is_valid(tz) {
            self.fail("tz", "is not a time zone name such as America/New_York");
        }
        let (f, t) = (crate::format::parse_date(from), crate::format::parse_date(to));
        if f.is_none() {
            self.fail("from", "must be a date");
        }
        if t.is_none() {
            self.fail("to", "must be a date");
        }
        let (f, t) = (f?, t?);
        if f > t {
            self.fail("to", "must not be before the start date");
        }
        if !self.0.is_empty() {
            return None;
        }
        Some((crate::zone::day_start(tz, f)?, crate::zone::day_start(tz, t.succ_opt()?)?))
    }
    pub fn into_errors(self) -> BTreeMap<String, String> {
        self.0
    }
}

/// `Some(trimmed)` or `None` when blank.
pub fn opt_text(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}
