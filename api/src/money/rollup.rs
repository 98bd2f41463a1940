//! The hourly rollups: settled calls summed per UTC hour and (campaign, publisher, buyer, number),
//! at several levels of detail so that every query reads a small table slice. Pure: what a call
//! adds; [`crate::store::rollups`] writes it.
use crate::store::calls::CallRow;
use crate::store::rollups::RollupRow;

/// A rollup row's key; 0 stands for "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Key {
    /// Start of the UTC hour, in seconds since the epoch.
    pub hour: i64,
    pub campaign_id: i64,
    pub publisher_id: i64,
    pub buyer_id: i64,
    pub number_id: i64,
}

impl Key {
    /// The key of a call, under the buyer credited with its money.
    pub fn of(c: &CallRow) -> Key {
        Key {
            hour: hour_of(c.started_at),
            campaign_id: c.campaign_id.unwrap_or(0),
            publisher_id: c.publisher_id.unwrap_or(0),
            buyer_id: c.money_buyer_id.unwrap_or(0),
            number_id: c.number_id.unwrap_or(0),
        }
    }
}

/// Dimension bits of a level.
pub const CAMPAIGN: i64 = 1;
pub const PUBLISHER: i64 = 2;
pub const BUYER: i64 = 4;
pub const NUMBER: i64 = 8;

/// The levels kept, smallest first (a number belongs to one campaign and publisher, so keeping
/// those two beside it costs nothing).
pub const LEVELS: [i64; 9] = [
    0,
    CAMPAIGN,
    PUBLISHER,
    BUYER,
    CAMPAIGN | PUBLISHER,
    CAMPAIGN | BUYER,
    PUBLISHER | BUYER,
    CAMPAIGN | PUBLISHER | NUMBER,
    CAMPAIGN | PUBLISHER | BUYER | NUMBER,
];

/// Added to a level for its rows summed per UTC day (their `hour` is the day's start).
pub const DAY: i64 = 16;

/// The smallest level that keeps every dimension in `needed`.
pub fn level_for(needed: i64) -> i64 {
    LEVELS.iter().copied().find(|l| l & needed == needed).unwrap_or(CAMPAIGN | PUBLISHER | BUYER | NUMBER)
}

impl Key {
    /// The key with only the dimensions of `level`.
    #[must_use]
    pub fn at(&self, level: i64) -> Key {
        let keep = |bit: i64, v: i64| if level & bit != 0 { v } else { 0 };
        Key {
            hour: self.hour,
            campaign_id: keep(CAMPAIGN, self.campaign_id),
            publisher_id: keep(PUBLISHER, self.publisher_id),
            buyer_id: keep(BUYER, self.buyer_id),
            number_id: keep(NUMBER, self.number_id),
        }
    }
}

/// Rows for every level from full-detail rows, merged per level key, in (level, key) order and
/// without rows that add nothing. The order matters: every writer upserts rows in this one global
/// order, so concurrent settlements on PostgreSQL wait for each other instead of deadlocking.
pub fn expand(rows: &[(Key, Sums)]) -> Vec<(i64, Key, Sums)> {
    let mut out: std::collections::BTreeMap<(i64, Key), Sums> = std::collections::BTreeMap::new();
    for (k, s) in rows {
        for level in LEVELS {
            let key = k.at(level);
            out.entry((level, key)).or_default().add(s);
            out.entry((level | DAY, Key { hour: key.hour.div_euclid(86_400) * 86_400, ..key })).or_default().add(s);
        }
    }
    out.into_iter().filter(|(_, s)| *s != Sums::default()).map(|((l, k), s)| (l, k, s)).collect()
}

pub fn hour_of(t: chrono::NaiveDateTime) -> i64 {
    t.and_utc().timestamp().div_euclid(3600) * 3600
}

/// The summed figures of a rollup row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sums {
    pub calls: i64,
    pub answered: i64,
    pub qualified: i64,
    pub duplicates: i64,
    pub no_buyer: i64,
    pub talk_secs: i64,
    pub revenue_micros: i64,
    pub payout_micros: i64,
    pub cost_micros: i64,
    pub offered: i64,
    pub connected: i64,
    pub blocked: i64,
}

impl Sums {
    pub fn add(&mut self, o: &Sums) {
        self.calls += o.calls;
        self.answered += o.answered;
        self.qualified += o.qualified;
        self.duplicates += o.duplicates;
        self.no_buyer += o.no_buyer;
        self.talk_secs += o.talk_secs;
        self.revenue_micros += o.revenue_micros;
        self.payout_micros += o.payout_micros;
        self.cost_micros += o.cost_micros;
        self.offered += o.offered;
        self.connected += o.connected;
        self.blocked += o.blocked;
    }
    fn negated(&self) -> Sums {
        Sums {
            calls: -self.calls,
            answered: -self.answered,
            qualified: -self.qualified,
            duplicates: -self.duplicates,
            no_buyer: -self.no_buyer,
            talk_secs: -self.talk_secs,
            revenue_micros: -self.revenue_micros,
            payout_micros: -self.payout_micros,
            cost_micros: -self.cost_micros,
            offered: -self.offered,
            connected: -self.connected,
            blocked: -self.blocked,
        }
    }
}

/// What a settled call adds to the rollups (legs are counted separately); `None` for a call not
/// yet settled.
pub fn contribution(c: &CallRow) -> Option<(Key, Sums)> {
    c.settled_at?;
    Some((
        Key::of(c),
        Sums {
            calls: 1,
            answered: i64::from(c.answered),
            qualified: i64::from(c.qualified.unwrap_or(false)),
            duplicates: i64::from(c.duplicate),
            no_buyer: i64::from(c.no_buyer),
            talk_secs: i64::from(c.talk_secs),
            revenue_micros: c.revenue_micros,
            payout_micros: c.payout_micros,
            cost_micros: c.counted_cost_micros,
            offered: 0,
            connected: 0,
            blocked: i64::from(c.qualify_reason == Some(crate::domain::states::QualifyReason::Blocked)),
        },
    ))
}

/// The changes one settlement makes to the rollups.
#[derive(Debug, Default)]
pub struct Delta(pub(crate) Vec<(Key, Sums)>);

impl Delta {
    /// Replaces a call's old contribution with its new one.
    pub fn replace(&mut self, before: Option<&(Key, Sums)>, after: Option<&(Key, Sums)>) {
        if before == after {
            return;
        }
        if let Some((k, s)) = before {
            self.0.push((*k, s.negated()));
        }
        if let Some((k, s)) = after {
            self.0.push((*k, *s));
        }
    }

    pub fn add(&mut self, key: Key, sums: Sums) {
        self.0.push((key, sums));
    }

    /// The rows to add in `shard`, one per key at every level, in (level, key) order.
    pub fn rows(&self, shard: i64) -> Vec<RollupRow> {
        expand(&self.0).into_iter().map(|(level, k, s)| row(level, &k, &s, shard)).collect()
    }
}

/// A rollup row of the table.
pub fn row(level: i64, k: &Key, s: &Sums, shard: i64) -> RollupRow {
    RollupRow {
        level,
        hour: k.hour,
        campaign_id: k.campaign_id,
        publisher_id: k.publisher_id,
        buyer_id: k.buyer_id,
        number_id: k.number_id,
        shard,
        sums: [
            s.calls,
            s.answered,
            s.qualified,
            s.duplicates,
            s.no_buyer,
            s.talk_secs,
            s.revenue_micros,
            s.payout_micros,
            s.cost_micros,
            s.offered,
            s.connected,
            s.blocked,
        ],
    }
}
