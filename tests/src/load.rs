//! Calls played as Twilio plays them, one webhook at a time, so a test can stop a call anywhere
//! (server killed, database cut) and resume it later against another server, as Twilio's retries
//! would: voice webhook, the buyer leg's ringing / in-progress / completed callbacks, the dial
//! action, the call's completed callback.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::twilio::{params, Answer, ACCOUNT_SID};
use crate::TestApp;

/// The campaign's tracking number.
pub const NUMBER: &str = "+17175550199";

/// Creates `buyers` buyers of `capacity` calls each on one campaign behind [`NUMBER`]; returns the
/// buyer ids.
pub async fn setup(app: &TestApp, buyers: usize, capacity: usize) -> Vec<i64> {
    let mut ids = vec![];
    for i in 0..buyers {
        let b = app
            .create(
                "/api/buyers",
                json!({"name": format!("Load buyer {i}"), "phone_number": format!("+1415556{i:04}"), "max_concurrent_calls": capacity}),
            )
            .await;
        ids.push(b["id"].as_i64().expect("id"));
    }
    let assignments: Vec<_> = ids.iter().map(|id| json!({"buyer_id": id})).collect();
    let c = app.create("/api/campaigns", json!({"name": "Load", "buyers": assignments})).await;
    app.create("/api/numbers", json!({"number": NUMBER, "campaign_id": c["id"]})).await;
    ids
}

/// 5xx answers seen, across every call. (The requests are counted by each [`TestApp`].)
#[derive(Default)]
pub struct Counters {
    pub server_errors: AtomicU64,
}

impl Counters {
    pub fn server_errors(&self) -> u64 {
        self.server_errors.load(Ordering::Relaxed)
    }
}

/// One call and how far it got: `done` steps were acknowledged by the server.
#[derive(Debug, Clone)]
pub struct Call {
    pub sid: String,
    pub child: String,
    pub caller: String,
    /// The buyer leg the voice webhook dialled (none: busy message).
    pub leg: Option<i64>,
    pub done: usize,
    /// Slowest answer of this call.
    pub slowest: Duration,
}

/// Why a step did not go through.
#[derive(Debug)]
pub enum Stop {
    /// No answer at all (server down).
    Unreachable(reqwest::Error),
    /// An answer that is not the expected one.
    Refused(Answer),
}

impl Call {
    pub fn new(tag: &str, i: usize) -> Call {
        Call {
            sid: format!("CA{tag}{i:08}"),
            child: format!("CA{tag}L{i:08}"),
            caller: format!("+1201{:07}", i % 10_000_000),
            leg: None,
            done: 0,
            slowest: Duration::ZERO,
        }
    }

    /// The webhook answered at least once with TwiML (200).
    pub fn acknowledged(&self) -> bool {
        self.done >= 1
    }

    /// Every step played.
    pub fn finished(&self) -> bool {
        self.done >= self.steps()
    }

    fn steps(&self) -> usize {
        if self.leg.is_some() {
            6
        } else {
            2
        }
    }

    /// Plays the next step on `app`. The first step is the voice webhook; a call the server
    /// could not dial (busy message) ends with its completed callback.
    pub async fn step(&mut self, app: &TestApp, counters: &Counters) -> Result<(), Stop> {
        let (path, pairs, expect) = self.next_request();
        let started = Instant::now();
        let answer = app.try_twilio(&path, &pairs).await.map_err(Stop::Unreachable)?;
        self.slowest = self.slowest.max(started.elapsed());
        if answer.status >= 500 {
            counters.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        if answer.status != expect {
            return Err(Stop::Refused(answer));
        }
        if self.done == 0 {
            self.leg = answer.leg();
            if self.leg.is_none() && !answer.says("busy") {
                return Err(Stop::Refused(answer));
            }
        }
        self.done += 1;
        Ok(())
    }

    /// Plays the remaining steps, pausing `pause` between them.
    pub async fn play(&mut self, app: &TestApp, counters: &Counters, pause: Duration) -> Result<(), Stop> {
        self.play_across(&[app], counters, pause).await
    }

    /// Plays the remaining steps, each on the next of `apps` in turn (instances behind a load
    /// balancer).
    pub async fn play_across(&mut self, apps: &[&TestApp], counters: &Counters, pause: Duration) -> Result<(), Stop> {
        let first = self.sid.bytes().map(usize::from).sum::<usize>();
        while !self.finished() {
            self.step(apps[(first + self.done) % apps.len()], counters).await?;
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
        Ok(())
    }

    fn next_request(&self) -> (String, Vec<(String, String)>, u16) {
        let call_completed = |duration: &str| {
            let p = params(&[
                ("CallSid", &self.sid),
                ("AccountSid", ACCOUNT_SID),
                ("CallStatus", "completed"),
                ("CallDuration", duration),
                ("SequenceNumber", "1"),
            ]);
            ("/api/webhooks/twilio/status".to_string(), p, 204)
        };
        if self.done == 0 {
            let p = params(&[
                ("CallSid", &self.sid),
                ("AccountSid", ACCOUNT_SID),
                ("From", &self.caller),
                ("To", NUMBER),
                ("CallStatus", "ringing"),
                ("Direction", "inbound"),
            ]);
            return ("/api/webhooks/twilio/voice".into(), p, 200);
        }
        let Some(leg) = self.leg else { return call_completed("3") };
        let leg_status = |status: &str, seq: &str| {
            let mut p = params(&[
                ("CallSid", &self.child),
                ("ParentCallSid", &self.sid),
                ("AccountSid", ACCOUNT_SID),
                ("CallStatus", status),
                ("SequenceNumber", seq),
            ]);
            if status == "completed" {
                p.extend(params(&[("CallDuration", "95")]));
            }
            (format!("/api/webhooks/twilio/status?leg={leg}"), p, 204)
        };
        match self.done {
            1 => leg_status("ringing", "0"),
            2 => leg_status("in-progress", "1"),
            3 => leg_status("completed", "2"),
            4 => {
                let p = params(&[
                    ("CallSid", &self.sid),
                    ("AccountSid", ACCOUNT_SID),
                    ("DialCallStatus", "completed"),
                    ("DialCallSid", &self.child),
                    ("DialCallDuration", "95"),
                ]);
                (format!("/api/webhooks/twilio/dial?leg={leg}"), p, 200)
            }
            _ => call_completed("100"),
        }
    }
}
