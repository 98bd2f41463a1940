//! The app shell: the router, the signed-in layout (navigation by role, sign-out, the live events
//! stream) and the session guard that sends anyone without a valid session to the sign-in page.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A};
use leptos_router::path;

use crate::pages;
use crate::session;

/// Root component: the router and the layout around every page.
#[component]
pub fn App() -> impl IntoView {
    let signal = session::init();
    // End the session when its token expires while the page is open.
    Effect::new(move |_| {
        if let Some(expires_at) = signal.with(|s| s.as_ref().map(|s| s.expires_at)) {
            let left = (expires_at - session::now()).num_milliseconds().max(0) as u64;
            set_timeout(session::expired, Duration::from_millis(left.min(i32::MAX as u64)));
        }
    });
    view! {
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/login") view=pages::login::Login/>
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=pages::home::Home/>
                    <Route path=path!("campaigns") view=pages::campaigns::Campaigns/>
                    <Route path=path!("campaigns/:id") view=pages::campaigns::CampaignEdit/>
                    <Route path=path!("buyers") view=pages::buyers::Buyers/>
                    <Route path=path!("buyers/:id") view=pages::buyers::BuyerEdit/>
                    <Route path=path!("bidders") view=pages::bidders::Bidders/>
                    <Route path=path!("bidders/:id") view=pages::bidders::Bidders/>
                    <Route path=path!("rtb") view=pages::rtb::Rtb/>
                    <Route path=path!("publishers") view=pages::publishers::Publishers/>
                    <Route path=path!("publishers/:id") view=pages::publishers::PublisherEdit/>
                    <Route path=path!("numbers") view=pages::numbers::Numbers/>
                    <Route path=path!("blocklist") view=pages::blocklist::Blocklist/>
                    <Route path=path!("calls") view=pages::calls::Calls/>
                    <Route path=path!("calls/:id") view=pages::calls::CallPage/>
                    <Route path=path!("analytics") view=pages::analytics::Analytics/>
                    <Route path=path!("simulator") view=pages::simulator::Simulator/>
                    <Route path=path!("settings") view=pages::settings::Settings/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The layout of every signed-in page; without a session, the sign-in page instead.
#[component]
fn Shell() -> impl IntoView {
    let signed_in = move || session::user().is_some();
    view! {
        <Show when=signed_in fallback=|| view! { <Redirect path="/login"/> }>
            <div class="cb-shell">
                <LiveStream/>
                <a class="cb-skip" href="#main">"Skip to content"</a>
                <header class="cb-header">
                    <A href="/" attr:class="cb-brand">"Callbroker"</A>
                    <Nav/>
                    <div class="cb-user">
                        <span class="cb-user-email">{move || session::user().map(|u| format!("{} ({})", u.email, u.role.as_str()))}</span>
                        <button type="button" class="cb-link-button" id="sign-out" on:click=move |_| session::end()>"Sign out"</button>
                    </div>
                </header>
                <main class="cb-main" id="main" tabindex="-1"><Outlet/></main>
                <footer class="cb-footer">"Callbroker — pay-per-call routing and tracking"</footer>
            </div>
        </Show>
    }
}

/// Keeps the live events stream open while signed in.
#[component]
fn LiveStream() -> impl IntoView {
    crate::live::start();
    on_cleanup(crate::live::stop);
}

#[component]
fn Nav() -> impl IntoView {
    move || {
        let links: &[(&str, &str)] = if session::is_publisher() {
            &[("/", "Portal"), ("/numbers", "Numbers"), ("/calls", "Calls"), ("/rtb", "RTB ping")]
        } else if session::is_admin() {
            &[
                ("/", "Dashboard"),
                ("/campaigns", "Campaigns"),
                ("/buyers", "Buyers"),
                ("/bidders", "Bidders"),
                ("/publishers", "Publishers"),
                ("/numbers", "Numbers"),
                ("/blocklist", "Blocklist"),
                ("/calls", "Calls"),
                ("/analytics", "Analytics"),
                ("/simulator", "Simulator"),
                ("/settings", "Settings"),
            ]
        } else {
            &[
                ("/", "Dashboard"),
                ("/campaigns", "Campaigns"),
                ("/buyers", "Buyers"),
                ("/bidders", "Bidders"),
                ("/publishers", "Publishers"),
                ("/numbers", "Numbers"),
                ("/blocklist", "Blocklist"),
                ("/calls", "Calls"),
                ("/analytics", "Analytics"),
                ("/simulator", "Simulator"),
            ]
        };
        view! {
            <nav class="cb-nav" aria-label="Main">
                {links.iter().map(|(href, label)| view! { <A href=*href exact=true>{*label}</A> }).collect_view()}
            </nav>
        }
    }
}
