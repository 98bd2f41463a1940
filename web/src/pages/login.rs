//! Sign-in: exchanges email and password for a session token (kept across reloads).
use callbroker_wire::LoginRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;

use crate::api;
use crate::components::*;
use crate::session;

#[component]
pub fn Login() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = FormState::new();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let email = c.email("email", &email.get_untracked());
        let password = c.required("password", &password.get_untracked());
        if !form.begin(c.into_errors()) {
            return;
        }
        spawn_local(async move {
            match api::login(&LoginRequest { email, password }).await {
                Ok(res) => {
                    form.done("Signed in");
                    session::start(res);
                }
                Err(e) if e.status == 401 => {
                    form.failed(e);
                    form.message.set(Some("Wrong email or password.".into()));
                }
                Err(e) => form.failed(e),
            }
        });
    };

    view! {
        <Show when=move || session::user().is_none() fallback=|| view! { <Redirect path="/"/> }>
            <main class="cb-login" id="page-login">
                <h1>"Callbroker"</h1>
                <h2>"Sign in"</h2>
                <form class="cb-form" on:submit=on_submit novalidate=true>
                    <TextField label="Email" name="email" kind="email" value=email errors=form.errors autocomplete="username" required=true/>
                    <TextField label="Password" name="password" kind="password" value=password errors=form.errors autocomplete="current-password" required=true/>
                    <FormStatus state=form/>
                    <button type="submit" disabled=move || form.busy.get()>
                        {move || if form.busy.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </form>
            </main>
        </Show>
    }
}
