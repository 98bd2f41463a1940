//! The app shell: router, page layout and the placeholder pages.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// Root component: the router and the layout around every page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/login") view=Login/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Header with the product name and navigation, the page in the middle, a footer below.
#[component]
fn Layout(children: Children) -> impl IntoView {
    view! {
        <div class="cb-shell">
            <header class="cb-header">
                <A href="/" attr:class="cb-brand">"Callbroker"</A>
                <nav class="cb-nav">
                    <A href="/">"Home"</A>
                    <A href="/login">"Sign in"</A>
                </nav>
            </header>
            <main class="cb-main">{children()}</main>
            <footer class="cb-footer">"Callbroker — pay-per-call routing and tracking"</footer>
        </div>
    }
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <section id="page-home">
            <h1>"Welcome to Callbroker"</h1>
            <p>"Campaigns, tracking numbers and call reports will appear here once you sign in."</p>
            <p><A href="/login">"Go to sign in"</A></p>
        </section>
    }
}

/// Placeholder sign-in form: it renders and reacts, but is not yet connected to the API.
#[component]
fn Login() -> impl IntoView {
    let (email, set_email) = signal(String::new());
    let (notice, set_notice) = signal(None::<String>);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let who = email.get_untracked();
        let who = if who.trim().is_empty() { "you".to_owned() } else { who };
        set_notice.set(Some(format!("Signing in is not available yet, {who}.")));
    };

    view! {
        <section id="page-login">
            <h1>"Sign in"</h1>
            <form class="cb-form" on:submit=on_submit>
                <label>
                    "Email"
                    <input
                        type="email"
                        name="email"
                        autocomplete="username"
                        prop:value=email
                        on:input=move |ev| set_email.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password"/>
                </label>
                <button type="submit">"Sign in"</button>
            </form>
            {move || notice.get().map(|text| view! { <p class="cb-notice" role="status">{text}</p> })}
        </section>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section id="page-not-found">
            <h1>"Page not found"</h1>
            <p><A href="/">"Back to the start page"</A></p>
        </section>
    }
}
