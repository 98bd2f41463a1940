//! Tracking numbers: each with a campaign dropdown and a publisher dropdown that save on change,
//! and its Twilio webhook state with a "Fix" button when it drifted; an import of the Twilio
//! account's numbers with its progress; a form to add a number by hand. Publishers see their
//! numbers, read-only.
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;

use crate::api;
use crate::components::*;
use crate::session;

#[component]
pub fn Numbers() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let page = RwSignal::new(1i64);
    let list = fetch(move || {
        tick.track();
        let page = PageParams { page: page.get(), per_page: 50 };
        async move { api::numbers(page, &PhoneNumberFilter::default()).await }
    });
    let names = fetch(Names::load);
    let writable = session::can_write();
    let staff = !session::is_publisher();
    // Twilio's view of each number, asked once the page opens (staff only).
    let hooks = RwSignal::new(None::<api::ApiResult<BTreeMap<i64, WebhookStatus>>>);
    let check_hooks = move || {
        hooks.set(None);
        spawn_local(async move { hooks.set(Some(api::webhooks().await.map(|l| l.into_iter().map(|w| (w.number_id, w)).collect()))) });
    };
    if staff {
        check_hooks();
    }
    let refresh = move || {
        tick.update(|t| *t += 1);
        if staff {
            check_hooks();
        }
    };
    view! {
        <section id="page-numbers">
            <h1>"Phone numbers"</h1>
            {writable.then(|| view! { <Import on_done=refresh/> <AddNumber on_added=refresh/> })}
            {move || match hooks.get() {
                Some(Err(e)) => Some(view! { <p class="cb-help" id="webhooks-unavailable">{format!("Webhook status unavailable: {}", e.message())}</p> }.into_any()),
                Some(Ok(h)) if writable && h.values().any(|w| w.state == "drift") => Some(view! { <FixAll hooks=hooks/> }.into_any()),
                _ => None,
            }}
            {move || show(list.get(), move |data| {
                if data.items.is_empty() {
                    return view! { <Empty text="No tracking numbers yet."/> }.into_any();
                }
                let names = names.get().unwrap_or_default();
                let rows = data.items.clone().into_iter().map(|n| {
                    let number = n.clone();
                    if writable {
                        view! { <NumberRow number=number names=names.clone() hooks=hooks/> }.into_any()
                    } else {
                        view! {
                            <tr>
                                <td><strong>{number.number.clone()}</strong></td>
                                <td>{number.friendly_name.clone().unwrap_or_default()}</td>
                                <td>{names.campaign(number.campaign_id)}</td>
                                <td>{names.publisher(number.publisher_id)}</td>
                                {staff.then(|| view! { <td><Webhook id=number.id hooks=hooks writable=false/></td> })}
                                <td></td>
                            </tr>
                        }.into_any()
                    }
                }).collect_view();
                view! {
                    <div class="cb-table-wrap"><table class="cb-table" id="numbers-table">
                        <thead><tr><th scope="col">"Number"</th><th scope="col">"Name"</th><th scope="col">"Campaign"</th><th scope="col">"Publisher"</th>{staff.then(|| view! { <th scope="col">"Twilio webhooks"</th> })}<th scope="col"><span class="cb-sr">"Saved"</span></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table></div>
                    <Pager page=page total=data.total per_page=data.per_page/>
                }.into_any()
            })}
        </section>
    }
}

fn options(map: &std::collections::BTreeMap<i64, String>, none: &str) -> Vec<(String, String)> {
    let mut v = vec![(String::new(), none.to_owned())];
    v.extend(map.iter().map(|(id, name)| (id.to_string(), name.clone())));
    v
}

/// One number with its two dropdowns; a change is saved at once.
#[component]
fn NumberRow(number: PhoneNumber, names: Names, hooks: Hooks) -> impl IntoView {
    let id = number.id;
    let note = RwSignal::new(None::<Result<String, String>>);
    let save = move |patch: PhoneNumberPatch| {
        note.set(Some(Ok("Saving…".into())));
        spawn_local(async move {
            note.set(Some(match api::update_number(id, &patch).await {
                Ok(_) => Ok("Saved".into()),
                Err(e) => Err(e.fields().into_values().next().unwrap_or_else(|| e.message())),
            }));
        });
    };
    let campaign = number.campaign_id.map(|c| c.to_string()).unwrap_or_default();
    let publisher = number.publisher_id.map(|c| c.to_string()).unwrap_or_default();
    let (cid, pid) = (format!("num-{id}-campaign"), format!("num-{id}-publisher"));
    let num = number.number.clone();
    view! {
        <tr data-number=number.number.clone()>
            <td><strong>{number.number.clone()}</strong></td>
            <td>{number.friendly_name.clone().unwrap_or_default()}</td>
            <td>
                <label class="cb-sr" for=cid.clone()>{format!("Campaign of {num}")}</label>
                <select id=cid class="number-campaign" on:change=move |ev| {
                    let v = event_target_value(&ev).parse::<i64>().ok();
                    save(PhoneNumberPatch { campaign_id: Some(v), ..Default::default() });
                }>
                    {options(&names.campaigns, "No campaign").into_iter().map(|(v, l)| { let sel = v == campaign; view! { <option value=v selected=sel>{l}</option> } }).collect_view()}
                </select>
            </td>
            <td>
                <label class="cb-sr" for=pid.clone()>{format!("Publisher of {}", number.number)}</label>
                <select id=pid class="number-publisher" on:change=move |ev| {
                    let v = event_target_value(&ev).parse::<i64>().ok();
                    save(PhoneNumberPatch { publisher_id: Some(v), ..Default::default() });
                }>
                    {options(&names.publishers, "No publisher").into_iter().map(|(v, l)| { let sel = v == publisher; view! { <option value=v selected=sel>{l}</option> } }).collect_view()}
                </select>
            </td>
            <td><Webhook id=id hooks=hooks writable=true/></td>
            <td role="status" aria-live="polite">{move || note.get().map(|n| match n {
                Ok(t) => view! { <span class="cb-saved">{t}</span> }.into_any(),
                Err(t) => view! { <span class="cb-field-error">{t}</span> }.into_any(),
            })}</td>
        </tr>
    }
}

#[component]
fn AddNumber(on_added: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let number = RwSignal::new(String::new());
    let friendly = RwSignal::new(String::new());
    let form = FormState::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let number_v = c.e164("number", &number.get_untracked());
        let friendly_name = opt_text(&friendly.get_untracked());
        if !form.begin(c.into_errors()) {
            return;
        }
        spawn_local(async move {
            match api::create_number(&NewPhoneNumber {
                number: number_v,
                provider_sid: None,
                friendly_name,
                campaign_id: None,
                publisher_id: None,
            })
            .await
            {
                Ok(n) => {
                    form.done(format!("{} added.", n.number));
                    number.set(String::new());
                    friendly.set(String::new());
                    on_added();
                }
                Err(e) => form.failed(e),
            }
        });
    };
    view! {
        <details class="cb-details">
            <summary>"Add a number by hand"</summary>
            <form class="cb-form cb-inline-form" on:submit=on_submit novalidate=true id="add-number-form">
                <TextField label="Number" name="number" kind="tel" value=number errors=form.errors placeholder="+17175550123" required=true/>
                <TextField label="Friendly name" name="friendly_name" value=friendly errors=form.errors/>
                <button type="submit" disabled=move || form.busy.get()>"Add number"</button>
            </form>
            <FormStatus state=form/>
        </details>
    }
}

type Hooks = RwSignal<Option<api::ApiResult<BTreeMap<i64, WebhookStatus>>>>;

/// A number's webhook state: in sync, drifted (which fields, and a "Fix" button), not on Twilio,
/// or why Twilio could not say.
#[component]
fn Webhook(id: i64, hooks: Hooks, writable: bool) -> impl IntoView {
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let fix = move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::fix_webhooks(id).await {
                Ok(w) => {
                    failed.set(None);
                    hooks.update(|h| {
                        if let Some(Ok(h)) = h {
                            h.insert(id, w);
                        }
                    });
                }
                Err(e) => failed.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    move || {
        let w = match hooks.get() {
            None => return view! { <span class="cb-help">"checking…"</span> }.into_any(),
            Some(Err(_)) => return view! { <span class="cb-help">"—"</span> }.into_any(),
            Some(Ok(h)) => h.get(&id).cloned(),
        };
        let Some(w) = w else { return view! { <span class="cb-help">"—"</span> }.into_any() };
        let (text, detail) = match w.state.as_str() {
            "in_sync" => ("in sync", String::new()),
            "drift" => ("drift", w.drift.join(", ")),
            "not_on_twilio" => ("not on Twilio", String::new()),
            _ => ("error", w.error.clone().unwrap_or_default()),
        };
        let fixable = writable && w.state == "drift";
        view! {
            <span class="cb-webhook" data-webhook=w.state.clone()>
                <Tag text=text/> " " <small class="cb-help">{detail}</small>
                {fixable.then(|| view! {
                    " " <button type="button" class="cb-secondary cb-fix" aria-label=format!("Fix webhooks of {}", w.number) disabled=move || busy.get() on:click=fix>"Fix"</button>
                })}
                {move || failed.get().map(|m| view! { <span class="cb-field-error">{m}</span> })}
            </span>
        }.into_any()
    }
}

/// Points every drifted number's webhooks at this server.
#[component]
fn FixAll(hooks: Hooks) -> impl IntoView {
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let fix = move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::fix_all_webhooks().await {
                Ok(l) => hooks.set(Some(Ok(l.into_iter().map(|w| (w.number_id, w)).collect()))),
                Err(e) => failed.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        <p class="cb-warning" role="status">
            "Some numbers' webhooks do not point at this server, so their calls would not be tracked. "
            <button type="button" id="fix-all-webhooks" disabled=move || busy.get() on:click=fix>"Fix all"</button>
            {move || failed.get().map(|m| view! { " " <span class="cb-field-error">{m}</span> })}
        </p>
    }
}

/// "Import from Twilio": starts the import, then follows its progress until it ends.
#[component]
fn Import(on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let state = RwSignal::new(None::<Result<NumberImport, String>>);
    let running = move || matches!(state.get(), Some(Ok(i)) if i.status == "running");
    fn follow(id: i64, state: RwSignal<Option<Result<NumberImport, String>>>, on_done: impl Fn() + Copy + 'static) {
        // The import runs in the background; its row says how far it got (no events for it).
        set_timeout(
            move || {
                spawn_local(async move {
                    match api::number_import(id).await {
                        Ok(i) => {
                            let running = i.status == "running";
                            state.set(Some(Ok(i)));
                            if running {
                                follow(id, state, on_done);
                            } else {
                                on_done();
                            }
                        }
                        Err(e) => state.set(Some(Err(e.message()))),
                    }
                })
            },
            std::time::Duration::from_millis(700),
        );
    }
    let start = move |_| {
        state.set(Some(Err("Starting the import…".into())));
        spawn_local(async move {
            match api::import_numbers().await {
                Ok(i) => {
                    let id = i.id;
                    state.set(Some(Ok(i)));
                    follow(id, state, on_done);
                }
                Err(e) => state.set(Some(Err(e.message()))),
            }
        });
    };
    view! {
        <div class="cb-row cb-import">
            <button type="button" id="import-numbers" disabled=running on:click=start>"Import from Twilio"</button>
            <p role="status" aria-live="polite" id="import-status">{move || state.get().map(|s| match s {
                Err(m) => m,
                Ok(i) => {
                    let counts = format!("{} numbers read ({} new, {} updated, {} unchanged)", i.processed, i.new, i.updated, i.unchanged);
                    match i.status.as_str() {
                        "running" => format!("Importing… page {}, {counts}", i.pages),
                        "done" => format!("Import finished: {counts}."),
                        _ => format!("Import failed: {} ({counts})", i.error.unwrap_or_default()),
                    }
                }
            })}</p>
        </div>
    }
}
