//! One module per page.
pub mod analytics;
pub mod bidders;
pub mod blocklist;
pub mod buyers;
pub mod calls;
pub mod campaign_ivr;
pub mod campaign_routing;
pub mod campaigns;
pub mod home;
pub mod login;
pub mod numbers;
pub mod publishers;
pub mod report;
pub mod rtb;
pub mod settings;
pub mod simulator;
pub mod users;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="cb-main" id="page-not-found">
            <h1>"Page not found"</h1>
            <p><A href="/">"Back to the dashboard"</A></p>
        </main>
    }
}

/// The `:id` of the route: `None` for `new` (a creation form).
pub fn route_id() -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("id")).and_then(|s| s.parse().ok()))
}
