use callbroker_wire::{
    Campaign, CampaignBuyer, CampaignFilter, CampaignPatch, CampaignPublisher, Ivr, MoneyRules, MoneyRulesPatch, NewCampaign, Page,
    PageParams, RoutingPolicy, Screening, ScreeningPatch, Status, TagRule,
};
use diesel::prelude::*;

use super::{page, paging, utc};
use crate::db::schema::{buyers, campaign_buyers, campaign_publishers, campaigns, publishers};
use crate::db::{contains_pattern, lower, now, DbConnection};
use crate::domain::validate;
use crate::error::{Error, FieldErrors};
use callbroker_wire::rules::{self, Int};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub greeting: String,
    pub busy_message: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub transcribe: bool,
    pub currency: String,
    pub revenue_micros: i64,
    pub payout_micros: i64,
    pub buffer_secs: i32,
    pub duplicate_window_secs: i32,
    pub show_full_caller: bool,
    pub screening: String,
    pub ivr: String,
    pub routing: String,
}

impl CampaignRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Paused)
    }
    pub fn money(&self) -> MoneyRules {
        MoneyRules {
            currency: self.currency.clone(),
            revenue_micros: self.revenue_micros,
            payout_micros: self.payout_micros,
            buffer_secs: self.buffer_secs,
            duplicate_window_secs: self.duplicate_window_secs,
            show_full_caller: self.show_full_caller,
        }
    }
    /// The screening settings (absent keys at their defaults).
    pub fn screening(&self) -> Result<Screening, Error> {
        super::json_column("campaigns.screening", &self.screening)
    }
    /// How the buyers of each priority tier are ordered.
    pub fn routing(&self) -> Result<RoutingPolicy, Error> {
        super::json_column("campaigns.routing", &self.routing)
    }
    /// The IVR (no questions: none).
    pub fn ivr(&self) -> Result<Ivr, Error> {
        super::json_column("campaigns.ivr", &self.ivr)
    }
    pub fn into_wire(self, buyers: Vec<CampaignBuyer>, publishers: Vec<CampaignPublisher>) -> Result<Campaign, Error> {
        let money = self.money();
        let screening = self.screening()?;
        let ivr = self.ivr()?;
        let routing = self.routing()?;
        Ok(Campaign {
            routing,
            screening,
            ivr,
            money,
            publishers,
            id: self.id,
            status: self.status(),
            name: self.name,
            greeting: self.greeting,
            busy_message: self.busy_message,
            buyers,
            transcribe: self.transcribe,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaign_buyers)]
pub struct AssignmentRow {
    pub campaign_id: i64,
    pub buyer_id: i64,
    pub priority: Option<i32>,
    pub weight: Option<i32>,
    pub revenue_micros: Option<i64>,
    pub buffer_secs: Option<i32>,
    /// The assignment's own tag rules (JSON list); `None`: the buyer's.
    pub tag_rules: Option<String>,
    pub whisper: Option<String>,
    pub require_accept: Option<bool>,
    pub accept_timeout_secs: Option<i32>,
}

impl AssignmentRow {
    pub fn tag_rules(&self) -> Result<Option<Vec<TagRule>>, Error> {
        self.tag_rules.as_deref().map(|t| super::json_column("campaign_buyers.tag_rules", t)).transpose()
    }

    fn new(campaign_id: i64, a: &CampaignBuyer) -> AssignmentRow {
        AssignmentRow {
            campaign_id,
            buyer_id: a.buyer_id,
            priority: a.priority,
            weight: a.weight,
            revenue_micros: a.revenue_micros,
            buffer_secs: a.buffer_secs,
            tag_rules: assignment_rules(a),
            whisper: a.whisper.clone(),
            require_accept: a.require_accept,
            accept_timeout_secs: a.accept_timeout_secs,
        }
    }

    fn into_wire(self) -> Result<CampaignBuyer, Error> {
        let tag_rules = self.tag_rules()?;
        Ok(CampaignBuyer {
            buyer_id: self.buyer_id,
            priority: self.priority,
            weight: self.weight,
            revenue_micros: self.revenue_micros,
            buffer_secs: self.buffer_secs,
            tag_rules,
            whisper: self.whisper,
            require_accept: self.require_accept,
            accept_timeout_secs: self.accept_timeout_secs,
        })
    }
}

#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = campaigns)]
pub struct CampaignValues {
    pub name: String,
    pub status: String,
    pub greeting: String,
    pub busy_message: String,
    pub transcribe: bool,
    pub currency: String,
    pub revenue_micros: i64,
    pub payout_micros: i64,
    pub buffer_secs: i32,
    pub duplicate_window_secs: i32,
    pub show_full_caller: bool,
    pub screening: String,
    pub ivr: String,
    pub routing: String,
}

/// Validated campaign fields plus, when given, the full new set of buyer assignments and of
/// publisher payout overrides.
#[derive(Clone)]
pub struct CampaignInput {
    pub values: CampaignValues,
    pub buyers: Option<Vec<CampaignBuyer>>,
    pub publishers: Option<Vec<CampaignPublisher>>,
}

/// Largest amount a rule may name: one million currency units.
pub const MAX_AMOUNT_MICROS: i64 = rules::AmountMicros::MAX;
/// Longest duplicate window: 90 days.
pub const MAX_DUPLICATE_WINDOW_SECS: i32 = rules::DuplicateWindowSecs::MAX;

fn check_amount(v: i64, field: &str, errors: &mut FieldErrors) {
    if !rules::AmountMicros::contains(v) {
        errors.add(field, format!("must be between 0 and {MAX_AMOUNT_MICROS} micro-units"));
    }
}

fn check_buffer(v: i32, field: &str, errors: &mut FieldErrors) {
    if !rules::BufferSecs::contains(v) {
        errors.add(field, format!("{} seconds", rules::BufferSecs::refusal()));
    }
}

/// The money rules after applying `p` to `base`, checked.
fn money_values(base: MoneyRules, p: &MoneyRulesPatch, errors: &mut FieldErrors) -> MoneyRules {
    let given = p.currency.clone().unwrap_or(base.currency);
    let currency = validate::currency(&given).map_err(|e| errors.add("currency", e)).unwrap_or(given);
    let m = MoneyRules {
        currency,
        revenue_micros: p.revenue_micros.unwrap_or(base.revenue_micros),
        payout_micros: p.payout_micros.unwrap_or(base.payout_micros),
        buffer_secs: p.buffer_secs.unwrap_or(base.buffer_secs),
        duplicate_window_secs: p.duplicate_window_secs.unwrap_or(base.duplicate_window_secs),
        show_full_caller: p.show_full_caller.unwrap_or(base.show_full_caller),
    };
    check_amount(m.revenue_micros, "revenue_micros", errors);
    check_amount(m.payout_micros, "payout_micros", errors);
    check_buffer(m.buffer_secs, "buffer_secs", errors);
    if !rules::DuplicateWindowSecs::contains(m.duplicate_window_secs) {
        errors.add("duplicate_window_secs", format!("must be between 0 and {MAX_DUPLICATE_WINDOW_SECS} seconds"));
    }
    m
}

/// The defaults of a new campaign's money rules.
pub fn default_money() -> MoneyRules {
    MoneyRules {
        currency: "USD".into(),
        revenue_micros: 0,
        payout_micros: 0,
        buffer_secs: 90,
        duplicate_window_secs: 0,
        show_full_caller: false,
    }
}

fn check_publishers(list: &[CampaignPublisher], errors: &mut FieldErrors) {
    let mut seen = std::collections::HashSet::new();
    for (i, p) in list.iter().enumerate() {
        if !seen.insert(p.publisher_id) {
            errors.add(format!("publishers[{i}].publisher_id"), "is listed twice");
        }
        check_amount(p.payout_micros, &format!("publishers[{i}].payout_micros"), errors);
    }
}

/// The screening after applying `p` to `base`, checked (fields named `screening.<name>`).
fn screening_values(base: Screening, p: Option<&ScreeningPatch>, errors: &mut FieldErrors) -> Screening {
    let Some(p) = p else { return base };
    let s = Screening {
        anonymous: p.anonymous.unwrap_or(base.anonymous),
        min_attestation: p.min_attestation.unwrap_or(base.min_attestation),
        missing_attestation: p.missing_attestation.unwrap_or(base.missing_attestation),
        repeat_window_secs: p.repeat_window_secs.unwrap_or(base.repeat_window_secs),
        repeat_action: p.repeat_action.unwrap_or(base.repeat_action),
        qualified_repeat_days: p.qualified_repeat_days.unwrap_or(base.qualified_repeat_days),
        rate_limit_calls: p.rate_limit_calls.unwrap_or(base.rate_limit_calls),
        rate_limit_minutes: p.rate_limit_minutes.unwrap_or(base.rate_limit_minutes),
        block_message: match &p.block_message {
            Some(m) => m.clone(),
            None => base.block_message,
        },
    };
    for (field, v, ok, refusal) in [
        (
            "screening.repeat_window_secs",
            s.repeat_window_secs,
            rules::RepeatWindowSecs::contains as fn(i32) -> bool,
            rules::RepeatWindowSecs::refusal as fn() -> String,
        ),
        (
            "screening.qualified_repeat_days",
            s.qualified_repeat_days,
            rules::QualifiedRepeatDays::contains,
            rules::QualifiedRepeatDays::refusal,
        ),
        ("screening.rate_limit_calls", s.rate_limit_calls, rules::RateLimitCalls::contains, rules::RateLimitCalls::refusal),
        ("screening.rate_limit_minutes", s.rate_limit_minutes, rules::RateLimitMinutes::contains, rules::RateLimitMinutes::refusal),
    ] {
        if !ok(v) {
            errors.add(field, refusal());
        }
    }
    if s.rate_limit_calls > 0 && s.rate_limit_minutes < 1 {
        errors.add("screening.rate_limit_minutes", "must be at least 1 when rate_limit_calls is set");
    }
    let block_message = match s.block_message.as_deref().map(validate::message) {
        Some(Err(e)) => {
            errors.add("screening.block_message", e);
            None
        }
        Some(Ok(m)) => Some(m),
        None => None,
    };
    Screening { block_message, ..s }
}

/// Longest repeat window: 30 days.
pub const MAX_REPEAT_WINDOW_SECS: i32 = rules::RepeatWindowSecs::MAX;

/// Checks the assignments and returns them normalised (a whisper trimmed).
fn check_assignments(list: &[CampaignBuyer], errors: &mut FieldErrors) -> Vec<CampaignBuyer> {
    let mut seen = std::collections::HashSet::new();
    let mut checked = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let mut a = a.clone();
        if let Some(w) = &a.whisper {
            match validate::whisper(w) {
                Ok(w) => a.whisper = Some(w),
                Err(e) => errors.add(format!("buyers[{i}].whisper"), e),
            }
        }
        if let Some(Err(e)) = a.accept_timeout_secs.map(validate::accept_timeout) {
            errors.add(format!("buyers[{i}].accept_timeout_secs"), e);
        }
        if !seen.insert(a.buyer_id) {
            errors.add(format!("buyers[{i}].buyer_id"), "is listed twice");
        }
        if let Some(w) = a.weight {
            if !rules::Weight::contains(w) {
                errors.add(format!("buyers[{i}].weight"), rules::Weight::refusal());
            }
        }
        if let Some(p) = a.priority {
            if !rules::Priority::contains(p) {
                errors.add(format!("buyers[{i}].priority"), rules::Priority::refusal());
            }
        }
        if let Some(v) = a.revenue_micros {
            check_amount(v, &format!("buyers[{i}].revenue_micros"), errors);
        }
        if let Some(v) = a.buffer_secs {
            check_buffer(v, &format!("buyers[{i}].buffer_secs"), errors);
        }
        if let Some(rules) = &a.tag_rules {
            if let Err(problems) = crate::routing::tags::parse(&format!("buyers[{i}].tag_rules"), rules) {
                for (f, e) in problems {
                    errors.add(f, e);
                }
            }
        }
        checked.push(a);
    }
    checked
}

/// Checks a routing policy (fields named `routing.<name>`).
fn check_routing(r: &RoutingPolicy, errors: &mut FieldErrors) {
    use callbroker_wire::rules::{
        AmountMicros, EpcDays, ExplorationCalls, ExplorationPercent, Percent, PingBudgetMs, Priority, QuoteTtlSecs,
    };
    let b = &r.bids;
    for (field, value, range) in [
        ("routing.epc_days", r.epc_days, EpcDays::MIN..=EpcDays::MAX),
        ("routing.exploration_calls", r.exploration_calls, ExplorationCalls::MIN..=ExplorationCalls::MAX),
        ("routing.exploration_percent", r.exploration_percent, ExplorationPercent::MIN..=ExplorationPercent::MAX),
        ("routing.bids.priority", b.priority, Priority::MIN..=Priority::MAX),
        ("routing.bids.ping_budget_ms", b.ping_budget_ms, PingBudgetMs::MIN..=PingBudgetMs::MAX),
        ("routing.bids.payout_percent", b.payout_percent.unwrap_or(0), Percent::MIN..=Percent::MAX),
        ("routing.bids.quote_ttl_secs", b.quote_ttl_secs, QuoteTtlSecs::MIN..=QuoteTtlSecs::MAX),
    ] {
        if !range.contains(&value) {
            errors.add(field, format!("must be {} to {}", range.start(), range.end()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, t) in r.tiers.iter().enumerate() {
        if !(Priority::MIN..=Priority::MAX).contains(&t.priority) {
            errors.add(format!("routing.tiers[{i}].priority"), format!("must be between {} and {}", Priority::MIN, Priority::MAX));
        } else if !seen.insert(t.priority) {
            errors.add(format!("routing.tiers[{i}].priority"), "another tier has this priority");
        }
    }
    if r.tiers.len() > 50 {
        errors.add("routing.tiers", "at most 50 tiers");
    }
    if !(AmountMicros::MIN..=AmountMicros::MAX).contains(&b.floor_micros) {
        errors.add("routing.bids.floor_micros", format!("must be {} to {}", AmountMicros::MIN, AmountMicros::MAX));
    }
}

/// An assignment's tag rules as stored: normalised JSON, `None` for the buyer's own.
fn assignment_rules(a: &CampaignBuyer) -> Option<String> {
    let rules = crate::routing::tags::parse("tag_rules", a.tag_rules.as_deref()?).ok()?;
    Some(super::to_json(&rules.iter().map(crate::routing::tags::Rule::to_wire).collect::<Vec<_>>()))
}

impl CampaignInput {
    #[allow(clippy::too_many_arguments)]
    fn validate(
        name: &str,
        status: Status,
        greeting: &str,
        busy: &str,
        buyers: Option<&Vec<CampaignBuyer>>,
        transcribe: bool,
        money: MoneyRules,
        money_patch: &MoneyRulesPatch,
        publishers: Option<&Vec<CampaignPublisher>>,
        screening: (Screening, Option<&ScreeningPatch>),
        ivr: &Ivr,
        routing: &RoutingPolicy,
    ) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let name = validate::name(name).map_err(|e| errors.add("name", e)).unwrap_or_default();
        let greeting = validate::message(greeting).map_err(|e| errors.add("greeting", e)).unwrap_or_default();
        let busy_message = validate::message(busy).map_err(|e| errors.add("busy_message", e)).unwrap_or_default();
        let buyers = buyers.map(|list| check_assignments(list, &mut errors));
        let m = money_values(money, money_patch, &mut errors);
        if let Some(list) = publishers {
            check_publishers(list, &mut errors);
        }
        let screening = screening_values(screening.0, screening.1, &mut errors);
        for (field, problem) in crate::routing::ivr::check(ivr) {
            errors.add(&field, problem);
        }
        check_routing(routing, &mut errors);
        errors.into_result()?;
        Ok(Self {
            values: CampaignValues {
                name,
                status: status.as_str().into(),
                greeting,
                busy_message,
                currency: m.currency,
                revenue_micros: m.revenue_micros,
                payout_micros: m.payout_micros,
                buffer_secs: m.buffer_secs,
                duplicate_window_secs: m.duplicate_window_secs,
                show_full_caller: m.show_full_caller,
                transcribe,
                screening: super::to_json(&screening),
                ivr: super::to_json(ivr),
                routing: super::to_json(routing),
            },
            buyers,
            publishers: publishers.cloned(),
        })
    }

    pub fn from_new(n: &NewCampaign) -> Result<Self, Error> {
        Self::validate(
            &n.name,
            n.status.unwrap_or_default(),
            n.greeting.as_deref().unwrap_or(callbroker_wire::DEFAULT_GREETING),
            n.busy_message.as_deref().unwrap_or(callbroker_wire::DEFAULT_BUSY_MESSAGE),
            Some(&n.buyers),
            n.transcribe,
            default_money(),
            &n.money,
            Some(&n.publishers),
            (Screening::default(), n.screening.as_ref()),
            n.ivr.as_ref().unwrap_or(&Ivr::default()),
            n.routing.as_ref().unwrap_or(&RoutingPolicy::default()),
        )
    }

    pub fn merge(row: &CampaignRow, p: &CampaignPatch) -> Result<Self, Error> {
        Self::validate(
            p.name.as_deref().unwrap_or(&row.name),
            p.status.unwrap_or(row.status()),
            p.greeting.as_deref().unwrap_or(&row.greeting),
            p.busy_message.as_deref().unwrap_or(&row.busy_message),
            p.buyers.as_ref(),
            p.transcribe.unwrap_or(row.transcribe),
            row.money(),
            &p.money,
            p.publishers.as_ref(),
            (row.screening()?, p.screening.as_ref()),
            &match &p.ivr {
                Some(ivr) => ivr.clone(),
                None => row.ivr()?,
            },
            &match &p.routing {
                Some(routing) => routing.clone(),
                None => row.routing()?,
            },
        )
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<CampaignRow>, Error> {
    Ok(campaigns::table.find(id).select(CampaignRow::as_select()).first(conn).optional()?)
}

pub fn get_row(conn: &mut DbConnection, id: i64) -> Result<CampaignRow, Error> {
    find(conn, id)?.ok_or(Error::NotFound("campaign"))
}

pub fn exists(conn: &mut DbConnection, id: i64) -> Result<bool, Error> {
    Ok(diesel::select(diesel::dsl::exists(campaigns::table.find(id))).get_result(conn)?)
}

pub fn assignments(conn: &mut DbConnection, campaign_ids: &[i64]) -> Result<Vec<AssignmentRow>, Error> {
    Ok(campaign_buyers::table
        .filter(campaign_buyers::campaign_id.eq_any(campaign_ids))
        .select(AssignmentRow::as_select())
        .order((campaign_buyers::campaign_id, campaign_buyers::buyer_id))
        .load(conn)?)
}

fn with_buyers(conn: &mut DbConnection, rows: Vec<CampaignRow>) -> Result<Vec<Campaign>, Error> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let all = assignments(conn, &ids)?;
    let payouts: Vec<(i64, i64, i64)> = campaign_publishers::table
        .filter(campaign_publishers::campaign_id.eq_any(&ids))
        .select((campaign_publishers::campaign_id, campaign_publishers::publisher_id, campaign_publishers::payout_micros))
        .order((campaign_publishers::campaign_id, campaign_publishers::publisher_id))
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let mine = all.iter().filter(|a| a.campaign_id == r.id).map(|a| a.clone().into_wire()).collect::<Result<Vec<_>, Error>>()?;
            let pubs =
                payouts.iter().filter(|p| p.0 == r.id).map(|p| CampaignPublisher { publisher_id: p.1, payout_micros: p.2 }).collect();
            r.into_wire(mine, pubs)
        })
        .collect()
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<Campaign, Error> {
    let row = get_row(conn, id)?;
    Ok(with_buyers(conn, vec![row])?.remove(0))
}

/// Replaces a campaign's buyer assignments; every buyer must exist.
fn set_assignments(conn: &mut DbConnection, campaign_id: i64, list: &[CampaignBuyer]) -> Result<(), Error> {
    let ids: Vec<i64> = list.iter().map(|a| a.buyer_id).collect();
    let found: Vec<i64> = buyers::table.filter(buyers::id.eq_any(&ids)).select(buyers::id).load(conn)?;
    let mut errors = FieldErrors::new();
    for (i, id) in ids.iter().enumerate() {
        if !found.contains(id) {
            errors.add(format!("buyers[{i}].buyer_id"), format!("buyer {id} does not exist"));
        }
    }
    errors.into_result()?;
    diesel::delete(campaign_buyers::table.filter(campaign_buyers::campaign_id.eq(campaign_id))).execute(conn)?;
    for a in list {
        diesel::insert_into(campaign_buyers::table).values(AssignmentRow::new(campaign_id, a)).execute(conn)?;
    }
    Ok(())
}

/// Replaces a campaign's publisher payout overrides; every publisher must exist.
fn set_publishers(conn: &mut DbConnection, campaign_id: i64, list: &[CampaignPublisher]) -> Result<(), Error> {
    let ids: Vec<i64> = list.iter().map(|p| p.publisher_id).collect();
    let found: Vec<i64> = publishers::table.filter(publishers::id.eq_any(&ids)).select(publishers::id).load(conn)?;
    let mut errors = FieldErrors::new();
    for (i, id) in ids.iter().enumerate() {
        if !found.contains(id) {
            errors.add(format!("publishers[{i}].publisher_id"), format!("publisher {id} does not exist"));
        }
    }
    errors.into_result()?;
    diesel::delete(campaign_publishers::table.filter(campaign_publishers::campaign_id.eq(campaign_id))).execute(conn)?;
    for p in list {
        diesel::insert_into(campaign_publishers::table)
            .values((
                campaign_publishers::campaign_id.eq(campaign_id),
                campaign_publishers::publisher_id.eq(p.publisher_id),
                campaign_publishers::payout_micros.eq(p.payout_micros),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn create(conn: &mut DbConnection, input: CampaignInput) -> Result<Campaign, Error> {
    let t = now();
    let id: i64 = diesel::insert_into(campaigns::table)
        .values((&input.values, campaigns::created_at.eq(t), campaigns::updated_at.eq(t)))
        .returning(campaigns::id)
        .get_result(conn)?;
    if let Some(list) = &input.buyers {
        set_assignments(conn, id, list)?;
    }
    if let Some(list) = &input.publishers {
        set_publishers(conn, id, list)?;
    }
    get(conn, id)
}

pub fn update(conn: &mut DbConnection, id: i64, input: CampaignInput) -> Result<Campaign, Error> {
    let n = diesel::update(campaigns::table.find(id)).set((&input.values, campaigns::updated_at.eq(now()))).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("campaign"));
    }
    if let Some(list) = &input.buyers {
        set_assignments(conn, id, list)?;
    }
    if let Some(list) = &input.publishers {
        set_publishers(conn, id, list)?;
    }
    get(conn, id)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    let n = diesel::delete(campaigns::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("campaign"));
    }
    Ok(())
}

pub fn list(conn: &mut DbConnection, f: &CampaignFilter, p: &PageParams) -> Result<Page<Campaign>, Error> {
    let (offset, limit) = paging(p)?;
    let query = || {
        let mut q = campaigns::table.into_boxed();
        if let Some(s) = f.status {
            q = q.filter(campaigns::status.eq(s.as_str()));
        }
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            q = q.filter(lower(campaigns::name).like(contains_pattern(text.trim())).escape('\\'));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query().select(CampaignRow::as_select()).order(campaigns::id.asc()).offset(offset).limit(limit).load(conn)?;
    Ok(page(with_buyers(conn, rows)?, total, p))
}
