//! The start page. Staff: today's KPIs with a chart of calls per hour, the calls in progress, counts
//! of the directory and the recent calls, all kept current by live events (no polling).
//! Publishers: their portal (own publisher, KPIs, numbers, calls and attribution report).
use std::collections::BTreeMap;

use callbroker_wire::*;
use chrono::Timelike;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::*;
use crate::format;
use crate::live::{self, Msg};
use crate::pages::report::Report;
use crate::session;

const RECENT: PageParams = PageParams { page: 1, per_page: 10 };
const ONE: PageParams = PageParams { page: 1, per_page: 1 };

#[component]
pub fn Home() -> impl IntoView {
    move || if session::is_publisher() { view! { <Portal/> }.into_any() } else { view! { <Dashboard/> }.into_any() }
}

#[component]
fn Dashboard() -> impl IntoView {
    let started = js_sys::Date::now();
    let counts = fetch(|| async {
        let c = api::campaigns(ONE, &CampaignFilter::default()).await?.total;
        let b = api::buyers(ONE, &BuyerFilter::default()).await?.total;
        let p = api::publishers(ONE, &PublisherFilter::default()).await?.total;
        let n = api::numbers(ONE, &PhoneNumberFilter::default()).await?.total;
        Ok::<_, api::ApiError>([
            ("Campaigns", "/campaigns", c),
            ("Buyers", "/buyers", b),
            ("Publishers", "/publishers", p),
            ("Numbers", "/numbers", n),
        ])
    });
    let names = fetch(Names::load);
    view! {
        <section id="page-dashboard" data-started=started>
            <h1>"Dashboard " <LiveBadge/></h1>
            <Today/>
            <LiveCalls names=names/>
            <section aria-labelledby="directory-h">
                <h2 id="directory-h">"Directory"</h2>
                {move || show(counts.get(), |counts| view! {
                    <div class="cb-cards">
                        {counts.into_iter().map(|(label, href, n)| view! {
                            <A href=href attr:class="cb-card cb-card-link">
                                <span class="cb-card-value">{n}</span>
                                <span class="cb-card-label">{label}</span>
                            </A>
                        }).collect_view()}
                    </div>
                })}
            </section>
            <RecentCalls names=names/>
        </section>
    }
}

/// Whether live events are flowing.
#[component]
pub fn LiveBadge() -> impl IntoView {
    view! {
        <span class="cb-live" role="status" id="live-status">
            {move || if live::connected() { view! { <span class="cb-live-on">"● live"</span> }.into_any() } else { view! { <span class="cb-live-off">"○ connecting…"</span> }.into_any() }}
        </span>
    }
}

/// Today in the browser's time zone: from its midnight until now.
fn today_query(tz: &str) -> AnalyticsQuery {
    let from = crate::zone::today(tz).and_then(|d| crate::zone::day_start(tz, d));
    AnalyticsQuery { from, tz: Some(tz.to_owned()), ..Default::default() }
}

/// Today's KPIs and calls per hour, fetched again whenever a call ends or is judged (the only
/// changes that move them).
#[component]
fn Today() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    live::subscribe(move |m| {
        let moves = match m {
            Msg::Event(e) => matches!(e.kind, LiveEventKind::CallCompleted | LiveEventKind::CallQualified),
            Msg::Reload => true,
        };
        if moves {
            tick.update(|t| *t += 1);
        }
    });
    let tz = crate::zone::browser();
    let data = fetch(move || {
        tick.track();
        let q = today_query(&tz);
        async move {
            let summary = api::summary(&q).await?;
            let series = api::timeseries(&AnalyticsQuery { bucket: Some(Bucket::Hour), ..q }).await?;
            Ok::<_, api::ApiError>((summary, series))
        }
    });
    view! {
        <section aria-labelledby="kpi-h" id="kpis">
            <h2 id="kpi-h">"Today"</h2>
            {move || show(data.get(), |(summary, series)| view! {
                <KpiCards metrics=summary.total currency=summary.currency/>
                <HourChart series=series/>
            })}
        </section>
    }
}

/// The KPI cards; amounts hidden from publishers are left out.
#[component]
pub fn KpiCards(metrics: Metrics, currency: Option<String>) -> impl IntoView {
    let m = metrics;
    let cur = currency.as_deref();
    let cards: Vec<(&str, &str, Option<String>)> = vec![
        ("Calls", "calls", Some(m.calls.to_string())),
        ("Answered", "answered", Some(m.answered.to_string())),
        ("Qualified", "qualified", Some(m.qualified.to_string())),
        ("Conversion", "conversion", Some(format::percent(m.conversion_rate))),
        ("Revenue", "revenue", m.revenue_micros.map(|v| format::money(Some(v), cur))),
        ("Payout", "payout", Some(format::money(Some(m.payout_micros), cur))),
        ("Profit", "profit", m.profit_micros.map(|v| format::money(Some(v), cur))),
    ];
    view! {
        <div class="cb-cards">
            {cards.into_iter().filter_map(|(label, key, v)| v.map(|v| view! {
                <div class="cb-card" data-kpi=key>
                    <span class="cb-card-value">{v}</span>
                    <span class="cb-card-label">{label}</span>
                </div>
            })).collect_view()}
        </div>
    }
}

/// Calls per hour of today: a bar for each hour so far (hours without calls included).
#[component]
fn HourChart(series: Timeseries) -> impl IntoView {
    // `local_start` is RFC 3339 in the zone: its hour is characters 11..13.
    let hour = |p: &TimeseriesPoint| p.local_start.get(11..13).and_then(|h| h.parse::<usize>().ok());
    let mut per_hour = [0i64; 24];
    for p in &series.points {
        if let Some(h) = hour(p).filter(|h| *h < 24) {
            per_hour[h] += p.metrics.calls;
        }
    }
    let now_hour = crate::zone::now_in(&series.tz).map(|t| t.hour() as usize).unwrap_or(23);
    let total: i64 = per_hour.iter().sum();
    let bars = (0..=now_hour)
        .map(|h| Bar { label: format!("{h:02}"), tip: format!("{h:02}:00 — {} calls", per_hour[h]), value: per_hour[h] })
        .collect::<Vec<_>>();
    let summary = format!("Calls per hour today ({}): {total} in all.", series.tz);
    view! { <BarChart bars=bars summary=summary id="hour-chart"/> }
}

/// What a live call is doing now.
fn stage(kind: LiveEventKind, call: &Call) -> &'static str {
    match kind {
        LiveEventKind::CallRinging => "ringing buyer",
        LiveEventKind::CallAnswered => "connected",
        _ if call.connected_at.is_some() => "connected",
        _ => "routing",
    }
}

/// The calls in progress: fetched once, then kept by live events (a call leaves the list when it
/// ends).
#[component]
fn LiveCalls(names: Fetched<Names>) -> impl IntoView {
    let active = RwSignal::new(None::<Result<BTreeMap<i64, (LiveEventKind, Call)>, api::ApiError>>);
    let load = move || {
        leptos::task::spawn_local(async move {
            let res = api::calls(PageParams { page: 1, per_page: 100 }, &CallFilter::default()).await;
            active.set(Some(res.map(|page| {
                page.items.into_iter().filter(|c| c.ended_at.is_none()).map(|c| (c.id, (LiveEventKind::CallCreated, c))).collect()
            })));
        })
    };
    load();
    live::subscribe(move |m| match m {
        Msg::Event(e) => active.update(|a| {
            if let Some(Ok(a)) = a {
                match e.kind {
                    LiveEventKind::CallQualified => {}
                    _ if e.call.ended_at.is_some() || e.kind == LiveEventKind::CallCompleted => {
                        a.remove(&e.call.id);
                    }
                    kind => {
                        a.insert(e.call.id, (kind, e.call.clone()));
                    }
                }
            }
        }),
        Msg::Reload => load(),
    });
    let staff = !session::is_publisher();
    view! {
        <section aria-labelledby="live-h" id="live-calls">
            <h2 id="live-h">"Calls in progress"</h2>
            {move || show(active.get(), move |calls| {
                if calls.is_empty() {
                    return view! { <Empty text="No calls in progress. New calls appear here as they ring in."/> }.into_any();
                }
                let names = names.get().unwrap_or_default();
                view! {
                    <div class="cb-table-wrap"><table class="cb-table" id="live-table" aria-live="polite">
                        <thead><tr>
                            <th scope="col">"Started (UTC)"</th><th scope="col">"Caller"</th><th scope="col">"Number"</th>
                            {staff.then(|| view! { <th scope="col">"Campaign"</th><th scope="col">"Buyer"</th> })}
                            <th scope="col">"Now"</th>
                        </tr></thead>
                        <tbody>{calls.into_values().rev().map(|(kind, c)| {
                            let now = stage(kind, &c);
                            view! {
                                <tr data-call-sid=c.call_sid.clone()>
                                    <td><A href=format!("/calls/{}", c.id)>{format::short_time(c.started_at)}</A></td>
                                    <td>{c.caller.clone()}</td><td>{c.dialled.clone()}</td>
                                    {staff.then(|| view! { <td>{names.campaign(c.campaign_id)}</td><td>{names.buyer(c.buyer_id)}</td> })}
                                    <td><Tag text=now/></td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn RecentCalls(names: Fetched<Names>) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let overlay = RwSignal::new(BTreeMap::new());
    follow_calls(overlay, move || tick.update(|t| *t += 1));
    let calls = fetch(move || {
        tick.track();
        async { api::calls(RECENT, &CallFilter::default()).await }
    });
    view! {
        <section aria-labelledby="recent-h" id="recent-calls">
            <h2 id="recent-h">"Recent calls " <A href="/calls" attr:class="cb-small">"all calls →"</A></h2>
            {move || show(calls.get(), |page| {
                if page.items.is_empty() {
                    view! { <Empty text="No calls yet. Calls appear here as soon as one of your numbers is dialled."/> }.into_any()
                } else {
                    let names = names.get().unwrap_or_default();
                    view! { <CallsTable calls=overlaid(page.items, overlay) names=names/> }.into_any()
                }
            })}
        </section>
    }
}

/// What a publisher user sees: its publisher, today's figures, its numbers, its calls and its
/// attribution report.
#[component]
fn Portal() -> impl IntoView {
    let publisher_id = session::user().and_then(|u| u.publisher_id);
    let publisher = fetch(move || async move {
        match publisher_id {
            Some(id) => api::publisher(id).await,
            None => Err(api::ApiError {
                status: 403,
                body: ErrorBody { code: "forbidden".into(), message: "This account is not bound to a publisher.".into(), details: None },
            }),
        }
    });
    let numbers = fetch(|| async { api::numbers(api::ALL, &PhoneNumberFilter::default()).await });
    let names = fetch(Names::load);
    view! {
        <section id="page-portal">
            <h1>{move || publisher.get().and_then(Result::ok).map(|p| p.name).unwrap_or_else(|| "Publisher portal".into())} " " <LiveBadge/></h1>
            <Today/>
            <section aria-labelledby="pnum-h">
                <h2 id="pnum-h">"Your numbers"</h2>
                {move || show(numbers.get(), |page| {
                    if page.items.is_empty() {
                        view! { <Empty text="No tracking numbers are assigned to you yet."/> }.into_any()
                    } else {
                        view! {
                            <ul class="cb-list" id="portal-numbers">
                                {page.items.into_iter().map(|n| view! { <li><strong>{n.number}</strong> " " {n.friendly_name.unwrap_or_default()}</li> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </section>
            <RecentCalls names=names/>
            {publisher_id.map(|id| view! { <Report publisher_id=id/> })}
        </section>
    }
}
