//! Calls: the filtered, paged table (kept current by live events: a call's row changes in place,
//! a new call refetches the page),
//! and one call's page: summary, timeline, every routing decision with each buyer's reason, the
//! buyer legs (a leg dialled on a bid names its bidder), the bidders' pings and the recording.
use callbroker_wire::*;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::*;
use crate::format;
use crate::pages::route_id;
use crate::session;

const STATUSES: &[&str] = &["ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"];
const OUTCOMES: &[&str] = &[
    "routed",
    "connected",
    "no_buyer",
    "unknown_number",
    "campaign_paused",
    "blocked",
    "in_ivr",
    "ivr_ended",
    "ivr_abandoned",
    "abandoned",
    "failed",
];
const IVR_OUTCOMES: &[&str] = &["in_progress", "completed", "ended", "failed", "abandoned"];
const BLOCK_RULES: &[&str] = &["blocklist", "anonymous", "attestation", "repeat", "qualified_repeat", "rate_limit"];

use crate::format::date_start_utc as date_start;

#[component]
pub fn Calls() -> impl IntoView {
    let page = RwSignal::new(1i64);
    let campaign = RwSignal::new(String::new());
    let publisher = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let outcome = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let blocked_by = RwSignal::new(String::new());
    let ivr = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());
    let tick = RwSignal::new(0u32);
    let overlay = RwSignal::new(std::collections::BTreeMap::new());
    follow_calls(overlay, move || tick.update(|t| *t += 1));
    let names = fetch(Names::load);
    let list = fetch(move || {
        tick.track();
        let filter = CallFilter {
            campaign_id: campaign.get().parse().ok(),
            buyer_id: None,
            publisher_id: publisher.get().parse().ok(),
            status: opt_text(&status.get()),
            outcome: opt_text(&outcome.get()),
            from: date_start(&from.get()),
            to: date_start(&to.get()).map(|d| d + chrono::Duration::days(1)),
            blocked_by: BlockRule::parse(&blocked_by.get()),
            ivr_outcome: IvrOutcome::parse(&ivr.get()),
            tag: tag.with(|t| t.split(';').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()),
        };
        let page = PageParams { page: page.get(), per_page: 25 };
        async move { api::calls(page, &filter).await }
    });
    let filter_select = move |label: &'static str, id: &'static str, value: RwSignal<String>, opts: Signal<Vec<(String, String)>>| {
        view! {
            <div class="cb-field">
                <label for=id>{label}</label>
                <select id=id on:change=move |ev| { value.set(event_target_value(&ev)); page.set(1); }>
                    {move || opts.get().into_iter().map(|(v, l)| { let sel = value.get_untracked() == v; view! { <option value=v selected=sel>{l}</option> } }).collect_view()}
                </select>
            </div>
        }
    };
    let named = move |pick: fn(&Names) -> &std::collections::BTreeMap<i64, String>| {
        Signal::derive(move || {
            let mut v = vec![(String::new(), "All".to_owned())];
            if let Some(n) = names.get() {
                v.extend(pick(&n).iter().map(|(id, name)| (id.to_string(), name.clone())));
            }
            v
        })
    };
    let fixed = |list: &'static [&'static str]| {
        Signal::derive(move || {
            let mut v = vec![(String::new(), "All".to_owned())];
            v.extend(list.iter().map(|s| (s.to_string(), s.replace('_', " "))));
            v
        })
    };
    let date = move |label: &'static str, id: &'static str, value: RwSignal<String>| {
        view! {
            <div class="cb-field">
                <label for=id>{label}</label>
                <input id=id type="date" prop:value=move || value.get() on:change=move |ev| { value.set(event_target_value(&ev)); page.set(1); }/>
            </div>
        }
    };
    let staff = !session::is_publisher();
    view! {
        <section id="page-calls">
            <h1>"Calls"</h1>
            <form class="cb-filters" aria-label="Filter calls" on:submit=|ev| ev.prevent_default()>
                {staff.then(|| filter_select("Campaign", "filter-campaign", campaign, named(|n| &n.campaigns)))}
                {staff.then(|| filter_select("Publisher", "filter-publisher", publisher, named(|n| &n.publishers)))}
                {filter_select("Status", "filter-status", status, fixed(STATUSES))}
                {filter_select("Outcome", "filter-outcome", outcome, fixed(OUTCOMES))}
                {staff.then(|| filter_select("Blocked by", "filter-blocked-by", blocked_by, fixed(BLOCK_RULES)))}
                {staff.then(|| filter_select("IVR", "filter-ivr", ivr, fixed(IVR_OUTCOMES)))}
                <div class="cb-field">
                    <label for="filter-tag">"Tag"</label>
                    <input id="filter-tag" type="search" placeholder="FromState:CA" aria-describedby="filter-tag-help"
                        prop:value=move || tag.get() on:change=move |ev| { tag.set(event_target_value(&ev)); page.set(1); }/>
                    <small class="cb-help" id="filter-tag-help">"NAME:VALUE, or NAME for any value; several joined by ;"</small>
                </div>
                {date("From (UTC)", "filter-from", from)}
                {date("To (UTC)", "filter-to", to)}
            </form>
            <p class="cb-help">"Updates live as calls come in."</p>
            {move || show(list.get(), move |data| {
                if data.items.is_empty() {
                    return view! { <Empty text="No calls match these filters."/> }.into_any();
                }
                let names = names.get().unwrap_or_default();
                view! { <Pager page=page total=data.total per_page=data.per_page/> <CallsTable calls=overlaid(data.items, overlay) names=names/> }.into_any()
            })}
        </section>
    }
}

#[component]
pub fn CallPage() -> impl IntoView {
    let id = route_id();
    let tick = RwSignal::new(0u32);
    // Any change to this call (or missed events) fetches it again: timeline, legs, money.
    crate::live::subscribe(move |m| {
        let mine = match m {
            crate::live::Msg::Event(e) => id.try_get_untracked().flatten() == Some(e.call.id),
            crate::live::Msg::Reload => true,
        };
        if mine {
            tick.update(|t| *t += 1);
        }
    });
    let names = fetch(Names::load);
    let detail = fetch(move || {
        tick.track();
        let id = id.get();
        async move {
            match id {
                Some(id) => api::call(id).await,
                None => Err(api::ApiError {
                    status: 404,
                    body: ErrorBody { code: "not_found".into(), message: "No such call.".into(), details: None },
                }),
            }
        }
    });
    view! {
        <section id="page-call">
            <p><A href="/calls">"← Calls"</A></p>
            {move || show(detail.get(), move |d| view! { <CallDetailView detail=d names=names.get().unwrap_or_default()/> })}
        </section>
    }
}

#[component]
fn CallDetailView(detail: CallDetail, names: Names) -> impl IntoView {
    let CallDetail { call, legs, events, postbacks, bids } = detail;
    // A leg dialled on a bid is named after its bidder (from the pings), with the bid and number.
    let bidder_names: std::collections::BTreeMap<i64, String> =
        bids.iter().filter_map(|p| Some((p.bidder_id?, p.bidder_name.clone()))).collect();
    let leg_names = names.clone();
    let leg_to = move |l: &CallLeg| match l.bidder_id {
        None => leg_names.buyer(l.buyer_id),
        Some(b) => format!(
            "bidder {} ({} to {})",
            bidder_names.get(&b).cloned().unwrap_or_else(|| format!("#{b}")),
            format::money(l.bid_micros, None),
            l.dial_to.as_deref().unwrap_or("?")
        ),
    };
    let tags = call.tags.clone();
    let staff = !session::is_publisher();
    let facts: Vec<(&str, String)> = vec![
        ("Caller", call.caller.clone()),
        (
            "Caller location",
            [call.caller_city.clone(), call.caller_state.clone(), call.caller_zip.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Number dialled", call.dialled.clone()),
        ("Status", call.status.clone()),
        ("Outcome", call.outcome.replace('_', " ")),
        ("Blocked by", call.blocked_by.as_deref().map(|r| r.replace('_', " ")).unwrap_or_default()),
        ("Buyers tried", call.attempts.to_string()),
        ("Started", format::time(call.started_at)),
        ("Connected to buyer", format::opt_time(call.connected_at)),
        ("Ended", format::opt_time(call.ended_at)),
        ("Duration", format::secs(call.duration_secs)),
        ("Billable (with buyer)", format::secs(call.billable_secs)),
    ];
    let staff_facts = staff.then(|| {
        [
            ("Campaign", names.campaign(call.campaign_id)),
            ("Publisher", names.publisher(call.publisher_id)),
            ("Buyer", names.buyer(call.buyer_id)),
        ]
    });
    // Only for calls to a campaign with an IVR.
    let ivr_facts = call.ivr_outcome.map(|o| {
        [
            ("IVR", o.as_str().replace('_', " ")),
            ("IVR question", call.ivr_question.map(|q| (q + 1).to_string()).unwrap_or_default()),
            ("Seconds in IVR", format::secs(call.ivr_secs)),
            ("Route label", call.route_label.clone().unwrap_or_default()),
        ]
    });
    let facts: Vec<(&str, String)> =
        facts.into_iter().chain(ivr_facts.into_iter().flatten()).chain(staff_facts.into_iter().flatten()).collect();
    let recording = call.recording.clone().map(|r| {
        let dur = format::secs(r.duration_secs);
        match r.url {
            Some(url) => view! {
                <p>
                    <audio controls=true preload="none" src=url.clone() aria-label="Call recording"></audio>
                    " " <a href=url target="_blank" rel="noopener">"Open recording"</a> {format!(" ({dur})")}
                </p>
            }
            .into_any(),
            // Publishers are not given Twilio's URL (it names the account).
            None => view! { <p>{format!("Recording {} ({dur}).", r.sid)}</p> }.into_any(),
        }
    });
    view! {
        <h1>{format!("Call from {}", call.caller)}</h1>
        <dl class="cb-facts" id="call-facts">
            {facts.into_iter().map(|(k, v)| view! { <div><dt>{k}</dt><dd>{if v.is_empty() { "—".to_owned() } else { v }}</dd></div> }).collect_view()}
        </dl>
        <section aria-labelledby="tags-h" id="call-tags">
            <h2 id="tags-h">"Tags"</h2>
            {if tags.is_empty() { view! { <Empty text="No tags on this call."/> }.into_any() } else { view! {
                <dl class="cb-facts">
                    {tags.into_iter().map(|(k, v)| view! { <div data-tag=k.clone()><dt>{k.clone()}</dt><dd>{v}</dd></div> }).collect_view()}
                </dl>
            }.into_any() }}
        </section>
        <section aria-labelledby="rec-h">
            <h2 id="rec-h">"Recording"</h2>
            {recording.unwrap_or_else(|| view! { <Empty text="No recording for this call."/> }.into_any())}
        </section>
        {(!postbacks.is_empty()).then(|| view! {
            <section aria-labelledby="pb-h" id="call-postbacks">
                <h2 id="pb-h">"Publisher postback"</h2>
                <ol class="cb-timeline">{postbacks.into_iter().map(|a| {
                    let outcome = match (a.status_code, a.error) {
                        (Some(code), None) => format!("answered {code}"),
                        (_, Some(e)) => e,
                        (None, None) => "no answer".into(),
                    };
                    view! { <li>{format!("#{} {} {} — {} ({} ms)", a.attempt, a.method, a.url, outcome, a.duration_ms)}</li> }
                }).collect_view()}</ol>
            </section>
        })}
        {(!bids.is_empty()).then(|| bids_table(bids))}
        {staff.then(|| view! {
            <section aria-labelledby="timeline-h" id="call-timeline">
                <h2 id="timeline-h">"Timeline"</h2>
                {if events.is_empty() { view! { <Empty text="No events recorded."/> }.into_any() } else {
                    view! { <ol class="cb-timeline">{events.into_iter().map(|e| view! { <EventItem event=e names=names.clone()/> }).collect_view()}</ol> }.into_any()
                }}
            </section>
            <section aria-labelledby="legs-h" id="call-legs">
                <h2 id="legs-h">"Buyer legs"</h2>
                {if legs.is_empty() { view! { <Empty text="No buyer was dialled."/> }.into_any() } else {
                    view! {
                        <div class="cb-table-wrap"><table class="cb-table">
                            <thead><tr><th scope="col">"Attempt"</th><th scope="col">"Buyer"</th><th scope="col">"Status"</th><th scope="col">"Answered"</th><th scope="col">"Accepted"</th><th scope="col">"Ended"</th><th scope="col">"Duration"</th><th scope="col">"Slot"</th></tr></thead>
                            <tbody>{legs.into_iter().map(|l| view! {
                                <tr>
                                    <td class="cb-num">{l.attempt}</td><td>{leg_to(&l)}</td><td><Tag text=l.status.clone()/></td>
                                    <td>{format::opt_time(l.answered_at)}</td>
                                    <td>{match (l.accept_required, l.accepted_at) {
                                        (false, _) => "not asked".to_owned(),
                                        (true, None) => "no".to_owned(),
                                        (true, at) => format::opt_time(at),
                                    }}</td>
                                    <td>{format::opt_time(l.ended_at)}</td>
                                    <td class="cb-num">{format::secs(l.duration_secs)}</td><td>{if l.released { "released" } else { "held" }}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any()
                }}
            </section>
        })}
    }
}

/// The bidders' pings for the call, in the order they were sent (as HTML text, [`crate::markup`]).
fn bids_table(bids: Vec<callbroker_wire::bidding::BidPing>) -> impl IntoView {
    let rows: Vec<_> = bids
        .into_iter()
        .map(|p| {
            let cells = [
                p.bidder_name.clone(),
                p.outcome.as_str().to_owned(),
                format::money(p.bid_micros, None),
                p.dial_to.unwrap_or_default(),
                format!("{} ms", p.latency_ms),
                format::opt_time(p.expires_at),
                format::secs(p.min_duration_secs),
                p.detail.unwrap_or_default(),
            ];
            (p.bidder_name, cells.iter().map(|c| crate::markup::esc(c)).collect())
        })
        .collect();
    let html = crate::markup::table(
        "bids-table",
        &["Bidder", "Outcome", "Bid", "Dial", "Latency", "Expires", "Minimum duration", "Detail"],
        &rows,
    );
    view! {
        <section aria-labelledby="bids-h" id="call-bids">
            <h2 id="bids-h">"Bids"</h2>
            <div inner_html=html></div>
        </section>
    }
}

/// One entry of the call log; routing decisions show every candidate with its reason.
#[component]
fn EventItem(event: CallEvent, names: Names) -> impl IntoView {
    let CallEvent { at, kind, data, .. } = event;
    let decision = (kind == "routing")
        .then(|| data.get("decision").cloned())
        .flatten()
        // Through text: the string deserializer is in the wasm already (the simulator), a second one
        // over `serde_json::Value` would not be.
        .and_then(|d| serde_json::from_str::<Decision<'static>>(&d.to_string()).ok());
    let summary = describe(&data, &names);
    view! {
        <li class=format!("cb-event cb-event-{kind}")>
            <time>{format::time(at)}</time>
            <strong>{kind.replace('_', " ")}</strong>
            <span>{summary}</span>
            {decision.map(|d| view! { <DecisionTable decision=d/> })}
        </li>
    }
}

/// The event's figures as `name: value` pairs (buyer ids as names).
fn describe(data: &serde_json::Value, names: &Names) -> String {
    let Some(fields) = data.as_object() else { return String::new() };
    fields
        .iter()
        .filter(|(k, v)| k.as_str() != "decision" && !v.is_null())
        .map(|(k, v)| match (k.as_str(), v) {
            ("buyer_id", v) => format!("buyer: {}", names.buyer(v.as_i64())),
            (k, serde_json::Value::String(s)) => format!("{}: {s}", k.replace('_', " ")),
            (k, v) => format!("{}: {v}", k.replace('_', " ")),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Every candidate buyer of a routing decision: its rank or why it was skipped.
#[component]
pub fn DecisionTable(decision: Decision<'static>) -> impl IntoView {
    let state = decision.caller_state.clone().map(|s| {
        let src = match s.source {
            StateSource::Twilio => "from Twilio",
            StateSource::AreaCode => "from the area code",
        };
        format!("Caller's state: {} ({src})", s.state)
    });
    // A column for the money figures when a tier was ordered by price or earnings per call.
    let money = decision.verdicts.iter().any(|v| v.figures.is_some());
    view! {
        <div class="cb-decision">
            <p class="cb-help">{state.unwrap_or_else(|| "Caller's state unknown".into())}</p>
            {if decision.verdicts.is_empty() { view! { <Empty text="The campaign has no buyers."/> }.into_any() } else { view! {
                <div class="cb-table-wrap"><table class="cb-table cb-verdicts">
                    <thead><tr><th scope="col">"Buyer"</th><th scope="col">"Rank"</th><th scope="col">"Why"</th>
                        {money.then(|| view! { <th scope="col">"Price, earnings per call"</th> })}</tr></thead>
                    <tbody>{decision.verdicts.into_iter().map(|v| view! {
                        <tr class=if v.eligible { "cb-eligible" } else { "cb-skipped" }>
                            <td>{v.name.to_string()}</td>
                            <td class="cb-num">{v.rank.map(|r| format!("#{r}")).unwrap_or_else(|| "skipped".into())}</td>
                            <td>{v.reason.describe()}</td>
                            {money.then(|| view! { <td class="cb-figures">{v.figures.map(figures)}</td> })}
                        </tr>
                    }).collect_view()}</tbody>
                </table></div>
            }.into_any() }}
        </div>
    }
}

/// What a `revenue` or `epc` tier ordered a buyer by: its price, its earnings per call and the
/// calls they were measured over, and whether this call was offered to it first to measure it.
fn figures(f: MoneyFigures) -> impl IntoView {
    let amount = |m: i64| format::money(Some(m), None);
    let mut text = format!("price {}", amount(f.price_micros));
    if f.mode == RoutingMode::Epc {
        let calls = f.epc_calls.unwrap_or(0);
        let calls = format!("{calls} call{}", if calls == 1 { "" } else { "s" });
        text.push_str(&match f.epc_micros {
            Some(e) => format!(" · EPC {} over {calls}", amount(e)),
            None => format!(" · being measured ({calls})"),
        });
    }
    view! { {text} {f.explored.then(|| view! { " " <span class="cb-tag cb-tag-exploring">"exploring"</span> })} }
}
