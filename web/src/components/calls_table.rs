//! The calls table used by the dashboard, the portal and the calls page.
use std::collections::BTreeMap;

use callbroker_wire::{BuyerFilter, Call, CampaignFilter, IvrOutcome, LiveEventKind, PublisherFilter};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::Tag;
use crate::format;
use crate::session;

/// Names of campaigns, buyers and publishers by id, for tables and dropdowns. Publishers get only
/// what they may see (their own publisher).
#[derive(Clone, Default, PartialEq)]
pub struct Names {
    pub campaigns: BTreeMap<i64, String>,
    pub buyers: BTreeMap<i64, String>,
    pub publishers: BTreeMap<i64, String>,
}

impl Names {
    pub async fn load() -> Names {
        let mut names = Names::default();
        if let Ok(p) = api::publishers(api::ALL, &PublisherFilter::default()).await {
            names.publishers = p.items.into_iter().map(|p| (p.id, p.name)).collect();
        }
        if session::is_publisher() {
            return names;
        }
        let (campaigns, buyers) =
            futures_join(api::campaigns(api::ALL, &CampaignFilter::default()), api::buyers(api::ALL, &BuyerFilter::default())).await;
        if let Ok(c) = campaigns {
            names.campaigns = c.items.into_iter().map(|c| (c.id, c.name)).collect();
        }
        if let Ok(b) = buyers {
            names.buyers = b.items.into_iter().map(|b| (b.id, b.name)).collect();
        }
        names
    }

    fn name(map: &BTreeMap<i64, String>, id: Option<i64>) -> String {
        match id {
            None => "—".to_owned(),
            Some(id) => map.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
        }
    }
    pub fn campaign(&self, id: Option<i64>) -> String {
        Self::name(&self.campaigns, id)
    }
    pub fn buyer(&self, id: Option<i64>) -> String {
        Self::name(&self.buyers, id)
    }
    pub fn publisher(&self, id: Option<i64>) -> String {
        Self::name(&self.publishers, id)
    }
}

/// Both futures, one after the other (requests are short; keeps the dependency list small).
async fn futures_join<A, B>(a: impl std::future::Future<Output = A>, b: impl std::future::Future<Output = B>) -> (A, B) {
    let a = a.await;
    (a, b.await)
}

/// The call's status, or "connected" while a buyer is on the line (Twilio reports the caller's
/// leg as ringing until it ends when no status callback says otherwise).
fn status(c: &Call) -> String {
    if c.connected_at.is_some() && c.ended_at.is_none() {
        "connected".to_owned()
    } else {
        c.status.clone()
    }
}

/// The call's IVR outcome, with the question (1-based) it stands at or ended on unless it was
/// completed.
fn ivr(c: &Call) -> Option<AnyView> {
    let o = c.ivr_outcome?;
    let at = c.ivr_question.filter(|_| o != IvrOutcome::Completed).map(|q| format!(" at Q{}", q + 1));
    Some(view! { <span class="cb-ivr" data-ivr=o.as_str()><Tag text=o.as_str().replace('_', " ")/>{at}</span> }.into_any())
}

#[component]
pub fn CallsTable(calls: Vec<Call>, names: Names) -> impl IntoView {
    let staff = !session::is_publisher();
    let rows = calls
        .into_iter()
        .map(|c| {
            let href = format!("/calls/{}", c.id);
            view! {
                <tr data-call-sid=c.call_sid.clone()>
                    <td><A href=href>{format::short_time(c.started_at)}</A></td>
                    <td>{c.caller.clone()}</td>
                    <td>{format::opt(c.caller_state.clone())}</td>
                    <td>{c.dialled.clone()}</td>
                    {staff.then(|| view! { <td>{names.campaign(c.campaign_id)}</td> <td>{names.publisher(c.publisher_id)}</td> <td>{names.buyer(c.buyer_id)}</td> })}
                    <td><Tag text=status(&c)/></td>
                    <td><Tag text=c.outcome.clone()/></td>
                    {staff.then(|| view! { <td>{c.blocked_by.clone().map(|r| view! { <Tag text=r/> })}</td> <td>{ivr(&c)}</td> })}
                    <td class="cb-num">{format::secs(c.duration_secs)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="cb-table-wrap">
            <table class="cb-table" id="calls-table">
                <thead>
                    <tr>
                        <th scope="col">"Started (UTC)"</th>
                        <th scope="col">"Caller"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Number"</th>
                        {staff.then(|| view! { <th scope="col">"Campaign"</th> <th scope="col">"Publisher"</th> <th scope="col">"Buyer"</th> })}
                        <th scope="col">"Status"</th>
                        <th scope="col">"Outcome"</th>
                        {staff.then(|| view! { <th scope="col">"Blocked by"</th> <th scope="col">"IVR"</th> })}
                        <th scope="col">"Duration"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// Keeps a shown list of calls current from live events: each event's call goes into `overlay`
/// (shown instead of the fetched row, see [`overlaid`]); `refetch` runs when a call starts (it
/// may belong on the page) or when events were missed.
pub fn follow_calls(overlay: RwSignal<BTreeMap<i64, Call>>, refetch: impl Fn() + 'static) {
    crate::live::subscribe(move |m| match m {
        crate::live::Msg::Event(e) => {
            if e.kind == LiveEventKind::CallCreated {
                refetch();
            }
            overlay.update(|o| {
                o.insert(e.call.id, e.call.clone());
            });
        }
        crate::live::Msg::Reload => refetch(),
    });
}

/// The fetched calls with the newer versions from live events.
pub fn overlaid(calls: Vec<Call>, overlay: RwSignal<BTreeMap<i64, Call>>) -> Vec<Call> {
    overlay.with(|o| calls.into_iter().map(|c| o.get(&c.id).cloned().unwrap_or(c)).collect())
}
