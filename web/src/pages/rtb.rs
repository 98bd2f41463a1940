//! The publisher's "RTB ping" page: asks whether a caller would be bought now and at what payout,
//! before the call is transferred (`POST /api/rtb/ping` with the signed-in session), and explains
//! how to ask the same from the publisher's own systems with an API key.
use callbroker_wire::bidding::{RtbPingRequest, RtbQuote};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::*;
use crate::format;
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
    let quote = RwSignal::new(None::<RtbQuote>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let [campaign, caller, state, zip] = fields.map(|f| f.4.get_untracked());
        let campaign_id = c.int("campaign_id", &campaign, 1, i32::MAX).into();
        let caller = c.e164("caller", &caller);
        let state = opt_text(&state).map(|s| s.to_uppercase());
        if let Some(s) = &state {
            c.states("state", s);
        }
        if !form.begin(c.into_errors()) {
            return;
        }
        quote.set(None);
        let req = RtbPingRequest { campaign_id, caller, state, zip: opt_text(&zip), tags: None };
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

fn quote_view(q: RtbQuote) -> AnyView {
    let answer = match (q.accepted, q.reason) {
        (true, _) => "accepted",
        (false, Some(r)) => r.as_str(),
        (false, None) => "refused",
    };
    let items = vec![
        ("Answer", if q.accepted { "accepted".to_owned() } else { format!("refused: {}", answer.replace('_', " ")) }),
        ("Payout", q.payout_micros.map(|m| format::money(Some(m), Some(&q.currency))).unwrap_or_default()),
        ("Send the call to", q.number.unwrap_or_default()),
        ("Quote expires", format::time(q.expires_at)),
        ("Paid after", q.min_duration_secs.map(|s| format::secs(Some(s))).unwrap_or_default()),
        ("Ping ID", q.ping_id),
    ];
    facts("rtb-quote", answer.to_owned(), items)
}
