//! Campaigns: the list, and one form for creating and editing (greeting, busy message, status,
//! buyers with per-campaign priority and weight).
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::*;
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
    buyer: RwSignal<String>,
    priority: RwSignal<String>,
    weight: RwSignal<String>,
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
            buyer: RwSignal::new(cb.map(|b| b.buyer_id.to_string()).unwrap_or_default()),
            priority: RwSignal::new(cb.and_then(|b| b.priority).map(|p| p.to_string()).unwrap_or_default()),
            weight: RwSignal::new(cb.and_then(|b| b.weight).map(|w| w.to_string()).unwrap_or_default()),
        }
    };
    let rows = RwSignal::new(campaign.as_ref().map(|c| c.buyers.iter().map(|b| new_row(Some(b))).collect::<Vec<_>>()).unwrap_or_default());
    let campaign_buyers = StoredValue::new(campaign.as_ref().map(|c| c.buyers.clone()).unwrap_or_default());
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
        let before = campaign_buyers.get_value();
        for (i, r) in rows.get_untracked().iter().enumerate() {
            let buyer_id = r.buyer.get_untracked().parse::<i64>().ok();
            let priority = c.opt_int(&format!("buyers[{i}].priority"), &r.priority.get_untracked(), -1000, 1000);
            let weight = c.opt_int(&format!("buyers[{i}].weight"), &r.weight.get_untracked(), 1, 1000);
            match buyer_id {
                Some(buyer_id) if assigned.iter().any(|a: &CampaignBuyer| a.buyer_id == buyer_id) => {
                    c.fail(&format!("buyers[{i}].buyer_id"), "is already assigned")
                }
                Some(buyer_id) => {
                    // Overrides this form does not edit stay as they are.
                    let kept = before.iter().find(|b| b.buyer_id == buyer_id);
                    assigned.push(CampaignBuyer {
                        buyer_id,
                        priority,
                        weight,
                        revenue_micros: kept.and_then(|b| b.revenue_micros),
                        buffer_secs: kept.and_then(|b| b.buffer_secs),
                        tag_rules: kept.and_then(|b| b.tag_rules.clone()),
                        whisper: kept.and_then(|b| b.whisper.clone()),
                        require_accept: kept.and_then(|b| b.require_accept),
                        accept_timeout_secs: kept.and_then(|b| b.accept_timeout_secs),
                    })
                }
                None => c.fail(&format!("buyers[{i}].buyer_id"), "choose a buyer"),
            }
        }
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
                        screening: None,
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
                        screening: None,
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
                                </div>
                            }
                        }).collect_view().into_any()
                    }}
                    <button type="button" class="cb-secondary" id="add-buyer" on:click=move |_| rows.update(|v| v.push(new_row(None)))>"Add buyer"</button>
                </fieldset>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>{if id.is_some() { "Save campaign" } else { "Create campaign" }}</button>
            </fieldset>
        </form>
    }
}
