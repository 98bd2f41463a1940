//! The publisher's "RTB ping" page: asks whether a caller would be bought now and at what payout,
//! before the call is transferred (`POST /api/rtb/ping` with the signed-in session), and explains
//! how to ask the same from the publisher's own systems with an API key. Written as HTML text
//! ([`crate::markup`]) for the first load's budget.
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::*;
use crate::json;
use crate::markup;
use crate::pages::bidders::{begin, failed};

const FORM: &str = r#"<div class="cb-row"><div class="cb-field"><label for="rtb-campaign">Campaign ID</label><input id="rtb-campaign" type="number" placeholder="1"></div><div class="cb-field"><label for="rtb-caller">Caller</label><input id="rtb-caller" type="tel" placeholder="+12015550123"></div><div class="cb-field"><label for="rtb-state">State</label><input id="rtb-state" placeholder="NJ"></div><div class="cb-field"><label for="rtb-zip">ZIP</label><input id="rtb-zip" placeholder="07030"></div></div>"#;

const API_HELP: &str = r#"<h2>From your systems</h2>
<p>Ask the same from your systems with one of your API keys (made on your publisher account; its secret is shown once) as a bearer token:</p>
<pre class="cb-twiml">POST /api/rtb/ping
Authorization: Bearer cbk_…
Content-Type: application/json

{"campaign_id": 1, "caller": "+12015550123", "state": "NJ", "zip": "07030", "tags": {"insured": "yes"}}</pre>
<p>Accepted: <code>"accepted": true</code>, the <code>payout</code> (and <code>payout_micros</code>, in millionths) in <code>currency</code>, the <code>number</code> to send the call to before <code>expires_at</code>, and <code>min_duration_secs</code>, the seconds the call must last to be paid. Refused: <code>"accepted": false</code> and a <code>reason</code>: <code>no_capacity</code>, <code>blocked</code>, <code>duplicate</code>, <code>filtered</code>, <code>no_bid</code> or <code>closed</code> (the campaign is paused, takes no pings, or has no number of yours). Too many pings in a minute: 429, retry after <code>Retry-After</code> seconds.</p>"#;

#[component]
pub fn Rtb() -> impl IntoView {
    let form = FormState::new();
    let quote = RwSignal::new(String::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let [campaign, caller, state, zip] = ["rtb-campaign", "rtb-caller", "rtb-state", "rtb-zip"].map(markup::value);
        let campaign_id = c.int("campaign_id", &campaign, 1, i32::MAX);
        let caller = c.e164("caller", &caller);
        let state = state.trim().to_uppercase();
        if !state.is_empty() {
            c.states("state", &state);
        }
        if !begin(form, c) {
            return;
        }
        quote.set(String::new());
        let req = json::object(vec![("campaign_id", campaign_id.into()), ("caller", caller.into()), ("state", json::opt(&state)), ("zip", json::opt(&zip))]);
        spawn_local(async move {
            match api::rtb_ping(&req).await {
                Ok(q) => {
                    form.done("");
                    form.saved.set(None);
                    quote.set(quote_html(&q));
                }
                Err(e) => failed(form, e),
            }
        });
    };
    view! {
        <section id="page-rtb">
            <h1>"RTB ping"</h1>
            <p>"Before you transfer a caller, ask whether the call would be bought now and at what payout. An accepted quote names the number to send the call to and holds until it expires."</p>
            <form class="cb-form" on:submit=on_submit novalidate=true id="rtb-form">
                <div inner_html=FORM></div>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>"Ask for a quote"</button>
            </form>
            <div inner_html=move || quote.get()></div>
            <section id="rtb-api" inner_html=API_HELP></section>
        </section>
    }
}

fn quote_html(q: &api::Json) -> String {
    let accepted = json::flag(q, "/accepted");
    let answer = if accepted { "accepted".to_owned() } else { json::text(q, "/reason") };
    let items = [
        ("Answer", if accepted { answer.clone() } else { format!("refused: {}", answer.replace('_', " ")) }),
        ("Payout", json::int(q, "/payout_micros").map(|m| crate::format::money(Some(m), Some(&json::text(q, "/currency")))).unwrap_or_default()),
        ("Send the call to", json::text(q, "/number")),
        ("Quote expires", json::time(q, "/expires_at")),
        ("Paid after", json::int(q, "/min_duration_secs").map(|s| format!("{s} s")).unwrap_or_default()),
        ("Ping ID", json::text(q, "/ping_id")),
    ];
    markup::facts("rtb-quote", &answer, &items)
}
