//! Campaigns: the list, and one form for creating and editing (greeting, busy message, status,
//! buyers with per-campaign priority, weight and tag rules, routing by money, caller screening,
//! the IVR).
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::*;
use crate::pages::campaign_ivr::{IvrEdit, IvrFields};
use crate::pages::campaign_routing::{RoutingEdit, RoutingFields};
use crate::pages::route_id;
use crate::session;

#[component]
pub fn Campaigns() -> impl IntoView {
    let page = RwSignal::new(1i64);
    let q = RwSignal::new(String::new());
    let list = fetch(move || {
        let filter = CampaignFilter { status: None, q: crate::components::opt_text(&q.get()) };
        let page = PageParams { page: page.get(), per_page: 25 };
        async move { api::campaigns(page, &filter).await }
    });
    view! {
        <section id="page-campaigns">
            <div class="cb-title-row">
                <h1>"Campaigns"</h1>
                {move || session::can_write().then(|| view! { <A href="/campaigns/new" attr:class="cb-button">"New campaign"</A> })}
            </div>
            <SearchBox q=q page=page label="Search campaigns"/>
            {move || show(list.get(), |data| {
                if data.items.is_empty() {
                    return view! { <Empty text="No campaigns yet. Create one to start routing calls."/> }.into_any();
                }
                let rows = data.items.clone().into_iter().map(|c| view! {
                    <tr>
                        <td><A href=format!("/campaigns/{}", c.id)>{c.name.clone()}</A></td>
                        <td><StatusBadge status=c.status/></td>
                        <td class="cb-num">{c.buyers.len()}</td>
                        <td>{c.greeting.clone()}</td>
                    </tr>
                }).collect_view();
                view! {
                    <div class="cb-table-wrap"><table class="cb-table">
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Status"</th><th scope="col">"Buyers"</th><th scope="col">"Greeting"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table></div>
                    <Pager page=page total=data.total per_page=data.per_page/>
                }.into_any()
            })}
        </section>
    }
}

/// A search input that resets the page to 1.
#[component]
pub fn SearchBox(q: RwSignal<String>, page: RwSignal<i64>, label: &'static str) -> impl IntoView {
    view! {
        <div class="cb-field cb-search">
            <label for="search">{label}</label>
            <input id="search" type="search" prop:value=move || q.get()
                on:change=move |ev| { q.set(event_target_value(&ev)); page.set(1); }/>
        </div>
    }
}

#[derive(Clone, Copy)]
struct AssignRow {
    key: usize,
    /// The assignment as loaded: the fields this form does not edit are sent back unchanged.
    orig: StoredValue<Option<CampaignBuyer>>,
    buyer: RwSignal<String>,
    priority: RwSignal<String>,
    weight: RwSignal<String>,
    /// The assignment has its own tag rules (else the buyer's apply).
    own_rules: RwSignal<bool>,
    rules: RulesEdit,
    /// `""` the buyer's whisper, `none`, or `own` (the text in `whisper`).
    whisper_mode: RwSignal<String>,
    whisper: RwSignal<String>,
    /// `""` the buyer's setting, `yes` or `no`.
    require_accept: RwSignal<String>,
    /// Blank: the buyer's.
    accept_timeout: RwSignal<String>,
}

#[component]
pub fn CampaignEdit() -> impl IntoView {
    let id = route_id();
    let existing = fetch(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => api::campaign(id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let buyers = fetch(|| async { api::buyers(api::ALL, &BuyerFilter::default()).await });
    view! {
        <section id="page-campaign">
            <p><A href="/campaigns">"← Campaigns"</A></p>
            {move || show(existing.get(), move |c| view! { <CampaignForm campaign=c buyers=buyers/> })}
        </section>
    }
}

#[component]
fn CampaignForm(campaign: Option<Campaign>, buyers: Fetched<api::ApiResult<Page<Buyer>>>) -> impl IntoView {
    let id = campaign.as_ref().map(|c| c.id);
    let name = RwSignal::new(campaign.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    let status = RwSignal::new(campaign.as_ref().map(|c| c.status).unwrap_or_default().as_str().to_owned());
    let greeting = RwSignal::new(campaign.as_ref().map(|c| c.greeting.clone()).unwrap_or_else(|| DEFAULT_GREETING.to_owned()));
    let busy_message = RwSignal::new(campaign.as_ref().map(|c| c.busy_message.clone()).unwrap_or_else(|| DEFAULT_BUSY_MESSAGE.to_owned()));
    let next_key = StoredValue::new(0usize);
    let new_row = move |cb: Option<&CampaignBuyer>| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        AssignRow {
            key,
            orig: StoredValue::new(cb.cloned()),
            buyer: RwSignal::new(cb.map(|b| b.buyer_id.to_string()).unwrap_or_default()),
            priority: RwSignal::new(cb.and_then(|b| b.priority).map(|p| p.to_string()).unwrap_or_default()),
            weight: RwSignal::new(cb.and_then(|b| b.weight).map(|w| w.to_string()).unwrap_or_default()),
            own_rules: RwSignal::new(cb.is_some_and(|b| b.tag_rules.is_some())),
            rules: RulesEdit::new(cb.and_then(|b| b.tag_rules.as_deref()).unwrap_or_default()),
            whisper_mode: RwSignal::new(
                match cb.and_then(|b| b.whisper.as_deref()) {
                    None => "",
                    Some("") => "none",
                    Some(_) => "own",
                }
                .to_owned(),
            ),
            whisper: RwSignal::new(cb.and_then(|b| b.whisper.clone()).unwrap_or_default()),
            require_accept: RwSignal::new(
                match cb.and_then(|b| b.require_accept) {
                    None => "",
                    Some(true) => "yes",
                    Some(false) => "no",
                }
                .to_owned(),
            ),
            accept_timeout: RwSignal::new(cb.and_then(|b| b.accept_timeout_secs).map(|t| t.to_string()).unwrap_or_default()),
        }
    };
    let rows = RwSignal::new(campaign.as_ref().map(|c| c.buyers.iter().map(|b| new_row(Some(b))).collect::<Vec<_>>()).unwrap_or_default());
    let screening = ScreeningEdit::new(campaign.as_ref().map(|c| c.screening.clone()).unwrap_or_default());
    let ivr = IvrEdit::new(&campaign.as_ref().map(|c| c.ivr.clone()).unwrap_or_default());
    let routing = RoutingEdit::new(campaign.as_ref().map(|c| c.routing.clone()).unwrap_or_default());
    let form = FormState::new();
    let navigate = use_navigate();
    let writable = session::can_write();

    let buyer_options = Signal::derive(move || {
        let mut opts = vec![(String::new(), "Choose a buyer…".to_owned())];
        if let Some(Ok(p)) = buyers.get() {
            opts.extend(p.items.into_iter().map(|b| (b.id.to_string(), format!("{} ({})", b.name, b.phone_number))));
        }
        opts
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let name = c.required("name", &name.get_untracked());
        let greeting = c.required("greeting", &greeting.get_untracked());
        let busy_message = c.required("busy_message", &busy_message.get_untracked());
        let status = parse_status(&status.get_untracked());
        let mut assigned = Vec::new();
        for (i, r) in rows.get_untracked().iter().enumerate() {
            let buyer_id = r.buyer.get_untracked().parse::<i64>().ok();
            let priority = c.opt_int(&format!("buyers[{i}].priority"), &r.priority.get_untracked(), -1000, 1000);
            let weight = c.opt_int(&format!("buyers[{i}].weight"), &r.weight.get_untracked(), 1, 1000);
            let tag_rules = r.own_rules.get_untracked().then(|| r.rules.read(&format!("buyers[{i}].tag_rules"), &mut c));
            let whisper = match r.whisper_mode.get_untracked().as_str() {
                "none" => Some(String::new()),
                "own" => Some(c.required(&format!("buyers[{i}].whisper"), &r.whisper.get_untracked())),
                _ => None,
            };
            let require_accept = match r.require_accept.get_untracked().as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            };
            let accept_timeout_secs = c.opt_int(&format!("buyers[{i}].accept_timeout_secs"), &r.accept_timeout.get_untracked(), 1, 60);
            match buyer_id {
                Some(buyer_id) if assigned.iter().any(|a: &CampaignBuyer| a.buyer_id == buyer_id) => {
                    c.fail(&format!("buyers[{i}].buyer_id"), "is already assigned")
                }
                Some(buyer_id) => {
                    let orig = r.orig.get_value().filter(|o| o.buyer_id == buyer_id);
                    let (revenue_micros, buffer_secs) = orig.map(|o| (o.revenue_micros, o.buffer_secs)).unwrap_or_default();
                    assigned.push(CampaignBuyer {
                        buyer_id,
                        priority,
                        weight,
                        revenue_micros,
                        buffer_secs,
                        tag_rules,
                        whisper,
                        require_accept,
                        accept_timeout_secs,
                    })
                }
                None => c.fail(&format!("buyers[{i}].buyer_id"), "choose a buyer"),
            }
        }
        let screening = screening.read(&mut c);
        let ivr = ivr.read(&mut c);
        let routing = routing.read(&mut c);
        if !form.begin(c.into_errors()) {
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            let res = match id {
                Some(id) => {
                    let patch = CampaignPatch {
                        name: Some(name),
                        status: Some(status),
                        greeting: Some(greeting),
                        busy_message: Some(busy_message),
                        buyers: Some(assigned),
                        transcribe: None,
                        money: Default::default(),
                        publishers: None,
                        screening: Some(screening),
                        ivr: Some(ivr),
                        routing: Some(routing),
                    };
                    api::update_campaign(id, &patch).await
                }
                None => {
                    let new = NewCampaign {
                        name,
                        status: Some(status),
                        greeting: Some(greeting),
                        busy_message: Some(busy_message),
                        buyers: assigned,
                        transcribe: false,
                        money: Default::default(),
                        publishers: vec![],
                        screening: Some(screening),
                        ivr: Some(ivr),
                        routing: Some(routing),
                    };
                    api::create_campaign(&new).await
                }
            };
            match res {
                Ok(saved) => {
                    form.done(format!("Campaign “{}” saved.", saved.name));
                    if id.is_none() {
                        navigate(&format!("/campaigns/{}", saved.id), Default::default());
                    }
                }
                Err(e) => form.failed(e),
            }
        });
    };

    let title = match &campaign {
        Some(c) => format!("Campaign: {}", c.name),
        None => "New campaign".to_owned(),
    };
    let errors = form.errors;
    view! {
        <h1>{title}</h1>
        <form class="cb-form" on:submit=on_submit novalidate=true id="campaign-form">
            <fieldset disabled=!writable>
                <TextField label="Name" name="name" value=name errors=errors required=true/>
                <SelectField label="Status" name="status" value=status errors=errors options=Signal::derive(status_options)/>
                <TextArea label="Greeting (said before connecting)" name="greeting" value=greeting errors=errors/>
                <TextArea label="Busy message (said when no buyer can take the call)" name="busy_message" value=busy_message errors=errors/>
                <fieldset class="cb-subform">
                    <legend>"Buyers"</legend>
                    <p class="cb-help">"Priority and weight here override the buyer's own for this campaign; leave blank to use the buyer's."</p>
                    {move || {
                        let list = rows.get();
                        if list.is_empty() {
                            return view! { <Empty text="No buyers assigned: calls to this campaign hear the busy message."/> }.into_any();
                        }
                        list.into_iter().enumerate().map(|(i, r)| {
                            let bid = format!("assign-buyer-{i}");
                            let pid = format!("assign-priority-{i}");
                            let wid = format!("assign-weight-{i}");
                            let err = move |f: &'static str| move || errors.with(|e| e.get(&format!("buyers[{i}].{f}")).cloned()).map(|m| view! { <span class="cb-field-error">{m}</span> });
                            view! {
                                <div class="cb-row assign-row">
                                    <div class="cb-field">
                                        <label for=bid.clone()>"Buyer"</label>
                                        <select id=bid on:change=move |ev| r.buyer.set(event_target_value(&ev)) prop:value=move || r.buyer.get()>
                                            {move || buyer_options.get().into_iter().map(|(v, l)| { let sel = r.buyer.get_untracked() == v; view! { <option value=v selected=sel>{l}</option> } }).collect_view()}
                                        </select>
                                        {err("buyer_id")}
                                    </div>
                                    <div class="cb-field cb-narrow">
                                        <label for=pid.clone()>"Priority"</label>
                                        <input id=pid type="number" prop:value=move || r.priority.get() on:input=move |ev| r.priority.set(event_target_value(&ev))/>
                                        {err("priority")}
                                    </div>
                                    <div class="cb-field cb-narrow">
                                        <label for=wid.clone()>"Weight"</label>
                                        <input id=wid type="number" min="1" prop:value=move || r.weight.get() on:input=move |ev| r.weight.set(event_target_value(&ev))/>
                                        {err("weight")}
                                    </div>
                                    <button type="button" class="cb-secondary" aria-label=format!("Remove buyer row {}", i + 1)
                                        on:click=move |_| rows.update(|v| v.retain(|x| x.key != r.key))>"Remove"</button>
                                    <div class="cb-field cb-check cb-wide">
                                        <input id=format!("assign-own-rules-{i}") type="checkbox" prop:checked=move || r.own_rules.get()
                                            on:change=move |ev| r.own_rules.set(event_target_checked(&ev))/>
                                        <label for=format!("assign-own-rules-{i}")>"Own tag rules on this campaign (instead of the buyer's)"</label>
                                    </div>
                                    <Show when=move || r.own_rules.get()>
                                        <div class="cb-wide">
                                            <TagRulesEditor rules=r.rules prefix=format!("assign-{i}-rule") at=format!("buyers[{i}].tag_rules") errors=errors/>
                                        </div>
                                    </Show>
                                    <AssignAcceptance r=r i=i errors=errors/>
                                </div>
                            }
                        }).collect_view().into_any()
                    }}
                    <button type="button" class="cb-secondary" id="add-buyer" on:click=move |_| rows.update(|v| v.push(new_row(None)))>"Add buyer"</button>
                </fieldset>
                <RoutingFields r=routing errors=errors/>
                <ScreeningFields s=screening errors=errors/>
                // After the screening: blocking is checked before the IVR.
                <IvrFields ivr=ivr greeting=greeting errors=errors/>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>{if id.is_some() { "Save campaign" } else { "Create campaign" }}</button>
            </fieldset>
        </form>
    }
}

// ---------------------------------------------------------------- caller screening

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect()
}

fn action_options() -> Vec<(String, String)> {
    pairs(&[("allow", "Allow"), ("block", "Block")])
}

fn attestation_options() -> Vec<(String, String)> {
    pairs(&[("none", "None required"), ("c", "C (partial) or better"), ("b", "B (known customer) or better"), ("a", "A (full) only")])
}

fn repeat_options() -> Vec<(String, String)> {
    pairs(&[("allow", "Route as usual"), ("block", "Block"), ("same_buyer", "Only the buyer of their last call")])
}

fn answer_options() -> Vec<(String, String)> {
    pairs(&[("reject", "Rejected unanswered (not billed)"), ("message", "A message, then hang up")])
}

fn action_str(a: ScreenAction) -> &'static str {
    match a {
        ScreenAction::Allow => "allow",
        ScreenAction::Block => "block",
    }
}

fn parse_action(s: &str) -> ScreenAction {
    if s == "block" {
        ScreenAction::Block
    } else {
        ScreenAction::Allow
    }
}

/// A campaign's screening as edited: every field as its input's text.
#[derive(Clone, Copy)]
struct ScreeningEdit {
    anonymous: RwSignal<String>,
    min_attestation: RwSignal<String>,
    missing_attestation: RwSignal<String>,
    answer: RwSignal<String>,
    block_message: RwSignal<String>,
    repeat_window: RwSignal<String>,
    repeat_action: RwSignal<String>,
    qualified_days: RwSignal<String>,
    rate_calls: RwSignal<String>,
    rate_minutes: RwSignal<String>,
}

impl ScreeningEdit {
    fn new(s: Screening) -> Self {
        let text = |v: &str| RwSignal::new(v.to_owned());
        ScreeningEdit {
            anonymous: text(action_str(s.anonymous)),
            min_attestation: text(match s.min_attestation {
                Attestation::None => "none",
                Attestation::C => "c",
                Attestation::B => "b",
                Attestation::A => "a",
            }),
            missing_attestation: text(action_str(s.missing_attestation)),
            answer: text(if s.block_message.is_some() { "message" } else { "reject" }),
            block_message: RwSignal::new(s.block_message.unwrap_or_default()),
            repeat_window: RwSignal::new(s.repeat_window_secs.to_string()),
            repeat_action: text(match s.repeat_action {
                RepeatAction::Allow => "allow",
                RepeatAction::Block => "block",
                RepeatAction::SameBuyer => "same_buyer",
            }),
            qualified_days: RwSignal::new(s.qualified_repeat_days.to_string()),
            rate_calls: RwSignal::new(s.rate_limit_calls.to_string()),
            rate_minutes: RwSignal::new(s.rate_limit_minutes.to_string()),
        }
    }

    /// Every setting, checked (problems named `screening.<field>` as the API names them).
    fn read(&self, c: &mut Check) -> ScreeningPatch {
        let int =
            |c: &mut Check, field: &str, v: RwSignal<String>, max: i32| c.int(&format!("screening.{field}"), &v.get_untracked(), 0, max);
        let repeat_window_secs = int(c, "repeat_window_secs", self.repeat_window, 2_592_000);
        let qualified_repeat_days = int(c, "qualified_repeat_days", self.qualified_days, 365);
        let rate_limit_calls = int(c, "rate_limit_calls", self.rate_calls, 10_000);
        let rate_limit_minutes = int(c, "rate_limit_minutes", self.rate_minutes, 10_080);
        if rate_limit_calls > 0 && rate_limit_minutes == 0 {
            c.fail("screening.rate_limit_minutes", "must be at least 1 when a number of calls is set");
        }
        let block_message = if self.answer.get_untracked() == "message" {
            Some(c.required("screening.block_message", &self.block_message.get_untracked()))
        } else {
            None
        };
        ScreeningPatch {
            anonymous: Some(parse_action(&self.anonymous.get_untracked())),
            min_attestation: Some(match self.min_attestation.get_untracked().as_str() {
                "a" => Attestation::A,
                "b" => Attestation::B,
                "c" => Attestation::C,
                _ => Attestation::None,
            }),
            missing_attestation: Some(parse_action(&self.missing_attestation.get_untracked())),
            repeat_window_secs: Some(repeat_window_secs),
            repeat_action: Some(match self.repeat_action.get_untracked().as_str() {
                "block" => RepeatAction::Block,
                "same_buyer" => RepeatAction::SameBuyer,
                _ => RepeatAction::Allow,
            }),
            qualified_repeat_days: Some(qualified_repeat_days),
            rate_limit_calls: Some(rate_limit_calls),
            rate_limit_minutes: Some(rate_limit_minutes),
            block_message: Some(block_message),
        }
    }
}

/// The screening part of the campaign form.
#[component]
fn ScreeningFields(s: ScreeningEdit, errors: crate::components::form::Errors) -> impl IntoView {
    view! {
        <fieldset class="cb-subform" id="screening">
            <legend>"Caller screening"</legend>
            <p class="cb-help">"Checked before any buyer rings; a blocked call is recorded with its rule. The blocklist has its own page."</p>
            <div class="cb-grid">
                <SelectField label="Anonymous callers" name="screening.anonymous" value=s.anonymous errors=errors options=Signal::derive(action_options)/>
                <SelectField label="Minimum STIR/SHAKEN attestation" name="screening.min_attestation" value=s.min_attestation errors=errors options=Signal::derive(attestation_options)/>
                <SelectField label="Calls without attestation" name="screening.missing_attestation" value=s.missing_attestation errors=errors options=Signal::derive(action_options)/>
                <TextField label="Repeat window (seconds)" name="screening.repeat_window_secs" kind="number" value=s.repeat_window errors=errors help="0: off"/>
                <SelectField label="Callers again within the window" name="screening.repeat_action" value=s.repeat_action errors=errors options=Signal::derive(repeat_options)/>
                <TextField label="Block callers qualified within (days)" name="screening.qualified_repeat_days" kind="number" value=s.qualified_days errors=errors help="0: off"/>
                <TextField label="Rate limit: calls" name="screening.rate_limit_calls" kind="number" value=s.rate_calls errors=errors help="A caller with this many calls in the period is blocked; 0: off"/>
                <TextField label="Rate limit: period (minutes)" name="screening.rate_limit_minutes" kind="number" value=s.rate_minutes errors=errors/>
                <SelectField label="Blocked callers get" name="screening.answer" value=s.answer errors=errors options=Signal::derive(answer_options)/>
            </div>
            <Show when=move || s.answer.get() == "message">
                <TextArea label="Message to blocked callers" name="screening.block_message" value=s.block_message errors=errors/>
            </Show>
        </fieldset>
    }
}

fn whisper_mode_options() -> Vec<(String, String)> {
    pairs(&[("", "The buyer's whisper"), ("none", "No whisper"), ("own", "This whisper:")])
}

fn require_accept_options() -> Vec<(String, String)> {
    pairs(&[("", "As the buyer"), ("yes", "Yes: press 1 to accept"), ("no", "No")])
}

/// An assignment's acceptance overrides: whisper, "press 1 to accept" and its timeout.
#[component]
fn AssignAcceptance(r: AssignRow, i: usize, errors: crate::components::form::Errors) -> impl IntoView {
    let (mid, wid, aid, tid) =
        (format!("assign-whisper-mode-{i}"), format!("assign-whisper-{i}"), format!("assign-accept-{i}"), format!("assign-timeout-{i}"));
    let err = move |f: &'static str| {
        move || errors.with(|e| e.get(&format!("buyers[{i}].{f}")).cloned()).map(|m| view! { <span class="cb-field-error">{m}</span> })
    };
    let select = move |id: String, value: RwSignal<String>, opts: Vec<(String, String)>| {
        view! {
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
                {opts.into_iter().map(|(v, l)| { let sel = value.get_untracked() == v; view! { <option value=v selected=sel>{l}</option> } }).collect_view()}
            </select>
        }
    };
    view! {
        <div class="cb-row cb-wide">
            <div class="cb-field">
                <label for=mid.clone()>"Whisper to the agent"</label>
                {select(mid, r.whisper_mode, whisper_mode_options())}
            </div>
            <Show when=move || r.whisper_mode.get() == "own">
                <div class="cb-field">
                    <label for=wid.clone()>"Whisper on this campaign"</label>
                    <input id=wid.clone() prop:value=move || r.whisper.get() on:input=move |ev| r.whisper.set(event_target_value(&ev))/>
                </div>
            </Show>
            {err("whisper")}
            <div class="cb-field">
                <label for=aid.clone()>"Agent must accept"</label>
                {select(aid, r.require_accept, require_accept_options())}
            </div>
            <div class="cb-field cb-narrow">
                <label for=tid.clone()>"Accept within (s)"</label>
                <input id=tid type="number" min="1" max="60" placeholder="buyer's" prop:value=move || r.accept_timeout.get()
                    on:input=move |ev| r.accept_timeout.set(event_target_value(&ev))/>
                {err("accept_timeout_secs")}
            </div>
        </div>
    }
}
