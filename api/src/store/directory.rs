//! The directory: what the call flow looks up on every call and what changes rarely — tracking
//! numbers, campaigns (messages, money rules, screening), buyers (routing settings, tag rules),
//! their assignments and overrides, the blocklist, which publishers want postbacks, and whether a
//! Twilio account is stored.
//!
//! Each instance keeps a copy in memory ([`DirectoryCache`]). Every change to those tables bumps
//! `directory_version` (database triggers, so no writer can forget), and the call flow's first
//! statement of each webhook reads that version with the rest of what it needs. A copy older than
//! the database is reloaded before the webhook goes on, so a change made through any instance
//! reaches every instance's next call, without a message between instances.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use callbroker_wire::Screening;
use diesel::prelude::*;

use super::buyers::BuyerRow;
use super::campaigns::{AssignmentRow, CampaignRow};
use crate::db::schema::{
    buyers, campaign_buyers, campaign_publishers, campaigns, directory_version, phone_numbers, publishers, twilio_account,
};
use crate::db::{direct, DbConnection};
use crate::error::Error;
use crate::routing::screening::Blocklist;
use crate::routing::tags::Rule;

/// A tracking number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberEntry {
    pub id: i64,
    pub campaign_id: Option<i64>,
    pub publisher_id: Option<i64>,
}

/// A campaign with its buyers (assignment order: buyer id) and publisher payout overrides.
#[derive(Debug, Clone)]
pub struct CampaignEntry {
    pub row: CampaignRow,
    pub assignments: Vec<AssignmentRow>,
    /// Publisher id → payout override.
    pub publisher_payouts: HashMap<i64, i64>,
    /// Who is blocked before routing.
    pub screening: Screening,
    /// The questions put to callers before routing (none: no IVR).
    pub ivr: Arc<callbroker_wire::Ivr>,
    /// How the buyers of each priority tier are ordered.
    pub routing: Arc<callbroker_wire::RoutingPolicy>,
    /// Assigned buyer id → the tag rules in force on this campaign (the assignment's own, else
    /// the buyer's), parsed once here.
    pub tag_rules: HashMap<i64, Arc<[Rule]>>,
    /// Its external bidders, active or not, in id order.
    pub bidders: Vec<Arc<super::bidders::BidderRow>>,
}

impl CampaignEntry {
    /// The bidders a call of this campaign pings.
    pub fn active_bidders(&self) -> impl Iterator<Item = &Arc<super::bidders::BidderRow>> {
        self.bidders.iter().filter(|b| b.active())
    }

    pub fn active(&self) -> bool {
        self.row.status() == callbroker_wire::Status::Active
    }

    pub fn assignment(&self, buyer: i64) -> Option<&AssignmentRow> {
        self.assignments.iter().find(|a| a.buyer_id == buyer)
    }
}

/// The directory as of `version`.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub version: i64,
    pub numbers: HashMap<String, NumberEntry>,
    pub campaigns: HashMap<i64, CampaignEntry>,
    pub buyers: HashMap<i64, BuyerRow>,
    /// Buyer id → its labels, parsed once here.
    pub labels: HashMap<i64, Arc<[String]>>,
    /// Publishers with a postback URL.
    pub postback_publishers: HashSet<i64>,
    /// Whether Twilio credentials are stored through the API.
    pub twilio_account: bool,
    /// Every blocklist entry (expired ones too: they are skipped when checked, at the time of
    /// the call).
    pub blocklist: Blocklist,
}

impl Directory {
    pub fn number(&self, e164: &str) -> Option<&NumberEntry> {
        self.numbers.get(e164)
    }

    pub fn campaign(&self, id: i64) -> Option<&CampaignEntry> {
        self.campaigns.get(&id)
    }
}

/// The current `directory_version`.
pub fn version(conn: &mut DbConnection) -> Result<i64, Error> {
    Ok(direct::run!(conn, first, directory_version::table.find(1).select(directory_version::version))?)
}

/// Reads the whole directory. The version is read before and after the tables, and the read is
/// repeated until both agree: a change committed in between bumps it, so equal versions mean the
/// tables were read as of that version.
pub fn load(conn: &mut DbConnection) -> Result<Directory, Error> {
    loop {
        let before = version(conn)?;
        let numbers: Vec<(String, i64, Option<i64>, Option<i64>)> = phone_numbers::table
            .select((phone_numbers::number, phone_numbers::id, phone_numbers::campaign_id, phone_numbers::publisher_id))
            .load(conn)?;
        let campaign_rows: Vec<CampaignRow> = campaigns::table.select(CampaignRow::as_select()).load(conn)?;
        let assignments: Vec<AssignmentRow> = campaign_buyers::table
            .select(AssignmentRow::as_select())
            .order((campaign_buyers::campaign_id, campaign_buyers::buyer_id))
            .load(conn)?;
        let payouts: Vec<(i64, i64, i64)> = campaign_publishers::table
            .select((campaign_publishers::campaign_id, campaign_publishers::publisher_id, campaign_publishers::payout_micros))
            .load(conn)?;
        let buyer_rows: Vec<BuyerRow> = buyers::table.select(BuyerRow::as_select()).load(conn)?;
        let postback_publishers: Vec<i64> =
            publishers::table.filter(publishers::postback_url.is_not_null()).select(publishers::id).load(conn)?;
        let twilio_account = diesel::select(diesel::dsl::exists(twilio_account::table.select(twilio_account::id))).get_result(conn)?;
        let blocklist = Blocklist::new(super::blocklist::entries(conn)?);
        let bidder_rows = super::bidders::all(conn)?;
        if version(conn)? != before {
            continue;
        }
        let mut buyer_rules: HashMap<i64, Arc<[Rule]>> = HashMap::with_capacity(buyer_rows.len());
        let mut labels: HashMap<i64, Arc<[String]>> = HashMap::with_capacity(buyer_rows.len());
        for b in &buyer_rows {
            buyer_rules.insert(b.id, stored_rules(&format!("buyer {}", b.id), &b.tag_rules()?)?);
            labels.insert(b.id, Arc::from(b.labels()?));
        }
        let mut campaigns: HashMap<i64, CampaignEntry> = HashMap::with_capacity(campaign_rows.len());
        for row in campaign_rows {
            let screening = row.screening()?;
            let ivr = Arc::new(row.ivr()?);
            let routing = Arc::new(row.routing()?);
            let entry = CampaignEntry {
                row,
                assignments: vec![],
                publisher_payouts: HashMap::new(),
                screening,
                ivr,
                routing,
                tag_rules: HashMap::new(),
                bidders: vec![],
            };
            campaigns.insert(entry.row.id, entry);
        }
        for a in assignments {
            if let Some(c) = campaigns.get_mut(&a.campaign_id) {
                let rules = match a.tag_rules()? {
                    Some(own) => stored_rules(&format!("assignment of buyer {} to campaign {}", a.buyer_id, a.campaign_id), &own)?,
                    None => buyer_rules.get(&a.buyer_id).cloned().unwrap_or_else(|| Arc::from([])),
                };
                c.tag_rules.insert(a.buyer_id, rules);
                c.assignments.push(a);
            }
        }
        for b in bidder_rows {
            if let Some(c) = campaigns.get_mut(&b.campaign_id) {
                c.bidders.push(Arc::new(b));
            }
        }
        for (campaign, publisher, payout) in payouts {
            if let Some(c) = campaigns.get_mut(&campaign) {
                c.publisher_payouts.insert(publisher, payout);
            }
        }
        return Ok(Directory {
            version: before,
            numbers: numbers
                .into_iter()
                .map(|(number, id, campaign_id, publisher_id)| (number, NumberEntry { id, campaign_id, publisher_id }))
                .collect(),
            campaigns,
            buyers: buyer_rows.into_iter().map(|b| (b.id, b)).collect(),
            labels,
            postback_publishers: postback_publishers.into_iter().collect(),
            twilio_account,
            blocklist,
        });
    }
}

/// Tag rules as stored (they were checked when written).
fn stored_rules(whose: &str, rules: &[callbroker_wire::TagRule]) -> Result<Arc<[Rule]>, Error> {
    crate::routing::tags::parse("tag_rules", rules)
        .map(Arc::from)
        .map_err(|e| Error::internal(anyhow::anyhow!("stored tag rules of {whose} do not parse: {e:?}")))
}

/// An instance's copy of the directory (cheap to share; readers never wait for a reload).
#[derive(Debug, Default)]
pub struct DirectoryCache {
    current: RwLock<Arc<Directory>>,
}

impl DirectoryCache {
    /// The copy held now (version 0 before the first load: older than any database).
    pub fn get(&self) -> Arc<Directory> {
        self.current.read().map(|d| d.clone()).unwrap_or_default()
    }

    /// The copy for `version`: the one held when it is that recent, else a fresh one read from
    /// the database (and kept, unless another thread kept a newer one meanwhile).
    pub fn at_least(&self, conn: &mut DbConnection, version: i64) -> Result<Arc<Directory>, Error> {
        let held = self.get();
        if held.version >= version {
            return Ok(held);
        }
        let fresh = Arc::new(load(conn)?);
        if let Ok(mut current) = self.current.write() {
            if current.version < fresh.version {
                *current = fresh.clone();
            }
        }
        Ok(fresh)
    }
}
