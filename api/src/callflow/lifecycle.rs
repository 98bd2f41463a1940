//! How status callbacks fold into a call (or a buyer leg): pure and order-independent.
//!
//! Twilio retries and reorders callbacks. Each field of the record is therefore a join over
//! everything received so far: the status is the furthest one reached (a late "ringing" never
//! undoes "completed"), each timestamp is the earliest report of its event, the duration and the
//! sequence number are the largest seen. Joins are commutative, associative and idempotent, so
//! any shuffle or duplication of the same callbacks gives the same record (see the property test).
//! A buyer leg's acceptance by its agent ([`crate::domain::acceptance::Acceptance`]) is one more
//! join (its earliest report), and what follows from it (who took the call, the status shown) is
//! a function of the joined record: it folds with the status callbacks in any order too.
use chrono::NaiveDateTime;

use crate::twilio::params::CallStatus;

/// Progress rank of a status; among final statuses a fixed order breaks ties, so that even two
/// conflicting final reports settle the same way whatever their order.
pub fn rank(s: CallStatus) -> u8 {
    match s {
        CallStatus::Queued => 0,
        CallStatus::Initiated => 1,
        CallStatus::Ringing => 2,
        CallStatus::InProgress => 3,
        CallStatus::Canceled => 4,
        CallStatus::Failed => 5,
        CallStatus::NoAnswer => 6,
        CallStatus::Busy => 7,
        CallStatus::Completed => 8,
    }
}

/// What the callbacks have established about a call or leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub status: CallStatus,
    pub ringing_at: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub duration_secs: Option<i32>,
    pub last_sequence: Option<i32>,
}

/// One status report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub status: CallStatus,
    /// When the event happened (Twilio's `Timestamp`, else when it was received).
    pub at: NaiveDateTime,
    pub duration_secs: Option<i32>,
    pub sequence: Option<i32>,
}

fn earliest(a: Option<NaiveDateTime>, b: Option<NaiveDateTime>) -> Option<NaiveDateTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

impl Progress {
    pub fn new(status: CallStatus) -> Self {
        Progress { status, ringing_at: None, answered_at: None, ended_at: None, duration_secs: None, last_sequence: None }
    }

    /// The record after also knowing `r`.
    #[must_use]
    pub fn apply(&self, r: &Report) -> Progress {
        let status = if rank(r.status) > rank(self.status) { r.status } else { self.status };
        let at = Some(r.at);
        Progress {
            status,
            ringing_at: if r.status == CallStatus::Ringing { earliest(self.ringing_at, at) } else { self.ringing_at },
            answered_at: if r.status == CallStatus::InProgress { earliest(self.answered_at, at) } else { self.answered_at },
            ended_at: if r.status.is_final() { earliest(self.ended_at, at) } else { self.ended_at },
            duration_secs: self.duration_secs.max(r.duration_secs),
            last_sequence: self.last_sequence.max(r.sequence),
        }
    }

    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }

    /// Whether the buyer answered, as far as the record says ([`answered`]).
    pub fn answered(&self) -> bool {
        answered(Some(self.status), self.answered_at, self.duration_secs)
    }
}

/// Whether a call or leg was answered, from its stored status, answer time and length: it was
/// seen in progress, or it completed with talk time (a callback that said so may have been lost).
pub fn answered(status: Option<CallStatus>, answered_at: Option<NaiveDateTime>, duration_secs: Option<i32>) -> bool {
    answered_at.is_some() || (status == Some(CallStatus::Completed) && duration_secs.unwrap_or(0) > 0)
}

/// Twilio's `Timestamp` parameter (RFC 2822, e.g. `Tue, 10 Jan 2023 18:25:44 +0000`) as UTC.
pub fn parse_timestamp(s: Option<&str>) -> Option<NaiveDateTime> {
    let s = s?.trim();
    chrono::DateTime::parse_from_rfc2822(s).or_else(|_| chrono::DateTime::parse_from_rfc3339(s)).ok().map(|t| t.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::acceptance::Acceptance;
    use crate::domain::states::LegStatus;
    use proptest::prelude::*;

    fn t(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_780_000_000 + secs, 0).map(|d| d.naive_utc()).unwrap_or_default()
    }

    fn report(status: CallStatus, secs: i64, seq: i32, duration: Option<i32>) -> Report {
        Report { status, at: t(secs), duration_secs: duration, sequence: Some(seq) }
    }

    /// The callbacks Twilio sends for a buyer leg that rings, is answered and completes.
    fn answered_leg() -> Vec<Report> {
        vec![
            report(CallStatus::Initiated, 0, 0, None),
            report(CallStatus::Ringing, 1, 1, None),
            report(CallStatus::InProgress, 5, 2, None),
            report(CallStatus::Completed, 95, 3, Some(90)),
        ]
    }

    fn fold(reports: &[Report]) -> Progress {
        reports.iter().fold(Progress::new(CallStatus::Queued), |p, r| p.apply(r))
    }

    #[test]
    fn in_order_sequence_gives_the_full_record() {
        let p = fold(&answered_leg());
        assert_eq!(p.status, CallStatus::Completed);
        assert_eq!(p.ringing_at, Some(t(1)));
        assert_eq!(p.answered_at, Some(t(5)));
        assert_eq!(p.ended_at, Some(t(95)));
        assert_eq!(p.duration_secs, Some(90));
        assert_eq!(p.last_sequence, Some(3));
    }

    #[test]
    fn late_ringing_never_undoes_completed() {
        let mut reports = answered_leg();
        let ringing = reports.remove(1);
        reports.push(ringing);
        let p = fold(&reports);
        assert_eq!(p.status, CallStatus::Completed);
        assert_eq!(p.ringing_at, Some(t(1)), "the late report still fills in when it rang");
    }

    #[test]
    fn timestamps_parse() {
        assert_eq!(parse_timestamp(Some("Tue, 10 Jan 2023 18:25:44 +0000")).map(|t| t.to_string()), Some("2023-01-10 18:25:44".into()));
        assert_eq!(parse_timestamp(Some("garbage")), None);
        assert_eq!(parse_timestamp(None), None);
    }

    fn any_status() -> impl Strategy<Value = CallStatus> {
        prop_oneof![
            Just(CallStatus::Queued),
            Just(CallStatus::Initiated),
            Just(CallStatus::Ringing),
            Just(CallStatus::InProgress),
            Just(CallStatus::Completed),
            Just(CallStatus::Busy),
            Just(CallStatus::NoAnswer),
            Just(CallStatus::Failed),
            Just(CallStatus::Canceled),
        ]
    }

    fn any_report() -> impl Strategy<Value = Report> {
        (any_status(), 0i64..1000, 0i32..10, proptest::option::of(0i32..5000)).prop_map(|(s, at, seq, d)| Report {
            status: s,
            at: t(at),
            duration_secs: d,
            sequence: Some(seq),
        })
    }

    /// What is reported on a buyer leg: a status callback, or its agent pressing 1.
    #[derive(Debug, Clone)]
    enum Event {
        Status(Report),
        Accept(NaiveDateTime),
    }

    fn fold_leg(required: bool, events: &[Event]) -> (Progress, Acceptance) {
        events.iter().fold((Progress::new(CallStatus::Queued), Acceptance { required, accepted_at: None }), |(p, a), e| match e {
            Event::Status(r) => (p.apply(r), a),
            Event::Accept(at) => (p, a.accept(*at)),
        })
    }

    /// `items` with the elements at `dupes` delivered again, shuffled from `seed`.
    fn delivered<T: Clone>(items: &[T], dupes: &[prop::sample::Index], seed: u64) -> Vec<T> {
        let mut out = items.to_vec();
        if !items.is_empty() {
            for d in dupes {
                out.push(items[d.index(items.len())].clone());
            }
        }
        let mut state = seed | 1;
        for i in (1..out.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            out.swap(i, usize::try_from(state % (i as u64 + 1)).expect("at most i"));
        }
        out
    }

    proptest! {
        /// A leg's status callbacks and its agent's acceptance, shuffled and repeated, give the
        /// same record, the same answer to who took the call and the same status shown.
        #[test]
        fn acceptance_folds_with_callbacks_in_any_order(
            required in any::<bool>(),
            reports in proptest::collection::vec(any_report(), 0..10),
            accepts in proptest::collection::vec(0i64..1000, 0..3),
            dupes in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            seed in any::<u64>(),
        ) {
            let events: Vec<Event> =
                reports.into_iter().map(Event::Status).chain(accepts.into_iter().map(|a| Event::Accept(t(a)))).collect();
            let (p, a) = fold_leg(required, &events);
            let (q, b) = fold_leg(required, &delivered(&events, &dupes, seed));
            prop_assert_eq!(&q, &p);
            prop_assert_eq!(b, a);
            prop_assert_eq!(b.took(q.answered()), a.took(p.answered()));
            prop_assert_eq!(b.status(LegStatus::Twilio(q.status)), a.status(LegStatus::Twilio(p.status)));
        }

        /// An agent who had to accept and did not never took the call, however the leg went;
        /// once the leg ended it shows as no-answer.
        #[test]
        fn an_unaccepted_leg_is_never_taken(reports in proptest::collection::vec(any_report(), 1..12)) {
            let events: Vec<Event> = reports.into_iter().map(Event::Status).collect();
            let (p, a) = fold_leg(true, &events);
            prop_assert!(!a.took(p.answered()));
            if p.is_final() {
                prop_assert_eq!(a.status(LegStatus::Twilio(p.status)), LegStatus::Twilio(CallStatus::NoAnswer));
            }
        }

        /// Any shuffle and duplication of the same callbacks gives the same record.
        #[test]
        fn shuffled_and_duplicated_callbacks_settle_the_same(
            reports in proptest::collection::vec(any_report(), 1..12),
            dupes in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            seed in any::<u64>(),
        ) {
            let expected = fold(&reports);
            let mut delivered = reports.clone();
            for d in &dupes {
                delivered.push(reports[d.index(reports.len())].clone());
            }
            // Deterministic shuffle from the seed.
            let mut state = seed | 1;
            for i in (1..delivered.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                delivered.swap(i, usize::try_from(state % (i as u64 + 1)).expect("at most i"));
            }
            prop_assert_eq!(fold(&delivered), expected);
        }

        /// Once final, a call stays final.
        #[test]
        fn final_is_never_undone(reports in proptest::collection::vec(any_report(), 1..12)) {
            let mut p = Progress::new(CallStatus::Queued);
            let mut was_final = false;
            for r in &reports {
                p = p.apply(r);
                if was_final { prop_assert!(p.is_final()); }
                was_final = p.is_final();
            }
        }
    }
}
