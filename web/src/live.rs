//! Live call events from `GET /api/events` (Server-Sent Events).
//!
//! One `EventSource` per signed-in shell ([`start`] when the signed-in layout mounts, [`stop`] when
//! it unmounts, i.e. on sign-out). `EventSource` cannot send headers, so the token goes in the
//! `access_token` query parameter (the server honours it on this route only). After a network
//! error the browser reconnects by itself and sends `Last-Event-ID`, so the server replays what was
//! missed. When the server refuses the stream (it closes for good) the session is checked and a
//! fresh stream opened a few seconds later; pages are then told to [`Msg::Reload`], as they are
//! when the server says they missed events (`event: reload`).
//!
//! Pages [`subscribe`] for the lifetime of their component; delivery is synchronous, in order.
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use callbroker_wire::{LiveEvent, LiveEventKind, RELOAD_EVENT};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{EventSource, MessageEvent};

/// What a page hears.
pub enum Msg {
    Event(Box<LiveEvent>),
    /// Events may have been missed: refetch what is shown.
    Reload,
}

type Listener = Rc<dyn Fn(&Msg)>;

#[derive(Default)]
struct Live {
    source: Option<EventSource>,
    /// Kept alive as long as the source (the source calls them).
    handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    listeners: Vec<(u32, Listener)>,
    next_id: u32,
    /// Bumped by each start/stop: a retry scheduled for an older stream is dropped.
    generation: u32,
}

thread_local! {
    static LIVE: RefCell<Live> = RefCell::new(Live::default());
    // Reference-counted, not owned by whichever component first asked.
    static CONNECTED: ArcRwSignal<bool> = ArcRwSignal::new(false);
}

/// Whether the stream is open (tracked), for the "live" indicator.
pub fn connected() -> bool {
    CONNECTED.with(|c| c.get())
}

fn set_connected(v: bool) {
    CONNECTED.with(|c| c.set(v));
}

fn deliver(msg: &Msg) {
    // Called from a copy of the list: a listener may subscribe or unsubscribe meanwhile.
    let listeners: Vec<Listener> = LIVE.with(|l| l.borrow().listeners.iter().map(|(_, f)| f.clone()).collect());
    for f in listeners {
        f(msg);
    }
}

/// Calls `f` with every live message while the calling component is mounted.
pub fn subscribe(f: impl Fn(&Msg) + 'static) {
    let id = LIVE.with(|l| {
        let mut l = l.borrow_mut();
        l.next_id += 1;
        let id = l.next_id;
        l.listeners.push((id, Rc::new(f)));
        id
    });
    on_cleanup(move || {
        let _ = LIVE.try_with(|l| l.borrow_mut().listeners.retain(|(i, _)| *i != id));
    });
}

/// Opens the stream for the current session (closing any previous one).
pub fn start() {
    stop();
    let Some(token) = crate::session::token() else { return };
    let url = format!("/api/events?access_token={}", String::from(js_sys::encode_uri_component(&token)));
    let Ok(source) = EventSource::new(&url) else { return };
    let generation = LIVE.with(|l| l.borrow().generation);
    let mut handlers: Vec<Closure<dyn FnMut(web_sys::Event)>> = Vec::new();
    let mut on = |name: &str, f: Box<dyn FnMut(web_sys::Event)>| {
        let closure = Closure::wrap(f);
        let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        handlers.push(closure);
    };
    for kind in LiveEventKind::ALL {
        on(
            kind.as_str(),
            Box::new(|e: web_sys::Event| {
                let data = e.dyn_ref::<MessageEvent>().and_then(|m| m.data().as_string());
                if let Some(event) = data.and_then(|d| serde_json::from_str::<LiveEvent>(&d).ok()) {
                    deliver(&Msg::Event(Box::new(event)));
                }
            }),
        );
    }
    on(RELOAD_EVENT, Box::new(|_| deliver(&Msg::Reload)));
    on("open", Box::new(|_| set_connected(true)));
    on(
        "error",
        Box::new(move |e: web_sys::Event| {
            set_connected(false);
            let closed = e.target().and_then(|t| t.dyn_into::<EventSource>().ok()).is_some_and(|s| s.ready_state() == EventSource::CLOSED);
            if closed {
                // Refused (e.g. the token expired): the browser gives up. Ask the API whether the
                // session is still good (a 401 ends it), then open a fresh stream and refetch.
                set_timeout(
                    move || {
                        leptos::task::spawn_local(async move {
                            let _ = crate::api::me().await;
                            if LIVE.with(|l| l.borrow().generation) == generation && crate::session::token().is_some() {
                                start();
                                deliver(&Msg::Reload);
                            }
                        })
                    },
                    Duration::from_secs(5),
                );
            }
        }),
    );
    LIVE.with(|l| {
        let mut l = l.borrow_mut();
        l.source = Some(source);
        l.handlers = handlers;
    });
}

/// Closes the stream (sign-out, or the signed-in layout unmounted).
pub fn stop() {
    let _ = LIVE.try_with(|l| {
        let mut l = l.borrow_mut();
        l.generation += 1;
        if let Some(s) = l.source.take() {
            s.close();
        }
        l.handlers.clear();
    });
    let _ = CONNECTED.try_with(|c| c.try_set(false));
}
