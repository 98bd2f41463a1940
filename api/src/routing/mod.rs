//! Buyer routing: which buyers may take a call, and in which order to ring
//! them.
//!
//! [`route`] is a pure function of the call, the campaign's candidate buyers
//! (with live figures loaded by the I/O layer) and the instant in
//! [`CallInfo::now`]. It returns a [`Decision`]: the eligible buyer ids in
//! ringing order, and one [`Verdict`] per candidate with the [`Reason`] it was
//! ranked or skipped.
//!
//! Rules, in the order a candidate is checked:
//! 1. campaign paused → everyone skipped;
//! 2. already tried on this call (failover) → skipped;
//! 3. a repeat caller the campaign sends back to its last buyer → every other
//!    buyer skipped;
//! 4. inactive buyer → skipped; a call an IVR answer keeps to a label
//!    (`only_label`) skips buyers without it;
//! 5. geography: the caller's state (Twilio `FromState`, else the NANP area
//!    code table in `api/data/area_codes.csv`) against the buyer's denied and
//!    allowed states;
//! 6. tag rules: every rule of the buyer (or of its assignment) must hold for
//!    the call's tags (`tags.rs`);
//! 7. weekly availability windows in the buyer's IANA time zone;
//! 8. concurrency: `in_progress >= max_concurrent` (0 takes no calls);
//! 9. hourly, daily, monthly caps over local periods ([`period_keys`]).
//!
//! Before any of this, the call may be blocked outright by the campaign's
//! screening ([`screening::screen`]: blocklist, anonymous callers, STIR/SHAKEN
//! attestation, repeat callers, rate limit); a blocked call is never routed.
//! Then the campaign's IVR ([`ivr::step`]) may tag it, keep it to a label or
//! end it.
//!
//! Eligible buyers are ordered by priority (higher first, strictly), then by
//! a deterministic even distribution by weight and recent volume (see
//! `distribution.rs`), which a campaign's tier may reorder by price or by
//! earnings per call (`value.rs`); when the caller's previous buyer is eligible and keeps
//! repeat callers, it is moved to the front.
//!
//! Files: `engine.rs` (`route` and its input types), `distribution.rs` (order
//! within a priority), `schedule.rs` (weekly windows, serde only),
//! `local_time.rs` (time zones, period keys), `geo.rs` (caller state and
//! state lists), `tags.rs` (tag rules), `screening.rs` (blocking a call
//! before routing), `ivr.rs` (the IVR's steps); the answer types are in the wire crate.

pub mod bids;
mod distribution;
mod engine;
mod geo;
pub mod ivr;
mod local_time;
pub mod screening;
pub mod tags;
pub mod value;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use callbroker_wire::routing::{CallerState, Decision, Reason, StateSource, Verdict};
pub use callbroker_wire::schedule::{ClockTime, Day, ScheduleError, WeeklySchedule, Window, MAX_WINDOWS};
pub use engine::{route, CallInfo, Candidate, Caps, Earnings, PeriodCounts};
pub use geo::{area_code_state, caller_state, nanp_area_code};
pub use local_time::{local_clock, period_keys, LocalClock, PeriodKeys};
