//! The campaign's routing by money: how the buyers of each priority tier are ordered (by weight,
//! by price per call or by earnings per call), tiers with a mode of their own, and the EPC window
//! and exploration share; how calls are sold to the campaign's bidders (real-time bidding: their
//! tier, the floor, the ping budget, the publisher's share of a bid, the publishers' ping API).
//! Saved with the campaign, whole (`routing` replaces the policy).
//!
//! Built from the IVR editor's [`input`] and [`choice`] (compiled once) for the first load's budget.
use callbroker_wire::bidding::BidSettings;
use callbroker_wire::*;
use leptos::prelude::*;

use crate::components::form::Errors;
use crate::components::*;
use crate::pages::campaign_ivr::{choice, input, Opts};

const MODES: Opts = &[("weighted", "By weight"), ("revenue", "By price per call"), ("epc", "By earnings per call")];

fn mode_str(m: RoutingMode) -> &'static str {
    match m {
        RoutingMode::Weighted => "weighted",
        RoutingMode::Revenue => "revenue",
        RoutingMode::Epc => "epc",
    }
}

fn parse_mode(s: &str) -> RoutingMode {
    match s {
        "revenue" => RoutingMode::Revenue,
        "epc" => RoutingMode::Epc,
        _ => RoutingMode::Weighted,
    }
}

#[derive(Clone, Copy)]
struct TierRow {
    key: usize,
    priority: RwSignal<String>,
    mode: RwSignal<String>,
}

/// A campaign's routing policy as edited: every field as its input's text.
#[derive(Clone, Copy)]
pub struct RoutingEdit {
    /// The policy as loaded: the EPC figures are kept from it while they are hidden and not valid.
    orig: StoredValue<RoutingPolicy>,
    mode: RwSignal<String>,
    tiers: RwSignal<Vec<TierRow>>,
    epc_days: RwSignal<String>,
    exploration_calls: RwSignal<String>,
    exploration_percent: RwSignal<String>,
    next: StoredValue<usize>,
    bids: BidsEdit,
}

/// The bidding settings as edited (`routing.bids`).
#[derive(Clone, Copy)]
struct BidsEdit {
    priority: RwSignal<String>,
    floor: RwSignal<String>,
    budget_ms: RwSignal<String>,
    by_winner: RwSignal<bool>,
    /// Blank: the campaign's fixed payout.
    payout_percent: RwSignal<String>,
    ping_api: RwSignal<bool>,
    quote_ttl: RwSignal<String>,
}

impl BidsEdit {
    fn new(b: &BidSettings) -> Self {
        let num = |n: i32| RwSignal::new(n.to_string());
        BidsEdit {
            priority: num(b.priority),
            floor: RwSignal::new(crate::format::money_input(b.floor_micros)),
            budget_ms: num(b.ping_budget_ms),
            by_winner: RwSignal::new(b.route_by_bid_winner),
            payout_percent: RwSignal::new(crate::format::opt(b.payout_percent)),
            ping_api: RwSignal::new(b.ping_api),
            quote_ttl: num(b.quote_ttl_secs),
        }
    }

    fn read(&self, c: &mut Check) -> BidSettings {
        let k = |f: &str| format!("routing.bids.{f}");
        BidSettings {
            priority: c.int(&k("priority"), &self.priority.get_untracked(), -1000, 1000),
            floor_micros: c.money(&k("floor_micros"), &self.floor.get_untracked()),
            ping_budget_ms: c.int(&k("ping_budget_ms"), &self.budget_ms.get_untracked(), 50, 5000),
            route_by_bid_winner: self.by_winner.get_untracked(),
            payout_percent: c.opt_int(&k("payout_percent"), &self.payout_percent.get_untracked(), 0, 100),
            ping_api: self.ping_api.get_untracked(),
            quote_ttl_secs: c.int(&k("quote_ttl_secs"), &self.quote_ttl.get_untracked(), 5, 600),
        }
    }
}

impl RoutingEdit {
    pub fn new(p: RoutingPolicy) -> Self {
        let num = |n: i32| RwSignal::new(n.to_string());
        let edit = RoutingEdit {
            mode: RwSignal::new(mode_str(p.mode).to_owned()),
            tiers: RwSignal::new(vec![]),
            epc_days: num(p.epc_days),
            exploration_calls: num(p.exploration_calls),
            exploration_percent: num(p.exploration_percent),
            next: StoredValue::new(0),
            bids: BidsEdit::new(&p.bids),
            orig: StoredValue::new(p),
        };
        edit.tiers.set(edit.orig.with_value(|p| p.tiers.iter().map(|t| edit.tier(Some(t))).collect()));
        edit
    }

    fn tier(&self, t: Option<&TierMode>) -> TierRow {
        let key = self.next.get_value();
        self.next.set_value(key + 1);
        TierRow {
            key,
            priority: RwSignal::new(t.map(|t| t.priority.to_string()).unwrap_or_default()),
            mode: RwSignal::new(mode_str(t.map_or(RoutingMode::Revenue, |t| t.mode)).to_owned()),
        }
    }

    /// Whether some tier is routed by earnings per call (the EPC fields apply).
    fn uses_epc(&self) -> bool {
        self.mode.get() == "epc" || self.tiers.with(|v| v.iter().any(|t| t.mode.get() == "epc"))
    }

    /// The policy as the API takes it, after the page's own checks (numbers in range); a priority
    /// given to two tiers is the server's to judge.
    pub fn read(&self, c: &mut Check) -> RoutingPolicy {
        let epc = self.uses_epc();
        let orig = self.orig.get_value();
        // Hidden fields are not checked: a value out of range there keeps the loaded one.
        let mut num = |field: &str, v: RwSignal<String>, max: i32, was: i32| {
            let min = i32::from(field == "epc_days");
            let text = v.get_untracked();
            if epc {
                c.int(&format!("routing.{field}"), &text, min, max)
            } else {
                text.trim().parse().ok().filter(|n| (min..=max).contains(n)).unwrap_or(was)
            }
        };
        RoutingPolicy {
            mode: parse_mode(&self.mode.get_untracked()),
            epc_days: num("epc_days", self.epc_days, 90, orig.epc_days),
            exploration_calls: num("exploration_calls", self.exploration_calls, 10_000, orig.exploration_calls),
            exploration_percent: num("exploration_percent", self.exploration_percent, 50, orig.exploration_percent),
            bids: self.bids.read(c),
            tiers: self
                .tiers
                .get_untracked()
                .iter()
                .enumerate()
                .map(|(i, t)| TierMode {
                    priority: c.int(&format!("routing.tiers[{i}].priority"), &t.priority.get_untracked(), -1000, 1000),
                    mode: parse_mode(&t.mode.get_untracked()),
                })
                .collect(),
        }
    }
}

/// The routing part of the campaign form.
#[component]
pub fn RoutingFields(r: RoutingEdit, errors: Errors) -> impl IntoView {
    let epc = Some(Signal::derive(move || r.uses_epc()));
    let key = |f: &str| vec![format!("routing.{f}")];
    view! {
        <fieldset class="cb-subform" id="routing">
            <legend>"Routing"</legend>
            <p class="cb-help">"Priority always comes first; within a priority, buyers are ordered by weight, by their price per qualified call, or by what they earned per call lately. A buyer with too few calls to measure is offered the exploration share of calls first."</p>
            <div class="cb-row">
                {choice("Order buyers", "routing-mode".to_owned(), r.mode, MODES)}
                {input("Earnings over (days)", "routing-epc-days".to_owned(), key("epc_days"), r.epc_days, errors, "number", "7", epc)}
                {input("Measured after (calls)", "routing-exploration-calls".to_owned(), key("exploration_calls"), r.exploration_calls, errors, "number", "20", epc)}
                {input("Exploration share (%)", "routing-exploration-percent".to_owned(), key("exploration_percent"), r.exploration_percent, errors, "number", "10", epc)}
            </div>
            {move || r.tiers.get().into_iter().enumerate().map(|(i, t)| view! {
                <div class="cb-row routing-tier" id=format!("routing-tier-{i}")>
                    {input("Priority", format!("routing-tier-{i}-priority"), key(&format!("tiers[{i}].priority")), t.priority, errors, "number", "", None)}
                    {choice("Its buyers", format!("routing-tier-{i}-mode"), t.mode, MODES)}
                    <button type="button" class="cb-secondary" aria-label=format!("Remove tier {}", i + 1)
                        on:click=move |_| r.tiers.update(|v| v.retain(|x| x.key != t.key))>"Remove"</button>
                </div>
            }).collect_view()}
            {move || errors.with(|e| e.get("routing.tiers").cloned()).map(|m| view! { <span class="cb-field-error">{m}</span> })}
            <button type="button" class="cb-secondary" id="routing-add-tier" on:click=move |_| r.tiers.update(|v| v.push(r.tier(None)))>"Add a priority with its own order"</button>
        </fieldset>
        <BidFields b=r.bids errors=errors/>
    }
}

/// The bidding part of the campaign form (`routing.bids`).
#[component]
fn BidFields(b: BidsEdit, errors: Errors) -> impl IntoView {
    let key = |f: &str| vec![format!("routing.bids.{f}")];
    view! {
        <fieldset class="cb-subform" id="bidding">
            <legend>"Bidding"</legend>
            <p class="cb-help">"Bids are a tier at this priority; those under the floor or over the budget are out."</p>
            <div class="cb-row">
                {input("Bidders' priority", "bids-priority".to_owned(), key("priority"), b.priority, errors, "number", "0", None)}
                {input("Floor (lowest bid)", "bids-floor".to_owned(), key("floor_micros"), b.floor, errors, "text", "0.00", None)}
                {input("Ping budget (ms)", "bids-budget".to_owned(), key("ping_budget_ms"), b.budget_ms, errors, "number", "1000", None)}
                {input("Publisher's share (%)", "bids-payout".to_owned(), key("payout_percent"), b.payout_percent, errors, "number", "fixed payout", None)}
                {input("Quote holds (s)", "bids-quote-ttl".to_owned(), key("quote_ttl_secs"), b.quote_ttl, errors, "number", "60", None)}
            </div>
            <CheckField label="Ring the best price first, whatever the priorities" name="bids-by-winner" value=b.by_winner/>
            <CheckField label="Publishers may ask for quotes (RTB ping)" name="bids-ping-api" value=b.ping_api/>
        </fieldset>
    }
}
