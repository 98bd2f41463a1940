//! Publishers: the list, one form for creating and editing, and the publisher's API keys (a new
//! key's secret is shown once).
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::*;
use crate::format;
use crate::pages::campaigns::SearchBox;
use crate::pages::route_id;
use crate::session;

#[component]
pub fn Publishers() -> impl IntoView {
    let page = RwSignal::new(1i64);
    let q = RwSignal::new(String::new());
    let list = fetch(move || {
        let filter = PublisherFilter { status: None, q: opt_text(&q.get()) };
        let page = PageParams { page: page.get(), per_page: 25 };
        async move { api::publishers(page, &filter).await }
    });
    view! {
        <section id="page-publishers">
            <div class="cb-title-row">
                <h1>"Publishers"</h1>
                {move || session::can_write().then(|| view! { <A href="/publishers/new" attr:class="cb-button">"New publisher"</A> })}
            </div>
            <SearchBox q=q page=page label="Search publishers"/>
            {move || show(list.get(), |data| {
                if data.items.is_empty() {
                    return view! { <Empty text="No publishers yet. Add the partners whose traffic you buy."/> }.into_any();
                }
                let rows = data.items.clone().into_iter().map(|p| view! {
                    <tr>
                        <td><A href=format!("/publishers/{}", p.id)>{p.name.clone()}</A></td>
                        <td><StatusBadge status=p.status/></td>
                        <td>{format::opt(p.contact_name.clone())}</td>
                        <td>{format::opt(p.contact_email.clone())}</td>
                        <td>{format::opt(p.payout_terms.clone())}</td>
                    </tr>
                }).collect_view();
                view! {
                    <div class="cb-table-wrap"><table class="cb-table">
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Status"</th><th scope="col">"Contact"</th><th scope="col">"Email"</th><th scope="col">"Payout terms"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table></div>
                    <Pager page=page total=data.total per_page=data.per_page/>
                }.into_any()
            })}
        </section>
    }
}

#[component]
pub fn PublisherEdit() -> impl IntoView {
    let id = route_id();
    let existing = fetch(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => api::publisher(id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    view! {
        <section id="page-publisher">
            <p><A href="/publishers">"← Publishers"</A></p>
            {move || show(existing.get(), |p| {
                let keys = p.as_ref().map(|p| p.id).filter(|_| session::can_write()).map(|id| view! { <ApiKeys publisher_id=id/> });
                view! { <PublisherForm publisher=p/> {keys} }
            })}
        </section>
    }
}

#[component]
fn PublisherForm(publisher: Option<Publisher>) -> impl IntoView {
    let p = publisher.as_ref();
    let id = p.map(|p| p.id);
    let name = RwSignal::new(p.map(|p| p.name.clone()).unwrap_or_default());
    let status = RwSignal::new(p.map(|p| p.status).unwrap_or_default().as_str().to_owned());
    let contact_name = RwSignal::new(format::opt(p.and_then(|p| p.contact_name.clone())));
    let contact_email = RwSignal::new(format::opt(p.and_then(|p| p.contact_email.clone())));
    let contact_phone = RwSignal::new(format::opt(p.and_then(|p| p.contact_phone.clone())));
    let payout_terms = RwSignal::new(format::opt(p.and_then(|p| p.payout_terms.clone())));
    let postback_url = RwSignal::new(format::opt(p.and_then(|p| p.postback_url.clone())));
    let postback_method = RwSignal::new(p.map(|p| p.postback_method).unwrap_or_default().as_str().to_ascii_lowercase());
    let form = FormState::new();
    let navigate = use_navigate();
    let errors = form.errors;

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let name = c.required("name", &name.get_untracked());
        let status = parse_status(&status.get_untracked());
        let email = opt_text(&contact_email.get_untracked());
        if let Some(e) = &email {
            c.email("contact_email", e);
        }
        let phone = opt_text(&contact_phone.get_untracked());
        if let Some(p) = &phone {
            c.e164("contact_phone", p);
        }
        let (cname, terms) = (opt_text(&contact_name.get_untracked()), opt_text(&payout_terms.get_untracked()));
        let postback = opt_text(&postback_url.get_untracked());
        if postback.as_ref().is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://"))) {
            c.fail("postback_url", "must be an http:// or https:// URL");
        }
        let method = if postback_method.get_untracked() == "post" { PostbackMethod::Post } else { PostbackMethod::Get };
        if !form.begin(c.into_errors()) {
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            let res = match id {
                Some(id) => {
                    let patch = PublisherPatch {
                        name: Some(name),
                        status: Some(status),
                        contact_name: Some(cname),
                        contact_email: Some(email),
                        contact_phone: Some(phone),
                        payout_terms: Some(terms),
                        postback_url: Some(postback),
                        postback_method: Some(method),
                    };
                    api::update_publisher(id, &patch).await
                }
                None => {
                    let new = NewPublisher {
                        name,
                        status: Some(status),
                        contact_name: cname,
                        contact_email: email,
                        contact_phone: phone,
                        payout_terms: terms,
                        postback_url: postback,
                        postback_method: Some(method),
                    };
                    api::create_publisher(&new).await
                }
            };
            match res {
                Ok(saved) => {
                    form.done(format!("Publisher “{}” saved.", saved.name));
                    if id.is_none() {
                        navigate(&format!("/publishers/{}", saved.id), Default::default());
                    }
                }
                Err(e) => form.failed(e),
            }
        });
    };
    let title = p.map(|p| format!("Publisher: {}", p.name)).unwrap_or_else(|| "New publisher".into());
    view! {
        <h1>{title}</h1>
        <form class="cb-form" on:submit=on_submit novalidate=true id="publisher-form">
            <fieldset disabled=!session::can_write()>
                <div class="cb-grid">
                    <TextField label="Name" name="name" value=name errors=errors required=true/>
                    <SelectField label="Status" name="status" value=status errors=errors options=Signal::derive(status_options)/>
                    <TextField label="Contact name" name="contact_name" value=contact_name errors=errors/>
                    <TextField label="Contact email" name="contact_email" kind="email" value=contact_email errors=errors/>
                    <TextField label="Contact phone" name="contact_phone" kind="tel" value=contact_phone errors=errors placeholder="+14155550100"/>
                </div>
                <TextArea label="Payout terms" name="payout_terms" value=payout_terms errors=errors/>
                <div class="cb-grid">
                    <TextField label="Postback URL (on each qualified call)" name="postback_url" kind="url" value=postback_url errors=errors
                        placeholder="https://pub.example/pb?id={call_id}&payout={payout}"/>
                    <SelectField label="Postback method" name="postback_method" value=postback_method errors=errors
                        options=Signal::derive(|| vec![("get".into(), "GET".into()), ("post".into(), "POST (form body)".into())])/>
                </div>
                <p class="cb-hint">"Placeholders: {call_id} {call_sid} {caller_area_code} {duration} {payout} {currency} {campaign_id} {publisher_id}"</p>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>{if id.is_some() { "Save publisher" } else { "Create publisher" }}</button>
            </fieldset>
        </form>
    }
}

/// The publisher's API keys: list, create (secret shown once), revoke.
#[component]
fn ApiKeys(publisher_id: i64) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let keys = fetch(move || {
        tick.track();
        api::api_keys(Some(publisher_id))
    });
    let name = RwSignal::new(String::new());
    let secret = RwSignal::new(None::<String>);
    let form = FormState::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let name_v = c.required("key_name", &name.get_untracked());
        if !form.begin(c.into_errors()) {
            return;
        }
        spawn_local(async move {
            match api::create_api_key(&NewApiKey { name: name_v, role: Role::Publisher, publisher_id: Some(publisher_id) }).await {
                Ok(created) => {
                    secret.set(Some(created.secret));
                    name.set(String::new());
                    form.done("Key created.");
                    tick.update(|t| *t += 1);
                }
                Err(mut e) => {
                    if let Some(msg) = e.fields().get("name").cloned() {
                        e.body.details = Some(serde_json::json!({"fields": {"key_name": msg}}));
                    }
                    form.failed(e)
                }
            }
        });
    };
    let revoke = move |id: i64| {
        spawn_local(async move {
            if let Err(e) = api::delete_api_key(id).await {
                form.failed(e);
            }
            tick.update(|t| *t += 1);
        });
    };
    view! {
        <section aria-labelledby="keys-h" id="api-keys">
            <h2 id="keys-h">"API keys"</h2>
            <p class="cb-help">"Keys let this publisher read its own numbers and calls through the API."</p>
            {move || secret.get().map(|s| view! {
                <div class="cb-secret" role="status">
                    <p><strong>"Copy this key now — it will not be shown again:"</strong></p>
                    <code id="new-key-secret">{s}</code>
                    <button type="button" class="cb-secondary" on:click=move |_| secret.set(None)>"I have copied it"</button>
                </div>
            })}
            {move || show(keys.get(), move |page| {
                if page.items.is_empty() {
                    return view! { <Empty text="No keys yet."/> }.into_any();
                }
                view! {
                    <div class="cb-table-wrap"><table class="cb-table">
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Starts with"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col"><span class="cb-sr">"Actions"</span></th></tr></thead>
                        <tbody>{page.items.into_iter().map(|k| { let id = k.id; view! {
                            <tr>
                                <td>{k.name.clone()}</td><td><code>{k.prefix.clone()}</code></td>
                                <td>{format::time(k.created_at)}</td><td>{format::opt_time(k.last_used_at)}</td>
                                <td><button type="button" class="cb-secondary" aria-label=format!("Revoke key {}", k.name) on:click=move |_| revoke(id)>"Revoke"</button></td>
                            </tr>
                        } }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            })}
            <form class="cb-form cb-inline-form" on:submit=on_submit novalidate=true>
                <TextField label="New key name" name="key_name" value=name errors=form.errors/>
                <button type="submit" disabled=move || form.busy.get()>"Create key"</button>
            </form>
            <FormStatus state=form/>
        </section>
    }
}
