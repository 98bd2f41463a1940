//! The publisher's "RTB ping" page: asks whether a caller would be bought now and at what payout,
//! before the call is transferred (`POST /api/rtb/ping` with the signed-in session), and explains
//! how to ask the same from the publisher's own systems with an API key.
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::*;
use crate::format;
use crate::json;
use crate::pages::campaign_ivr::input;

/// The API for the publisher's integration (static HTML: one element in the wasm).
const API_HELP: &str = r#"<h2>From your systems</h2>
<p>Ask the same question with one of your API keys (created for you on your publisher account; its secret is shown once) as a bearer token:</p>
<pre class="cb-twiml">POST /api/rtb/ping
Authorization: Bearer cbk_…
Content-Type: application/json

{"campaign_id": 1, "caller": "+12015550123", "state": "NJ", "zip": "07030", "tags": {"insured": "yes"}}</pre>
<p>An accepted quote: <code>accepted: true</code>, the <code>payout</code> (also <code>payout_micros</code>, in millionths) in <code>currency</code>, the <code>number</code> to send the call to before <code>expires_at</code>, and <code>min_duration_secs</code>, the seconds the call must last to be paid. A refusal: <code>accepted: false</code> and a <code>reason</code>: <code>no_capacity</code>, <code>blocked</code>, <code>duplicate</code>, <code>filtered</code>, <code>no_bid</code> or <code>closed</code> (the campaign is paused, takes no pings, or has no number of yours).</p>"#;

#[component]
pub fn Rtb() -> impl IntoView {
    let fields = [
        ("Campaign ID", "rtb-campaign", "campaign_id", "1"),
        ("Caller", "rtb-caller", "caller", "+12015550123"),
        ("State", "rtb-state", "state", "NJ"),
        ("ZIP", "rtb-zip", "zip", "07030"),
    ]
    .map(|(label, id, f, hint)| (label, id, f, hint, RwSignal::new(String::new())));
    let form = FormState::new();
    let quote = RwSignal::new(None::<api::Json>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let [campaign, caller, state, zip] = fields.map(|f| f.4.get_untracked());
        let campaign_id = c.int("campaign_id", &campaign, 1, i32::MAX);
        let caller = c.e164("caller", &caller);
        let state = state.trim().to_uppercase();
        if !state.is_empty() {
            c.states("state", &state);
        }
        if !form.begin(c.into_errors()) {
            return;
        }
        quote.set(None);
        let req = json::object(vec![("campaign_id", campaign_id.into()), ("caller", caller.into()), ("state", json::opt(&state)), ("zip", json::opt(&zip))]);
        spawn_local(async move {
            match api::rtb_ping(&req).await {
                Ok(q) => {
                    form.done("");
                    form.saved.set(None);
                    quote.set(Some(q));
                }
                Err(e) => form.failed(e),
            }
        });
    };
    view! {
        <section id="page-rtb">
            <h1>"RTB ping"</h1>
            <p>"Before you transfer a caller, ask whether the call would be bought now and at what payout. An accepted quote names the number to send the call to and holds until it expires."</p>
            <form class="cb-form" on:submit=on_submit novalidate=true id="rtb-form">
                <div class="cb-row">
                    {fields.into_iter().map(|(label, id, f, hint, v)| input(label, id.to_owned(), vec![f.to_owned()], v, form.errors, "text", hint, None)).collect_view()}
                </div>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>"Ask for a quote"</button>
            </form>
            {move || quote.get().map(quote_view)}
            <section id="rtb-api" inner_html=API_HELP></section>
        </section>
    }
}

fn quote_view(q: api::Json) -> AnyView {
    let accepted = json::flag(&q, "/accepted");
    let answer = if accepted { "accepted".to_owned() } else { json::text(&q, "/reason") };
    let payout = json::int(&q, "/payout_micros").map(|m| format::money(Some(m), Some(&json::text(&q, "/currency")))).unwrap_or_default();
    let items = vec![
        ("Answer", if accepted { answer.clone() } else { format!("refused: {}", answer.replace('_', " ")) }),
        ("Payout", payout),
        ("Send the call to", json::text(&q, "/number")),
        ("Quote expires", json::time(&q, "/expires_at")),
        ("Paid after", json::int(&q, "/min_duration_secs").map(|s| format::secs(i32::try_from(s).ok())).unwrap_or_default()),
        ("Ping ID", json::text(&q, "/ping_id")),
    ];
    facts("rtb-quote", answer, items)
}
