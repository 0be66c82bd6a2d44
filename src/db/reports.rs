//! Queries of a year's KPI entries and its annual report: the entries, the
//! workflow with its history, and the lock an approval puts on the year.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{annual_reports, kpi_values, report_events};
use super::write::{Action, Change, Precondition, Tx};
use super::{AnyConnection, alliances, kpis, new_id, stored, utc};
use crate::auth::Role;
use crate::domain::Url;
use crate::domain::alliance::Alliance;
use crate::domain::report::{
    Approval, ApprovedFigure, KpiEntry, KpiYear, KpiYearInput, RecordType, ReportAction,
    ReportContent, ReportEvent, ReportStatus, YEARS, check_entry, sha256_hex,
};
use crate::error::{ApiError, FieldError};
use crate::report::{self, derive};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = annual_reports, treat_none_as_null = true)]
pub struct ReportRow {
    pub id: String,
    pub alliance_id: String,
    pub year: i32,
    pub status: String,
    pub comment: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub approved_by: Option<String>,
    pub snapshot: Option<String>,
    pub snapshot_sha256: Option<String>,
    pub approved_figures: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ReportRow {
    pub fn status(&self) -> Result<ReportStatus, ApiError> {
        stored("status", self.status.parse())
    }

    pub fn approval(&self) -> Option<Approval> {
        Some(Approval {
            approved_at: utc(self.approved_at?),
            approved_by: self.approved_by.clone()?,
            snapshot_sha256: self.snapshot_sha256.clone()?,
        })
    }

    /// The approved content, for an approved year.
    pub fn frozen(&self) -> Result<Option<ReportContent>, ApiError> {
        self.snapshot
            .as_deref()
            .map(|s| stored("snapshot", serde_json::from_str(s)))
            .transpose()
    }

    /// Why the year takes no writes, if it does not.
    fn lock(&self) -> Result<Option<String>, ApiError> {
        Ok(match self.status()? {
            // Who approved is in the report, for those who may read it; a
            // refusal names no one.
            ReportStatus::Approved => Some(format!(
                "{} was approved on {}; a reviewer must reopen it first",
                self.year,
                self.approved_at
                    .map(|t| utc(t).to_rfc3339())
                    .unwrap_or_default(),
            )),
            ReportStatus::Submitted => Some(format!(
                "{} was submitted on {} and is under review; a reviewer must return it first",
                self.year,
                utc(self.updated_at).to_rfc3339(),
            )),
            _ => None,
        })
    }
}

/// A year's entry of one KPI, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kpi_values)]
pub struct ValueRow {
    pub report_id: String,
    pub kpi_code: String,
    pub target: Option<f64>,
    pub actual: Option<f64>,
    pub note: Option<String>,
    pub evidence: String,
}

impl ValueRow {
    pub fn evidence(&self) -> Result<Vec<Url>, ApiError> {
        stored("evidence", serde_json::from_str(&self.evidence))
    }
}

/// A year in the path: outside 2000-2100 it is a malformed request (400).
pub fn check_year(year: i32) -> Result<(), ApiError> {
    if YEARS.contains(&year) {
        Ok(())
    } else {
        let message = format!("reports are kept for {} to {}", YEARS.start(), YEARS.end());
        Err(ApiError::BadRequest {
            detail: message.clone(),
            errors: vec![FieldError::new("year", "range", message)],
        })
    }
}

pub fn find_row(
    conn: &mut AnyConnection,
    alliance_id: &str,
    year: i32,
) -> Result<Option<ReportRow>, ApiError> {
    Ok(annual_reports::table
        .filter(annual_reports::alliance_id.eq(alliance_id))
        .filter(annual_reports::year.eq(year))
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?)
}

/// A year's entries, by KPI code.
pub fn entries(
    conn: &mut AnyConnection,
    report_id: &str,
) -> Result<HashMap<String, ValueRow>, ApiError> {
    Ok(kpi_values::table
        .filter(kpi_values::report_id.eq(report_id))
        .select(ValueRow::as_select())
        .load::<ValueRow>(conn)?
        .into_iter()
        .map(|v| (v.kpi_code.clone(), v))
        .collect())
}

pub fn history(conn: &mut AnyConnection, report_id: &str) -> Result<Vec<ReportEvent>, ApiError> {
    report_events::table
        .filter(report_events::report_id.eq(report_id))
        .order((report_events::at.asc(), report_events::id.asc()))
        .select((
            report_events::at,
            report_events::actor,
            report_events::action,
            report_events::from_status,
            report_events::to_status,
            report_events::comment,
            report_events::snapshot_sha256,
        ))
        .load::<(
            NaiveDateTime,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        )>(conn)?
        .into_iter()
        .map(|(at, actor, action, from, to, comment, hash)| {
            Ok(ReportEvent {
                at: utc(at),
                actor,
                action: stored("action", action.parse())?,
                from_status: stored("from_status", from.parse())?,
                to_status: stored("to_status", to.parse())?,
                comment,
                snapshot_sha256: hash,
            })
        })
        .collect()
}

/// The report row of a year, made (as a draft) on its first write.
fn row_for_write(tx: &mut Tx<'_>, alliance: &Alliance, year: i32) -> Result<ReportRow, ApiError> {
    if let Some(row) = find_row(tx.conn, &alliance.id, year)? {
        return Ok(row);
    }
    let row = ReportRow {
        id: new_id(),
        alliance_id: alliance.id.clone(),
        year,
        status: ReportStatus::Draft.as_str().to_owned(),
        comment: None,
        approved_at: None,
        approved_by: None,
        snapshot: None,
        snapshot_sha256: None,
        approved_figures: None,
        version: 0,
        created_at: tx.now(),
        updated_at: tx.now(),
    };
    diesel::insert_into(annual_reports::table)
        .values(&row)
        .execute(tx.conn)?;
    Ok(row)
}

/// Saves a changed report row, one version on from `before`.
fn save(tx: &mut Tx<'_>, before: &ReportRow, mut after: ReportRow) -> Result<ReportRow, ApiError> {
    after.version = before.version + 1;
    after.updated_at = tx.now();
    let n = diesel::update(
        annual_reports::table
            .filter(annual_reports::id.eq(&before.id))
            .filter(annual_reports::version.eq(before.version)),
    )
    .set(&after)
    .execute(tx.conn)?;
    if n == 0 {
        return Err(ApiError::PreconditionFailed(
            "the year changed while this request ran; retry".into(),
        ));
    }
    Ok(after)
}

/// How a write treats the entries it does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entries {
    /// `PUT`: the year holds exactly the entries given.
    Replace,
    /// Bulk entry: the entries given replace theirs, others stay.
    Merge,
}

/// Sets a year's targets and hand-entered actuals.
pub fn put_year(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    year: i32,
    input: KpiYearInput,
    mode: Entries,
    pre: &Precondition,
) -> Result<KpiYear, ApiError> {
    check_year(year)?;
    let alliance = alliances::find(tx.conn, alliance_key)?;
    tx.principal
        .ensure_alliance_writer(&alliance.id, alliance.slug.as_str())?;
    let catalogue: HashMap<String, _> = kpis::list(tx.conn)?
        .into_iter()
        .map(|k| (k.code.clone(), k))
        .collect();
    check_entries(&catalogue, &input.kpis)?;
    let before = report::kpi_year(tx.conn, &alliance, year)?;
    pre.check(&before)?;
    let row = row_for_write(tx, &alliance, year)?;
    if let Some(why) = row.lock()? {
        return Err(ApiError::YearLocked(why));
    }
    if mode == Entries::Replace {
        diesel::delete(kpi_values::table.filter(kpi_values::report_id.eq(&row.id)))
            .execute(tx.conn)?;
    }
    for e in &input.kpis {
        diesel::delete(
            kpi_values::table
                .filter(kpi_values::report_id.eq(&row.id))
                .filter(kpi_values::kpi_code.eq(&e.code)),
        )
        .execute(tx.conn)?;
        diesel::insert_into(kpi_values::table)
            .values(ValueRow {
                report_id: row.id.clone(),
                kpi_code: e.code.clone(),
                target: e.target,
                actual: e.actual,
                note: e.note.clone(),
                evidence: serde_json::to_string(&e.evidence).map_err(ApiError::internal)?,
            })
            .execute(tx.conn)?;
    }
    let saved = save(tx, &row, row.clone())?;
    let after = report::kpi_year(tx.conn, &alliance, year)?;
    tx.record(Change {
        action: if before.version == 0 {
            Action::Created
        } else {
            Action::Updated
        },
        resource_type: "kpi_year",
        resource_id: &saved.id,
        alliance_id: Some(&alliance.id),
        version: saved.version,
        before: (before.version > 0).then_some(&before),
        after: Some(&after),
    })?;
    Ok(after)
}

/// Every entry names a KPI of the catalogue once, and fits it.
fn check_entries(
    catalogue: &HashMap<String, crate::domain::kpi::KpiDefinition>,
    entries: &[KpiEntry],
) -> Result<(), ApiError> {
    let mut errors = vec![];
    let mut seen = std::collections::HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        let Some(kpi) = catalogue.get(&e.code) else {
            errors.push(FieldError::new(
                format!("kpis[{i}].code"),
                "unknown_kpi",
                format!("the catalogue has no KPI `{}`", e.code),
            ));
            continue;
        };
        if !seen.insert(&e.code) {
            errors.push(FieldError::new(
                format!("kpis[{i}].code"),
                "duplicate",
                format!("`{}` is listed twice", e.code),
            ));
        }
        if let Err((field, code, message)) = check_entry(kpi, e) {
            errors.push(FieldError::new(format!("kpis[{i}].{field}"), code, message));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The feed's view of a report's workflow state.
#[derive(Debug, serde::Serialize)]
struct ReportState<'a> {
    id: &'a str,
    alliance_id: &'a str,
    year: i32,
    status: &'a str,
    comment: Option<&'a str>,
    approval: Option<Approval>,
    version: i64,
}

impl<'a> From<&'a ReportRow> for ReportState<'a> {
    fn from(r: &'a ReportRow) -> Self {
        ReportState {
            id: &r.id,
            alliance_id: &r.alliance_id,
            year: r.year,
            status: &r.status,
            comment: r.comment.as_deref(),
            approval: r.approval(),
            version: r.version,
        }
    }
}

/// One step of the workflow, by the role it belongs to.
pub fn act(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    year: i32,
    action: ReportAction,
    comment: Option<String>,
) -> Result<ReportRow, ApiError> {
    check_year(year)?;
    let alliance = alliances::find(tx.conn, alliance_key)?;
    match action {
        ReportAction::Submit => tx
            .principal
            .ensure_alliance_writer(&alliance.id, alliance.slug.as_str())?,
        _ => tx.principal.ensure_role(
            &[Role::Admin, Role::Reviewer],
            &format!("{action} a report"),
        )?,
    }
    if action.needs_comment() && comment.is_none() {
        return Err(ApiError::invalid(
            "comment",
            "required",
            format!("say why the report is {}", past(action)),
        ));
    }
    let before = row_for_write(tx, &alliance, year)?;
    let from = before.status()?;
    let (allowed, to) = action.transition();
    if !allowed.contains(&from) {
        return Err(ApiError::conflict(
            "status",
            "wrong_status",
            format!(
                "the {year} report is {from}; `{action}` needs it to be {}",
                allowed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ));
    }
    let mut after = before.clone();
    after.status = to.as_str().to_owned();
    match action {
        ReportAction::Submit => {
            let year_sheet = report::kpi_year(tx.conn, &alliance, year)?;
            report::check_evidence(&year_sheet)?;
            after.comment = None;
        }
        ReportAction::Return | ReportAction::Reopen => after.comment = comment.clone(),
        ReportAction::Approve => {
            let content = report::content(tx.conn, &alliance, year)?;
            let json = content.canonical_json().map_err(ApiError::internal)?;
            let figures: BTreeMap<&str, ApprovedFigure> = content
                .kpis
                .iter()
                .map(|k| {
                    let organizations = k
                        .provenance
                        .iter()
                        .flatten()
                        .filter(|r| r.record_type == RecordType::Organization)
                        .map(|r| r.id.clone())
                        .collect();
                    let figure = ApprovedFigure {
                        target: k.target,
                        actual: k.actual,
                        organizations,
                    };
                    (k.code.as_str(), figure)
                })
                .collect();
            after.snapshot_sha256 = Some(sha256_hex(&json));
            after.snapshot = Some(json);
            after.approved_figures =
                Some(serde_json::to_string(&figures).map_err(ApiError::internal)?);
            after.approved_at = Some(tx.now());
            after.approved_by = Some(tx.principal.subject.clone());
        }
    }
    if action == ReportAction::Reopen {
        after.snapshot = None;
        after.snapshot_sha256 = None;
        after.approved_figures = None;
        after.approved_at = None;
        after.approved_by = None;
    }
    let after = save(tx, &before, after)?;
    diesel::insert_into(report_events::table)
        .values((
            report_events::id.eq(new_id()),
            report_events::report_id.eq(&after.id),
            report_events::at.eq(tx.now()),
            report_events::actor.eq(&tx.principal.subject),
            report_events::action.eq(action.as_str()),
            report_events::from_status.eq(from.as_str()),
            report_events::to_status.eq(to.as_str()),
            report_events::comment.eq(&comment),
            report_events::snapshot_sha256.eq(&after.snapshot_sha256),
        ))
        .execute(tx.conn)?;
    tx.record(Change {
        action: Action::Updated,
        resource_type: "annual_report",
        resource_id: &after.id,
        alliance_id: Some(&alliance.id),
        version: after.version,
        before: Some(&ReportState::from(&before)),
        after: Some(&ReportState::from(&after)),
    })?;
    Ok(after)
}

fn past(action: ReportAction) -> &'static str {
    match action {
        ReportAction::Submit => "submitted",
        ReportAction::Return => "returned",
        ReportAction::Approve => "approved",
        ReportAction::Reopen => "reopened",
    }
}

/// Refuses a write to records when it would change what an approved year
/// of the alliance counted (its derived figures or the records behind
/// them). `years`: the years the write can touch; `None` for any.
pub fn guard_records(
    conn: &mut AnyConnection,
    alliance_id: &str,
    years: Option<&[i32]>,
) -> Result<(), ApiError> {
    let mut q = annual_reports::table
        .filter(annual_reports::alliance_id.eq(alliance_id))
        .filter(annual_reports::status.eq(ReportStatus::Approved.as_str()))
        .select(ReportRow::as_select())
        .into_boxed();
    if let Some(years) = years {
        q = q.filter(annual_reports::year.eq_any(years.to_vec()));
    }
    for row in q.load::<ReportRow>(conn)? {
        let Some(approved) = row.frozen()? else {
            continue;
        };
        let records = derive::YearRecords::load(conn, alliance_id, row.year)?;
        for line in &approved.kpis {
            let Some(d) = &line.derivation else { continue };
            let (_, now) = records.evaluate(d);
            let then = line.provenance.as_deref().unwrap_or_default();
            if derive::fingerprint(&now) != derive::fingerprint(then) {
                return Err(ApiError::YearLocked(format!(
                    "this would change `{}` of {}, which {}",
                    line.code,
                    row.year,
                    row.lock()?
                        .unwrap_or_default()
                        .trim_start_matches(&format!("{} ", row.year))
                )));
            }
        }
    }
    Ok(())
}

/// [`guard_records`] for every alliance an organisation belongs to.
pub fn guard_organization(conn: &mut AnyConnection, organization_id: &str) -> Result<(), ApiError> {
    use super::schema::memberships;
    let alliances: Vec<String> = memberships::table
        .filter(memberships::organization_id.eq(organization_id))
        .select(memberships::alliance_id)
        .distinct()
        .load(conn)?;
    for a in alliances {
        guard_records(conn, &a, None)?;
    }
    Ok(())
}
