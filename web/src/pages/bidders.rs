//! Bidders: a campaign's external buyers that bid for each call in real time. The list per
//! campaign, one form for creating and editing (the ping's URL, method, headers and body template,
//! where the bid sits in the answer), delete with a confirmation, and a test ping that shows the
//! request sent and the answer as the routing reads it.
//!
//! Header values are secrets: the API shows them masked (`••••abcd`), so the form never sends a
//! shown value back: only the values typed here are sent, and a removed header as `null`.
//!
//! Kept small for the first load's budget: the forms are lists of the IVR editor's [`input`] and
//! [`choice`] (plain functions compiled once), tables and facts go through [`text_table`] and
//! [`facts`], help text is static HTML, and bodies and answers are JSON values ([`json`]).
use std::cell::Cell;
use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use serde_json::Value;

use crate::api;
use crate::components::*;
use crate::format;
use crate::json;
use crate::pages::campaign_ivr::{choice, input, Opts};
use crate::pages::route_id;
use crate::session;

thread_local! {
    /// The campaign last chosen in the list: the list shows it again, a new bidder starts on it.
    static CHOSEN: Cell<Option<i64>> = const { Cell::new(None) };
}

const METHODS: Opts = &[("POST", "POST (the body as JSON)"), ("GET", "GET (no body)")];
const STATUSES: Opts = &[("active", "Active"), ("paused", "Paused")];

/// The text inputs of the form: label, the API's field (the input's id is `f-` and the field),
/// type, placeholder.
const FIELDS: [(&str, &str, &str, &str); 8] = [
    ("Name", "name", "text", "Acme RTB"),
    ("Ping URL", "url", "url", "https://rtb.example.com/bid?area={caller_area_code}"),
    ("Timeout (ms)", "timeout_ms", "number", "1000"),
    ("Bid amount", "mapping.amount", "text", "/bid"),
    ("Number to dial", "mapping.number", "text", "/phone"),
    ("Accepted flag", "mapping.accept", "text", "/accepted (optional)"),
    ("Expiry", "mapping.expires", "text", "/expires_in (optional)"),
    ("Minimum duration", "mapping.min_duration", "text", "/duration (optional)"),
];

const TEMPLATE_HELP: &str = r#"<p class="cb-help" id="bidder-placeholders">Placeholders, in the body and the URL: <code>{call_id}</code> <code>{caller}</code> <code>{caller_area_code}</code> <code>{state}</code> <code>{zip}</code> <code>{city}</code> <code>{publisher_id}</code> <code>{campaign_id}</code> <code>{tag:NAME}</code>. <code>{caller}</code>, the whole number, only when the bidder may see it (below). A POST body must be JSON once filled; empty: the standard body.</p>"#;

const HEADERS_HELP: &str = r#"<h2>Headers</h2><p class="cb-help">Sent with every ping (e.g. Authorization). Saved values are secret and shown masked: type a new value to replace one.</p>"#;

const MAPPING_HELP: &str = r#"<h2>The bid in the answer</h2><p class="cb-help">Where each part of the bid is in the bidder's JSON answer, as a JSON Pointer (<code>/bid</code>, <code>/result/amount</code>): the amount in currency units and the number to dial (E.164 or <code>sip:</code>); optional: a true/false acceptance flag, the expiry (seconds or a time), the seconds the call must last to be paid.</p>"#;

fn campaign_options(names: Option<Names>) -> Vec<(String, String)> {
    names.map(|n| n.campaigns.into_iter().map(|(id, name)| (id.to_string(), name)).collect()).unwrap_or_default()
}

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
    view! {
        <section id="page-bidders">
            <div class="cb-title-row">
                <h1>"Bidders"</h1>
                {session::can_write().then(|| view! { <A href="/bidders/new" attr:class="cb-button">"New bidder"</A> })}
            </div>
            <p class="cb-help">"Bidders are buyers asked for a price for each call: the best bid above the campaign's floor is dialled. A campaign's bidding settings are on its page."</p>
            <SelectField label="Campaign" name="campaign_id" value=campaign errors=form.errors options=Signal::derive(move || campaign_options(names.get()))/>
            {move || show(list.get(), |data| {
                let rows: Vec<_> = json::items(&data).iter().map(|b| {
                    let cells = vec![
                        json::text(b, "/name"),
                        json::text(b, "/status"),
                        format!("{} {}", json::text(b, "/method"), json::text(b, "/url")),
                        format!("{} ms", json::text(b, "/timeout_ms")),
                        json::text(b, "/mapping/amount"),
                    ];
                    (Some(format!("/bidders/{}", json::text(b, "/id"))), cells)
                }).collect();
                match data {
                    Value::Null => view! { <Empty text="Create a campaign first: bidders belong to one."/> }.into_any(),
                    _ if rows.is_empty() => view! { <Empty text="No bidders on this campaign yet."/> }.into_any(),
                    _ => text_table("bidders-table", &["Name", "Status", "Ping", "Timeout", "Bid at"], rows),
                }
            })}
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

/// A header row of the form: a saved header (its value masked: a value typed replaces it) or a new one.
#[derive(Clone, Copy)]
struct HeaderRow {
    key: usize,
    name: RwSignal<String>,
    value: RwSignal<String>,
    /// `Name: ••••abcd` of a saved header.
    saved: Option<StoredValue<String>>,
}

/// The form of a bidder (`null`: a new one).
fn bidder_form(b: Value) -> AnyView {
    let id = json::int(&b, "/id");
    let values: [RwSignal<String>; 8] = std::array::from_fn(|i| {
        let field = FIELDS[i].1;
        let v = json::text(&b, &format!("/{}", field.replace('.', "/")));
        RwSignal::new(if v.is_empty() && field == "timeout_ms" { "1000".into() } else { v })
    });
    let text = |f: &str, default: &str| RwSignal::new(if id.is_some() { json::text(&b, f) } else { default.to_owned() });
    let campaign_id = RwSignal::new(json::int(&b, "/campaign_id").or(CHOSEN.get()).map(|c| c.to_string()).unwrap_or_default());
    let status = text("/status", "active");
    let method = text("/method", "POST");
    let body = text("/body_template", r#"{"call_id": "{call_id}", "area_code": "{caller_area_code}", "state": "{state}"}"#);
    let allow_private = RwSignal::new(json::flag(&b, "/allow_private"));
    let expose_caller = RwSignal::new(json::flag(&b, "/expose_caller"));
    let next = StoredValue::new(0usize);
    let row = move |n: &str, masked: Option<&str>| {
        let key = next.get_value();
        next.set_value(key + 1);
        let saved = masked.map(|m| StoredValue::new(format!("{n}: {m}")));
        HeaderRow { key, name: RwSignal::new(n.to_owned()), value: RwSignal::new(String::new()), saved }
    };
    let saved_rows = move |b: &Value| -> Vec<HeaderRow> {
        json::at(b, "/headers").as_object().map(|h| h.iter().map(|(n, v)| row(n, Some(v.as_str().unwrap_or_default()))).collect()).unwrap_or_default()
    };
    let headers = RwSignal::new(saved_rows(&b));
    // Saved headers removed in the form: sent as `null`.
    let removed = RwSignal::new(Vec::<String>::new());
    let names = fetch(Names::load);
    let form = FormState::new();
    let errors = form.errors;
    let navigate = StoredValue::new_local(use_navigate());
    let confirming = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let [name, url, timeout, amount, number, accept, expires, min_duration] = values.map(|v| v.get_untracked());
        let mapping = json::object(vec![
            ("amount", c.required("mapping.amount", &amount).into()),
            ("number", c.required("mapping.number", &number).into()),
            ("accept", json::opt(&accept)),
            ("expires", json::opt(&expires)),
            ("min_duration", json::opt(&min_duration)),
        ]);
        let mut fields = vec![
            ("name", c.required("name", &name).into()),
            ("url", c.required("url", &url).into()),
            ("timeout_ms", c.int("timeout_ms", &timeout, 1, 60_000).into()),
            ("mapping", mapping),
            ("status", status.get_untracked().into()),
            ("method", method.get_untracked().into()),
            ("body_template", body.get_untracked().into()),
            ("allow_private", allow_private.get_untracked().into()),
            ("expose_caller", expose_caller.get_untracked().into()),
        ];
        // Only what was typed: a new header, or a new value for a saved one; removed ones `null`.
        let mut typed: BTreeMap<String, Value> = removed.get_untracked().into_iter().map(|n| (n, Value::Null)).collect();
        for h in headers.get_untracked() {
            let (n, v) = (h.name.get_untracked().trim().to_owned(), h.value.get_untracked());
            if v.trim().is_empty() {
                if h.saved.is_none() && !n.is_empty() {
                    c.fail("headers", "a header needs a value");
                }
            } else if n.is_empty() {
                c.fail("headers", "a header needs a name");
            } else {
                typed.insert(n, v.into());
            }
        }
        if id.is_none() || !typed.is_empty() {
            fields.push(("headers", Value::Object(typed.into_iter().collect())));
        }
        if id.is_none() {
            fields.push(("campaign_id", campaign_id.get_untracked().parse::<i64>().unwrap_or_default().into()));
        }
        if !form.begin(c.into_errors()) {
            return;
        }
        let body = json::object(fields);
        spawn_local(async move {
            match api::save_bidder(id, &body).await {
                Ok(saved) => {
                    form.done(format!("Bidder “{}” saved.", json::text(&saved, "/name")));
                    // The saved headers, masked, replace those typed.
                    removed.set(vec![]);
                    headers.set(saved_rows(&saved));
                    if id.is_none() {
                        navigate.with_value(|n| n(&format!("/bidders/{}", json::text(&saved, "/id")), Default::default()));
                    }
                }
                Err(e) => form.failed(e),
            }
        });
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
    let inputs = move |range: std::ops::Range<usize>| -> Vec<AnyView> {
        range
            .map(|i| {
                let (label, field, kind, hint) = FIELDS[i];
                input(label, format!("f-{field}"), vec![field.to_owned()], values[i], errors, kind, hint, None)
            })
            .collect()
    };
    let header_rows = move || {
        headers
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, h)| {
                let key = vec![format!("headers[{i}]")];
                view! {
                    <div class="cb-row header-row" id=format!("header-{i}")>
                        {match h.saved {
                            Some(saved) => view! { <code class="header-saved">{saved.get_value()}</code> }.into_any(),
                            None => input("Header", format!("header-name-{i}"), key.clone(), h.name, errors, "text", "X-Api-Key", None),
                        }}
                        {input(if h.saved.is_some() { "New value" } else { "Value" }, format!("header-value-{i}"), key, h.value, errors, "text", "", None)}
                        <button type="button" class="cb-secondary" aria-label=format!("Remove header {}", h.name.get_untracked())
                            on:click=move |_| {
                                if h.saved.is_some() {
                                    removed.update(|r| r.push(h.name.get_untracked()));
                                }
                                headers.update(|v| v.retain(|x| x.key != h.key));
                            }>"Remove"</button>
                    </div>
                }
            })
            .collect_view()
    };
    let mut items = vec![];
    if id.is_none() {
        items.push(view! { <SelectField label="Campaign" name="campaign_id" value=campaign_id errors=errors options=Signal::derive(move || campaign_options(names.get()))/> }.into_any());
    }
    items.extend(inputs(0..1));
    items.push(choice("Status", "bidder-status".into(), status, STATUSES));
    items.push(choice("Method", "bidder-method".into(), method, METHODS));
    items.extend(inputs(1..3));
    items.push(view! { <TextArea label="Body template" name="body_template" value=body errors=errors/> }.into_any());
    items.push(html(TEMPLATE_HELP));
    items.push(html(HEADERS_HELP));
    items.push(header_rows.into_any());
    items.push((move || error_at(errors, "headers").map(|m| view! { <span class="cb-field-error" id="err-headers">{m}</span> })).into_any());
    items.push(view! { <button type="button" class="cb-secondary" id="add-header" on:click=move |_| headers.update(|v| v.push(row("", None)))>"Add header"</button> }.into_any());
    items.push(html(MAPPING_HELP));
    items.extend(inputs(3..8));
    items.push(view! { <CheckField label="Allow private addresses (pings to local or internal hosts)" name="allow_private" value=allow_private/> }.into_any());
    items.push(view! { <CheckField label="Show the caller's whole number ({caller}) before the bidder wins" name="expose_caller" value=expose_caller/> }.into_any());
    let title = if id.is_some() { format!("Bidder: {}", json::text(&b, "/name")) } else { "New bidder".into() };
    view! {
        <h1>{title}</h1>
        <form class="cb-form" on:submit=on_submit novalidate=true id="bidder-form">
            <fieldset disabled=!session::can_write()>
                <div class="cb-grid">{items}</div>
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

/// Sends a test ping to the bidder as saved and shows what went and what came back.
fn test_ping(id: i64) -> impl IntoView {
    let fields = [("Caller", "test-caller", "caller", "+12015550123"), ("State", "test-state", "state", "NJ"), ("ZIP", "test-zip", "zip", "07030")]
        .map(|(label, id, f, hint)| (label, id, f, hint, RwSignal::new(String::new())));
    let form = FormState::new();
    let result = RwSignal::new(None::<Value>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let [caller, state, zip] = fields.map(|f| f.4.get_untracked().trim().to_owned());
        if !caller.is_empty() {
            c.e164("caller", &caller);
        }
        let state = state.to_uppercase();
        if !state.is_empty() {
            c.states("state", &state);
        }
        if !form.begin(c.into_errors()) {
            return;
        }
        result.set(None);
        let req = json::object(vec![("caller", json::opt(&caller)), ("state", json::opt(&state)), ("zip", json::opt(&zip))]);
        spawn_local(async move {
            match api::test_bidder(id, &req).await {
                Ok(r) => {
                    form.done("");
                    form.saved.set(None);
                    result.set(Some(r));
                }
                Err(e) => form.failed(e),
            }
        });
    };
    view! {
        <section aria-labelledby="test-h" id="bidder-test">
            <h2 id="test-h">"Test ping"</h2>
            <p class="cb-help">"Pings the bidder as saved, with these call facts (samples stand in for blanks). Nothing is dialled, nothing kept."</p>
            <form class="cb-form" on:submit=on_submit novalidate=true>
                <div class="cb-row">
                    {fields.into_iter().map(|(label, id, f, hint, v)| input(label, id.to_owned(), vec![f.to_owned()], v, form.errors, "text", hint, None)).collect_view()}
                </div>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>"Send test ping"</button>
            </form>
            {move || result.get().map(test_result)}
        </section>
    }
}

fn test_result(r: Value) -> impl IntoView {
    let headers: String =
        json::at(&r, "/headers").as_object().map(|h| h.iter().map(|(k, v)| format!("{k}: {}\n", v.as_str().unwrap_or_default())).collect()).unwrap_or_default();
    let body = json::text(&r, "/body");
    let sent = format!("{} {}\n{headers}{}{body}", json::text(&r, "/method"), json::text(&r, "/url"), if body.is_empty() { "" } else { "\n" });
    let outcome = json::text(&r, "/outcome");
    let answer = json::text(&r, "/answer");
    let items = vec![
        ("Outcome", outcome.replace('_', " ")),
        ("Why", json::text(&r, "/detail")),
        ("Answer", json::int(&r, "/status").map(|s| format!("HTTP {s}")).unwrap_or_else(|| "none".into())),
        ("Latency", format!("{} ms", json::text(&r, "/latency_ms"))),
        ("Bid", json::int(&r, "/bid_micros").map(|_| json::money(&r, "/bid_micros")).unwrap_or_default()),
        ("Number", json::text(&r, "/dial_to")),
        ("Expires", json::time(&r, "/expires_at")),
        ("Minimum duration", json::int(&r, "/min_duration_secs").map(|s| format::secs(i32::try_from(s).ok())).unwrap_or_default()),
    ];
    view! {
        <div id="test-result" data-outcome=outcome>
            {facts("test-facts", String::new(), items)}
            <h3>"Request sent"</h3>
            <pre class="cb-twiml" id="test-request">{sent}</pre>
            {(!answer.is_empty()).then(|| view! { <h3>"Answer"</h3> <pre class="cb-twiml" id="test-answer">{answer}</pre> })}
        </div>
    }
}
