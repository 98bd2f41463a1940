//! A Server-Sent Events client for the tests: `GET /api/events` read with reqwest's byte stream
//! and parsed by `eventsource-stream` (an independent implementation of the SSE format).
use std::pin::Pin;
use std::time::Duration;

use callbroker_wire::{LiveEvent, LiveReload, RELOAD_EVENT};
use eventsource_stream::{Event, Eventsource};
use futures::{Stream, StreamExt};

use crate::TestApp;

type Events = Pin<Box<dyn Stream<Item = Result<Event, String>> + Send>>;

/// How the client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenIn {
    Header,
    Query,
}

/// An open event stream.
pub struct SseClient {
    events: Events,
    /// The `id:` of the last event received.
    pub last_id: Option<i64>,
    /// The `data:` of every live event received, as sent (to tell an absent key from a `null`).
    pub data: Vec<serde_json::Value>,
}

/// What the stream delivered.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Live(Box<LiveEvent>),
    Reload(LiveReload),
}

impl Message {
    pub fn live(self) -> LiveEvent {
        match self {
            Message::Live(e) => *e,
            Message::Reload(r) => panic!("expected a live event, got reload {r:?}"),
        }
    }
}

impl TestApp {
    /// Opens `GET /api/events`; returns the status when it is not 200.
    pub async fn try_sse(&self, token: Option<&str>, how: TokenIn, last_event_id: Option<i64>) -> Result<SseClient, (u16, String)> {
        let mut url = self.url("/api/events");
        let mut req = self.client.get(&url);
        if let Some(t) = token {
            match how {
                TokenIn::Header => req = req.bearer_auth(t),
                TokenIn::Query => {
                    url = format!("{url}?access_token={t}");
                    req = self.client.get(&url);
                }
            }
        }
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let res = self.send(req).await.expect("events request");
        let status = res.status().as_u16();
        if status != 200 {
            return Err((status, res.text().await.unwrap_or_default()));
        }
        assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/event-stream"));
        let events = res.bytes_stream().eventsource().map(|r| r.map_err(|e| e.to_string()));
        Ok(SseClient { events: Box::pin(events), last_id: last_event_id, data: vec![] })
    }

    /// Opens `GET /api/events` (asserting 200).
    pub async fn sse(&self, token: &str, how: TokenIn, last_event_id: Option<i64>) -> SseClient {
        match self.try_sse(Some(token), how, last_event_id).await {
            Ok(c) => c,
            Err((status, body)) => panic!("GET /api/events -> {status} {body}"),
        }
    }
}

impl SseClient {
    /// The next message within `wait`; `None` on timeout or end of stream.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Message> {
        let event = match tokio::time::timeout(wait, self.events.next()).await {
            Ok(Some(Ok(e))) => e,
            Ok(Some(Err(e))) => panic!("SSE stream error: {e}"),
            Ok(None) | Err(_) => return None,
        };
        Some(self.message(event))
    }

    /// Reads until the server ends the stream: the messages received meanwhile, or `None` when
    /// the stream is still open after `wait`.
    pub async fn end_within(&mut self, wait: Duration) -> Option<Vec<Message>> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut received = vec![];
        loop {
            match tokio::time::timeout_at(deadline, self.events.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(e))) => received.push(self.message(e)),
                // The stream ended, or the connection closed mid-frame: ended too.
                Ok(None | Some(Err(_))) => return Some(received),
            }
        }
    }

    fn message(&mut self, event: Event) -> Message {
        if event.event == RELOAD_EVENT {
            return Message::Reload(serde_json::from_str(&event.data).expect("reload data"));
        }
        let live: LiveEvent = serde_json::from_str(&event.data).unwrap_or_else(|e| panic!("bad event data {}: {e}", event.data));
        assert_eq!(event.event, live.kind.as_str(), "SSE event name matches the data");
        assert_eq!(event.id, live.id.to_string(), "SSE id matches the data");
        self.last_id = Some(live.id);
        self.data.push(serde_json::from_str(&event.data).expect("JSON data"));
        Message::Live(Box::new(live))
    }

    /// The next message (fails the test after 10 s).
    pub async fn next(&mut self) -> Message {
        self.next_within(Duration::from_secs(10)).await.expect("an event within 10 s")
    }

    /// The next `n` live events.
    pub async fn take(&mut self, n: usize) -> Vec<LiveEvent> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.next().await.live());
        }
        out
    }

    /// Asserts nothing arrives for `wait`.
    pub async fn expect_quiet(&mut self, wait: Duration) {
        if let Some(m) = self.next_within(wait).await {
            panic!("expected no event, got {m:?}");
        }
    }
}
