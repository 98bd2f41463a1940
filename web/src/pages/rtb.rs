//! The publisher's "RTB ping" page: asks whether a caller would be bought now and at what payout,
//! before the call is transferred (`POST /api/rtb/ping` with the signed-in session), and explains
//! how to ask the same from the publisher's own systems with an API key. Written as HTML text
//! ([`crate::markup`]) for the first load's budget; the server checks the fields.
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::json;
use crate::markup::{self, esc};
use crate::pages::bidders::refusal;

const PAGE: &str = r#"<h1>RTB ping</h1>
<p>Would a call be bought now, for what payout?</p>
<form class="cb-form" id="rtb-form" data-act="ping" novalidate><div class="cb-row">"#;

const API_HELP: &str = r#"<section id="rtb-api"><h2>From your systems</h2><p>The same with an API key: <code>POST /api/rtb/ping</code>, header <code>Authorization: Bearer cbk_…</code>, body <code>{"campaign_id": 1, "caller": "+12015550123", "state": "NJ", "zip": "07030"}</code>. The answer: <code>accepted</code>, <code>payout</code>, <code>number</code>, <code>expires_at</code>, <code>min_duration_secs</code>, or a <code>reason</code> (no_capacity, blocked, duplicate, filtered, no_bid, closed).</p></section>"#;

/// The page with the values typed, and below the form a message or the quote.
fn draw(form: &api::Json, below: &str) -> String {
    let mut out = PAGE.to_owned();
    for (label, f, kind, hint) in [
        ("Campaign ID", "campaign_id", "number", "1"),
        ("Caller", "caller", "tel", "+12015550123"),
        ("State", "state", "text?", "NJ"),
        ("ZIP", "zip", "text?", "07030"),
    ] {
        markup::field(&mut out, label, f, kind, &json::text(form, &format!("/{f}")), hint, &markup::Messages::new());
    }
    out + r#"</div><button type="submit">Ask for a quote</button></form>"# + below + API_HELP
}

#[component]
pub fn Rtb() -> impl IntoView {
    let html = RwSignal::new(draw(&api::Json::Null, ""));
    let act = move |_: String| {
        let form = markup::form_json("rtb-form");
        spawn_local(async move {
            let below = match api::rtb_ping(&form).await {
                Ok(q) => quote(&q),
                Err(e) => format!(r#"<p class="cb-error" role="alert">{}</p>"#, esc(&refusal(&e))),
            };
            html.set(draw(&form, &below));
        });
    };
    markup::page("page-rtb", html, Rc::new(act))
}

fn quote(q: &api::Json) -> String {
    let accepted = json::flag(q, "/accepted");
    let answer = if accepted { "accepted".to_owned() } else { json::text(q, "/reason") };
    let items = [
        ("Answer", if accepted { answer.clone() } else { format!("refused: {}", answer.replace('_', " ")) }),
        (
            "Payout",
            json::int(q, "/payout_micros").map(|m| crate::format::money(Some(m), Some(&json::text(q, "/currency")))).unwrap_or_default(),
        ),
        ("Number", json::text(q, "/number")),
        ("Expires", json::text(q, "/expires_at")),
        ("Minimum duration", json::int(q, "/min_duration_secs").map(|s| format!("{s} s")).unwrap_or_default()),
        ("Ping ID", json::text(q, "/ping_id")),
    ];
    markup::facts("rtb-quote", &answer, &items)
}
