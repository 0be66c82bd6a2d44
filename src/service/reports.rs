//! A year's KPI entries and the report workflow: draft → submitted →
//! approved (or returned), by role; approval freezes the year's content
//! with its hash, and locks the records it counted until a reviewer
//! reopens it.

use std::collections::{BTreeMap, HashMap};

use super::access::authorize;
use super::{Precondition, Tx};
use crate::db::journal::{Action, Change};
use crate::db::reports::{self, NewReportEvent, ReportRow, ValueRow};
use crate::db::{AnyConnection, alliances, kpis, new_id, utc};
use crate::domain::alliance::Alliance;
use crate::domain::report::{
    Approval, ApprovedFigure, KpiEntry, KpiYear, KpiYearInput, RecordType, ReportAction,
    ReportStatus, YEARS, check_entry, sha256_hex,
};
use crate::error::{ApiError, FieldError};
use crate::report::{self, derive};

/// A year in the path: outside 2000-2100 it is a malformed request (400).
pub fn check_year(year: i32) -> Result<(), ApiError> {
    if YEARS.contains(&year) {
        Ok(())
    } else {
        let message = format!("reports are kept for {} to {}", YEARS.start(), YEARS.end());
        Err(ApiError::BadRequest {
            detail: message.clone(),
            errors: vec![FieldError::new("year", "out_of_range", message)],
        })
    }
}

/// Why the year takes no writes, if it does not.
fn lock(row: &ReportRow) -> Result<Option<String>, ApiError> {
    Ok(match row.status()? {
        // Who approved is in the report, for those who may read it; a
        // refusal names no one.
        ReportStatus::Approved => Some(format!(
            "{} was approved on {}; a reviewer must reopen it first",
            row.year,
            row.approved_at
                .map(|t| utc(t).to_rfc3339())
                .unwrap_or_default(),
        )),
        ReportStatus::Submitted => Some(format!(
            "{} was submitted on {} and is under review; a reviewer must return it first",
            row.year,
            utc(row.updated_at).to_rfc3339(),
        )),
        _ => None,
    })
}

/// The report row of a year, made (as a draft) on its first write.
fn row_for_write(tx: &mut Tx<'_>, alliance: &Alliance, year: i32) -> Result<ReportRow, ApiError> {
    if let Some(row) = reports::find_row(tx.conn, &alliance.id, year)? {
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
    reports::insert_row(tx.conn, &row)?;
    Ok(row)
}

/// Saves a changed report row, one version on from `before`.
fn save(tx: &mut Tx<'_>, before: &ReportRow, mut after: ReportRow) -> Result<ReportRow, ApiError> {
    after.version = before.version + 1;
    after.updated_at = tx.now();
    if !reports::replace_row(tx.conn, &after, before.version)? {
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
    authorize(tx.principal, "put_kpi_year", &alliance, String::new)?;
    let catalogue: HashMap<String, _> = kpis::list(tx.conn)?
        .into_iter()
        .map(|k| (k.code.clone(), k))
        .collect();
    check_entries(&catalogue, &input.kpis)?;
    let row = row_for_write(tx, &alliance, year)?;
    // The year's tag is its row's version (0 before the first write), so
    // the check needs no derivation of the year's figures.
    pre.check(&YearVersion(row.version))?;
    if let Some(why) = lock(&row)? {
        return Err(ApiError::YearLocked(why));
    }
    let before = YearEntries::read(tx.conn, &row)?;
    if mode == Entries::Replace {
        reports::clear_entries(tx.conn, &row.id)?;
    }
    for e in &input.kpis {
        let value = ValueRow {
            report_id: row.id.clone(),
            kpi_code: e.code.clone(),
            target: e.target,
            actual: e.actual,
            note: e.note.clone(),
            evidence: serde_json::to_string(&e.evidence).map_err(ApiError::internal)?,
        };
        reports::put_entry(tx.conn, &value)?;
    }
    let saved = save(tx, &row, row.clone())?;
    let after = YearEntries::read(tx.conn, &saved)?;
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
    report::kpi_year(tx.conn, &alliance, year)
}

/// A year's version as its ETag says it.
struct YearVersion(i64);

impl crate::domain::Versioned for YearVersion {
    fn etag(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

/// What the audit trail and the feed keep of a year's change: the entries
/// as stored, not the derived figures with their provenance, which
/// `GET …/kpis/{year}` computes from the records whenever asked (kept
/// whole, a year's read model made each change's journal hundreds of KiB).
#[derive(serde::Serialize)]
struct YearEntries {
    id: String,
    alliance_id: String,
    year: i32,
    version: i64,
    /// By code.
    kpis: Vec<KpiEntry>,
}

impl YearEntries {
    fn read(conn: &mut AnyConnection, row: &ReportRow) -> Result<Self, ApiError> {
        let mut kpis = reports::entries(conn, &row.id)?
            .into_values()
            .map(|v| {
                Ok(KpiEntry {
                    evidence: v.evidence()?,
                    code: v.kpi_code,
                    target: v.target,
                    actual: v.actual,
                    note: v.note,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        kpis.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(YearEntries {
            id: row.id.clone(),
            alliance_id: row.alliance_id.clone(),
            year: row.year,
            version: row.version,
            kpis,
        })
    }
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
    let operation = match action {
        ReportAction::Submit => "submit_annual_report",
        ReportAction::Approve => "approve_annual_report",
        ReportAction::Return => "return_annual_report",
        ReportAction::Reopen => "reopen_annual_report",
    };
    authorize(tx.principal, operation, &alliance, String::new)?;
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
    reports::add_event(
        tx.conn,
        &NewReportEvent {
            report_id: &after.id,
            at: tx.now(),
            actor: &tx.principal.subject,
            action: action.as_str(),
            from_status: from.as_str(),
            to_status: to.as_str(),
            comment: comment.as_deref(),
            snapshot_sha256: after.snapshot_sha256.as_deref(),
        },
    )?;
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
    for row in reports::approved(conn, alliance_id, years)? {
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
                    lock(&row)?
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
    for a in reports::alliances_of_organization(conn, organization_id)? {
        guard_records(conn, &a, None)?;
    }
    Ok(())
}
