//! Bidders: a campaign's external buyers that bid for each call in real time. The list per
//! campaign, one form for creating and editing (the ping's URL, method, headers and body template,
//! where the bid sits in the answer), delete with a confirmation, and a test ping that shows the
//! request sent and the answer as the routing reads it. The server checks every field; its 422
//! messages show at the fields.
//!
//! Header values are secrets: the API shows them masked (`••••abcd`), so the form never sends a
//! shown value back: only values typed here are sent, and a header marked for removal as `null`.
//!
//! Written as HTML text ([`crate::markup`]) over JSON values ([`crate::json`]) for the first
//! load's budget: the forms are read back whole by [`markup::form_json`].
use std::cell::Cell;
use std::fmt::Write;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use serde_json::Value;

use crate::api;
use crate::json;
use crate::markup::{self, esc, Messages};
use crate::pages::route_id;
use crate::session;

thread_local! {
    /// The campaign last chosen in the list: the list shows it again, a new bidder starts on it.
    static CHOSEN: Cell<Option<i64>> = const { Cell::new(None) };
}

/// The form's fields: label, the API's field, kind (see [`markup::field`]), placeholder.
const FORM: [(&str, &str, &str, &str); 13] = [
    ("Name", "name", "text", "Acme RTB"),
    ("Status", "status", "select:active=active|paused=paused", ""),
    ("Method", "method", "select:POST=POST|GET=GET", ""),
    ("Ping URL", "url", "url", "https://rtb.example.com/bid"),
    ("Timeout (ms)", "timeout_ms", "number", "1000"),
    ("Body template", "body_template", "area", ""),
    ("Bid amount", "mapping.amount", "text", "/bid"),
    ("Number to dial", "mapping.number", "text", "/phone"),
    ("Accepted flag (optional)", "mapping.accept", "text?", "/accepted"),
    ("Expiry (optional)", "mapping.expires", "text?", "/expires_in"),
    ("Minimum duration (optional)", "mapping.min_duration", "text?", "/duration"),
    ("Allow private addresses", "allow_private", "check", ""),
    ("Expose the caller's number ({caller})", "expose_caller", "check", ""),
];

const NEW_BIDDER: &str = r#"{"status": "active", "method": "POST", "timeout_ms": 1000, "mapping": {"amount": "/bid", "number": "/phone"}}"#;

const TEMPLATE_HELP: &str = r#"<p class="cb-help cb-wide" id="bidder-placeholders">Placeholders: {call_id} {caller} {caller_area_code} {state} {zip} {city} {publisher_id} {campaign_id} {tag:NAME}</p><h2 class="cb-wide">The bid in the answer (JSON Pointers)</h2>"#;

const HEADERS_HELP: &str = r#"<h2 class="cb-wide">Headers (saved values masked)</h2>"#;

const TEST_FORM: &str =
    r#"<section id="bidder-test"><h2>Test ping</h2><form class="cb-form" id="test-form" data-act="test" novalidate><div class="cb-row">"#;

const LOADING: &str = r#"<p class="cb-loading" role="status">Loading…</p>"#;

/// The campaigns as select options.
async fn campaigns() -> Vec<(String, String)> {
    crate::components::Names::load().await.campaigns.into_iter().map(|(id, name)| (id.to_string(), name)).collect()
}

fn alert(message: &str) -> String {
    format!(r#"<p class="cb-error" role="alert">{}</p>"#, esc(message))
}

/// The list (`/bidders`) or one bidder (`/bidders/:id`, `/bidders/new`): one component for both
/// routes, so that the router holds one view for them.
#[component]
pub fn Bidders() -> impl IntoView {
    let one = leptos_router::hooks::use_params_map().with_untracked(|p| p.get("id").is_some());
    if one {
        bidder_page()
    } else {
        list_page()
    }
}

fn list_page() -> AnyView {
    let html = RwSignal::new(LOADING.to_owned());
    let load = move |chosen: Option<i64>| {
        spawn_local(async move {
            let options = campaigns().await;
            // The campaign chosen, else the first.
            let id = chosen.or_else(|| options.first().and_then(|(id, _)| id.parse().ok()));
            CHOSEN.set(id);
            let mut out = String::from(r#"<div class="cb-title-row"><h1>Bidders</h1>"#);
            if session::can_write() {
                out.push_str(r#"<a class="cb-button" href="/bidders/new">New bidder</a>"#);
            }
            out.push_str(r#"</div><div class="cb-field cb-search"><label for="f-campaign_id">Campaign</label><select id="f-campaign_id" data-act="campaign">"#);
            markup::options(&mut out, options, &id.map(|i| i.to_string()).unwrap_or_default());
            out.push_str("</select></div>");
            let list = match id {
                Some(id) => api::bidders(id).await,
                None => Ok(Value::Null),
            };
            out.push_str(&match list.map(|l| json::items(&l)) {
                Err(e) => alert(&e.message()),
                Ok(l) if l.is_empty() => r#"<p class="cb-empty">No bidders on this campaign yet.</p>"#.to_owned(),
                Ok(l) => {
                    let rows: Vec<_> = l
                        .iter()
                        .map(|b| {
                            let t = |f: &str| esc(&json::text(b, f));
                            let link = format!(r#"<a href="/bidders/{}">{}</a>"#, t("/id"), t("/name"));
                            (
                                json::text(b, "/name"),
                                vec![
                                    link,
                                    t("/status"),
                                    format!("<code>{} {}</code>", t("/method"), t("/url")),
                                    format!("{} ms", t("/timeout_ms")),
                                ],
                            )
                        })
                        .collect();
                    markup::table("bidders-table", &["Name", "Status", "Ping", "Timeout"], &rows)
                }
            });
            html.try_set(out);
        });
    };
    load(CHOSEN.get());
    markup::page("page-bidders", html, Rc::new(move |_| load(markup::value("f-campaign_id").parse().ok())))
}

/// The bidder's page: the bidder as saved (`null`: a new one), the values shown in the form (the
/// saved ones, or those last sent), the server's messages, the campaigns a new bidder may join,
/// the delete confirmation and the last test ping.
#[derive(Default)]
struct Page {
    saved: Value,
    shown: Value,
    errors: Messages,
    notice: String,
    campaigns: Vec<(String, String)>,
    confirming: bool,
    test_form: Value,
    test: String,
}

impl Page {
    fn html(&self) -> String {
        let id = json::int(&self.saved, "/id");
        let title = if id.is_some() { format!("Bidder: {}", json::text(&self.saved, "/name")) } else { "New bidder".into() };
        let writable = if session::can_write() { "" } else { " disabled" };
        let mut out = format!(
            r#"<p><a href="/bidders">← Bidders</a></p><h1>{}</h1><form class="cb-form" id="bidder-form" data-act="save" novalidate><fieldset{writable}><div class="cb-grid">"#,
            esc(&title)
        );
        if id.is_none() {
            let chosen = json::int(&self.shown, "/campaign_id").or(CHOSEN.get()).map(|c| c.to_string()).unwrap_or_default();
            out.push_str(r#"<div class="cb-field"><label for="f-campaign_id">Campaign</label><select id="f-campaign_id" name="campaign_id" data-number>"#);
            markup::options(&mut out, self.campaigns.clone(), &chosen);
            out.push_str("</select></div>");
        }
        for (label, f, kind, hint) in FORM {
            match f {
                "mapping.amount" => out.push_str(TEMPLATE_HELP),
                "allow_private" => self.headers(&mut out),
                _ => {}
            }
            let v = json::text(&self.shown, &format!("/{}", f.replace('.', "/")));
            markup::field(&mut out, label, f, kind, if v == "false" { "" } else { &v }, hint, &self.errors);
        }
        out.push_str("</div>");
        out.push_str(&self.notice);
        let _ = write!(out, r#"<button type="submit">{} bidder</button> "#, if id.is_some() { "Save" } else { "Create" });
        if id.is_some() {
            out.push_str(if self.confirming {
                r#"<button type="button" class="cb-danger" data-act="delete">Confirm deleting this bidder</button> <button type="button" class="cb-secondary" data-act="keep">Keep</button>"#
            } else {
                r#"<button type="button" class="cb-secondary" data-act="confirm">Delete bidder</button>"#
            });
            out.push_str("</fieldset></form>");
            out.push_str(TEST_FORM);
            for (label, f, hint) in [("Caller", "caller", "+12015550123"), ("State", "state", "NJ"), ("ZIP", "zip", "07030")] {
                let v = esc(&json::text(&self.test_form, &format!("/{f}")));
                let _ = write!(
                    out,
                    r#"<div class="cb-field"><label for="test-{f}">{label}</label><input id="test-{f}" name="{f}" placeholder="{hint}" value="{v}" data-opt></div>"#
                );
            }
            out.push_str(r#"</div><button type="submit">Send test ping</button></form>"#);
            out.push_str(&self.test);
            out.push_str("</section>");
        } else {
            out.push_str("</fieldset></form>");
        }
        out
    }

    /// The saved headers (masked; a new value, or marked for removal) and new ones, a line each.
    fn headers(&self, out: &mut String) {
        out.push_str(HEADERS_HELP);
        for (i, (name, masked)) in json::at(&self.saved, "/headers").as_object().into_iter().flatten().enumerate() {
            let typed = self.shown.pointer(&format!("/headers/{name}"));
            let removed = if typed == Some(&Value::Null) { " checked" } else { "" };
            let _ = write!(
                out,
                r#"<div class="cb-row cb-wide header-row"><code>{n}: {m}</code><div class="cb-field"><label for="header-set-{i}">New value</label><input id="header-set-{i}" name="headers.{n}" autocomplete="off" value="{t}" data-opt></div><div class="cb-field cb-check"><input type="checkbox" id="header-del-{i}" name="headers.{n}" value="null"{removed}><label for="header-del-{i}">Remove {n}</label></div></div>"#,
                n = esc(name),
                m = esc(masked.as_str().unwrap_or_default()),
                t = esc(typed.and_then(Value::as_str).unwrap_or_default()),
            );
        }
        let error = self
            .errors
            .iter()
            .find(|(k, _)| k.starts_with("headers"))
            .map(|(k, m)| format!(r#"<span class="cb-field-error" id="err-headers">{}</span>"#, esc(&format!("{k}: {m}"))))
            .unwrap_or_default();
        let _ = write!(
            out,
            r#"<div class="cb-field cb-wide"><label for="f-new_headers">New headers, one a line: <code>Name: value</code></label><textarea id="f-new_headers" name="new_headers" rows="2" autocomplete="off" data-opt>{}</textarea>{error}</div>"#,
            esc(&json::text(&self.shown, "/new_headers"))
        );
    }
}

/// A saved bidder as the form first shows it: its header values are masked, so none is put in
/// an input (and so sent back).
fn editable(saved: &Value) -> Value {
    let mut shown = saved.clone();
    shown["headers"] = Value::Null;
    shown
}

/// The form as sent: its `new_headers` lines joined to `headers` (a line without `:` is sent as a
/// header without a value, for the server to refuse; `new_headers` itself is not a field the
/// server reads).
fn bidder_body(mut form: Value) -> Value {
    let lines = json::text(&form, "/new_headers");
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        form["headers"][name.trim()] = value.trim().into();
    }
    form
}

fn bidder_page() -> AnyView {
    let id = route_id().get_untracked();
    let html = RwSignal::new(LOADING.to_owned());
    let page = StoredValue::new_local(Page::default());
    let navigate = StoredValue::new_local(use_navigate());
    let draw = move || html.set(page.with_value(Page::html));
    spawn_local(async move {
        let saved = match id {
            Some(id) => api::bidder(id).await,
            None => Ok(Value::Null),
        };
        match saved {
            Ok(saved) => {
                let campaigns = if saved.is_null() { campaigns().await } else { vec![] };
                let shown = if saved.is_null() { serde_json::from_str(NEW_BIDDER).unwrap_or_default() } else { editable(&saved) };
                page.set_value(Page { saved, shown, campaigns, ..Page::default() });
                draw();
            }
            Err(e) => html.set(alert(&e.message())),
        }
    });
    let act = move |a: String| {
        let id = page.with_value(|p| json::int(&p.saved, "/id"));
        // What is typed stays when the page is drawn again.
        let (form, test_form) = (markup::form_json("bidder-form"), markup::form_json("test-form"));
        page.update_value(|p| {
            p.shown = form.clone();
            p.test_form = test_form.clone();
        });
        match a.as_str() {
            "confirm" | "keep" => page.update_value(|p| p.confirming = a == "confirm"),
            "delete" => spawn_local(async move {
                match api::delete_bidder(id.unwrap_or_default()).await {
                    Ok(()) => navigate.with_value(|n| n("/bidders", NavigateOptions::default())),
                    Err(e) => {
                        page.update_value(|p| p.notice = alert(&e.message()));
                        draw();
                    }
                }
            }),
            "save" => {
                spawn_local(async move {
                    let res = api::save_bidder(id, &bidder_body(form)).await;
                    match res {
                        // To the list, where the new bidder is (its page is drawn for a new bidder).
                        Ok(saved) if id.is_none() => {
                            CHOSEN.set(json::int(&saved, "/campaign_id"));
                            navigate.with_value(|n| n("/bidders", NavigateOptions::default()));
                        }
                        Ok(saved) => page.update_value(|p| {
                            p.notice =
                                format!(r#"<p class="cb-saved" role="status">Bidder “{}” saved.</p>"#, esc(&json::text(&saved, "/name")));
                            p.errors.clear();
                            p.shown = editable(&saved);
                            p.saved = saved;
                        }),
                        Err(e) => page.update_value(|p| {
                            p.errors = e.fields();
                            p.notice = alert(&if p.errors.is_empty() {
                                e.message()
                            } else {
                                format!("{} — see the highlighted fields.", e.message())
                            });
                        }),
                    }
                    draw();
                });
            }
            _ => {
                spawn_local(async move {
                    let res = api::test_bidder(id.unwrap_or_default(), &test_form).await;
                    page.update_value(|p| p.test = res.map_or_else(|e| alert(&refusal(&e)), |r| test_result(&r)));
                    draw();
                });
            }
        }
        draw();
    };
    markup::page("page-bidder", html, Rc::new(act))
}

/// What the API refused: its message, with every field's (`caller: must be …`).
pub fn refusal(e: &api::ApiError) -> String {
    let fields: Vec<_> = e.fields().into_iter().map(|(k, m)| format!("{k}: {m}")).collect();
    if fields.is_empty() {
        e.message()
    } else {
        format!("{} — {}", e.message(), fields.join("; "))
    }
}

fn test_result(r: &Value) -> String {
    let t = |f: &str| json::text(r, f);
    let mut headers = String::new();
    for (k, v) in json::at(r, "/headers").as_object().into_iter().flatten() {
        let _ = writeln!(headers, "{k}: {}", v.as_str().unwrap_or_default());
    }
    let sent = format!("{} {}\n{headers}\n{}", t("/method"), t("/url"), t("/body"));
    let outcome = t("/outcome");
    let items = [
        ("Outcome", outcome.replace('_', " ")),
        ("Why", t("/detail")),
        ("Answer", json::int(r, "/status").map_or_else(|| "none".into(), |s| format!("HTTP {s}"))),
        ("Latency", format!("{} ms", t("/latency_ms"))),
        ("Bid", json::int(r, "/bid_micros").map(|_| json::money(r, "/bid_micros")).unwrap_or_default()),
        ("Number", t("/dial_to")),
        ("Expires", t("/expires_at")),
        ("Minimum duration", json::int(r, "/min_duration_secs").map(|s| format!("{s} s")).unwrap_or_default()),
    ];
    format!(
        r#"<div id="test-result" data-outcome="{}">{}<h3>Request sent</h3><pre class="cb-twiml" id="test-request">{}</pre><h3>Answer</h3><pre class="cb-twiml" id="test-answer">{}</pre></div>"#,
        esc(&outcome),
        markup::facts("test-facts", &outcome, &items),
        esc(&sent),
        esc(&t("/answer"))
    )
}
