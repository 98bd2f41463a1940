//! Callbroker's single-page app (Leptos, client-side rendered).
//!
//! Built for `wasm32-unknown-unknown` by `scripts/build-web.sh`, which binds the module with
//! `wasm-bindgen --target web` into `web/dist/`. The module's start function mounts [`app::App`]
//! on `<body>` as soon as `index.html` has instantiated it.

pub mod app;

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point run by the wasm-bindgen glue once the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
