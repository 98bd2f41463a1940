//! The call flow: what happens on each Twilio webhook, and on the background work that changes a
//! call (its cost, its transcript, slots whose callbacks never came, a recompute).
//!
//! Every entry point has the same shape: read the call (one statement), decide in Rust, and
//! commit the decision as one [`Effects`] value ([`crate::store::calls::flow`]): the call's new
//! row, its legs, the buyer slot claimed or given back, the log, the live events, the rollup
//! changes, the jobs to run later. The commit is all or nothing and checks that the call is still
//! as it was read; if another webhook of the same call got there first, the entry point reads
//! again and decides again (Twilio reorders and repeats callbacks; the decisions are folds that
//! give the same result in any order). Routing, the lifecycle and money are pure functions
//! ([`crate::routing`], [`lifecycle`], [`crate::money`]); TwiML is rendered at the edge.
//!
//! - [`voice`]: a call arrives → record it, route it, claim a buyer slot, answer greet + dial.
//! - [`callbacks`]: a `<Dial>` attempt ended (fail over to the next buyer when it was busy,
//!   unanswered, failed or not accepted), status callbacks of the call or a buyer leg, the
//!   recording.
//! - [`ivr`]: the campaign's questions before routing, and the caller's answers.
//! - [`acceptance`]: what a buyer's agent hears on answering (the whisper), and their "press 1".
//! - [`settle`]: once a call is over and its talk time known, its money and rollups.
//! - [`upkeep`]: the reaper, a recompute, and the background jobs' results.
//! - [`simulate`]: the routing decision for a hypothetical call (reads only).
pub mod acceptance;
pub mod callbacks;
pub mod candidates;
pub mod ivr;
pub mod lifecycle;
pub mod quote;
pub mod settle;
pub mod simulate;
pub mod upkeep;
pub mod voice;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::RoutingConfig;
use crate::db::{Batch, Db, DbConnection};
use crate::error::Error;
use crate::live::Hub;
use crate::store::calls::flow::{self as calls, CallState, Commit, Effects, Find};
use crate::store::directory::{Directory, DirectoryCache};
use crate::twilio::params::{CallStatusCallback, DialActionCallback, GatherCallback, RecordingStatusCallback, VoiceWebhook};

pub use simulate::{simulate, Hypothetical};

pub const UNKNOWN_NUMBER_MESSAGE: &str = "We're sorry, the number you have dialled is not in service. Goodbye.";
pub const CAMPAIGN_PAUSED_MESSAGE: &str = "We're sorry, this line is not taking calls right now. Please try again later.";

/// What to tell Twilio.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Ask the caller a question of the campaign's IVR.
    Ivr(Box<ivr::Ask>),
    /// Greet (first attempt only) and dial a buyer on a claimed slot.
    Dial {
        greeting: Option<String>,
        leg_id: i64,
        buyer_number: String,
        caller_id: String,
        /// The buyer's agent hears a whisper (or must accept) when they answer: the leg's
        /// whisper webhook is named on the dialled number.
        whisper: bool,
    },
    /// To the buyer's agent of leg `leg_id`, before the bridge: the whisper, then, with
    /// `accept_timeout`, "press 1 to accept" with that many seconds to do it.
    Whisper {
        leg_id: i64,
        say: Option<String>,
        accept_timeout: Option<u32>,
    },
    /// Put the buyer's agent through to the caller (nothing more to say to the agent).
    Bridge,
    /// Say something and hang up.
    SayHangup(String),
    Hangup,
    /// Refuse the call unanswered (`<Reject reason="rejected"/>`): a blocked caller.
    Reject,
    /// Nothing written yet: the call is to be offered to the campaign's bidders first. [`Flow`]
    /// pings them and runs the entry point again with their answers ([`Run::pinged`]); this
    /// never reaches Twilio.
    PingBidders(Box<PingJob>),
}

/// The bidders to ping for a call, and what to tell them.
#[derive(Debug, Clone, PartialEq)]
pub struct PingJob {
    pub bidders: Vec<Arc<crate::store::bidders::BidderRow>>,
    pub facts: crate::routing::bids::PingFacts,
    pub floor_micros: i64,
    pub budget: std::time::Duration,
}

impl PingJob {
    /// A ping of `campaign`'s active bidders with `facts`, under its floor and budget.
    pub fn of(campaign: &crate::store::directory::CampaignEntry, facts: crate::routing::bids::PingFacts) -> PingJob {
        let settings = &campaign.routing.bids;
        PingJob {
            bidders: campaign.active_bidders().cloned().collect(),
            facts,
            floor_micros: settings.floor_micros,
            budget: std::time::Duration::from_millis(u64::try_from(settings.ping_budget_ms.max(1)).unwrap_or(1000)),
        }
    }
}

/// What every entry point needs besides the database.
#[derive(Debug)]
pub struct Ctx {
    pub directory: Arc<DirectoryCache>,
    pub routing: RoutingConfig,
    /// Buyer slots this instance is claiming right now (routing counts them as taken).
    pub claiming: candidates::Claiming,
    /// Buyers' earnings per campaign, for tiers routed by earnings per call.
    pub earnings: candidates::EarningsCache,
    /// Whether the configuration holds Twilio credentials (an account stored through the API
    /// counts too: see [`Directory::twilio_account`]), so a finished call's cost can be asked for.
    pub twilio_credentials: bool,
}

/// How many times an entry point reads and decides again when the call keeps changing under it
/// before it gives up with a 503 (Twilio then retries, or uses the number's fallback URL).
const TRIES: usize = 16;

/// One run of an entry point on a connection: commits [`Effects`] and remembers whether any of
/// them announced live events (the pump is woken after the write returns).
pub struct Run<'a> {
    pub conn: &'a mut DbConnection,
    /// Where a commit leaves work for the end of its transaction ([`Batch`]).
    batch: &'a mut Batch,
    pub ctx: &'a Ctx,
    announced: bool,
    /// The bidders' answers for the call being routed, once [`Answer::PingBidders`] was answered.
    pub pinged: Option<Arc<[crate::bidding::Pinged]>>,
}

impl<'a> Run<'a> {
    pub fn new(conn: &'a mut DbConnection, batch: &'a mut Batch, ctx: &'a Ctx) -> Run<'a> {
        Run { conn, batch, ctx, announced: false, pinged: None }
    }

    /// Whether a commit of this run announced live events.
    pub fn announced(&self) -> bool {
        self.announced
    }

    pub fn commit(&mut self, e: &Effects) -> Result<Commit, Error> {
        let done = calls::commit(self.conn, self.batch, e)?;
        if matches!(done, Commit::Done { .. }) && !e.live.is_empty() {
            self.announced = true;
        }
        Ok(done)
    }

    /// The call as stored now, with a directory at least as recent as the one the read saw.
    pub fn read(&mut self, find: Find<'_>) -> Result<Option<(CallState, Arc<Directory>)>, Error> {
        let Some((state, version)) = calls::read(self.conn, find)? else { return Ok(None) };
        let dir = self.ctx.directory.at_least(self.conn, version)?;
        Ok(Some((state, dir)))
    }

    /// Reads the call, lets `change` decide on it, commits what it decided; again while the call
    /// changed in between. `change` returns the effects to commit (none: nothing to write) and
    /// the value to return once they are written.
    pub fn change<T>(
        &mut self,
        find: Find<'_>,
        missing: &'static str,
        mut change: impl FnMut(&mut Run<'_>, CallState, &Directory) -> Result<(Option<Effects>, T), Error>,
    ) -> Result<T, Error> {
        for _ in 0..TRIES {
            let (state, dir) = self.read(find)?.ok_or(Error::NotFound(missing))?;
            let (effects, value) = change(self, state, &dir)?;
            let Some(e) = effects else { return Ok(value) };
            match self.commit(&e)? {
                Commit::Done { .. } => return Ok(value),
                // The call changed since it was read: read it again.
                Commit::Stale => {}
                Commit::SlotTaken | Commit::Duplicate => {
                    return Err(Error::internal(anyhow::anyhow!("a change of a recorded call without a claim came back {:?}", e.version)))
                }
            }
        }
        Err(contended())
    }
}

/// The error of an entry point that kept losing to concurrent changes of its call.
pub(crate) fn contended() -> Error {
    Error::Unavailable(crate::error::CONTENTION.into())
}

/// `t` as the database keeps it (microseconds): what a live event says of a call is then what
/// reading the call says.
fn stored(t: DateTime<Utc>) -> DateTime<Utc> {
    crate::db::to_stored(t.naive_utc()).and_utc()
}

/// The call flow as the HTTP handlers and background tasks use it: each entry point runs on the
/// database ([`Db::write_atomic`]) and wakes the live-event pump when it announced something.
#[derive(Clone)]
pub struct Flow {
    pub db: Db,
    pub hub: Arc<Hub>,
    pub ctx: Arc<Ctx>,
    pub bidding: crate::bidding::Bidding,
}

impl Flow {
    async fn run<T: Send + 'static>(&self, f: impl FnMut(&mut Run<'_>) -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
        self.run_pinged(None, f).await
    }

    async fn run_pinged<T: Send + 'static>(
        &self,
        pinged: Option<Arc<[crate::bidding::Pinged]>>,
        f: impl FnMut(&mut Run<'_>) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let ctx = self.ctx.clone();
        let mut f = f;
        let (value, announced) = self
            .db
            .write_atomic(move |conn, batch| {
                let mut run = Run::new(conn, batch, &ctx);
                run.pinged = pinged.clone();
                let value = f(&mut run)?;
                Ok((value, run.announced()))
            })
            .await?;
        if announced {
            self.hub.wake();
        }
        Ok(value)
    }

    /// Runs an entry point that may route a call; when it asks for the bidders' answers first,
    /// pings them (outside any transaction) and runs it again with the answers. `pinged`: answers
    /// already gathered.
    async fn routing(
        &self,
        pinged: Option<Arc<[crate::bidding::Pinged]>>,
        f: impl FnMut(&mut Run<'_>) -> Result<Answer, Error> + Send + Clone + 'static,
    ) -> Result<Answer, Error> {
        match self.run_pinged(pinged, f.clone()).await? {
            Answer::PingBidders(job) => {
                let pinged: Arc<[crate::bidding::Pinged]> =
                    self.bidding.ping_all(&job.bidders, &job.facts, job.floor_micros, job.budget).await.into();
                match self.run_pinged(Some(pinged), f).await? {
                    Answer::PingBidders(_) => Err(Error::internal(anyhow::anyhow!("bidders asked for twice"))),
                    answer => Ok(answer),
                }
            }
            answer => Ok(answer),
        }
    }

    pub async fn voice(&self, v: VoiceWebhook, now: DateTime<Utc>) -> Result<Answer, Error> {
        let now = stored(now);
        let v = Arc::new(v);
        // A call to be sold: its bidders are pinged before the write, on what a read (not the
        // writer) found of the caller, so the call takes one write like any other.
        let pinged = match voice::ping_job(&self.ctx.directory.get(), &v) {
            Some(campaign) => {
                let (ctx, read) = (self.ctx.clone(), v.clone());
                match self.db.read(move |conn| voice::presale(conn, &ctx, campaign, &read, now)).await? {
                    voice::Presale::Ping(job) => {
                        Some(self.bidding.ping_all(&job.bidders, &job.facts, job.floor_micros, job.budget).await.into())
                    }
                    // Answered as it was: no answers are needed, and none are asked for.
                    voice::Presale::Recorded => Some(Arc::from([])),
                    voice::Presale::Unsold => None,
                }
            }
            None => None,
        };
        self.routing(pinged, move |run| voice::on_voice(run, &v, now)).await
    }

    pub async fn dial(&self, leg_id: i64, d: DialActionCallback, now: DateTime<Utc>) -> Result<Answer, Error> {
        let now = stored(now);
        self.run(move |run| callbacks::on_dial_result(run, leg_id, &d, now)).await
    }

    /// What the buyer's agent on leg `leg_id` hears on answering (reads only).
    pub async fn whisper(&self, leg_id: i64, w: GatherCallback) -> Result<Answer, Error> {
        let ctx = self.ctx.clone();
        self.db.read(move |conn| acceptance::on_whisper(conn, &ctx, leg_id, &w)).await
    }

    /// The caller's answer to question `question` (try `attempt`) of call `call_id`'s IVR.
    pub async fn ivr(&self, call_id: i64, question: u32, attempt: u32, g: GatherCallback, now: DateTime<Utc>) -> Result<Answer, Error> {
        let now = stored(now);
        let g = Arc::new(g);
        self.routing(None, move |run| ivr::on_gather(run, call_id, question, attempt, &g, now)).await
    }

    /// The agent's answer to "press 1" on leg `leg_id`.
    pub async fn accept(&self, leg_id: i64, g: GatherCallback, now: DateTime<Utc>) -> Result<Answer, Error> {
        let now = stored(now);
        self.run(move |run| acceptance::on_accept(run, leg_id, &g, now)).await
    }

    pub async fn status(&self, leg_id: Option<i64>, cb: CallStatusCallback, now: DateTime<Utc>) -> Result<(), Error> {
        let now = stored(now);
        self.run(move |run| callbacks::on_status(run, leg_id, &cb, now)).await
    }

    pub async fn recording(&self, r: RecordingStatusCallback, now: DateTime<Utc>) -> Result<(), Error> {
        let now = stored(now);
        self.run(move |run| callbacks::on_recording(run, &r, now)).await
    }

    /// Releases the slots of legs past their expiry; returns how many.
    pub async fn reap(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        let now = stored(now);
        self.run(move |run| upkeep::reap(run, now)).await
    }

    /// Changes call `id` with `change` (a background job's result): see [`Run::change`].
    pub async fn update<T: Send + 'static>(
        &self,
        id: i64,
        change: impl FnMut(&mut Run<'_>, CallState, &Directory) -> Result<(Option<Effects>, T), Error> + Send + 'static,
    ) -> Result<T, Error> {
        let mut change = change;
        self.run(move |run| run.change(Find::Id(id), "call", &mut change)).await
    }

    /// Re-settles every settled call started in `[from, to)` under the current rules, in one
    /// transaction; returns how many.
    pub async fn recompute(&self, from: chrono::NaiveDateTime, to: chrono::NaiveDateTime) -> Result<usize, Error> {
        let ctx = self.ctx.clone();
        let (n, announced) = self
            .db
            .write(move |conn| {
                let mut batch = Batch::default();
                let mut run = Run::new(conn, &mut batch, &ctx);
                let n = upkeep::recompute(&mut run, from, to)?;
                let announced = run.announced();
                batch.write(conn)?;
                Ok((n, announced))
            })
            .await?;
        if announced {
            self.hub.wake();
        }
        Ok(n)
    }
}
