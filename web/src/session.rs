//! The signed-in session: the login answer (token, expiry, user) kept in `localStorage` so that it
//! survives reloads, and a signal the app shell watches. A session past its expiry, or a 401 from
//! the API, ends it; the shell then shows the sign-in page.

use std::cell::Cell;

use callbroker_wire::{LoginResponse, Role, User};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

const KEY: &str = "callbroker.session";

thread_local! {
    static SIGNAL: Cell<Option<RwSignal<Option<LoginResponse>>>> = const { Cell::new(None) };
}

/// Now, from the browser's clock (chrono's own clock is not available on wasm32-unknown-unknown).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn load() -> Option<LoginResponse> {
    let raw = storage()?.get_item(KEY).ok()??;
    let session: LoginResponse = serde_json::from_str(&raw).ok()?;
    (session.expires_at > now()).then_some(session)
}

/// Creates the session signal from storage; called once by the app root.
pub fn init() -> RwSignal<Option<LoginResponse>> {
    let signal = RwSignal::new(load());
    SIGNAL.with(|s| s.set(Some(signal)));
    signal
}

fn signal() -> Option<RwSignal<Option<LoginResponse>>> {
    SIGNAL.with(Cell::get)
}

/// Keeps a fresh login.
pub fn start(session: LoginResponse) {
    if let (Some(store), Ok(raw)) = (storage(), serde_json::to_string(&session)) {
        let _ = store.set_item(KEY, &raw);
    }
    if let Some(s) = signal() {
        s.set(Some(session));
    }
}

/// Signs out (also used when the token expired or was refused).
pub fn end() {
    if let Some(store) = storage() {
        let _ = store.remove_item(KEY);
    }
    if let Some(s) = signal() {
        s.set(None);
    }
}

/// The API refused the token: the session is over.
pub fn expired() {
    if signal().is_some_and(|s| s.with_untracked(Option::is_some)) {
        end();
    }
}

/// The bearer token, if signed in and not expired.
pub fn token() -> Option<String> {
    let s = signal()?;
    let session = s.get_untracked()?;
    if session.expires_at <= now() {
        end();
        return None;
    }
    Some(session.token)
}

/// The signed-in user (tracked).
pub fn user() -> Option<User> {
    signal()?.with(|s| s.as_ref().map(|s| s.user.clone()))
}

pub fn role() -> Option<Role> {
    signal()?.with(|s| s.as_ref().map(|s| s.user.role))
}

/// Admins and operators change the directory.
pub fn can_write() -> bool {
    matches!(role(), Some(Role::Admin | Role::Operator))
}

pub fn is_publisher() -> bool {
    role() == Some(Role::Publisher)
}

pub fn is_admin() -> bool {
    role() == Some(Role::Admin)
}
