//! Bidders: a campaign's external buyers that bid for each call in real time. The list per
//! campaign, one form for creating and editing (the ping's URL, method, headers and body template,
//! where the bid sits in the answer), delete with a confirmation, and a test ping that shows the
//! request sent and the answer as the routing reads it.
//!
//! Header values are secrets: the API shows them masked (`••••abcd`), so the form never sends a
//! shown value back: only values typed here are sent, and a header marked for removal as `null`.
//!
//! Written as HTML text ([`crate::markup`]) and JSON values ([`crate::json`]) for the first
//! load's budget.
use std::cell::Cell;
use std::fmt::Write;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use serde_json::{Map, Value};

use crate::api;
use crate::components::*;
use crate::json;
use crate::markup::{self, esc, Messages};
use crate::pages::route_id;
use crate::session;

thread_local! {
    /// The campaign last chosen in the list: the list shows it again, a new bidder starts on it.
    static CHOSEN: Cell<Option<i64>> = const { Cell::new(None) };
}

/// The form's fields: label, the API's field (`mapping.x` inside `mapping`), kind (see
/// [`markup::field`]), placeholder.
const FORM: [(&str, &str, &str, &str); 13] = [
    ("Name", "name", "text", "Acme RTB"),
    ("Status", "status", "select:active=Active|paused=Paused", ""),
    ("Method", "method", "select:POST=POST (the body as JSON)|GET=GET (no body)", ""),
    ("Ping URL", "url", "url", "https://rtb.example.com/bid?area={caller_area_code}"),
    ("Timeout (ms)", "timeout_ms", "number", "1000"),
    ("Body template", "body_template", "area", ""),
    ("Bid amount", "mapping.amount", "text", "/bid"),
    ("Number to dial", "mapping.number", "text", "/phone"),
    ("Accepted flag", "mapping.accept", "text", "/accepted (optional)"),
    ("Expiry", "mapping.expires", "text", "/expires_in (optional)"),
    ("Minimum duration", "mapping.min_duration", "text", "/duration (optional)"),
    ("Allow private addresses (pings to local or internal hosts)", "allow_private", "check", ""),
    ("Show the caller's whole number ({caller}) before the bidder wins", "expose_caller", "check", ""),
];

const TEMPLATE_HELP: &str = r#"<p class="cb-help cb-wide" id="bidder-placeholders">Placeholders, in the body and the URL: <code>{call_id}</code> <code>{caller}</code> <code>{caller_area_code}</code> <code>{state}</code> <code>{zip}</code> <code>{city}</code> <code>{publisher_id}</code> <code>{campaign_id}</code> <code>{tag:NAME}</code>. <code>{caller}</code>, the whole number, only when the bidder may see it (below). A POST body must be JSON once filled; empty: the standard body.</p><h2 class="cb-wide">The bid in the answer</h2><p class="cb-help cb-wide">JSON Pointers into the bidder's answer (<code>/bid</code>, <code>/result/amount</code>): the amount in currency units and the number to dial (E.164 or <code>sip:</code>); optional: a true/false acceptance flag, the expiry (seconds or a time), the seconds the call must last to be paid.</p>"#;

const HEADERS_HELP: &str = r#"<h2 class="cb-wide">Headers</h2><p class="cb-help cb-wide">Sent with every ping (e.g. Authorization). Saved values are secret and shown masked: type a new value to replace one.</p>"#;

#[component]
pub fn Bidders() -> impl IntoView {
    let names = fetch(Names::load);
    let campaign = RwSignal::new(CHOSEN.get().map(|c| c.to_string()).unwrap_or_default());
    let list = fetch(move || {
        // The campaign chosen, else the first (the one the select shows first).
        let id = campaign.get().parse().ok().or_else(|| names.with(|n| n.as_ref().and_then(|n| n.campaigns.keys().next().copied())));
        CHOSEN.set(id);
        async move {
            match id {
                Some(id) => api::bidders(id).await,
                None => Ok(Value::Null),
            }
        }
    });
    let form = FormState::new();
    let options = move || names.get().map(|n| n.campaigns.into_iter().map(|(id, name)| (id.to_string(), name)).collect()).unwrap_or_default();
    let rows = move |data: Value| {
        let rows: Vec<_> = json::items(&data)
            .iter()
            .map(|b| {
                let t = |f: &str| esc(&json::text(b, f));
                let name = json::text(b, "/name");
                let link = format!(r#"<a href="/bidders/{}">{}</a>"#, t("/id"), esc(&name));
                (name, vec![link, t("/status"), format!("<code>{} {}</code>", t("/method"), t("/url")), format!("{} ms", t("/timeout_ms")), t("/mapping/amount")])
            })
            .collect();
        match data {
            Value::Null => "<p class=\"cb-empty\">Create a campaign first: bidders belong to one.</p>".to_owned(),
            _ if rows.is_empty() => "<p class=\"cb-empty\">No bidders on this campaign yet.</p>".to_owned(),
            _ => markup::table("bidders-table", &["Name", "Status", "Ping", "Timeout", "Bid at"], &rows),
        }
    };
    view! {
        <section id="page-bidders">
            <div class="cb-title-row">
                <h1>"Bidders"</h1>
                {session::can_write().then(|| view! { <A href="/bidders/new" attr:class="cb-button">"New bidder"</A> })}
            </div>
            <p class="cb-help">"Bidders are buyers asked for a price for each call: the best bid above the campaign's floor is dialled. A campaign's bidding settings are on its page."</p>
            <SelectField label="Campaign" name="campaign_id" value=campaign errors=form.errors options=Signal::derive(options)/>
            {move || show(list.get(), move |data| view! { <div inner_html=rows(data)></div> })}
        </section>
    }
}

#[component]
pub fn BidderEdit() -> impl IntoView {
    let id = route_id();
    let existing = fetch(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => api::bidder(id).await,
                None => Ok(Value::Null),
            }
        }
    });
    view! {
        <section id="page-bidder">
            <p><A href="/bidders">"← Bidders"</A></p>
            {move || show(existing.get(), bidder_form)}
        </section>
    }
}

/// The form as edited: each field of [`FORM`] as text, the saved headers (name, masked value, a
/// new value typed, marked for removal) and the new ones (name, value).
#[derive(Clone, Default)]
struct Draft {
    values: Vec<String>,
    saved: Vec<(String, String, String, bool)>,
    new: Vec<(String, String)>,
}

impl Draft {
    fn of(b: &Value) -> Draft {
        let values = FORM
            .iter()
            .map(|(_, f, kind, _)| match (json::text(b, &format!("/{}", f.replace('.', "/"))), *f) {
                (v, "timeout_ms") if v.is_empty() => "1000".to_owned(),
                (v, "status") if v.is_empty() => "active".to_owned(),
                (v, "method") if v.is_empty() => "POST".to_owned(),
                (v, "body_template") if b.is_null() => r#"{"call_id": "{call_id}", "area_code": "{caller_area_code}", "state": "{state}"}"#.to_owned(),
                (v, _) if *kind == "check" && v != "true" => String::new(),
                (v, _) => v,
            })
            .collect();
        let saved = json::at(b, "/headers")
            .as_object()
            .map(|h| h.iter().map(|(n, v)| (n.clone(), v.as_str().unwrap_or_default().to_owned(), String::new(), false)).collect())
            .unwrap_or_default();
        Draft { values, saved, new: vec![(String::new(), String::new())] }
    }

    /// The form's inputs as they are now on the page.
    fn read(&self) -> Draft {
        let values = FORM
            .iter()
            .map(|(_, f, kind, _)| {
                let id = format!("f-{f}");
                if *kind == "check" {
                    if markup::checked(&id) { "true".into() } else { String::new() }
                } else {
                    markup::value(&id)
                }
            })
            .collect();
        let saved = self.saved.iter().enumerate().map(|(i, (n, m, ..))| (n.clone(), m.clone(), markup::value(&format!("header-set-{i}")), markup::checked(&format!("header-del-{i}")))).collect();
        let new = (0..self.new.len()).map(|i| (markup::value(&format!("header-name-{i}")), markup::value(&format!("header-value-{i}")))).collect();
        Draft { values, saved, new }
    }

    fn html(&self, errors: &Messages) -> String {
        let mut out = String::from(r#"<div class="cb-grid">"#);
        for (i, (label, f, kind, hint)) in FORM.iter().enumerate() {
            match *f {
                "mapping.amount" => out.push_str(TEMPLATE_HELP),
                "allow_private" => self.headers(&mut out, errors),
                _ => {}
            }
            markup::field(&mut out, label, f, kind, &self.values[i], hint, errors);
        }
        out.push_str("</div>");
        out
    }

    fn headers(&self, out: &mut String, errors: &Messages) {
        out.push_str(HEADERS_HELP);
        for (i, (name, masked, typed, removed)) in self.saved.iter().enumerate() {
            let checked = if *removed { " checked" } else { "" };
            let _ = write!(
                out,
                r#"<div class="cb-row cb-wide header-row"><code class="header-saved">{n}: {m}</code><div class="cb-field"><label for="header-set-{i}">New value</label><input id="header-set-{i}" autocomplete="off" value="{t}"></div><div class="cb-field cb-check"><input type="checkbox" id="header-del-{i}"{checked}><label for="header-del-{i}">Remove {n}</label></div></div>"#,
                n = esc(name),
                m = esc(masked),
                t = esc(typed),
            );
        }
        for (i, (name, value)) in self.new.iter().enumerate() {
            let _ = write!(
                out,
                r#"<div class="cb-row cb-wide header-row"><div class="cb-field"><label for="header-name-{i}">Header</label><input id="header-name-{i}" placeholder="X-Api-Key" value="{}"></div><div class="cb-field"><label for="header-value-{i}">Value</label><input id="header-value-{i}" autocomplete="off" value="{}"></div></div>"#,
                esc(name),
                esc(value),
            );
        }
        if let Some((_, m)) = errors.iter().find(|(k, _)| k.starts_with("headers")) {
            let _ = write!(out, r#"<span class="cb-field-error cb-wide" id="err-headers">{}</span>"#, esc(m));
        }
        out.push_str(r#"<p class="cb-wide"><button type="button" class="cb-secondary" data-act="add-header">Add header</button></p>"#);
    }

    /// The body of the request (a `NewBidder` or a `BidderPatch`), after the page's own checks.
    fn body(&self, id: Option<i64>, campaign: Option<i64>, c: &mut Check) -> Value {
        let mut fields = Map::new();
        let mut mapping = Map::new();
        for ((_, f, kind, _), v) in FORM.iter().zip(&self.values) {
            let value = match *f {
                "name" | "url" | "mapping.amount" | "mapping.number" => c.required(f, v).into(),
                "timeout_ms" => c.int(f, v, 1, 60_000).into(),
                _ if *kind == "check" => (v == "true").into(),
                _ if f.starts_with("mapping.") => json::opt(v),
                _ => v.clone().into(),
            };
            match f.strip_prefix("mapping.") {
                Some(m) => mapping.insert(m.to_owned(), value),
                None => fields.insert((*f).to_owned(), value),
            };
        }
        fields.insert("mapping".into(), mapping.into());
        // Only what was typed: new headers, new values of saved ones, removals as `null`.
        let mut headers = Map::new();
        for (name, _, typed, removed) in &self.saved {
            if *removed {
                headers.insert(name.clone(), Value::Null);
            } else if !typed.trim().is_empty() {
                headers.insert(name.clone(), typed.clone().into());
            }
        }
        for (name, value) in &self.new {
            match (name.trim(), value.trim().is_empty()) {
                ("", true) => {}
                ("", false) => c.fail("headers", "a header needs a name"),
                (_, true) => c.fail("headers", "a header needs a value"),
                (n, false) => {
                    headers.insert(n.to_owned(), value.clone().into());
                }
            }
        }
        if id.is_none() || !headers.is_empty() {
            fields.insert("headers".into(), headers.into());
        }
        if id.is_none() {
            fields.insert("campaign_id".into(), campaign.unwrap_or_default().into());
        }
        fields.into()
    }
}

/// The form of a bidder (`null`: a new one).
fn bidder_form(b: Value) -> AnyView {
    let id = json::int(&b, "/id");
    let draft = StoredValue::new(Draft::of(&b));
    let html = RwSignal::new(draft.with_value(|d| d.html(&Messages::new())));
    let campaign = RwSignal::new(json::int(&b, "/campaign_id").or(CHOSEN.get()).map(|c| c.to_string()).unwrap_or_default());
    let names = fetch(Names::load);
    let form = FormState::new();
    let navigate = StoredValue::new_local(use_navigate());
    let confirming = RwSignal::new(false);
    // Keeps what was typed, then shows the form again (with these messages).
    let redraw = move |errors: &Messages| {
        let d = draft.with_value(Draft::read);
        html.set(d.html(errors));
        draft.set_value(d);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let d = draft.with_value(Draft::read);
        let body = d.body(id, campaign.get_untracked().parse().ok(), &mut c);
        let errors = c.into_errors();
        html.set(d.html(&errors));
        draft.set_value(d);
        if !form.begin(errors) {
            return;
        }
        spawn_local(async move {
            match api::save_bidder(id, &body).await {
                Ok(saved) => {
                    form.done(format!("Bidder “{}” saved.", json::text(&saved, "/name")));
                    match id {
                        // The saved headers, masked, replace those typed.
                        Some(_) => {
                            draft.set_value(Draft::of(&saved));
                            html.set(draft.with_value(|d| d.html(&Messages::new())));
                        }
                        None => navigate.with_value(|n| n(&format!("/bidders/{}", json::text(&saved, "/id")), Default::default())),
                    }
                }
                Err(e) => {
                    redraw(&e.fields());
                    form.failed(e);
                }
            }
        });
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if markup::action(&ev).as_deref() == Some("add-header") {
            draft.update_value(|d| d.new.push(Default::default()));
            redraw(&form.errors.get_untracked());
        }
    };
    let remove = move |_| {
        let Some(id) = id else { return };
        spawn_local(async move {
            match api::delete_bidder(id).await {
                Ok(()) => navigate.with_value(|n| n("/bidders", Default::default())),
                Err(e) => form.failed(e),
            }
        });
    };
    let title = if id.is_some() { format!("Bidder: {}", json::text(&b, "/name")) } else { "New bidder".into() };
    let options = move || names.get().map(|n| n.campaigns.into_iter().map(|(id, name)| (id.to_string(), name)).collect()).unwrap_or_default();
    view! {
        <h1>{title}</h1>
        <form class="cb-form" on:submit=on_submit on:click=on_click novalidate=true id="bidder-form">
            <fieldset disabled=!session::can_write()>
                {id.is_none().then(|| view! { <SelectField label="Campaign" name="campaign_id" value=campaign errors=form.errors options=Signal::derive(options)/> })}
                <div inner_html=move || html.get()></div>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>{if id.is_some() { "Save bidder" } else { "Create bidder" }}</button>
                " "
                {id.map(|_| move || if confirming.get() {
                    view! {
                        <button type="button" class="cb-danger" on:click=remove>"Confirm deleting this bidder"</button>
                        <button type="button" class="cb-secondary" on:click=move |_| confirming.set(false)>"Keep"</button>
                    }.into_any()
                } else {
                    view! { <button type="button" class="cb-secondary" on:click=move |_| confirming.set(true)>"Delete bidder"</button> }.into_any()
                })}
            </fieldset>
        </form>
        {id.map(test_ping)}
    }
    .into_any()
}

const TEST_FORM: &str = r#"<div class="cb-row"><div class="cb-field"><label for="test-caller">Caller</label><input id="test-caller" type="tel" placeholder="+12015550123"></div><div class="cb-field"><label for="test-state">State</label><input id="test-state" placeholder="NJ"></div><div class="cb-field"><label for="test-zip">ZIP</label><input id="test-zip" placeholder="07030"></div></div>"#;

/// Sends a test ping to the bidder as saved and shows what went and what came back.
fn test_ping(id: i64) -> impl IntoView {
    let form = FormState::new();
    let result = RwSignal::new(String::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let [caller, state, zip] = ["test-caller", "test-state", "test-zip"].map(|i| markup::value(i).trim().to_owned());
        if !caller.is_empty() {
            c.e164("caller", &caller);
        }
        let state = state.to_uppercase();
        if !state.is_empty() {
            c.states("state", &state);
        }
        let req = json::object(vec![("caller", json::opt(&caller)), ("state", json::opt(&state)), ("zip", json::opt(&zip))]);
        if !begin(form, c) {
            return;
        }
        result.set(String::new());
        spawn_local(async move {
            match api::test_bidder(id, &req).await {
                Ok(r) => {
                    form.done("");
                    form.saved.set(None);
                    result.set(test_result(&r));
                }
                Err(e) => failed(form, e),
            }
        });
    };
    view! {
        <section aria-labelledby="test-h" id="bidder-test">
            <h2 id="test-h">"Test ping"</h2>
            <p class="cb-help">"Pings the bidder as saved, with these call facts (samples stand in for blanks). Nothing is dialled, nothing kept."</p>
            <form class="cb-form" on:submit=on_submit novalidate=true>
                <div inner_html=TEST_FORM></div>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>"Send test ping"</button>
            </form>
            <div inner_html=move || result.get()></div>
        </section>
    }
}

/// Starts a submission of a form written as HTML: its messages go in the general one.
pub fn begin(form: FormState, c: Check) -> bool {
    let errors = c.into_errors();
    let ok = form.begin(errors.clone());
    if !ok {
        form.message.set(Some(summary(&errors)));
    }
    ok
}

/// What the API refused, every field's message in the general one.
pub fn failed(form: FormState, e: api::ApiError) {
    let fields = e.fields();
    form.failed(e);
    if !fields.is_empty() {
        form.message.set(Some(summary(&fields)));
    }
}

fn summary(errors: &Messages) -> String {
    errors.iter().map(|(k, m)| format!("{}: {m}", k.replace('_', " "))).collect::<Vec<_>>().join("; ")
}

fn test_result(r: &Value) -> String {
    let t = |f: &str| json::text(r, f);
    let headers: String = json::at(r, "/headers").as_object().map(|h| h.iter().map(|(k, v)| format!("{k}: {}\n", v.as_str().unwrap_or_default())).collect()).unwrap_or_default();
    let body = t("/body");
    let sent = format!("{} {}\n{headers}{}{body}", t("/method"), t("/url"), if body.is_empty() { "" } else { "\n" });
    let outcome = t("/outcome");
    let items = [
        ("Outcome", outcome.replace('_', " ")),
        ("Why", t("/detail")),
        ("Answer", json::int(r, "/status").map(|s| format!("HTTP {s}")).unwrap_or_else(|| "none".into())),
        ("Latency", format!("{} ms", t("/latency_ms"))),
        ("Bid", json::int(r, "/bid_micros").map(|_| json::money(r, "/bid_micros")).unwrap_or_default()),
        ("Number", t("/dial_to")),
        ("Expires", json::time(r, "/expires_at")),
        ("Minimum duration", json::int(r, "/min_duration_secs").map(|s| format!("{s} s")).unwrap_or_default()),
    ];
    let answer = t("/answer");
    let answer = if answer.is_empty() { String::new() } else { format!(r#"<h3>Answer</h3><pre class="cb-twiml" id="test-answer">{}</pre>"#, esc(&answer)) };
    format!(
        r#"<div id="test-result" data-outcome="{}">{}<h3>Request sent</h3><pre class="cb-twiml" id="test-request">{}</pre>{answer}</div>"#,
        esc(&outcome),
        markup::facts("test-facts", &outcome, &items),
        esc(&sent)
    )
}
