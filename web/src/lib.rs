//! Callbroker's single-page app (Leptos, client-side rendered).
//!
//! Built for `wasm32-unknown-unknown` by `scripts/build-web.sh`, which binds the module with
//! `wasm-bindgen --target web` into `web/dist/`. Layout: `app.rs` (router, shell, session guard),
//! `api.rs` (typed client over the `callbroker-wire` types), `session.rs` (token in
//! `localStorage`), `live.rs` (the Server-Sent Events stream), `zone.rs` (time zones via `Intl`), `components/` (shared widgets), `pages/` (one module per page).

pub mod api;
pub mod app;
pub mod components;
pub mod format;
pub mod json;
pub mod live;
pub mod markup;
pub mod pages;
pub mod session;
pub mod zone;

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point run by the wasm-bindgen glue once the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    // A panic (a bug) is written to the console; the module then stops (panic = abort). The
    // Debian build aborts at once instead (panic = immediate-abort, see scripts/build-web.sh).
    std::panic::set_hook(Box::new(|info| web_sys::console::error_1(&info.to_string().into())));
    leptos::mount::mount_to_body(app::App);
}
