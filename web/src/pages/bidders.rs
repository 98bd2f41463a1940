//! Bidders: a campaign's external buyers that bid for each call in real time. The list per
//! campaign, one form for creating and editing (the ping's URL, method, headers and body template,
//! where the bid sits in the answer), delete with a confirmation, and a test ping that shows the
//! request sent and the answer as the routing reads it.
//!
//! Header values are secrets: the API shows them masked (`••••abcd`), so the form never sends a
//! shown value back: only the values typed here are sent, and a removed header as `null`.
//!
//! Kept small for the first load's budget: inputs go through the IVR editor's [`input`] and
//! [`choice`], tables and facts through [`text_table`] and [`facts`], help text is static HTML.
use std::cell::Cell;
use std::collections::BTreeMap;

use callbroker_wire::bidding::*;
use callbroker_wire::{CampaignFilter, Page, Status};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::*;
use crate::format;
use crate::pages::campaign_ivr::{choice, input, Opts};
use crate::pages::route_id;
use crate::session;

thread_local! {
    /// The campaign last chosen in the list: the list shows it again, a new bidder starts on it.
    static CHOSEN: Cell<Option<i64>> = const { Cell::new(None) };
}

const METHODS: Opts = &[("POST", "POST (the body as JSON)"), ("GET", "GET (no body)")];

const TEMPLATE_HELP: &str = "Placeholders: <code>{call_id}</code> <code>{caller}</code> <code>{caller_area_code}</code> <code>{state}</code> <code>{zip}</code> <code>{city}</code> <code>{publisher_id}</code> <code>{campaign_id}</code> <code>{tag:NAME}</code> (in the URL too). <code>{caller}</code>, the whole number, only when the bidder may see it (below); a POST body must be JSON once filled.";

const MAPPING_HELP: &str = "Where each part of the bid is in the bidder's JSON answer, as a JSON Pointer (<code>/bid</code>, <code>/result/amount</code>): the amount in currency units, the number to dial (E.164 or <code>sip:</code>); optional: a true/false acceptance flag, the expiry (seconds or a time), the seconds the call must last to be paid.";

fn campaigns_of(list: Option<api::ApiResult<Page<callbroker_wire::Campaign>>>) -> Vec<(String, String)> {
    list.and_then(Result::ok).map(|p| p.items.into_iter().map(|c| (c.id.to_string(), c.name)).collect()).unwrap_or_default()
}

#[component]
pub fn Bidders() -> impl IntoView {
    let campaigns = fetch(|| async { api::campaigns(api::ALL, &CampaignFilter::default()).await });
    let campaign = RwSignal::new(CHOSEN.get().map(|c| c.to_string()).unwrap_or_default());
    let list = fetch(move || {
        // The campaign chosen, else the first (the one the select shows first).
        let id = campaign.get().parse().ok().or_else(|| campaigns.with(|c| campaigns_of(c.clone()).first().and_then(|(id, _)| id.parse().ok())));
        CHOSEN.set(id);
        async move {
            match id {
                Some(id) => api::bidders(id).await.map(Some),
                None => Ok(None),
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
            <SelectField label="Campaign" name="campaign_id" value=campaign errors=form.errors options=Signal::derive(move || campaigns_of(campaigns.get()))/>
            {move || show(list.get(), |data| match data {
                None => view! { <Empty text="Create a campaign first: bidders belong to one."/> }.into_any(),
                Some(p) if p.items.is_empty() => view! { <Empty text="No bidders on this campaign yet."/> }.into_any(),
                Some(p) => text_table(
                    "bidders-table",
                    &["Name", "Status", "Ping", "Timeout", "Bid at"],
                    p.items
                        .into_iter()
                        .map(|b| {
                            let cells = vec![b.name, b.status.as_str().to_owned(), format!("{} {}", b.method.as_str(), b.url), format!("{} ms", b.timeout_ms), b.mapping.amount];
                            (Some(format!("/bidders/{}", b.id)), cells)
                        })
                        .collect(),
                ),
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
                Some(id) => api::bidder(id).await.map(Some),
                None => Ok(None),
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

fn bidder_form(bidder: Option<Bidder>) -> AnyView {
    let b = bidder.as_ref();
    let id = b.map(|b| b.id);
    let s = |v: String| RwSignal::new(v);
    let campaign_id = s(b.map(|b| b.campaign_id).or(CHOSEN.get()).map(|c| c.to_string()).unwrap_or_default());
    let name = s(b.map(|b| b.name.clone()).unwrap_or_default());
    let status = s(b.map_or(Status::Active, |b| b.status).as_str().to_owned());
    let url = s(b.map(|b| b.url.clone()).unwrap_or_default());
    let method = s(b.map_or(PingMethod::Post, |b| b.method).as_str().to_owned());
    let body = s(b.map(|b| b.body_template.clone()).unwrap_or_else(|| r#"{"call_id": "{call_id}", "area_code": "{caller_area_code}", "state": "{state}"}"#.into()));
    let timeout = s(b.map_or(1000, |b| b.timeout_ms).to_string());
    let m = b.map(|b| b.mapping.clone()).unwrap_or_default();
    let mapping = [
        ("Bid amount", "amount", s(m.amount), "/bid"),
        ("Number to dial", "number", s(m.number), "/phone"),
        ("Accepted flag", "accept", s(m.accept.unwrap_or_default()), "/accepted (optional)"),
        ("Expiry", "expires", s(m.expires.unwrap_or_default()), "/expires_in (optional)"),
        ("Minimum duration", "min_duration", s(m.min_duration.unwrap_or_default()), "/duration (optional)"),
    ];
    let allow_private = RwSignal::new(b.is_some_and(|b| b.allow_private));
    let expose_caller = RwSignal::new(b.is_some_and(|b| b.expose_caller));
    let next = StoredValue::new(0usize);
    let row = move |n: &str, masked: Option<&String>| {
        let key = next.get_value();
        next.set_value(key + 1);
        let saved = masked.map(|m| StoredValue::new(format!("{n}: {m}")));
        HeaderRow { key, name: RwSignal::new(n.to_owned()), value: RwSignal::new(String::new()), saved }
    };
    let saved_rows = move |h: &BTreeMap<String, String>| h.iter().map(|(n, v)| row(n, Some(v))).collect::<Vec<_>>();
    let headers = RwSignal::new(b.map(|b| saved_rows(&b.headers)).unwrap_or_default());
    // Saved headers removed in the form: sent as `null`.
    let removed = RwSignal::new(Vec::<String>::new());
    // The campaign is chosen when the bidder is created; it stays with it.
    let campaigns = fetch(move || async move {
        match id {
            None => api::campaigns(api::ALL, &CampaignFilter::default()).await,
            Some(_) => Ok(Page { items: vec![], total: 0, page: 1, per_page: 1 }),
        }
    });
    let form = FormState::new();
    let errors = form.errors;
    let navigate = StoredValue::new_local(use_navigate());
    let confirming = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let campaign_v = campaign_id.get_untracked().parse::<i64>().unwrap_or_default();
        let name = c.required("name", &name.get_untracked());
        let url = c.required("url", &url.get_untracked());
        let timeout_ms = c.int("timeout_ms", &timeout.get_untracked(), 1, 60_000);
        let [amount, number, accept, expires, min_duration] = mapping.map(|(_, f, v, _)| (f, v.get_untracked()));
        let mapping = BidMapping {
            amount: c.required("mapping.amount", &amount.1),
            number: c.required("mapping.number", &number.1),
            accept: opt_text(&accept.1),
            expires: opt_text(&expires.1),
            min_duration: opt_text(&min_duration.1),
        };
        // Only what was typed: a new header, or a new value for a saved one.
        let mut typed = BTreeMap::new();
        for h in headers.get_untracked() {
            let (n, v) = (h.name.get_untracked().trim().to_owned(), h.value.get_untracked());
            if v.trim().is_empty() {
                if h.saved.is_none() && !n.is_empty() {
                    c.fail("headers", "a header needs a value");
                }
            } else if n.is_empty() {
                c.fail("headers", "a header needs a name");
            } else {
                typed.insert(n, v);
            }
        }
        let (status, method) = (parse_status(&status.get_untracked()), PingMethod::parse(&method.get_untracked()).unwrap_or_default());
        let (allow_private, expose_caller, body_template) = (allow_private.get_untracked(), expose_caller.get_untracked(), body.get_untracked());
        if !form.begin(c.into_errors()) {
            return;
        }
        spawn_local(async move {
            let res = match id {
                Some(id) => {
                    let mut changes: BTreeMap<String, Option<String>> = removed.get_untracked().into_iter().map(|n| (n, None)).collect();
                    changes.extend(typed.into_iter().map(|(n, v)| (n, Some(v))));
                    let patch = BidderPatch {
                        name: Some(name),
                        status: Some(status),
                        url: Some(url),
                        method: Some(method),
                        headers: (!changes.is_empty()).then_some(changes),
                        body_template: Some(body_template),
                        timeout_ms: Some(timeout_ms),
                        mapping: Some(mapping),
                        allow_private: Some(allow_private),
                        expose_caller: Some(expose_caller),
                    };
                    api::update_bidder(id, &patch).await
                }
                None => {
                    let new = NewBidder {
                        campaign_id: campaign_v,
                        name,
                        status: Some(status),
                        url,
                        method: Some(method),
                        headers: Some(typed),
                        body_template: Some(body_template),
                        timeout_ms: Some(timeout_ms),
                        mapping,
                        allow_private: Some(allow_private),
                        expose_caller: Some(expose_caller),
                    };
                    api::create_bidder(&new).await
                }
            };
            match res {
                Ok(saved) => {
                    form.done(format!("Bidder “{}” saved.", saved.name));
                    // The saved headers, masked, replace those typed.
                    removed.set(vec![]);
                    headers.set(saved_rows(&saved.headers));
                    if id.is_none() {
                        navigate.with_value(|n| n(&format!("/bidders/{}", saved.id), Default::default()));
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
    let key = |f: &str| vec![f.to_owned()];
    let title = b.map(|b| format!("Bidder: {}", b.name)).unwrap_or_else(|| "New bidder".into());
    view! {
        <h1>{title}</h1>
        <form class="cb-form" on:submit=on_submit novalidate=true id="bidder-form">
            <fieldset disabled=!session::can_write()>
                <div class="cb-row">
                    {id.is_none().then(|| view! {
                        <SelectField label="Campaign" name="campaign_id" value=campaign_id errors=errors options=Signal::derive(move || campaigns_of(campaigns.get()))/>
                    })}
                    {input("Name", "bidder-name".into(), key("name"), name, errors, "text", "Acme RTB", None)}
                    {choice("Status", "bidder-status".into(), status, &[("active", "Active"), ("paused", "Paused")])}
                    {choice("Method", "bidder-method".into(), method, METHODS)}
                    {input("Timeout (ms)", "bidder-timeout".into(), key("timeout_ms"), timeout, errors, "number", "1000", None)}
                </div>
                {input("Ping URL", "bidder-url".into(), key("url"), url, errors, "url", "https://rtb.example.com/bid?area={caller_area_code}", None)}
                <TextArea label="Body template" name="body_template" value=body errors=errors/>
                <p class="cb-help" id="bidder-placeholders" inner_html=TEMPLATE_HELP></p>
                <fieldset class="cb-subform" id="bidder-headers">
                    <legend>"Headers"</legend>
                    <p class="cb-help">"Sent with every ping (e.g. Authorization). Saved values are secret and shown masked: type a new value to replace one."</p>
                    {move || headers.get().into_iter().enumerate().map(|(i, h)| view! {
                        <div class="cb-row header-row" id=format!("header-{i}")>
                            {match h.saved {
                                Some(saved) => view! { <code class="header-saved">{saved.get_value()}</code> }.into_any(),
                                None => input("Header", format!("header-name-{i}"), vec![format!("headers[{i}]")], h.name, errors, "text", "X-Api-Key", None),
                            }}
                            {input(if h.saved.is_some() { "New value" } else { "Value" }, format!("header-value-{i}"), vec![format!("headers[{i}]")], h.value, errors, "text", "", None)}
                            <button type="button" class="cb-secondary" aria-label=format!("Remove header {}", h.name.get_untracked())
                                on:click=move |_| {
                                    if h.saved.is_some() {
                                        removed.update(|r| r.push(h.name.get_untracked()));
                                    }
                                    headers.update(|v| v.retain(|x| x.key != h.key));
                                }>"Remove"</button>
                        </div>
                    }).collect_view()}
                    {move || error_at(errors, "headers").map(|m| view! { <span class="cb-field-error" id="err-headers">{m}</span> })}
                    <button type="button" class="cb-secondary" id="add-header" on:click=move |_| headers.update(|v| v.push(row("", None)))>"Add header"</button>
                </fieldset>
                <fieldset class="cb-subform" id="bidder-mapping">
                    <legend>"The bid in the answer"</legend>
                    <p class="cb-help" inner_html=MAPPING_HELP></p>
                    <div class="cb-row">
                        {mapping.into_iter().map(|(label, f, v, hint)| input(label, format!("mapping-{f}"), vec![format!("mapping.{f}")], v, errors, "text", hint, None)).collect_view()}
                    </div>
                </fieldset>
                <CheckField label="Allow private addresses (pings to local or internal hosts)" name="allow_private" value=allow_private/>
                <CheckField label="Show the caller's whole number ({caller}) before the bidder wins" name="expose_caller" value=expose_caller/>
                <FormStatus state=form/>
                <div class="cb-row">
                    <button type="submit" disabled=move || form.busy.get()>{if id.is_some() { "Save bidder" } else { "Create bidder" }}</button>
                    {id.map(|_| move || if confirming.get() {
                        view! {
                            <button type="button" class="cb-danger" on:click=remove>"Confirm deleting this bidder"</button>
                            <button type="button" class="cb-secondary" on:click=move |_| confirming.set(false)>"Keep"</button>
                        }.into_any()
                    } else {
                        view! { <button type="button" class="cb-secondary" on:click=move |_| confirming.set(true)>"Delete bidder"</button> }.into_any()
                    })}
                </div>
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
    let result = RwSignal::new(None::<TestPingResult>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let [caller, state, zip] = fields.map(|f| opt_text(&f.4.get_untracked()));
        if let Some(n) = &caller {
            c.e164("caller", n);
        }
        let state = state.map(|s| s.to_uppercase());
        if let Some(s) = &state {
            c.states("state", s);
        }
        if !form.begin(c.into_errors()) {
            return;
        }
        result.set(None);
        let req = TestPingRequest { caller, state, zip, tags: None };
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
            <p class="cb-help">"Pings the bidder as saved, with these call facts (samples stand in for blanks). Nothing is dialled."</p>
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

fn test_result(r: TestPingResult) -> impl IntoView {
    let headers: String = r.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    let sent = format!("{} {}\n{headers}{}", r.method.as_str(), r.url, r.body.map(|b| format!("\n{b}")).unwrap_or_default());
    let outcome = r.outcome.as_str();
    let items = vec![
        ("Outcome", outcome.replace('_', " ")),
        ("Why", r.detail.unwrap_or_default()),
        ("Answer", r.status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| "none".into())),
        ("Latency", format!("{} ms", r.latency_ms)),
        ("Bid", r.bid_micros.map(|m| format::money(Some(m), None)).unwrap_or_default()),
        ("Number", r.dial_to.unwrap_or_default()),
        ("Expires", r.expires_at.map(format::time).unwrap_or_default()),
        ("Minimum duration", r.min_duration_secs.map(|s| format::secs(Some(s))).unwrap_or_default()),
    ];
    view! {
        <div id="test-result" data-outcome=outcome>
            {facts("test-facts", outcome.to_owned(), items)}
            <h3>"Request sent"</h3>
            <pre class="cb-twiml" id="test-request">{sent}</pre>
            {r.answer.map(|a| view! { <h3>"Answer"</h3> <pre class="cb-twiml" id="test-answer">{a}</pre> })}
        </div>
    }
}
