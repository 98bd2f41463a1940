//! The SSE side: frames, replay on reconnect and the per-client stream.
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use callbroker_wire::{LiveEvent, LiveReload, RELOAD_EVENT};
use futures_util::future::BoxFuture;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::{Hub, Published};
use crate::db::DbConnection;
use crate::error::Error;

/// A comment line: keeps proxies and the browser from timing the stream out.
pub const HEARTBEAT: &[u8] = b": keep-alive\n\n";
/// Sent first: how long the browser waits before reconnecting (ms).
const PRELUDE: &[u8] = b"retry: 2000\n: connected\n\n";

/// `id:`, `event:` and `data:` of one event (the JSON has no newline).
pub fn event_frame(e: &LiveEvent) -> Result<Bytes, Error> {
    let data = serde_json::to_string(e).map_err(|e| Error::Internal(e.into()))?;
    Ok(Bytes::from(format!("id: {}\nevent: {}\ndata: {}\n\n", e.id, e.kind.as_str(), data)))
}

/// Tells the client to refetch: it missed events. Carries no `id:`, so the client's last id stays.
pub fn reload_frame(reason: &str) -> Bytes {
    let data = serde_json::to_string(&LiveReload { reason: reason.into() }).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!("event: {RELOAD_EVENT}\ndata: {data}\n\n"))
}

/// What a (re)connecting client gets before live events: the frames it missed and the id after
/// which live events are new to it.
pub struct Replay {
    pub frames: Vec<Bytes>,
    pub after: i64,
}

/// The events after `last_event_id` visible to `scope`, up to `published` (what the pump has
/// handed to the hub: later ones reach the client through the hub, in order), bounded by `max`
/// and by what is kept; past those bounds a reload frame instead.
pub fn replay(conn: &mut DbConnection, last_event_id: Option<i64>, scope: Option<i64>, max: i64, published: i64) -> Result<Replay, Error> {
    let Some(last) = last_event_id else {
        return Ok(Replay { frames: vec![], after: 0 });
    };
    if last > 0 && !super::kept(conn, last)? {
        // Pruned (or never issued): what came in between is unknown.
        return Ok(Replay { frames: vec![reload_frame("gap")], after: published });
    }
    let max = max.max(0);
    let rows = super::between(conn, last, published, scope, max + 1)?;
    if rows.len() > usize::try_from(max).unwrap_or(usize::MAX) {
        return Ok(Replay { frames: vec![reload_frame("too_many")], after: published });
    }
    let mut frames = Vec::with_capacity(rows.len());
    let full_caller = super::FullCaller::read_for(conn, &rows)?;
    for row in rows {
        let published = Published::from_row(row, &full_caller)?;
        frames.extend(published.frame_for(scope));
    }
    Ok(Replay { frames, after: last.max(published) })
}

/// The `reason` of the reload frame a stream ends with when its credential ended.
pub const CREDENTIALS_ENDED: &str = "credentials";

/// What keeps a client's stream open: the credential it was opened with, which must still hold at
/// every heartbeat and ends the stream at its expiry.
pub struct Guard {
    /// The credential's expiry (a session token's `exp`); `None` for credentials that do not expire.
    pub until: Option<tokio::time::Instant>,
    /// Whether the credential still holds (one indexed read). An error (the database unreachable)
    /// keeps the stream: the next heartbeat checks again.
    pub check: Box<dyn FnMut() -> BoxFuture<'static, Result<bool, Error>> + Send>,
}

impl Guard {
    /// A guard that always holds (tests of the stream itself).
    pub fn none() -> Guard {
        Guard { until: None, check: Box::new(|| Box::pin(async { Ok(true) })) }
    }
}

struct Client {
    rx: broadcast::Receiver<Arc<Published>>,
    scope: Option<i64>,
    after: i64,
    heartbeat: tokio::time::Interval,
    /// Every heartbeat period, whatever was sent (a busy stream gets no heartbeats).
    recheck: tokio::time::Interval,
    guard: Guard,
    queue: VecDeque<Bytes>,
    stop: watch::Receiver<bool>,
    closing: bool,
}

/// The byte stream of one client: prelude, replayed frames, then live events of its scope and
/// heartbeats. Ends with a reload frame when the client fell `client_buffer` events behind, or when
/// its credential ended (expired, or no longer holds at a heartbeat: see [`Guard`]).
pub fn client_stream(
    hub: &Hub,
    rx: broadcast::Receiver<Arc<Published>>,
    scope: Option<i64>,
    replay: Replay,
    guard: Guard,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
    let every = Duration::from_secs(hub.config.heartbeat_secs.max(1));
    let first = tokio::time::Instant::now() + every;
    let mut heartbeat = tokio::time::interval_at(first, every);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut recheck = tokio::time::interval_at(first, every);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut queue = VecDeque::with_capacity(replay.frames.len() + 1);
    queue.push_back(Bytes::from_static(PRELUDE));
    queue.extend(replay.frames);
    let client = Client { rx, scope, after: replay.after, heartbeat, recheck, guard, queue, stop: hub.stop_signal(), closing: false };
    futures_util::stream::unfold(client, |mut c| async move {
        if let Some(frame) = c.queue.pop_front() {
            return Some((Ok(frame), c));
        }
        if c.closing || *c.stop.borrow() {
            return None;
        }
        loop {
            let expiry = c.guard.until;
            tokio::select! {
                biased;
                _ = c.stop.changed() => return None,
                () = sleep_until(expiry) => {
                    tracing::info!("live events: the stream's session expired; closed");
                    c.closing = true;
                    return Some((Ok(reload_frame(CREDENTIALS_ENDED)), c));
                }
                _ = c.recheck.tick() => match (c.guard.check)().await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::info!("live events: the stream's credential was revoked or changed; closed");
                        c.closing = true;
                        return Some((Ok(reload_frame(CREDENTIALS_ENDED)), c));
                    }
                    Err(e) => tracing::debug!(error = %e, "live events: could not check a stream's credential; checked again next heartbeat"),
                },
                received = c.rx.recv() => match received {
                    Ok(event) => {
                        if event.id <= c.after {
                            continue;
                        }
                        c.after = event.id;
                        if let Some(frame) = event.frame_for(c.scope) {
                            c.heartbeat.reset();
                            return Some((Ok(frame), c));
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::info!(missed, "live events: a client fell behind; told to reload");
                        c.closing = true;
                        return Some((Ok(reload_frame("too_slow")), c));
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = c.heartbeat.tick() => return Some((Ok(Bytes::from_static(HEARTBEAT)), c)),
            }
        }
    })
}

/// Resolves at `at`; never when `None`.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn published(id: i64, publisher_id: Option<i64>) -> Arc<Published> {
        Arc::new(Published {
            id,
            publisher_id,
            staff_frame: Bytes::from(format!("id: {id}\nevent: call.created\ndata: {{\"staff\":{id}}}\n\n")),
            publisher_frame: publisher_id.map(|_| Bytes::from(format!("id: {id}\nevent: call.created\ndata: {{\"pub\":{id}}}\n\n"))),
        })
    }

    fn hub(buffer: usize) -> Hub {
        Hub::new(crate::config::LiveConfig { client_buffer: buffer, heartbeat_secs: 3600, ..Default::default() })
    }

    async fn frames(stream: impl Stream<Item = Result<Bytes, Infallible>>, n: usize) -> Vec<String> {
        let stream = std::pin::pin!(stream);
        let collected: Vec<_> = tokio::time::timeout(Duration::from_secs(5), stream.take(n).collect::<Vec<_>>()).await.unwrap_or_default();
        collected.into_iter().map(|f| String::from_utf8_lossy(&f.unwrap_or_default()).into_owned()).collect()
    }

    #[tokio::test]
    async fn a_client_that_falls_behind_is_told_to_reload_and_cut_off() {
        let hub = hub(4);
        let rx = hub.subscribe();
        for id in 1..=10 {
            hub.publish(published(id, None));
        }
        let out = frames(client_stream(&hub, rx, None, Replay { frames: vec![], after: 0 }, Guard::none()), 10).await;
        assert_eq!(out.len(), 2, "prelude, reload, end: {out:?}");
        assert!(out[0].starts_with("retry: "));
        assert_eq!(out[1], "event: reload\ndata: {\"reason\":\"too_slow\"}\n\n");
    }

    #[tokio::test]
    async fn publishing_never_waits_for_clients() {
        let hub = hub(2);
        let _stalled = hub.subscribe();
        let started = std::time::Instant::now();
        for id in 1..=100_000 {
            hub.publish(published(id, None));
        }
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn clients_get_their_scope_after_the_replay_without_duplicates() {
        let hub = hub(64);
        let rx = hub.subscribe();
        for (id, p) in [(1, Some(7)), (2, Some(8)), (3, Some(7)), (4, None), (5, Some(7))] {
            hub.publish(published(id, p));
        }
        // Replayed up to 3: live events 1..=3 are skipped.
        let replay = Replay { frames: vec![Bytes::from_static(b"replayed\n\n")], after: 3 };
        let out = frames(client_stream(&hub, rx, Some(7), replay, Guard::none()), 3).await;
        assert_eq!(out[1], "replayed\n\n");
        assert_eq!(out[2], "id: 5\nevent: call.created\ndata: {\"pub\":5}\n\n", "only publisher 7's, redacted frame");
    }

    #[tokio::test]
    async fn a_stream_ends_when_its_credential_no_longer_holds_or_expires() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let hub = Hub::new(crate::config::LiveConfig { heartbeat_secs: 1, ..Default::default() });
        let holds = Arc::new(AtomicBool::new(true));
        let flag = holds.clone();
        let check = move || {
            let ok = flag.load(Ordering::Relaxed);
            Box::pin(async move { Ok(ok) }) as BoxFuture<'static, Result<bool, Error>>
        };
        let guard = Guard { until: None, check: Box::new(check) };
        let stream = client_stream(&hub, hub.subscribe(), None, Replay { frames: vec![], after: 0 }, guard);
        let mut stream = std::pin::pin!(stream);
        let _prelude = next_frame(&mut stream).await;
        assert_eq!(next_frame(&mut stream).await.as_deref(), Some(HEARTBEAT), "open while the credential holds");
        holds.store(false, Ordering::Relaxed);
        let last = next_frame(&mut stream).await.map(|b| String::from_utf8_lossy(&b).into_owned());
        assert_eq!(last.as_deref(), Some("event: reload\ndata: {\"reason\":\"credentials\"}\n\n"));
        assert_eq!(next_frame(&mut stream).await, None, "then it ends");

        let hub = hub_with_heartbeat(3600);
        let until = tokio::time::Instant::now() + Duration::from_millis(200);
        let guard = Guard { until: Some(until), check: Box::new(|| Box::pin(async { Ok(true) })) };
        let out = frames(client_stream(&hub, hub.subscribe(), None, Replay { frames: vec![], after: 0 }, guard), 5).await;
        assert_eq!(out.len(), 2, "prelude, reload at expiry, end: {out:?}");
        assert!(tokio::time::Instant::now() >= until);
    }

    async fn next_frame<S: Stream<Item = Result<Bytes, Infallible>> + Unpin>(s: &mut S) -> Option<Bytes> {
        tokio::time::timeout(Duration::from_secs(3), s.next()).await.ok().flatten().and_then(Result::ok)
    }

    fn hub_with_heartbeat(secs: u64) -> Hub {
        Hub::new(crate::config::LiveConfig { heartbeat_secs: secs, ..Default::default() })
    }

    #[tokio::test]
    async fn idle_streams_get_heartbeats_and_end_on_stop() {
        let hub = Hub::new(crate::config::LiveConfig { heartbeat_secs: 1, ..Default::default() });
        let stream = client_stream(&hub, hub.subscribe(), None, Replay { frames: vec![], after: 0 }, Guard::none());
        let mut stream = std::pin::pin!(stream);
        let _prelude = stream.next().await;
        let beat = tokio::time::timeout(Duration::from_secs(3), stream.next()).await.ok().flatten().and_then(Result::ok);
        assert_eq!(beat.as_deref(), Some(HEARTBEAT));
        hub.stop();
        assert!(tokio::time::timeout(Duration::from_secs(3), stream.next()).await.ok().flatten().is_none(), "ends on stop");
    }
}
