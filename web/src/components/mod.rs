//! Building blocks shared by the pages: loading / empty / error states, labelled form fields that
//! show their validation message, status badges, a pager.

pub mod calls_table;
pub mod form;

use callbroker_wire::Status;
use leptos::prelude::*;

use crate::api::{ApiError, ApiResult};

pub use calls_table::*;
pub use form::*;

#[component]
pub fn Loading(#[prop(default = "Loading…")] text: &'static str) -> impl IntoView {
    view! { <p class="cb-loading" role="status" aria-live="polite">{text}</p> }
}

#[component]
pub fn Empty(#[prop(into)] text: String) -> impl IntoView {
    view! { <p class="cb-empty">{text}</p> }
}

#[component]
pub fn ErrorBox(error: ApiError) -> impl IntoView {
    view! { <p class="cb-error" role="alert">{error.message()}</p> }
}

/// Shows a resource: loading while it is `None`, the error when it failed, else `ok(value)`.
pub fn show<T: Clone + 'static, V: IntoView + 'static>(
    value: Option<ApiResult<T>>,
    ok: impl FnOnce(T) -> V,
) -> AnyView {
    match value {
        None => view! { <Loading/> }.into_any(),
        Some(Err(e)) => view! { <ErrorBox error=e/> }.into_any(),
        Some(Ok(v)) => ok(v).into_any(),
    }
}

#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    let class = format!("cb-badge cb-badge-{}", status.as_str());
    view! { <span class=class>{status.as_str()}</span> }
}

/// A small coloured label for a call status or outcome.
#[component]
pub fn Tag(#[prop(into)] text: String) -> impl IntoView {
    let class = format!("cb-tag cb-tag-{}", text.replace(['_', ' '], "-"));
    view! { <span class=class>{text}</span> }
}

/// "Page 2 of 5" with previous / next buttons bound to `page` (not generic over the items, so
/// there is one copy of it in the wasm).
#[component]
pub fn Pager(page: RwSignal<i64>, total: i64, per_page: i64) -> impl IntoView {
    let pages = ((total + per_page - 1) / per_page.max(1)).max(1);
    let current = page.get_untracked();
    view! {
        <nav class="cb-pager" aria-label="Pages">
            <button type="button" disabled={current <= 1} on:click=move |_| page.update(|p| *p = (*p - 1).max(1))>"← Previous"</button>
            <span>{format!("Page {current} of {pages} · {total} in all")}</span>
            <button type="button" disabled={current >= pages} on:click=move |_| page.update(|p| *p += 1)>"Next →"</button>
        </nav>
    }
}
