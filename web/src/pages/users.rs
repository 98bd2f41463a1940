//! The users section of Settings (admins only): list, create, edit role / publisher / password, delete.
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::*;
use crate::format;
use crate::session;

fn role_options() -> Vec<(String, String)> {
    Role::ALL.iter().map(|r| (r.as_str().to_owned(), r.as_str().to_owned())).collect()
}

#[component]
pub fn Users() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let users = fetch(move || {
        tick.track();
        async { api::users(api::ALL, &UserFilter::default()).await }
    });
    let names = fetch(Names::load);
    let editing = RwSignal::new(None::<User>);
    let message = RwSignal::new(None::<String>);
    let me = session::user().map(|u| u.id);
    let remove = move |u: User| {
        let ok = web_sys::window().and_then(|w| w.confirm_with_message(&format!("Delete the user {}?", u.email)).ok()).unwrap_or(false);
        if !ok {
            return;
        }
        spawn_local(async move {
            message.set(Some(match api::delete_user(u.id).await {
                Ok(()) => format!("{} deleted.", u.email),
                Err(e) => e.message(),
            }));
            tick.update(|t| *t += 1);
        });
    };
    view! {
        <div id="users-settings">
            <section aria-labelledby="users-h">
                <h2 id="users-h">"Users"</h2>
                {move || message.get().map(|m| view! { <p role="status" class="cb-saved">{m}</p> })}
                {move || show(users.get(), move |page| {
                    let names = names.get().unwrap_or_default();
                    view! {
                        <div class="cb-table-wrap"><table class="cb-table" id="users-table">
                            <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Publisher"</th><th scope="col">"Created"</th><th scope="col"><span class="cb-sr">"Actions"</span></th></tr></thead>
                            <tbody>{page.items.into_iter().map(|u| {
                                let (edit_u, del_u) = (u.clone(), u.clone());
                                view! {
                                    <tr>
                                        <td>{u.email.clone()}</td><td>{u.role.as_str()}</td>
                                        <td>{if u.publisher_id.is_some() { names.publisher(u.publisher_id) } else { String::new() }}</td>
                                        <td>{format::time(u.created_at)}</td>
                                        <td class="cb-actions">
                                            <button type="button" class="cb-secondary" aria-label=format!("Edit {}", u.email) on:click=move |_| editing.set(Some(edit_u.clone()))>"Edit"</button>
                                            {(Some(u.id) != me).then(|| view! {
                                                <button type="button" class="cb-danger" aria-label=format!("Delete {}", u.email) on:click=move |_| remove(del_u.clone())>"Delete"</button>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table></div>
                    }
                })}
            </section>
            {move || {
                let user = editing.get();
                view! { <UserForm user=user names=names on_saved=move || { editing.set(None); tick.update(|t| *t += 1); } /> }
            }}
        </div>
    }
}

#[component]
fn UserForm(user: Option<User>, names: Fetched<Names>, on_saved: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let id = user.as_ref().map(|u| u.id);
    let email = RwSignal::new(user.as_ref().map(|u| u.email.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(user.as_ref().map(|u| u.role.as_str()).unwrap_or("operator").to_owned());
    let publisher = RwSignal::new(user.as_ref().and_then(|u| u.publisher_id).map(|p| p.to_string()).unwrap_or_default());
    let form = FormState::new();
    let publisher_options = Signal::derive(move || {
        let mut v = vec![(String::new(), "Choose a publisher…".to_owned())];
        if let Some(n) = names.get() {
            v.extend(n.publishers.iter().map(|(id, name)| (id.to_string(), name.clone())));
        }
        v
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let email_v = c.email("email", &email.get_untracked());
        let pw = password.get_untracked();
        if (id.is_none() || !pw.is_empty()) && pw.chars().count() < 10 {
            c.fail("password", "must be at least 10 characters");
        }
        let role_v = Role::parse(&role.get_untracked()).unwrap_or(Role::Viewer);
        let publisher_id = publisher.get_untracked().parse::<i64>().ok();
        if role_v == Role::Publisher && publisher_id.is_none() {
            c.fail("publisher_id", "choose the publisher this user belongs to");
        }
        let publisher_id = publisher_id.filter(|_| role_v == Role::Publisher);
        if !form.begin(c.into_errors()) {
            return;
        }
        spawn_local(async move {
            let res = match id {
                Some(id) => {
                    let patch = UserPatch {
                        email: Some(email_v),
                        password: (!pw.is_empty()).then_some(pw),
                        role: Some(role_v),
                        publisher_id: Some(publisher_id),
                    };
                    api::update_user(id, &patch).await
                }
                None => api::create_user(&NewUser { email: email_v, password: pw, role: role_v, publisher_id }).await,
            };
            match res {
                Ok(u) => {
                    form.done(format!("{} saved.", u.email));
                    if id.is_none() {
                        email.set(String::new());
                        password.set(String::new());
                    }
                    on_saved();
                }
                Err(e) => form.failed(e),
            }
        });
    };
    let title = match &user {
        Some(u) => format!("Edit {}", u.email),
        None => "Add a user".to_owned(),
    };
    view! {
        <section aria-labelledby="user-form-h">
            <h2 id="user-form-h">{title}</h2>
            <form class="cb-form" on:submit=on_submit novalidate=true id="user-form">
                <div class="cb-grid">
                    <TextField label="Email" name="email" kind="email" value=email errors=form.errors required=true autocomplete="off"/>
                    <TextField label=if id.is_some() { "New password (blank: unchanged)" } else { "Password" } name="password" kind="password" value=password errors=form.errors autocomplete="new-password" help="At least 10 characters"/>
                    <SelectField label="Role" name="role" value=role errors=form.errors options=Signal::derive(role_options)/>
                    <Show when=move || role.get() == "publisher">
                        <SelectField label="Publisher" name="publisher_id" value=publisher errors=form.errors options=publisher_options/>
                    </Show>
                </div>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>{if id.is_some() { "Save user" } else { "Add user" }}</button>
            </form>
        </section>
    }
}
