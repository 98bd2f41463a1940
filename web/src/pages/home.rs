//! The start page. Staff: today's KPIs and live calls (placeholders until the analytics and live
//! events APIs exist; each is its own component, so filling them in touches one place), counts of
//! the directory and the recent calls. Publishers: their portal (own publisher, numbers, calls).
use callbroker_wire::*;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::*;
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
    let counts = LocalResource::new(|| async {
        let c = api::campaigns(ONE, &CampaignFilter::default()).await?.total;
        let b = api::buyers(ONE, &BuyerFilter::default()).await?.total;
        let p = api::publishers(ONE, &PublisherFilter::default()).await?.total;
        let n = api::numbers(ONE, &PhoneNumberFilter::default()).await?.total;
        Ok::<_, api::ApiError>([("Campaigns", "/campaigns", c), ("Buyers", "/buyers", b), ("Publishers", "/publishers", p), ("Numbers", "/numbers", n)])
    });
    view! {
        <section id="page-dashboard" data-started=started>
            <h1>"Dashboard"</h1>
            <KpiCards/>
            <LiveCalls/>
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
            <RecentCalls/>
        </section>
    }
}

/// Today's KPIs. Placeholder: the analytics API (calls, answered, qualified, conversion, revenue,
/// payout, profit) is not part of this build yet.
#[component]
fn KpiCards() -> impl IntoView {
    let labels = ["Calls", "Answered", "Qualified", "Conversion", "Revenue", "Payout", "Profit"];
    view! {
        <section aria-labelledby="kpi-h" id="kpis">
            <h2 id="kpi-h">"Today"</h2>
            <div class="cb-cards">
                {labels.into_iter().map(|l| view! {
                    <div class="cb-card cb-card-pending">
                        <span class="cb-card-value" aria-label="not available yet">"—"</span>
                        <span class="cb-card-label">{l}</span>
                    </div>
                }).collect_view()}
            </div>
            <p class="cb-help">"Figures appear here once the analytics service is enabled."</p>
        </section>
    }
}

/// Calls in progress. Placeholder until the live events stream (`/api/events`) exists; the
/// recent calls below refresh every few seconds meanwhile.
#[component]
fn LiveCalls() -> impl IntoView {
    view! {
        <section aria-labelledby="live-h" id="live-calls">
            <h2 id="live-h">"Live calls"</h2>
            <p class="cb-empty">"Live call tracking appears here once the live events service is enabled. Recent calls below refresh every 5 seconds."</p>
        </section>
    }
}

#[component]
fn RecentCalls() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    every(5, move || tick.update(|t| *t += 1));
    let names = LocalResource::new(Names::load);
    let calls = LocalResource::new(move || {
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
                    view! { <CallsTable calls=page.items names=names/> }.into_any()
                }
            })}
        </section>
    }
}

/// What a publisher user sees: its publisher, its numbers and its calls.
#[component]
fn Portal() -> impl IntoView {
    let publisher_id = session::user().and_then(|u| u.publisher_id);
    let publisher = LocalResource::new(move || async move {
        match publisher_id {
            Some(id) => api::publisher(id).await,
            None => Err(api::ApiError { status: 403, body: ErrorBody { code: "forbidden".into(), message: "This account is not bound to a publisher.".into(), details: None } }),
        }
    });
    let numbers = LocalResource::new(|| async { api::numbers(api::ALL, &PhoneNumberFilter::default()).await });
    view! {
        <section id="page-portal">
            <h1>{move || publisher.get().and_then(Result::ok).map(|p| p.name).unwrap_or_else(|| "Publisher portal".into())}</h1>
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
            <RecentCalls/>
        </section>
    }
}
