//! Settings (admins only): the Twilio credentials (shown masked, never in full; new ones can be
//! set) and the users.
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::*;
use crate::format;

#[component]
pub fn Settings() -> impl IntoView {
    view! {
        <section id="page-settings">
            <h1>"Settings"</h1>
            <Twilio/>
            <crate::pages::users::Users/>
        </section>
    }
}

fn is_sid(v: &str, prefix: &str) -> bool {
    v.len() == 34 && v.starts_with(prefix) && v[2..].chars().all(|c| c.is_ascii_hexdigit())
}

#[component]
fn Twilio() -> impl IntoView {
    let account = RwSignal::new(None::<api::ApiResult<TwilioAccount>>);
    spawn_local(async move { account.set(Some(api::twilio_account().await)) });
    let sid = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let key_sid = RwSignal::new(String::new());
    let key_secret = RwSignal::new(String::new());
    let form = FormState::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let account_sid = sid.get_untracked().trim().to_owned();
        if !is_sid(&account_sid, "AC") {
            c.fail("account_sid", "must be AC followed by 32 hexadecimal digits");
        }
        let auth_token = token.get_untracked().trim().to_owned();
        if !(16..=128).contains(&auth_token.len()) || auth_token.contains(char::is_whitespace) {
            c.fail("auth_token", "must be 16 to 128 characters without spaces");
        }
        let api_key_sid = opt_text(&key_sid.get_untracked());
        let api_key_secret = opt_text(&key_secret.get_untracked());
        if api_key_sid.as_deref().is_some_and(|k| !is_sid(k, "SK")) {
            c.fail("api_key_sid", "must be SK followed by 32 hexadecimal digits");
        }
        if api_key_sid.is_some() != api_key_secret.is_some() {
            c.fail(if api_key_sid.is_some() { "api_key_secret" } else { "api_key_sid" }, "an API key needs both its SID and its secret");
        }
        if !form.begin(c.into_errors()) {
            return;
        }
        spawn_local(async move {
            match api::set_twilio_account(&TwilioAccountUpdate { account_sid, auth_token, api_key_sid, api_key_secret }).await {
                Ok(a) => {
                    form.done("Twilio credentials saved.");
                    // The secrets leave the page as soon as they are saved.
                    for s in [sid, token, key_sid, key_secret] {
                        s.set(String::new());
                    }
                    account.set(Some(Ok(a)));
                }
                Err(e) => form.failed(e),
            }
        });
    };
    view! {
        <section aria-labelledby="twilio-h" id="twilio-settings">
            <h2 id="twilio-h">"Twilio account"</h2>
            {move || show(account.get(), |a| {
                let source = match a.source.as_str() {
                    "api" => "set here",
                    "config" => "from the server's configuration",
                    _ => "not configured",
                };
                let facts = [
                    ("Credentials", source.to_owned()),
                    ("Account SID", a.account_sid.unwrap_or_default()),
                    ("Auth token", a.auth_token.unwrap_or_default()),
                    ("API key", a.api_key_sid.map(|k| format!("{k}{}", if a.api_key_secret_set { " (secret set)" } else { "" })).unwrap_or_default()),
                    ("REST API", a.api_base),
                    ("Transcription", if a.transcription_available { "available" } else { "not configured" }.to_owned()),
                    ("Updated", format::opt_time(a.updated_at)),
                    ("Public URL", a.public_url),
                    ("Voice webhook", a.voice_url),
                ];
                view! {
                    <dl class="cb-facts" id="twilio-account">
                        {facts.into_iter().map(|(k, v)| view! { <div><dt>{k}</dt><dd>{if v.is_empty() { "—".to_owned() } else { v }}</dd></div> }).collect_view()}
                    </dl>
                }
            })}
            <form class="cb-form" on:submit=on_submit novalidate=true id="twilio-form" autocomplete="off">
                <p class="cb-help">"New credentials replace the ones in use. The token is stored on the server and never shown again."</p>
                <div class="cb-grid">
                    <TextField label="Account SID" name="account_sid" value=sid errors=form.errors placeholder="AC…" required=true autocomplete="off"/>
                    <TextField label="Auth token" name="auth_token" kind="password" value=token errors=form.errors required=true autocomplete="new-password"/>
                    <TextField label="API key SID (optional)" name="api_key_sid" value=key_sid errors=form.errors placeholder="SK…" autocomplete="off"/>
                    <TextField label="API key secret (optional)" name="api_key_secret" kind="password" value=key_secret errors=form.errors autocomplete="new-password"/>
                </div>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>"Save credentials"</button>
            </form>
        </section>
    }
}
