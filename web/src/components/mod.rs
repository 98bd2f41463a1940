//! Building blocks shared by the pages: loading / empty / error states, labelled form fields that
//! show their validation message, status badges, a pager.

pub mod calls_table;
pub mod chart;
pub mod form;
pub mod tag_rules;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use callbroker_wire::Status;
use leptos::prelude::*;

use crate::api::{ApiError, ApiResult};

pub use calls_table::*;
pub use chart::*;
pub use form::*;
pub use tag_rules::*;

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
pub fn show<T: Clone + 'static, V: IntoView + 'static>(value: Option<ApiResult<T>>, ok: impl FnOnce(T) -> V) -> AnyView {
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

/// Saves `text` as a file called `name` through a `data:` link (nothing is fetched again).
pub fn download(name: &str, text: &str) {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(a) = doc.create_element("a") else { return };
    let _ = a.set_attribute("href", &csv_href(text));
    let _ = a.set_attribute("download", name);
    if let Ok(a) = a.dyn_into::<web_sys::HtmlElement>() {
        a.click();
    }
}

/// A `data:` URL of a CSV text.
pub fn csv_href(text: &str) -> String {
    format!("data:text/csv;charset=utf-8,{}", String::from(js_sys::encode_uri_component(text)))
}

/// What a page fetched: `None` while loading, then the answer.
pub type Fetched<V> = RwSignal<Option<V>>;

/// Runs `load()` now and again whenever a signal it reads (before its `async` part) changes,
/// keeping the answer in a signal: what `LocalResource` does, for much less code per use (the
/// effect behind it is compiled once). The previous answer stays shown until the next one
/// arrives; an answer overtaken by a newer request is dropped.
pub fn fetch<V, F>(load: impl Fn() -> F + 'static) -> Fetched<V>
where
    V: Send + Sync + 'static,
    F: Future<Output = V> + 'static,
{
    let value = RwSignal::new(None);
    let latest = Rc::new(Cell::new(0u32));
    fetch_with(Box::new(move || {
        let future = load();
        let n = latest.get().wrapping_add(1);
        latest.set(n);
        let latest = latest.clone();
        Box::pin(async move {
            let v = future.await;
            if latest.get() == n {
                value.try_set(Some(v));
            }
        })
    }));
    value
}

type Start = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>;

fn fetch_with(start: Start) {
    Effect::new(move |_| leptos::task::spawn_local(start()));
}
