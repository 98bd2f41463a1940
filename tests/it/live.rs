//! Live events (`GET /api/events`): scripted calls as Twilio sends them, read back over SSE.
use std::time::{Duration, Instant};

use callbroker_tests::sse::{Message, SseClient, TokenIn};
use callbroker_tests::{assert_absent, both_backends, Backend, TestApp};
use callbroker_wire::{LiveEvent, LiveEventKind};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_backends!(
    scripted_call_streams_its_lifecycle,
    publishers_get_only_their_own,
    auth_and_bad_requests,
    last_event_id_replays_what_was_missed,
    stalled_clients_do_not_slow_webhooks,
);

const NUMBER_A: &str = "+17175550100";
const NUMBER_B: &str = "+17175550200";

struct Setup {
    campaign: i64,
    buyer: i64,
    pub_a: i64,
    pub_b: i64,
}

/// One campaign, one buyer, two publishers each with a number.
async fn setup(app: &TestApp) -> Setup {
    let buyer = app.create("/api/buyers", json!({"name": "A", "phone_number": "+14155550101", "max_concurrent_calls": 50})).await;
    let c = app.create("/api/campaigns", json!({"name": "Solar", "buyers": [{"buyer_id": buyer["id"]}]})).await;
    let a = app.create("/api/publishers", json!({"name": "Pub A"})).await;
    let b = app.create("/api/publishers", json!({"name": "Pub B"})).await;
    app.create("/api/numbers", json!({"number": NUMBER_A, "campaign_id": c["id"], "publisher_id": a["id"]})).await;
    app.create("/api/numbers", json!({"number": NUMBER_B, "campaign_id": c["id"], "publisher_id": b["id"]})).await;
    let id = |v: &serde_json::Value| v["id"].as_i64().expect("id");
    Setup { campaign: id(&c), buyer: id(&buyer), pub_a: id(&a), pub_b: id(&b) }
}

/// A call answered by the buyer, talked 95 s, then hung up: Twilio's callbacks in order, with a
/// duplicated `ringing`. Returns the call's status code answers (all must succeed).
async fn scripted_call(app: &TestApp, sid: &str, number: &str) {
    scripted_call_with(app, sid, number, false).await;
}

/// [`scripted_call`], with the recording's callback before the call's last status when `recording`.
async fn scripted_call_with(app: &TestApp, sid: &str, number: &str, recording: bool) {
    let answer = app.incoming_call(sid, "+12015550123", number, &[("FromState", "NJ")]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let leg = answer.leg().expect("the call is dialled to the buyer");
    let child = format!("{sid}B");
    for (status, seq, duration) in
        [("initiated", 0, None), ("ringing", 1, None), ("ringing", 1, None), ("in-progress", 2, None), ("completed", 3, Some(95))]
    {
        assert_eq!(app.leg_status(leg, sid, &child, status, seq, duration).await.status, 204);
    }
    assert!(app.dial_result(leg, sid, &child, "completed", Some(95)).await.hangs_up());
    if recording {
        let recording = callbroker_tests::twilio_mock::sid("RE", 100);
        let url = format!("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{recording}");
        assert_eq!(app.recording_completed(sid, &recording, &url, 94, 1).await.status, 204);
    }
    assert_eq!(app.call_status(sid, "completed", 1, Some(110)).await.status, 204);
}

fn kinds(events: &[LiveEvent]) -> Vec<LiveEventKind> {
    events.iter().map(|e| e.kind).collect()
}

/// What a scripted call streams: its lifecycle, then the money verdict once it is settled.
const LIFECYCLE: [LiveEventKind; 5] = [
    LiveEventKind::CallCreated,
    LiveEventKind::CallRinging,
    LiveEventKind::CallAnswered,
    LiveEventKind::CallCompleted,
    LiveEventKind::CallQualified,
];
const N: usize = LIFECYCLE.len();

/// A publisher is sent no buyer, telephony cost, revenue or profit: the keys are absent from the
/// events' data.
fn assert_hidden_from_publisher(data: &[serde_json::Value]) {
    assert!(!data.is_empty());
    for d in data {
        assert_absent(&d["call"], &["buyer_id", "cost_micros", "cost_currency", "cost_status"]);
        // Twilio's recording URL names the Twilio account.
        if let Some(recording) = d["call"].get("recording").filter(|r| !r.is_null()) {
            assert_absent(recording, &["url"]);
        }
        if let Some(money) = d["call"].get("money").filter(|m| !m.is_null()) {
            assert_absent(money, &["revenue_micros", "cost_micros", "profit_micros"]);
        }
        if let Some(q) = d.get("qualification") {
            assert_absent(q, &["revenue_micros", "cost_micros", "profit_micros"]);
        }
    }
}

fn assert_increasing(events: &[LiveEvent]) {
    for w in events.windows(2) {
        assert!(w[0].id < w[1].id, "ids increase: {} then {}", w[0].id, w[1].id);
    }
}

async fn scripted_call_streams_its_lifecycle(app: TestApp) {
    let s = setup(&app).await;
    let mut client = app.sse(&app.admin_token, TokenIn::Header, None).await;
    scripted_call_with(&app, "CA100", NUMBER_A, true).await;
    let events = client.take(N).await;
    assert_eq!(kinds(&events), LIFECYCLE);
    assert_increasing(&events);
    let call_id = events[0].call.id;
    assert!(events.iter().all(|e| e.call.id == call_id && e.call.call_sid == "CA100"));
    let [created, ringing, answered, completed, verdict] = &events[..] else { unreachable!() };
    // Created: routed to the buyer, with campaign and publisher.
    assert_eq!(created.call.campaign_id, Some(s.campaign));
    assert_eq!(created.call.publisher_id, Some(s.pub_a));
    assert_eq!(created.call.buyer_id, Some(s.buyer), "staff see the buyer");
    assert_eq!(created.call.status, "ringing");
    assert_eq!(created.call.outcome, "routed");
    assert_eq!(created.call.caller_state.as_deref(), Some("NJ"));
    assert!(created.call.connected_at.is_none());
    assert_eq!(ringing.call.outcome, "routed");
    // Answered: connected.
    assert_eq!(answered.call.outcome, "connected");
    assert!(answered.call.connected_at.is_some());
    assert!(answered.call.ended_at.is_none());
    // Completed: final figures.
    assert_eq!(completed.call.status, "completed");
    assert_eq!(completed.call.outcome, "connected");
    assert_eq!(completed.call.duration_secs, Some(110));
    assert_eq!(completed.call.billable_secs, Some(95));
    assert!(completed.call.ended_at.is_some());
    assert!(events[..N - 1].iter().all(|e| e.qualification.is_none()));
    // The verdict: 95 s beats the campaign's default 90 s buffer.
    let q = verdict.qualification.as_ref().expect("the verdict carries the money");
    assert!(q.qualified, "{q:?}");
    assert_eq!(q.reason.as_deref(), Some("qualified"));
    assert_eq!(verdict.call.status, "completed");
    // The last event carries the call as the API shows it once it is over, field for field,
    // recording and money included.
    let (status, detail) = app.admin("GET", &format!("/api/calls/{call_id}"), None).await;
    assert_eq!(status, 200, "{detail}");
    let shown: callbroker_wire::Call = serde_json::from_value(detail["call"].clone()).expect("a call");
    assert!(shown.recording.is_some() && shown.money.is_some(), "{shown:?}");
    assert_eq!(verdict.call, shown);
    // The duplicated ringing, the dial result and the leg's own completion add nothing.
    client.expect_quiet(Duration::from_millis(500)).await;

    // A call nobody can take: created (no buyer) then completed, never ringing or answered.
    app.admin("PATCH", &format!("/api/buyers/{}", s.buyer), Some(json!({"status": "paused"}))).await;
    let answer = app.incoming_call("CA200", "+12015550124", NUMBER_A, &[]).await;
    assert!(answer.leg().is_none(), "{answer:?}");
    app.call_status("CA200", "completed", 1, Some(4)).await;
    let events = client.take(3).await;
    assert_eq!(kinds(&events), [LiveEventKind::CallCreated, LiveEventKind::CallCompleted, LiveEventKind::CallQualified]);
    assert_eq!(events[2].qualification.as_ref().map(|q| (q.qualified, q.reason.as_deref())), Some((false, Some("no_buyer"))));
    assert_eq!(events[0].call.outcome, "no_buyer");
    assert_eq!(events[1].call.duration_secs, Some(4));
    client.expect_quiet(Duration::from_millis(300)).await;
}

async fn publishers_get_only_their_own(app: TestApp) {
    let s = setup(&app).await;
    app.create("/api/users", json!({"email": "a@pub.example", "password": "publisher-a-pw", "role": "publisher", "publisher_id": s.pub_a}))
        .await;
    let token_a = app.login("a@pub.example", "publisher-a-pw").await;
    let key_b = app.create("/api/api-keys", json!({"name": "b feed", "role": "publisher", "publisher_id": s.pub_b})).await;
    let key_b = key_b["secret"].as_str().expect("the key").to_string();

    let mut a = app.sse(&token_a, TokenIn::Query, None).await;
    let mut b = app.sse(&key_b, TokenIn::Header, None).await;
    let mut staff = app.sse(&app.admin_token, TokenIn::Query, None).await;

    scripted_call_with(&app, "CA300", NUMBER_A, true).await;
    scripted_call(&app, "CA301", NUMBER_B).await;

    let all = staff.take(2 * N).await;
    assert_increasing(&all);
    assert!(all.iter().all(|e| e.call.buyer_id == Some(s.buyer)));
    let of = |sid: &str| all.iter().filter(|e| e.call.call_sid == sid).cloned().collect::<Vec<_>>();

    let seen_a = a.take(N).await;
    assert_eq!(kinds(&seen_a), LIFECYCLE);
    assert!(seen_a.iter().all(|e| e.call.publisher_id == Some(s.pub_a) && e.call.call_sid == "CA300"));
    assert!(seen_a.iter().all(|e| e.call.caller == "+XXXXXXX0123"), "a publisher sees the caller masked: {seen_a:?}");
    assert!(all.iter().all(|e| e.call.caller == "+12015550123"), "staff see the whole number");
    assert_eq!(
        seen_a.iter().map(|e| e.id).collect::<Vec<_>>(),
        of("CA300").iter().map(|e| e.id).collect::<Vec<_>>(),
        "same ids as staff get"
    );
    // The settled call carries its money: staff see all of it, a publisher only its payout, as
    // in `GET /api/calls/{id}`.
    let staff_money = all.last().and_then(|e| e.call.money.clone()).expect("staff see the money of the settled call");
    assert!(staff_money.revenue_micros.is_some() && staff_money.profit_micros.is_some(), "{staff_money:?}");
    let verdict = seen_a.last().expect("the verdict");
    let money = verdict.call.money.as_ref().expect("a publisher sees its payout");
    assert_eq!(money.payout_micros, staff_money.payout_micros);
    // Nor the buyer, the telephony cost, revenue, profit or the recording's Twilio URL.
    assert_hidden_from_publisher(&a.data);
    let recorded = |e: &LiveEvent| e.call.recording.clone();
    assert!(of("CA300").last().and_then(recorded).and_then(|r| r.url).is_some(), "staff see the recording's URL");
    assert!(seen_a.last().and_then(recorded).is_some_and(|r| r.url.is_none()), "a publisher sees the recording, not its URL");
    let (_, shown) = app.call("GET", &format!("/api/calls/{}", verdict.call.id), Some(&token_a), None).await;
    let shown: callbroker_wire::Call = serde_json::from_value(shown["call"].clone()).expect("a call");
    assert_eq!(verdict.call, shown, "the live feed shows a publisher what the API shows it");
    a.expect_quiet(Duration::from_millis(300)).await;

    let seen_b = b.take(N).await;
    assert!(seen_b.iter().all(|e| e.call.publisher_id == Some(s.pub_b) && e.call.call_sid == "CA301"));
    assert_hidden_from_publisher(&b.data);
    b.expect_quiet(Duration::from_millis(300)).await;

    // A campaign that shows its publishers full caller numbers does so in the live feed too.
    let (status, _) = app.admin("PATCH", &format!("/api/campaigns/{}", s.campaign), Some(json!({"show_full_caller": true}))).await;
    assert_eq!(status, 200);
    scripted_call(&app, "CA302", NUMBER_A).await;
    let seen_a = a.take(N).await;
    assert!(seen_a.iter().all(|e| e.call.call_sid == "CA302" && e.call.caller == "+12015550123"), "{seen_a:?}");
    assert_hidden_from_publisher(&a.data);
}

async fn auth_and_bad_requests(app: TestApp) {
    assert_eq!(app.try_sse(None, TokenIn::Header, None).await.err().map(|e| e.0), Some(401));
    assert_eq!(app.try_sse(Some("not-a-token"), TokenIn::Query, None).await.err().map(|e| e.0), Some(401));
    assert_eq!(app.try_sse(Some("cbk_not-a-real-key"), TokenIn::Query, None).await.err().map(|e| e.0), Some(401));
    // The query token is honoured on the events route only.
    let (status, _) = app.call("GET", &format!("/api/calls?access_token={}", app.admin_token), None, None).await;
    assert_eq!(status, 401);
    // Other query parameters survive the token's removal.
    let (status, page) = app.call("GET", "/api/calls?access_token=x&per_page=3", Some(&app.admin_token), None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["per_page"], 3);
    let res =
        app.client.get(app.url("/api/events")).bearer_auth(&app.admin_token).header("Last-Event-ID", "abc").send().await.expect("request");
    assert_eq!(res.status(), 400);
}

async fn last_event_id_replays_what_was_missed(app: TestApp) {
    let s = setup(&app).await;
    let mut first = app.sse(&app.admin_token, TokenIn::Header, None).await;
    scripted_call(&app, "CA400", NUMBER_A).await;
    let before = first.take(N).await;
    let resume_from = first.last_id.expect("an id");
    drop(first);

    // Missed while disconnected.
    scripted_call(&app, "CA401", NUMBER_B).await;
    let mut again = app.sse(&app.admin_token, TokenIn::Header, Some(resume_from)).await;
    let missed = again.take(N).await;
    assert_eq!(kinds(&missed), LIFECYCLE);
    assert!(missed.iter().all(|e| e.call.call_sid == "CA401"));
    assert!(missed[0].id > resume_from);
    // Then live, without duplicates.
    scripted_call(&app, "CA402", NUMBER_A).await;
    let live = again.take(N).await;
    assert!(live.iter().all(|e| e.call.call_sid == "CA402"), "{live:?}");
    again.expect_quiet(Duration::from_millis(300)).await;

    // A publisher resuming gets only its own missed events.
    app.create("/api/users", json!({"email": "b@pub.example", "password": "publisher-b-pw", "role": "publisher", "publisher_id": s.pub_b}))
        .await;
    let token_b = app.login("b@pub.example", "publisher-b-pw").await;
    let mut b = app.sse(&token_b, TokenIn::Query, Some(before[0].id)).await;
    let replayed = b.take(N).await;
    assert!(replayed.iter().all(|e| e.call.call_sid == "CA401"), "{replayed:?}");
    assert_hidden_from_publisher(&b.data);
    b.expect_quiet(Duration::from_millis(300)).await;

    // An id that is not kept (pruned, or never issued): told to reload, then live.
    let mut lost = app.sse(&app.admin_token, TokenIn::Header, Some(999_999_999)).await;
    assert_eq!(lost.next().await, Message::Reload(callbroker_wire::LiveReload { reason: "gap".into() }));
    scripted_call(&app, "CA403", NUMBER_A).await;
    assert!(lost.take(N).await.iter().all(|e| e.call.call_sid == "CA403"));

    // More missed than are replayed (the test server replays 1000; make it overflow cheaply by
    // asking from the very first event on a server configured to replay 6).
    let small = TestApp::start(callbroker_tests::TestDb::reuse(&app.db), |c| c.live.replay_max_events = 6).await;
    let mut over = small.sse(&small.admin_token, TokenIn::Header, Some(before[0].id)).await;
    assert_eq!(over.next().await, Message::Reload(callbroker_wire::LiveReload { reason: "too_many".into() }));
    over.expect_quiet(Duration::from_millis(300)).await;
}

/// Webhook latency with clients that never read their stream, against the same without them;
/// then what the stalled clients are sent once they read again.
async fn stalled_clients_do_not_slow_webhooks(app: TestApp) {
    const CALLS: usize = 60;
    setup(&app).await;
    // The first server stops (its background workers too): on SQLite only one process writes.
    app.stop();
    // Clients may fall 32 events behind before they are cut off.
    let app = TestApp::start(callbroker_tests::TestDb::reuse(&app.db), |c| c.live.client_buffer = 32).await;
    let run = |prefix: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            for i in 0..CALLS {
                scripted_call(app, &format!("{prefix}{i}"), if i % 2 == 0 { NUMBER_A } else { NUMBER_B }).await;
            }
            started.elapsed()
        }
    };
    let baseline = run("CAW").await;
    // Stalled clients: tiny receive buffers, the request sent, the response never read.
    let mut stalled = vec![];
    for _ in 0..4 {
        stalled.push(stalled_client(&app).await);
    }
    // The reading client reads while the calls are made, as a dashboard does: were it to wait
    // until the end, it would itself be a stalled client, cut off once the socket buffers fill.
    let mut reader = app.sse(&app.admin_token, TokenIn::Header, None).await;
    let read_all = async {
        let mut got = vec![];
        while got.len() < CALLS * N {
            let e = reader.next().await.live();
            if e.call.call_sid.starts_with("CAX") {
                got.push(e);
            }
        }
        got
    };
    let (with_stalled, got) = tokio::join!(run("CAX"), read_all);
    eprintln!(
        "{:?}: {CALLS} scripted calls ({} webhooks): {} ms without SSE clients, {} ms with 4 stalled clients + 1 reader",
        app.backend,
        CALLS * 8,
        baseline.as_millis(),
        with_stalled.as_millis()
    );
    assert!(
        with_stalled <= baseline * 3 + Duration::from_secs(2),
        "stalled clients slowed webhooks: {} ms vs {} ms",
        with_stalled.as_millis(),
        baseline.as_millis()
    );
    // The reading client got every event, in order.
    assert_increasing(&got);
    let ids: Vec<i64> = got.iter().map(|e| e.id).collect();
    // The stalled ones, read at last: each is sent either every event (the kernel's socket
    // buffers absorbed them) or, once it fell behind, the events up to then, a reload message and
    // the end of its stream. Never a silent gap. (Counting this run's calls only: the end of the
    // baseline run may still be in flight when they connect.)
    let mut told = 0;
    for s in stalled {
        let read = read_stalled(s, ids.len()).await;
        assert_eq!(read.ids, ids[..read.ids.len()], "a stalled client is sent the events in order, without a gap");
        match read.reload.as_deref() {
            Some(reason) => {
                assert_eq!(reason, "too_slow", "{read:?}");
                assert!(read.closed, "the stream ends after the reload message");
                told += 1;
            }
            None => assert_eq!(read.ids.len(), ids.len(), "a stalled client not cut off is sent every event"),
        }
        eprintln!(
            "{:?}: a stalled client was sent {} bytes, {} events; told to reload: {:?}",
            app.backend,
            read.bytes,
            read.ids.len(),
            read.reload
        );
    }
    eprintln!("{:?}: {told} of 4 stalled clients were told to reload (too slow) and disconnected", app.backend);
}

/// What a stalled client read once it read again.
#[derive(Debug, Default)]
struct StalledRead {
    /// The ids of the `CAX` calls' events, in the order received.
    ids: Vec<i64>,
    /// The reason of the reload message, if one came.
    reload: Option<String>,
    /// The server ended the response (and, `Connection: close`, the connection).
    closed: bool,
    bytes: usize,
}

/// Reads a stalled client's stream until the server closes it, or until `events` `CAX` events
/// arrived without a reload message (a client that was not cut off stays open). Fails after 10 s
/// without either.
async fn read_stalled(mut s: tokio::net::TcpStream, events: usize) -> StalledRead {
    let mut read = StalledRead::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut last_id = None;
    let mut reload_follows = false;
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while read.reload.is_some() || read.ids.len() < events {
        let n = tokio::time::timeout_at(deadline, s.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "a stalled client reading again got neither every event nor a reload and the end of its stream within 10 s: {read:?}"
                )
            })
            .expect("read");
        if n == 0 {
            read.closed = true;
            break;
        }
        read.bytes += n;
        pending.extend_from_slice(&buf[..n]);
        // Whole lines only; the chunked encoding's size lines fall between the SSE frames.
        let Some(end) = pending.iter().rposition(|b| *b == b'\n') else { continue };
        let lines: Vec<u8> = pending.drain(..=end).collect();
        for line in String::from_utf8_lossy(&lines).lines() {
            if let Some(id) = line.strip_prefix("id: ") {
                last_id = id.trim().parse::<i64>().ok();
            } else if line == "event: reload" {
                reload_follows = true;
            } else if let Some(data) = line.strip_prefix("data: ") {
                if reload_follows {
                    let reload: callbroker_wire::LiveReload = serde_json::from_str(data).expect("reload data");
                    read.reload = Some(reload.reason);
                    reload_follows = false;
                } else if data.contains("\"call_sid\":\"CAX") {
                    read.ids.push(last_id.expect("an id before the data"));
                }
            }
        }
    }
    read
}

async fn stalled_client(app: &TestApp) -> tokio::net::TcpStream {
    let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().expect("address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(2048).expect("recv buffer");
    let mut stream = socket.connect(addr).await.expect("connect");
    let request = format!(
        // `Connection: close`: the end of the response (after a reload message) closes the socket,
        // which the test waits for; with keep-alive only the last chunk would tell.
        "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n",
        app.admin_token
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    // Read up to the stream's opening comment (so the server has subscribed it), then stall.
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while !String::from_utf8_lossy(&seen).contains(": connected") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.expect("response").expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&seen));
    stream
}

/// PostgreSQL scale-out: an event raised on one instance reaches clients of every instance, and
/// `Last-Event-ID` works on any of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_instances_on_postgres() {
    let one = TestApp::launch(Backend::Postgres).await;
    let two = one.second_instance().await;
    setup(&one).await;
    let mut on_one = one.sse(&one.admin_token, TokenIn::Header, None).await;
    let mut on_two = two.sse(&two.admin_token, TokenIn::Query, None).await;

    // The whole call handled by instance one.
    scripted_call(&one, "CA500", NUMBER_A).await;
    let seen_two = on_two.take(N).await;
    assert_eq!(kinds(&seen_two), LIFECYCLE);
    let seen_one = on_one.take(N).await;
    assert_eq!(seen_one, seen_two, "both instances deliver the same events");

    // A call whose webhooks alternate between the instances (as behind a load balancer).
    let answer = two.incoming_call("CA501", "+12015550199", NUMBER_B, &[]).await;
    let leg = answer.leg().expect("leg");
    one.leg_status(leg, "CA501", "CA501B", "ringing", 1, None).await;
    two.leg_status(leg, "CA501", "CA501B", "in-progress", 2, None).await;
    one.leg_status(leg, "CA501", "CA501B", "completed", 3, Some(30)).await;
    two.dial_result(leg, "CA501", "CA501B", "completed", Some(30)).await;
    one.call_status("CA501", "completed", 1, Some(40)).await;
    let a = on_one.take(N).await;
    let b = on_two.take(N).await;
    assert_eq!(kinds(&a), LIFECYCLE);
    assert_eq!(a, b);
    assert_increasing(&[seen_one.clone(), a.clone()].concat());

    // Resume on instance two from an id instance one handed out.
    let mut resumed = two.sse(&two.admin_token, TokenIn::Header, Some(seen_one[N - 1].id)).await;
    assert_eq!(resumed.take(N).await, a);
    drop(two);
}

/// The listening connection dies (database restart, failover): the pump reconnects and catches
/// up; nothing committed meanwhile is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_reconnects_and_catches_up() {
    use diesel::{Connection, RunQueryDsl};
    let app = TestApp::launch(Backend::Postgres).await;
    setup(&app).await;
    let mut client = app.sse(&app.admin_token, TokenIn::Header, None).await;
    scripted_call(&app, "CA700", NUMBER_A).await;
    assert_eq!(kinds(&client.take(N).await), LIFECYCLE);
    let url = app.db.url.clone();
    let killed = tokio::task::spawn_blocking(move || {
        #[derive(diesel::QueryableByName)]
        struct Killed {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = diesel::PgConnection::establish(&url).expect("connect");
        let sql = format!(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = '{}'",
            callbroker::live::pump::APPLICATION_NAME
        );
        diesel::sql_query(sql).get_result::<Killed>(&mut conn).expect("terminate").n
    })
    .await
    .expect("join");
    assert_eq!(killed, 1, "one listening connection per instance");
    // Committed while the listener is down or reconnecting.
    scripted_call(&app, "CA701", NUMBER_B).await;
    let got = client.take(N).await;
    assert_eq!(kinds(&got), LIFECYCLE);
    assert!(got.iter().all(|e| e.call.call_sid == "CA701"));
}

/// Concurrent calls on two instances: every client sees every event once, in id order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_on_two_instances_arrive_in_order() {
    let one = TestApp::launch(Backend::Postgres).await;
    let two = one.second_instance().await;
    setup(&one).await;
    let mut client = two.sse(&two.admin_token, TokenIn::Header, None).await;
    let calls = (0..8).map(|i| {
        let app = if i % 2 == 0 { &one } else { &two };
        let number = if i % 2 == 0 { NUMBER_A } else { NUMBER_B };
        async move { scripted_call(app, &format!("CA6{i:02}"), number).await }
    });
    futures::future::join_all(calls).await;
    let got: Vec<LiveEvent> = client.take(8 * N).await;
    assert_increasing(&got);
    for i in 0..8 {
        let sid = format!("CA6{i:02}");
        assert_eq!(kinds(&got.iter().filter(|e| e.call.call_sid == sid).cloned().collect::<Vec<_>>()), LIFECYCLE, "{sid}");
    }
    client.expect_quiet(Duration::from_millis(300)).await;
    let _: &SseClient = &client;
}

/// PostgreSQL commits concurrent transactions in any order, so an event id can become visible
/// before a smaller one. Nothing is published past such a hole while the transaction holding the
/// smaller id is open; the held event comes first once it commits; a hole left by a rollback is
/// passed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_at_a_hole_until_its_transaction_ends() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let app = TestApp::launch(Backend::Postgres).await;
    setup(&app).await;
    let mut client = app.sse(&app.admin_token, TokenIn::Header, None).await;
    scripted_call(&app, "CA700", NUMBER_A).await;
    let first = client.take(N).await;
    // Another session takes the next event id (a copy of the last event) and keeps its
    // transaction open.
    let hold = "BEGIN; INSERT INTO live_events (at, kind, call_id, publisher_id, payload) \
                SELECT at, kind, call_id, publisher_id, payload FROM live_events ORDER BY id DESC LIMIT 1";
    let mut held = diesel::PgConnection::establish(&app.db.url).expect("connect");
    held.batch_execute(hold).expect("held insert");
    let answer = app.incoming_call("CA701", "+12015550124", NUMBER_A, &[]).await;
    assert_eq!(answer.status, 200);
    client.expect_quiet(Duration::from_millis(700)).await;
    held.batch_execute("COMMIT").expect("commit");
    let [copy, created] = &client.take(2).await[..] else { unreachable!() };
    assert_eq!((copy.id, copy.call.call_sid.as_str()), (first[N - 1].id + 1, "CA700"), "the held event first");
    assert_eq!((created.id, created.kind, created.call.call_sid.as_str()), (copy.id + 1, LiveEventKind::CallCreated, "CA701"));

    // A transaction that takes an id and rolls back: the next event still arrives, past the hole.
    held.batch_execute(hold).expect("held insert");
    let answer = app.incoming_call("CA702", "+12015550125", NUMBER_A, &[]).await;
    assert_eq!(answer.status, 200);
    client.expect_quiet(Duration::from_millis(300)).await;
    held.batch_execute("ROLLBACK").expect("rollback");
    let started = Instant::now();
    let next = client.next_within(Duration::from_secs(3)).await.expect("the event after the hole").live();
    assert_eq!((next.id, next.call.call_sid.as_str()), (created.id + 2, "CA702"), "id {} was rolled back", created.id + 1);
    assert!(started.elapsed() < Duration::from_secs(2), "passed over the hole in {:?}", started.elapsed());
    // A client resuming from before the hole replays what was published, in order.
    let mut resumed = app.sse(&app.admin_token, TokenIn::Header, Some(first[N - 1].id)).await;
    let replayed: Vec<i64> = resumed.take(3).await.iter().map(|e| e.id).collect();
    assert_eq!(replayed, [copy.id, created.id, next.id]);
}
