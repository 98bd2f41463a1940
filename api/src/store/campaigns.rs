use callbroker_wire::{Campaign, CampaignBuyer, CampaignFilter, CampaignPatch, NewCampaign, Page, PageParams, Status};
use diesel::prelude::*;

use super::{page, paging, utc};
use crate::db::schema::{buyers, campaign_buyers, campaigns};
use crate::db::{contains_pattern, lower, now, DbConnection};
use crate::domain::validate;
use crate::error::{AppError, FieldErrors};

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
}

impl CampaignRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Paused)
    }
    pub fn into_wire(self, buyers: Vec<CampaignBuyer>) -> Campaign {
        Campaign {
            id: self.id,
            status: self.status(),
            name: self.name,
            greeting: self.greeting,
            busy_message: self.busy_message,
            buyers,
            transcribe: self.transcribe,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaign_buyers)]
pub struct AssignmentRow {
    pub campaign_id: i64,
    pub buyer_id: i64,
    pub priority: Option<i32>,
    pub weight: Option<i32>,
}

#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = campaigns)]
pub struct CampaignValues {
    pub name: String,
    pub status: String,
    pub greeting: String,
    pub busy_message: String,
    pub transcribe: bool,
}

/// Validated campaign fields plus, when given, the full new set of buyer assignments.
pub struct CampaignInput {
    pub values: CampaignValues,
    pub buyers: Option<Vec<CampaignBuyer>>,
}

fn check_assignments(list: &[CampaignBuyer], errors: &mut FieldErrors) {
    let mut seen = std::collections::HashSet::new();
    for (i, a) in list.iter().enumerate() {
        if !seen.insert(a.buyer_id) {
            errors.add(format!("buyers[{i}].buyer_id"), "is listed twice");
        }
        if let Some(w) = a.weight {
            if !(1..=1000).contains(&w) {
                errors.add(format!("buyers[{i}].weight"), "must be between 1 and 1000");
            }
        }
        if let Some(p) = a.priority {
            if !(-1000..=1000).contains(&p) {
                errors.add(format!("buyers[{i}].priority"), "must be between -1000 and 1000");
            }
        }
    }
}

impl CampaignInput {
    fn validate(
        name: &str,
        status: Status,
        greeting: &str,
        busy: &str,
        buyers: Option<&Vec<CampaignBuyer>>,
        transcribe: bool,
    ) -> Result<Self, AppError> {
        let mut errors = FieldErrors::new();
        let name = validate::name(name).map_err(|e| errors.add("name", e)).unwrap_or_default();
        let greeting = validate::message(greeting).map_err(|e| errors.add("greeting", e)).unwrap_or_default();
        let busy_message = validate::message(busy).map_err(|e| errors.add("busy_message", e)).unwrap_or_default();
        if let Some(list) = buyers {
            check_assignments(list, &mut errors);
        }
        errors.into_result()?;
        Ok(Self {
            values: CampaignValues { name, status: status.as_str().into(), greeting, busy_message, transcribe },
            buyers: buyers.cloned(),
        })
    }

    pub fn from_new(n: &NewCampaign) -> Result<Self, AppError> {
        Self::validate(
            &n.name,
            n.status.unwrap_or_default(),
            n.greeting.as_deref().unwrap_or(callbroker_wire::DEFAULT_GREETING),
            n.busy_message.as_deref().unwrap_or(callbroker_wire::DEFAULT_BUSY_MESSAGE),
            Some(&n.buyers),
            n.transcribe,
        )
    }

    pub fn merge(row: &CampaignRow, p: &CampaignPatch) -> Result<Self, AppError> {
        Self::validate(
            p.name.as_deref().unwrap_or(&row.name),
            p.status.unwrap_or(row.status()),
            p.greeting.as_deref().unwrap_or(&row.greeting),
            p.busy_message.as_deref().unwrap_or(&row.busy_message),
            p.buyers.as_ref(),
            p.transcribe.unwrap_or(row.transcribe),
        )
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<CampaignRow>, AppError> {
    Ok(campaigns::table.find(id).select(CampaignRow::as_select()).first(conn).optional()?)
}

pub fn get_row(conn: &mut DbConnection, id: i64) -> Result<CampaignRow, AppError> {
    find(conn, id)?.ok_or(AppError::NotFound("campaign"))
}

pub fn exists(conn: &mut DbConnection, id: i64) -> Result<bool, AppError> {
    Ok(diesel::select(diesel::dsl::exists(campaigns::table.find(id))).get_result(conn)?)
}

pub fn assignments(conn: &mut DbConnection, campaign_ids: &[i64]) -> Result<Vec<AssignmentRow>, AppError> {
    Ok(campaign_buyers::table
        .filter(campaign_buyers::campaign_id.eq_any(campaign_ids))
        .select(AssignmentRow::as_select())
        .order((campaign_buyers::campaign_id, campaign_buyers::buyer_id))
        .load(conn)?)
}

fn with_buyers(conn: &mut DbConnection, rows: Vec<CampaignRow>) -> Result<Vec<Campaign>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let all = assignments(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = all
                .iter()
                .filter(|a| a.campaign_id == r.id)
                .map(|a| CampaignBuyer { buyer_id: a.buyer_id, priority: a.priority, weight: a.weight })
                .collect();
            r.into_wire(mine)
        })
        .collect())
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<Campaign, AppError> {
    let row = get_row(conn, id)?;
    Ok(with_buyers(conn, vec![row])?.remove(0))
}

/// Replaces a campaign's buyer assignments; every buyer must exist.
fn set_assignments(conn: &mut DbConnection, campaign_id: i64, list: &[CampaignBuyer]) -> Result<(), AppError> {
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
        diesel::insert_into(campaign_buyers::table)
            .values(AssignmentRow { campaign_id, buyer_id: a.buyer_id, priority: a.priority, weight: a.weight })
            .execute(conn)?;
    }
    Ok(())
}

pub fn create(conn: &mut DbConnection, input: CampaignInput) -> Result<Campaign, AppError> {
    let t = now();
    let id: i64 = diesel::insert_into(campaigns::table)
        .values((&input.values, campaigns::created_at.eq(t), campaigns::updated_at.eq(t)))
        .returning(campaigns::id)
        .get_result(conn)?;
    if let Some(list) = &input.buyers {
        set_assignments(conn, id, list)?;
    }
    get(conn, id)
}

pub fn update(conn: &mut DbConnection, id: i64, input: CampaignInput) -> Result<Campaign, AppError> {
    let n = diesel::update(campaigns::table.find(id))
        .set((&input.values, campaigns::updated_at.eq(now())))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::NotFound("campaign"));
    }
    if let Some(list) = &input.buyers {
        set_assignments(conn, id, list)?;
    }
    get(conn, id)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), AppError> {
    let n = diesel::delete(campaigns::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(AppError::NotFound("campaign"));
    }
    Ok(())
}

pub fn list(conn: &mut DbConnection, f: &CampaignFilter, p: &PageParams) -> Result<Page<Campaign>, AppError> {
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
    let rows = query()
        .select(CampaignRow::as_select())
        .order(campaigns::id.asc())
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok(page(with_buyers(conn, rows)?, total, p))
}
