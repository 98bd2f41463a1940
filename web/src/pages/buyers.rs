//! Buyers: the list, and one form for creating and editing (phone, priority, weight, capacity,
//! caps, time zone, weekly schedule, geography, tag rules, IVR labels, agent acceptance, status).
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::*;
use crate::pages::campaigns::SearchBox;
use crate::pages::route_id;
use crate::session;

#[component]
pub fn Buyers() -> impl IntoView {
    let page = RwSignal::new(1i64);
    let q = RwSignal::new(String::new());
    let list = fetch(move || {
        let filter = BuyerFilter { q: opt_text(&q.get()), ..Default::default() };
        let page = PageParams { page: page.get(), per_page: 25 };
        async move { api::buyers(page, &filter).await }
    });
    view! {
        <section id="page-buyers">
            <div class="cb-title-row">
                <h1>"Buyers"</h1>
                {move || session::can_write().then(|| view! { <A href="/buyers/new" attr:class="cb-button">"New buyer"</A> })}
            </div>
            <SearchBox q=q page=page label="Search buyers"/>
            {move || show(list.get(), |data| {
                if data.items.is_empty() {
                    return view! { <Empty text="No buyers yet. Add the call centres that take your calls."/> }.into_any();
                }
                let rows = data.items.clone().into_iter().map(|b| {
                    let caps = [("h", b.cap_hourly), ("d", b.cap_daily), ("m", b.cap_monthly)]
                        .iter().filter_map(|(k, v)| v.map(|v| format!("{v}/{k}"))).collect::<Vec<_>>().join(" ");
                    view! {
                        <tr>
                            <td><A href=format!("/buyers/{}", b.id)>{b.name.clone()}</A></td>
                            <td>{b.phone_number.clone()}</td>
                            <td><StatusBadge status=b.status/></td>
                            <td class="cb-num">{b.priority}</td>
                            <td class="cb-num">{b.weight}</td>
                            <td class="cb-num">{b.max_concurrent_calls}</td>
                            <td>{if caps.is_empty() { "none".to_owned() } else { caps }}</td>
                            <td>{b.timezone.clone()}</td>
                            <td class="buyer-labels">{b.labels.join(", ")}</td>
                        </tr>
                    }
                }).collect_view();
                view! {
                    <div class="cb-table-wrap"><table class="cb-table">
                        <thead><tr>
                            <th scope="col">"Name"</th><th scope="col">"Phone"</th><th scope="col">"Status"</th>
                            <th scope="col">"Priority"</th><th scope="col">"Weight"</th><th scope="col">"Max concurrent"</th>
                            <th scope="col">"Caps"</th><th scope="col">"Time zone"</th><th scope="col">"Labels"</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table></div>
                    <Pager page=page total=data.total per_page=data.per_page/>
                }.into_any()
            })}
        </section>
    }
}

#[component]
pub fn BuyerEdit() -> impl IntoView {
    let id = route_id();
    let existing = fetch(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => api::buyer(id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    view! {
        <section id="page-buyer">
            <p><A href="/buyers">"← Buyers"</A></p>
            {move || show(existing.get(), |b| view! { <BuyerForm buyer=b/> })}
        </section>
    }
}

#[derive(Clone, Copy)]
struct WindowRow {
    key: usize,
    day: RwSignal<String>,
    start: RwSignal<String>,
    end: RwSignal<String>,
}

/// The `<select>` value of a day: its index, Monday 0.
fn day_code(d: Day) -> String {
    d.index().to_string()
}

#[component]
fn BuyerForm(buyer: Option<Buyer>) -> impl IntoView {
    let b = buyer.as_ref();
    let id = b.map(|b| b.id);
    let s = |v: String| RwSignal::new(v);
    let name = s(b.map(|b| b.name.clone()).unwrap_or_default());
    let phone = s(b.map(|b| b.phone_number.clone()).unwrap_or_default());
    let status = s(b.map(|b| b.status).unwrap_or_default().as_str().to_owned());
    let priority = s(b.map(|b| b.priority).unwrap_or(0).to_string());
    let weight = s(b.map(|b| b.weight).unwrap_or(1).to_string());
    let max_concurrent = s(b.map(|b| b.max_concurrent_calls).unwrap_or(1).to_string());
    let cap_hourly = s(crate::format::opt(b.and_then(|b| b.cap_hourly)));
    let cap_daily = s(crate::format::opt(b.and_then(|b| b.cap_daily)));
    let cap_monthly = s(crate::format::opt(b.and_then(|b| b.cap_monthly)));
    let timezone = s(b.map(|b| b.timezone.clone()).unwrap_or_else(|| "UTC".into()));
    let allowed = s(b.map(|b| b.allowed_states.join(", ")).unwrap_or_default());
    let denied = s(b.map(|b| b.denied_states.join(", ")).unwrap_or_default());
    let sticky = RwSignal::new(b.map(|b| b.sticky_repeat_callers).unwrap_or(true));
    let rules = RulesEdit::new(b.map(|b| b.tag_rules.as_slice()).unwrap_or_default());
    let labels = s(b.map(|b| b.labels.join(", ")).unwrap_or_default());
    let whisper = s(b.and_then(|b| b.whisper.clone()).unwrap_or_default());
    let require_accept = RwSignal::new(b.is_some_and(|b| b.require_accept));
    let accept_timeout = s(b.map_or(DEFAULT_ACCEPT_TIMEOUT_SECS, |b| b.accept_timeout_secs).to_string());
    let next_key = StoredValue::new(0usize);
    let new_row = move |w: Option<&ScheduleWindow>| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        WindowRow {
            key,
            day: RwSignal::new(w.map(|w| day_code(w.day)).unwrap_or_else(|| "0".into())),
            start: RwSignal::new(w.map(|w| w.start.clone()).unwrap_or_else(|| "09:00".into())),
            end: RwSignal::new(w.map(|w| w.end.clone()).unwrap_or_else(|| "17:00".into())),
        }
    };
    let windows = RwSignal::new(b.map(|b| b.schedule.iter().map(|w| new_row(Some(w))).collect::<Vec<_>>()).unwrap_or_default());
    let form = FormState::new();
    let navigate = use_navigate();
    let writable = session::can_write();
    let errors = form.errors;

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let name = c.required("name", &name.get_untracked());
        let phone_number = c.e164("phone_number", &phone.get_untracked());
        let status = parse_status(&status.get_untracked());
        let priority = c.int("priority", &priority.get_untracked(), -1000, 1000);
        let weight = c.int("weight", &weight.get_untracked(), 1, 1000);
        let max_concurrent_calls = c.int("max_concurrent_calls", &max_concurrent.get_untracked(), 0, 10_000);
        let cap_hourly = c.opt_int("cap_hourly", &cap_hourly.get_untracked(), 0, 1_000_000);
        let cap_daily = c.opt_int("cap_daily", &cap_daily.get_untracked(), 0, 1_000_000);
        let cap_monthly = c.opt_int("cap_monthly", &cap_monthly.get_untracked(), 0, 1_000_000);
        let timezone = c.required("timezone", &timezone.get_untracked());
        let allowed_states = c.states("allowed_states", &allowed.get_untracked());
        let denied_states = c.states("denied_states", &denied.get_untracked());
        let mut schedule = Vec::new();
        for (i, w) in windows.get_untracked().iter().enumerate() {
            let day = w.day.get_untracked().parse::<usize>().ok().filter(|i| *i < 7).map(Day::from_index);
            let (start, end) = (w.start.get_untracked(), w.end.get_untracked());
            if ClockTime::parse(&start).is_err() || ClockTime::parse(&end).is_err() {
                c.fail(&format!("schedule[{i}]"), "times must be HH:MM");
            }
            match day {
                Some(day) => schedule.push(ScheduleWindow { day, start, end }),
                None => c.fail(&format!("schedule[{i}]"), "choose a day"),
            }
        }
        let sticky_repeat_callers = sticky.get_untracked();
        let tag_rules = rules.read("tag_rules", &mut c);
        let labels_v: Vec<String> = labels.get_untracked().split(',').map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        let whisper_v = opt_text(&whisper.get_untracked());
        let require_accept_v = require_accept.get_untracked();
        let accept_timeout_secs = c.int("accept_timeout_secs", &accept_timeout.get_untracked(), 1, 60);
        if !form.begin(c.into_errors()) {
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            let res = match id {
                Some(id) => {
                    let patch = BuyerPatch {
                        name: Some(name),
                        phone_number: Some(phone_number),
                        status: Some(status),
                        priority: Some(priority),
                        weight: Some(weight),
                        max_concurrent_calls: Some(max_concurrent_calls),
                        cap_hourly: Some(cap_hourly),
                        cap_daily: Some(cap_daily),
                        cap_monthly: Some(cap_monthly),
                        timezone: Some(timezone),
                        schedule: Some(schedule),
                        allowed_states: Some(allowed_states),
                        denied_states: Some(denied_states),
                        sticky_repeat_callers: Some(sticky_repeat_callers),
                        tag_rules: Some(tag_rules),
                        labels: Some(labels_v),
                        whisper: Some(whisper_v),
                        require_accept: Some(require_accept_v),
                        accept_timeout_secs: Some(accept_timeout_secs),
                    };
                    api::update_buyer(id, &patch).await
                }
                None => {
                    let new = NewBuyer {
                        name,
                        phone_number,
                        status: Some(status),
                        priority: Some(priority),
                        weight: Some(weight),
                        max_concurrent_calls: Some(max_concurrent_calls),
                        cap_hourly,
                        cap_daily,
                        cap_monthly,
                        timezone: Some(timezone),
                        schedule,
                        allowed_states,
                        denied_states,
                        sticky_repeat_callers: Some(sticky_repeat_callers),
                        tag_rules,
                        labels: labels_v,
                        whisper: whisper_v,
                        require_accept: Some(require_accept_v),
                        accept_timeout_secs: Some(accept_timeout_secs),
                    };
                    api::create_buyer(&new).await
                }
            };
            match res {
                Ok(saved) => {
                    form.done(format!("Buyer “{}” saved.", saved.name));
                    if id.is_none() {
                        navigate(&format!("/buyers/{}", saved.id), Default::default());
                    }
                }
                Err(e) => form.failed(e),
            }
        });
    };

    let title = b.map(|b| format!("Buyer: {}", b.name)).unwrap_or_else(|| "New buyer".into());
    let day_options: Vec<(String, String)> = Day::ALL.iter().map(|d| (day_code(*d), d.short_name().to_owned())).collect();
    view! {
        <h1>{title}</h1>
        <form class="cb-form" on:submit=on_submit novalidate=true id="buyer-form">
            <fieldset disabled=!writable>
                <div class="cb-grid">
                    <TextField label="Name" name="name" value=name errors=errors required=true/>
                    <TextField label="Phone number" name="phone_number" kind="tel" value=phone errors=errors required=true placeholder="+14155550100" help="E.164, where calls are forwarded"/>
                    <SelectField label="Status" name="status" value=status errors=errors options=Signal::derive(status_options)/>
                    <TextField label="Priority" name="priority" kind="number" value=priority errors=errors help="Higher is tried first"/>
                    <TextField label="Weight" name="weight" kind="number" value=weight errors=errors help="Share among equal priority, 1–1000"/>
                    <TextField label="Max concurrent calls" name="max_concurrent_calls" kind="number" value=max_concurrent errors=errors/>
                    <TextField label="Hourly cap" name="cap_hourly" kind="number" value=cap_hourly errors=errors help="Blank: no cap"/>
                    <TextField label="Daily cap" name="cap_daily" kind="number" value=cap_daily errors=errors help="Blank: no cap"/>
                    <TextField label="Monthly cap" name="cap_monthly" kind="number" value=cap_monthly errors=errors help="Blank: no cap"/>
                    <div class="cb-field">
                        <label for="f-timezone">"Time zone"</label>
                        <input id="f-timezone" name="timezone" prop:value=move || timezone.get() on:input=move |ev| timezone.set(event_target_value(&ev)) aria-describedby="err-timezone"/>
                        <small class="cb-help">"IANA name, e.g. America/New_York; schedule and caps follow it"</small>
                        {move || errors.with(|e| e.get("timezone").cloned()).map(|m| view! { <span class="cb-field-error" id="err-timezone">{m}</span> })}
                    </div>
                    <TextField label="Allowed states" name="allowed_states" value=allowed errors=errors placeholder="NY, NJ" help="Blank: every state"/>
                    <TextField label="Denied states" name="denied_states" value=denied errors=errors placeholder="TX"/>
                </div>
                <CheckField label="Send repeat callers back to this buyer" name="sticky_repeat_callers" value=sticky/>
                <fieldset class="cb-subform" id="schedule-editor">
                    <legend>"Weekly schedule"</legend>
                    <p class="cb-help">"Windows in the buyer's time zone. No windows: always open. An end at or before the start runs overnight."</p>
                    {move || {
                        let list = windows.get();
                        if list.is_empty() {
                            return view! { <Empty text="Always open (no windows)."/> }.into_any();
                        }
                        let day_options = day_options.clone();
                        list.into_iter().enumerate().map(move |(i, w)| {
                            let (did, sid, eid) = (format!("win-day-{i}"), format!("win-start-{i}"), format!("win-end-{i}"));
                            let opts = day_options.clone();
                            view! {
                                <div class="cb-row window-row">
                                    <div class="cb-field cb-narrow">
                                        <label for=did.clone()>"Day"</label>
                                        <select id=did on:change=move |ev| w.day.set(event_target_value(&ev))>
                                            {opts.into_iter().map(|(v, l)| { let sel = w.day.get_untracked() == v; view! { <option value=v selected=sel>{l}</option> } }).collect_view()}
                                        </select>
                                    </div>
                                    <div class="cb-field cb-narrow">
                                        <label for=sid.clone()>"From"</label>
                                        <input id=sid type="time" prop:value=move || w.start.get() on:input=move |ev| w.start.set(event_target_value(&ev))/>
                                    </div>
                                    <div class="cb-field cb-narrow">
                                        <label for=eid.clone()>"To"</label>
                                        <input id=eid type="time" prop:value=move || w.end.get() on:input=move |ev| w.end.set(event_target_value(&ev))/>
                                    </div>
                                    <button type="button" class="cb-secondary" aria-label=format!("Remove window {}", i + 1)
                                        on:click=move |_| windows.update(|v| v.retain(|x| x.key != w.key))>"Remove"</button>
                                    {move || errors.with(|e| e.get(&format!("schedule[{i}]")).or_else(|| e.get("schedule")).cloned()).map(|m| view! { <span class="cb-field-error">{m}</span> })}
                                </div>
                            }
                        }).collect_view().into_any()
                    }}
                    <div class="cb-row">
                        <button type="button" class="cb-secondary" id="add-window" on:click=move |_| windows.update(|v| v.push(new_row(None)))>"Add window"</button>
                        <button type="button" class="cb-secondary" on:click=move |_| windows.set(
                            (0..5).map(|d: usize| {
                                let r = new_row(None);
                                r.day.set(d.to_string());
                                r
                            }).collect())>"Weekdays 9–17"</button>
                        <button type="button" class="cb-secondary" on:click=move |_| windows.set(Vec::new())>"Always open"</button>
                    </div>
                </fieldset>
                <fieldset class="cb-subform" id="buyer-tag-rules">
                    <legend>"Tag rules and IVR labels"</legend>
                    <p class="cb-help">"The buyer takes a call only when every rule holds for the call's tags (caller data from Twilio, IVR answers). A campaign may set its own rules for this buyer."</p>
                    <TagRulesEditor rules=rules prefix="rule".to_owned() at="tag_rules".to_owned() errors=errors/>
                    <div class="cb-field">
                        <label for="f-labels">"Labels"</label>
                        <input id="f-labels" name="labels" placeholder="spanish, medicare" aria-describedby="help-labels err-labels"
                            prop:value=move || labels.get() on:input=move |ev| labels.set(event_target_value(&ev))/>
                        <small class="cb-help" id="help-labels">"Comma-separated. A campaign's IVR answer can keep a call to buyers with a label."</small>
                        {move || error_at(errors, "labels").map(|m| view! { <span class="cb-field-error" id="err-labels">{m}</span> })}
                    </div>
                </fieldset>
                <fieldset class="cb-subform" id="buyer-acceptance">
                    <legend>"Agent acceptance"</legend>
                    <TextArea label="Whisper (said to the agent before the caller is put through)" name="whisper" value=whisper errors=errors/>
                    <p class="cb-help">"Placeholders: {campaign}, {caller_state}, {tag:NAME} (a call tag). Blank: no whisper."</p>
                    <CheckField label="The agent must press 1 to accept the call" name="require_accept" value=require_accept/>
                    <TextField label="Seconds to accept" name="accept_timeout_secs" kind="number" value=accept_timeout errors=errors help="1–60; an agent who does not accept in time counts as no answer"/>
                </fieldset>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>{if id.is_some() { "Save buyer" } else { "Create buyer" }}</button>
            </fieldset>
        </form>
    }
}
