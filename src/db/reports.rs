//! Queries of a year's KPI entries and its annual report: the entries, the
//! report row with its workflow history.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{annual_reports, kpi_values, report_events};
use super::{AnyConnection, new_id, stored, utc};
use crate::domain::Url;
use crate::domain::report::{Approval, ReportContent, ReportEvent, ReportStatus};
use crate::error::ApiError;

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

/// Stores a new report row (a year's first write).
pub fn insert_row(conn: &mut AnyConnection, row: &ReportRow) -> Result<(), ApiError> {
    diesel::insert_into(annual_reports::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Replaces a report row if its version is still `expected`.
pub fn replace_row(
    conn: &mut AnyConnection,
    row: &ReportRow,
    expected: i64,
) -> Result<bool, ApiError> {
    let n = diesel::update(
        annual_reports::table
            .filter(annual_reports::id.eq(&row.id))
            .filter(annual_reports::version.eq(expected)),
    )
    .set(row)
    .execute(conn)?;
    Ok(n == 1)
}

/// Removes every entry of a year.
pub fn clear_entries(conn: &mut AnyConnection, report_id: &str) -> Result<(), ApiError> {
    diesel::delete(kpi_values::table.filter(kpi_values::report_id.eq(report_id))).execute(conn)?;
    Ok(())
}

/// Sets one KPI's entry of a year, replacing the one it had.
pub fn put_entry(conn: &mut AnyConnection, value: &ValueRow) -> Result<(), ApiError> {
    diesel::delete(
        kpi_values::table
            .filter(kpi_values::report_id.eq(&value.report_id))
            .filter(kpi_values::kpi_code.eq(&value.kpi_code)),
    )
    .execute(conn)?;
    diesel::insert_into(kpi_values::table)
        .values(value)
        .execute(conn)?;
    Ok(())
}

/// One step of a report's workflow, for its history.
pub struct NewReportEvent<'a> {
    pub report_id: &'a str,
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub from_status: &'a str,
    pub to_status: &'a str,
    pub comment: Option<&'a str>,
    pub snapshot_sha256: Option<&'a str>,
}

pub fn add_event(conn: &mut AnyConnection, e: &NewReportEvent<'_>) -> Result<(), ApiError> {
    diesel::insert_into(report_events::table)
        .values((
            report_events::id.eq(new_id()),
            report_events::report_id.eq(e.report_id),
            report_events::at.eq(e.at),
            report_events::actor.eq(e.actor),
            report_events::action.eq(e.action),
            report_events::from_status.eq(e.from_status),
            report_events::to_status.eq(e.to_status),
            report_events::comment.eq(e.comment),
            report_events::snapshot_sha256.eq(e.snapshot_sha256),
        ))
        .execute(conn)?;
    Ok(())
}

/// The approved years of an alliance, of `years` (`None`: all).
pub fn approved(
    conn: &mut AnyConnection,
    alliance_id: &str,
    years: Option<&[i32]>,
) -> Result<Vec<ReportRow>, ApiError> {
    let mut q = annual_reports::table
        .filter(annual_reports::alliance_id.eq(alliance_id))
        .filter(annual_reports::status.eq(ReportStatus::Approved.as_str()))
        .select(ReportRow::as_select())
        .into_boxed();
    if let Some(years) = years {
        q = q.filter(annual_reports::year.eq_any(years.to_vec()));
    }
    Ok(q.load::<ReportRow>(conn)?)
}

/// The alliances (ids) an organisation has ever belonged to.
pub fn alliances_of_organization(
    conn: &mut AnyConnection,
    organization_id: &str,
) -> Result<Vec<String>, ApiError> {
    use super::schema::memberships;
    Ok(memberships::table
        .filter(memberships::organization_id.eq(organization_id))
        .select(memberships::alliance_id)
        .distinct()
        .load(conn)?)
}
