//! Tracking numbers: each with a campaign dropdown and a publisher dropdown that save on change;
//! a form to add a number by hand. Publishers see their numbers, read-only.
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::*;
use crate::session;

#[component]
pub fn Numbers() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let page = RwSignal::new(1i64);
    let list = LocalResource::new(move || {
        tick.track();
        let page = PageParams { page: page.get(), per_page: 50 };
        async move { api::numbers(page, &PhoneNumberFilter::default()).await }
    });
    let names = LocalResource::new(Names::load);
    let writable = session::can_write();
    view! {
        <section id="page-numbers">
            <h1>"Phone numbers"</h1>
            {writable.then(|| view! { <AddNumber on_added=move || tick.update(|t| *t += 1)/> })}
            {move || show(list.get(), move |data| {
                if data.items.is_empty() {
                    return view! { <Empty text="No tracking numbers yet."/> }.into_any();
                }
                let names = names.get().unwrap_or_default();
                let rows = data.items.clone().into_iter().map(|n| {
                    let number = n.clone();
                    if writable {
                        view! { <NumberRow number=number names=names.clone()/> }.into_any()
                    } else {
                        view! {
                            <tr>
                                <td><strong>{number.number.clone()}</strong></td>
                                <td>{number.friendly_name.clone().unwrap_or_default()}</td>
                                <td>{names.campaign(number.campaign_id)}</td>
                                <td>{names.publisher(number.publisher_id)}</td>
                                <td></td>
                            </tr>
                        }.into_any()
                    }
                }).collect_view();
                view! {
                    <div class="cb-table-wrap"><table class="cb-table" id="numbers-table">
                        <thead><tr><th scope="col">"Number"</th><th scope="col">"Name"</th><th scope="col">"Campaign"</th><th scope="col">"Publisher"</th><th scope="col"><span class="cb-sr">"Saved"</span></th></tr></thead>
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
fn NumberRow(number: PhoneNumber, names: Names) -> impl IntoView {
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
            match api::create_number(&NewPhoneNumber { number: number_v, provider_sid: None, friendly_name, campaign_id: None, publisher_id: None }).await {
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
