//! The blocklist: caller numbers and prefixes blocked globally or on one campaign. The call flow
//! reads it from the directory ([`super::directory`]); this module keeps the table: checks,
//! CRUD, CSV import and export.
use std::collections::HashSet;

use callbroker_wire::{BlockKind, BlocklistEntry, BlocklistFilter, BlocklistPatch, NewBlocklistEntry, Page, PageParams};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::{page, paging, utc};
use crate::db::schema::{blocklist, campaigns};
use crate::db::{contains_pattern, lower, now, DbConnection};
use crate::domain::validate;
use crate::error::{Error, FieldErrors};
use crate::routing::screening::Entry;

/// Longest note.
pub const MAX_NOTE: usize = callbroker_wire::rules::Note::MAX_CHARS;
/// Most rows one CSV import takes.
pub const MAX_IMPORT_ROWS: usize = 10_000;
/// Rows per INSERT statement of an import.
const INSERT_CHUNK: usize = 1_000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = blocklist)]
pub struct BlocklistRow {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub campaign_id: Option<i64>,
    pub note: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl BlocklistRow {
    fn kind(&self) -> BlockKind {
        BlockKind::parse(&self.kind).unwrap_or(BlockKind::Exact)
    }

    pub fn into_wire(self) -> BlocklistEntry {
        BlocklistEntry {
            kind: self.kind(),
            id: self.id,
            number: self.number,
            campaign_id: self.campaign_id,
            note: self.note,
            expires_at: self.expires_at.map(utc),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Every entry, as the directory keeps them.
pub fn entries(conn: &mut DbConnection) -> Result<Vec<Entry>, Error> {
    let rows: Vec<BlocklistRow> = blocklist::table.select(BlocklistRow::as_select()).order(blocklist::id).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Entry { id: r.id, kind: r.kind(), number: r.number, campaign_id: r.campaign_id, expires_at: r.expires_at.map(utc) })
        .collect())
}

/// A blocklist number as written: `+` and 1 to 15 digits (not starting with 0), a trailing `*`
/// for a prefix. `kind`, when given, decides; otherwise a trailing `*` or fewer than 8 digits
/// make a prefix. Returns the number without the `*`, and its kind.
pub fn check_number(text: &str, kind: Option<BlockKind>) -> Result<(String, BlockKind), String> {
    let t = text.trim();
    let (t, star) = match t.strip_suffix('*') {
        Some(rest) => (rest, true),
        None => (t, false),
    };
    let digits = t.strip_prefix('+').unwrap_or("");
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return Err("must be + and 1 to 15 digits (a number such as +14155550100, or a prefix such as +1415)".into());
    }
    let kind = match kind {
        Some(k) => k,
        None if star || digits.len() < 8 => BlockKind::Prefix,
        None => BlockKind::Exact,
    };
    if kind == BlockKind::Exact && star {
        return Err("a trailing * marks a prefix, not an exact number".into());
    }
    if kind == BlockKind::Exact && digits.len() < 8 {
        return Err("an exact number has 8 to 15 digits".into());
    }
    Ok((t.to_string(), kind))
}

/// Checked values of an entry.
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = blocklist, treat_none_as_null = true)]
pub struct Values {
    pub number: String,
    pub kind: String,
    pub campaign_id: Option<i64>,
    pub note: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
}

/// One entry's fields before checking, with the names its problems go under (`prefix` is
/// `""` for a JSON body, `"line 12: "`-like for a CSV row).
struct Draft<'a> {
    number: &'a str,
    kind: Option<BlockKind>,
    campaign_id: Option<i64>,
    note: Option<&'a str>,
    expires_at: Option<DateTime<Utc>>,
}

fn check(d: &Draft<'_>, errors: &mut FieldErrors, field: impl Fn(&str) -> String, campaigns: &HashSet<i64>) -> Option<Values> {
    let before = errors.0.len();
    let number = check_number(d.number, d.kind).map_err(|e| errors.add(field("number"), e)).ok();
    if let Some(c) = d.campaign_id {
        if !campaigns.contains(&c) {
            errors.add(field("campaign_id"), format!("campaign {c} does not exist"));
        }
    }
    let note = validate::optional_text(d.note, MAX_NOTE).map_err(|e| errors.add(field("note"), e)).ok().flatten();
    if let Some(t) = d.expires_at {
        if let Err(e) = validate::instant(t) {
            errors.add(field("expires_at"), e);
        }
    }
    let (number, kind) = number?;
    (errors.0.len() == before).then(|| Values {
        number,
        kind: kind.as_str().into(),
        campaign_id: d.campaign_id,
        note,
        expires_at: d.expires_at.map(|t| crate::db::to_stored(t.naive_utc())),
    })
}

/// The ids of the campaigns among `ids` that exist.
fn existing_campaigns(conn: &mut DbConnection, ids: impl IntoIterator<Item = i64>) -> Result<HashSet<i64>, Error> {
    let ids: Vec<i64> = ids.into_iter().collect::<HashSet<_>>().into_iter().collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let mut found = HashSet::new();
    for chunk in ids.chunks(INSERT_CHUNK) {
        found.extend(campaigns::table.filter(campaigns::id.eq_any(chunk)).select(campaigns::id).load::<i64>(conn)?);
    }
    Ok(found)
}

fn checked(conn: &mut DbConnection, d: &Draft<'_>) -> Result<Values, Error> {
    let campaigns = existing_campaigns(conn, d.campaign_id)?;
    let mut errors = FieldErrors::new();
    let values = check(d, &mut errors, ToString::to_string, &campaigns);
    errors.into_result()?;
    values.ok_or_else(|| Error::internal(anyhow::anyhow!("a blocklist entry without problems and without values")))
}

pub fn get_row(conn: &mut DbConnection, id: i64) -> Result<BlocklistRow, Error> {
    blocklist::table.find(id).select(BlocklistRow::as_select()).first(conn).optional()?.ok_or(Error::NotFound("blocklist entry"))
}

pub fn create(conn: &mut DbConnection, n: &NewBlocklistEntry) -> Result<BlocklistEntry, Error> {
    let draft = Draft { number: &n.number, kind: n.kind, campaign_id: n.campaign_id, note: n.note.as_deref(), expires_at: n.expires_at };
    let values = checked(conn, &draft)?;
    let t = now();
    let id: i64 = diesel::insert_into(blocklist::table)
        .values((&values, blocklist::created_at.eq(t), blocklist::updated_at.eq(t)))
        .returning(blocklist::id)
        .get_result(conn)?;
    Ok(get_row(conn, id)?.into_wire())
}

pub fn update(conn: &mut DbConnection, id: i64, p: &BlocklistPatch) -> Result<BlocklistEntry, Error> {
    let row = get_row(conn, id)?;
    // A new number keeps the entry's kind unless the patch names one (or marks a prefix with *).
    let kind = p.kind.or_else(|| match &p.number {
        Some(n) if n.trim().ends_with('*') => None,
        _ => Some(row.kind()),
    });
    let draft = Draft {
        number: p.number.as_deref().unwrap_or(&row.number),
        kind,
        campaign_id: p.campaign_id.unwrap_or(row.campaign_id),
        note: match &p.note {
            Some(n) => n.as_deref(),
            None => row.note.as_deref(),
        },
        expires_at: p.expires_at.unwrap_or(row.expires_at.map(utc)),
    };
    let values = checked(conn, &draft)?;
    diesel::update(blocklist::table.find(id)).set((&values, blocklist::updated_at.eq(now()))).execute(conn)?;
    Ok(get_row(conn, id)?.into_wire())
}

pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), Error> {
    if diesel::delete(blocklist::table.find(id)).execute(conn)? == 0 {
        return Err(Error::NotFound("blocklist entry"));
    }
    Ok(())
}

fn filtered(f: &BlocklistFilter) -> blocklist::BoxedQuery<'_, crate::db::DbBackend> {
    let mut q = blocklist::table.into_boxed();
    if let Some(c) = f.campaign_id {
        q = q.filter(blocklist::campaign_id.eq(c));
    }
    match f.global {
        Some(true) => q = q.filter(blocklist::campaign_id.is_null()),
        Some(false) => q = q.filter(blocklist::campaign_id.is_not_null()),
        None => {}
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = contains_pattern(text);
        q = q.filter(
            lower(blocklist::number)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(blocklist::note.assume_not_null()).like(pattern).escape('\\').and(blocklist::note.is_not_null())),
        );
    }
    q
}

pub fn list(conn: &mut DbConnection, f: &BlocklistFilter, p: &PageParams) -> Result<Page<BlocklistEntry>, Error> {
    let (offset, limit) = paging(p)?;
    let total: i64 = filtered(f).count().get_result(conn)?;
    let rows: Vec<BlocklistRow> =
        filtered(f).select(BlocklistRow::as_select()).order(blocklist::id.asc()).offset(offset).limit(limit).load(conn)?;
    Ok(page(rows.into_iter().map(BlocklistRow::into_wire).collect(), total, p))
}

/// Every entry matching `f`, as CSV (header first; cells neutralised against formulas).
pub fn export_csv(conn: &mut DbConnection, f: &BlocklistFilter) -> Result<String, Error> {
    let rows: Vec<BlocklistRow> = filtered(f).select(BlocklistRow::as_select()).order(blocklist::id.asc()).load(conn)?;
    let mut out = callbroker_wire::csv::line(callbroker_wire::BLOCKLIST_CSV_COLUMNS);
    for r in rows {
        let kind = r.kind().as_str();
        let campaign = r.campaign_id.map(|c| c.to_string()).unwrap_or_default();
        let expires = r.expires_at.map(|t| utc(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
        out.push_str(&callbroker_wire::csv::line([r.number.as_str(), kind, &campaign, r.note.as_deref().unwrap_or(""), &expires]));
    }
    Ok(out)
}

/// One CSV row as read (before checking).
struct CsvRow {
    line: u64,
    number: String,
    kind: String,
    campaign_id: String,
    note: String,
    expires_at: String,
}

/// Reads `text` as blocklist CSV: a header row naming the columns (any order; `number` required,
/// the others of [`callbroker_wire::BLOCKLIST_CSV_COLUMNS`] optional), then one entry a row.
/// Problems are named `line N: column`.
fn read_csv(text: &str, errors: &mut FieldErrors) -> Vec<CsvRow> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errors.add("line 1", format!("unreadable header: {e}"));
            return vec![];
        }
    };
    let names: Vec<String> = headers.iter().map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    for n in &names {
        if !callbroker_wire::BLOCKLIST_CSV_COLUMNS.contains(&n.as_str()) {
            errors.add("line 1", format!("unknown column {n:?}; the columns are {}", callbroker_wire::BLOCKLIST_CSV_COLUMNS.join(", ")));
        }
    }
    let column = |name: &str| names.iter().position(|n| n == name);
    let Some(number_at) = column("number") else {
        errors.add("line 1", "a header row with a number column is required (number,kind,campaign_id,note,expires_at)");
        return vec![];
    };
    let (kind_at, campaign_at, note_at, expires_at) = (column("kind"), column("campaign_id"), column("note"), column("expires_at"));
    let mut rows = vec![];
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(line, csv::Position::line);
                errors.add(format!("line {line}"), format!("unreadable row: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(line, csv::Position::line);
        if rows.len() >= MAX_IMPORT_ROWS {
            errors.add(format!("line {line}"), format!("an import takes at most {MAX_IMPORT_ROWS} rows"));
            break;
        }
        let cell = |at: Option<usize>| at.and_then(|a| record.get(a)).unwrap_or("").to_string();
        rows.push(CsvRow {
            line,
            number: cell(Some(number_at)),
            kind: cell(kind_at),
            campaign_id: cell(campaign_at),
            note: cell(note_at),
            expires_at: cell(expires_at),
        });
    }
    rows
}

/// Imports CSV `text` (see [`read_csv`]) in the caller's transaction: every row is checked first,
/// and any problem fails the whole import (each named `line N: column`), with nothing written.
pub fn import_csv(conn: &mut DbConnection, text: &str) -> Result<i64, Error> {
    let mut errors = FieldErrors::new();
    let rows = read_csv(text, &mut errors);
    if rows.is_empty() && errors.0.is_empty() {
        errors.add("line 2", "the file has no rows");
    }
    // Campaign ids are read first, so that one query checks them all.
    let mut ids = Vec::new();
    for r in &rows {
        if !r.campaign_id.is_empty() {
            match r.campaign_id.parse::<i64>() {
                Ok(id) if id > 0 => ids.push(id),
                _ => errors.add(format!("line {}: campaign_id", r.line), "must be a positive campaign id, or empty for every campaign"),
            }
        }
    }
    let campaigns = existing_campaigns(conn, ids)?;
    let mut values = Vec::with_capacity(rows.len());
    for r in &rows {
        let field = |name: &str| format!("line {}: {name}", r.line);
        let kind = match r.kind.as_str() {
            "" => None,
            k => match BlockKind::parse(&k.to_ascii_lowercase()) {
                Some(k) => Some(k),
                None => {
                    errors.add(field("kind"), "must be exact, prefix or empty");
                    continue;
                }
            },
        };
        let expires = match r.expires_at.as_str() {
            "" => None,
            t => match DateTime::parse_from_rfc3339(t) {
                Ok(t) => Some(t.with_timezone(&Utc)),
                Err(_) => {
                    errors.add(field("expires_at"), "must be an RFC 3339 instant such as 2027-01-31T00:00:00Z, or empty");
                    continue;
                }
            },
        };
        let campaign_id = r.campaign_id.parse::<i64>().ok().filter(|c| *c > 0);
        let note = (!r.note.is_empty()).then_some(r.note.as_str());
        let draft = Draft { number: &r.number, kind, campaign_id, note, expires_at: expires };
        if let Some(v) = check(&draft, &mut errors, field, &campaigns) {
            values.push(v);
        }
    }
    errors.into_result()?;
    let t = now();
    for chunk in values.chunks(INSERT_CHUNK) {
        let rows: Vec<_> = chunk.iter().map(|v| (v, blocklist::created_at.eq(t), blocklist::updated_at.eq(t))).collect();
        match conn {
            DbConnection::Postgres(c) => diesel::insert_into(blocklist::table).values(rows).execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(blocklist::table).values(rows).execute(c)?,
        };
    }
    Ok(i64::try_from(values.len()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_prefixes() {
        assert_eq!(check_number("+14155550100", None), Ok(("+14155550100".into(), BlockKind::Exact)));
        assert_eq!(check_number(" +1415 ", None), Ok(("+1415".into(), BlockKind::Prefix)));
        assert_eq!(check_number("+14155550*", None), Ok(("+14155550".into(), BlockKind::Prefix)));
        assert_eq!(check_number("+14155550100", Some(BlockKind::Prefix)), Ok(("+14155550100".into(), BlockKind::Prefix)));
        assert!(check_number("+1415", Some(BlockKind::Exact)).is_err());
        assert!(check_number("+1415*", Some(BlockKind::Exact)).is_err());
        for bad in ["", "+", "1415", "+0123", "+1-415", "+1234567890123456", "*"] {
            assert!(check_number(bad, None).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn csv_rows_are_read_by_header_and_bad_ones_named_by_line() {
        let mut errors = FieldErrors::new();
        let rows = read_csv("note,number\n\"a, b\",+1415\nx,+12125550100\n", &mut errors);
        assert!(errors.0.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[0].number.as_str(), rows[0].note.as_str()), (2, "+1415", "a, b"));
        assert_eq!(rows[1].line, 3);
        let mut errors = FieldErrors::new();
        read_csv("numbr\n+1\n", &mut errors);
        assert!(errors.0.contains_key("line 1"), "{errors:?}");
        let mut errors = FieldErrors::new();
        read_csv("number,note\n+1415\n+1416,a\n", &mut errors);
        assert!(errors.0.contains_key("line 2"), "a short row is named: {errors:?}");
    }
}
