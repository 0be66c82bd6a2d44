//! Reporting: a year's KPI table (targets, actuals, derived figures with
//! their provenance), the annual report around it, and the dashboard's
//! figures across alliances.

pub mod dashboard;
pub mod derive;
pub mod tables;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use crate::db::schema::{memberships, organizations, platforms};
use crate::db::{AnyConnection, council, kpis, reports, stored, utc};
use crate::domain::activity::ActivityKind;
use crate::domain::alliance::Alliance;
use crate::domain::report::{
    ActivityLine, ActualSource, AnnualReport, CouncilLine, Figure, KindCount, KpiLine, KpiYear,
    MembershipMovement, PlatformLine, ReportContent, ReportStatus, attained, attainment,
};
use crate::error::{ApiError, FieldError};
use derive::{YearRecords, bounds};

/// The KPI table of a year as it stands: the approved snapshot's for an
/// approved year, else the catalogue with the year's entries and the
/// figures its records give now.
pub fn kpi_year(
    conn: &mut AnyConnection,
    alliance: &Alliance,
    year: i32,
) -> Result<KpiYear, ApiError> {
    let row = reports::find_row(conn, &alliance.id, year)?;
    let items = match row.as_ref().map(reports::ReportRow::frozen).transpose()? {
        Some(Some(frozen)) => frozen.kpis,
        _ => lines(conn, alliance, year, row.as_ref(), None)?,
    };
    Ok(KpiYear {
        alliance_id: alliance.id.clone(),
        year,
        status: match &row {
            Some(r) => r.status()?,
            None => ReportStatus::Draft,
        },
        version: row.as_ref().map_or(0, |r| r.version),
        updated_at: row.as_ref().map(|r| utc(r.updated_at)),
        approval: row.as_ref().and_then(reports::ReportRow::approval),
        items,
    })
}

/// Every KPI of the catalogue for the year, live.
fn lines(
    conn: &mut AnyConnection,
    alliance: &Alliance,
    year: i32,
    row: Option<&reports::ReportRow>,
    records: Option<&YearRecords>,
) -> Result<Vec<KpiLine>, ApiError> {
    let entries = match row {
        Some(r) => reports::entries(conn, &r.id)?,
        None => Default::default(),
    };
    let loaded;
    let records = match records {
        Some(r) => r,
        None => {
            loaded = YearRecords::load(conn, &alliance.id, year)?;
            &loaded
        }
    };
    kpis::list(conn)?
        .into_iter()
        .map(|k| {
            let entry = entries.get(&k.code);
            let target = entry.and_then(|e| e.target);
            let (actual, source, provenance) = match &k.derivation {
                Some(d) => {
                    let (value, records) = records.evaluate(d);
                    (Some(value), ActualSource::Derived, Some(records))
                }
                None => (entry.and_then(|e| e.actual), ActualSource::Manual, None),
            };
            Ok(KpiLine {
                attainment: attainment(k.direction, target, actual),
                attained: attained(k.direction, target, actual),
                name_zh: k.name_zh.to_string(),
                name_en: k.name_en.as_ref().map(ToString::to_string),
                unit: k.unit,
                direction: k.direction,
                value_type: k.value_type,
                target: target.map(Figure),
                actual: actual.map(Figure),
                actual_source: source,
                note: entry.and_then(|e| e.note.clone()),
                evidence: entry.map(|e| e.evidence()).transpose()?.unwrap_or_default(),
                evidence_required: k.evidence_required,
                derivation: k.derivation,
                provenance,
                source: k.source,
                code: k.code,
            })
        })
        .collect()
}

/// Submitting needs evidence for every evidence-required KPI that has a
/// figure; the error names each KPI without it.
pub fn check_evidence(year: &KpiYear) -> Result<(), ApiError> {
    let missing: Vec<FieldError> = year
        .items
        .iter()
        .filter(|k| k.evidence_required && k.evidence.is_empty())
        .filter(|k| k.actual.is_some_and(|a| a.0 != 0.0) || k.target.is_some())
        .map(|k| {
            FieldError::new(
                format!("kpis.{}.evidence", k.code),
                "evidence_required",
                format!(
                    "`{}` ({}) needs evidence links before the report is submitted",
                    k.code, k.name_zh
                ),
            )
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(missing))
    }
}

/// The report's content as the records stand now.
pub fn content(
    conn: &mut AnyConnection,
    alliance: &Alliance,
    year: i32,
) -> Result<ReportContent, ApiError> {
    let row = reports::find_row(conn, &alliance.id, year)?;
    let records = YearRecords::load(conn, &alliance.id, year)?;
    let kpis = lines(conn, alliance, year, row.as_ref(), Some(&records))?;
    let (first, last) = bounds(year);
    let council = council::as_of(conn, &alliance.id, last, 0)?
        .seats
        .into_iter()
        .map(|s| CouncilLine {
            position: s.position,
            person_name_zh: s.person_name_zh.to_string(),
            organization_id: s.organization.id,
            organization_name_zh: s.organization.name_zh.to_string(),
            term_number: s.term_number,
            term_starts_on: s.term_starts_on,
            term_ends_on: s.term_ends_on,
        })
        .collect();
    let platforms = platforms::table
        .filter(platforms::alliance_id.eq(&alliance.id))
        .filter(platforms::opened_on.le(last))
        .filter(
            platforms::closed_on
                .is_null()
                .or(platforms::closed_on.ge(first)),
        )
        .order((platforms::kind.asc(), platforms::name_zh.asc()))
        .select((
            platforms::id,
            platforms::kind,
            platforms::name_zh,
            platforms::status,
            platforms::opened_on,
            platforms::closed_on,
        ))
        .load::<(
            String,
            String,
            String,
            String,
            Option<NaiveDate>,
            Option<NaiveDate>,
        )>(conn)?
        .into_iter()
        .map(|(id, kind, name_zh, status, opened_on, closed_on)| {
            Ok(PlatformLine {
                id,
                kind: stored("kind", kind.parse())?,
                name_zh,
                status: stored("status", status.parse())?,
                opened_on,
                closed_on,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(ReportContent {
        alliance_id: alliance.id.clone(),
        alliance_slug: alliance.slug.to_string(),
        alliance_name_zh: alliance.name_zh.to_string(),
        year,
        kpis,
        membership: movement(conn, &alliance.id, first, last)?,
        council,
        platforms,
        activities: activity_lines(&records),
    })
}

fn activity_lines(records: &YearRecords) -> Vec<ActivityLine> {
    ActivityKind::ALL
        .iter()
        .map(|kind| {
            let mut line = ActivityLine {
                kind: *kind,
                count: 0,
                persons: 0,
                person_times: 0,
                students: 0,
                awards: 0,
            };
            for a in records.of_kind(*kind) {
                line.count += 1;
                line.persons += a.persons.unwrap_or(0);
                line.person_times += a.person_times.unwrap_or(0);
                line.students += a.students.unwrap_or(0);
                line.awards += a.awards.unwrap_or(0);
            }
            line
        })
        .collect()
}

/// Members at the year's start and end, and who joined and left, by kind.
fn movement(
    conn: &mut AnyConnection,
    alliance_id: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<MembershipMovement, ApiError> {
    let rows: Vec<(NaiveDate, Option<NaiveDate>, String)> = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::alliance_id.eq(alliance_id))
        .select((
            memberships::joined_on,
            memberships::left_on,
            organizations::kind,
        ))
        .load(conn)?;
    let member_on = |day: NaiveDate, joined: NaiveDate, left: Option<NaiveDate>| {
        joined <= day && left.is_none_or(|l| l > day)
    };
    let mut m = MembershipMovement {
        at_start: 0,
        at_end: 0,
        joined: vec![],
        left: vec![],
    };
    let mut joined = std::collections::BTreeMap::<String, i64>::new();
    let mut left = std::collections::BTreeMap::<String, i64>::new();
    for (joined_on, left_on, kind) in rows {
        let before_first = first.pred_opt().unwrap_or(first);
        m.at_start += i64::from(member_on(before_first, joined_on, left_on));
        m.at_end += i64::from(member_on(last, joined_on, left_on));
        if joined_on.year() == first.year() {
            *joined.entry(kind.clone()).or_default() += 1;
        }
        if left_on.is_some_and(|l| l.year() == first.year()) {
            *left.entry(kind).or_default() += 1;
        }
    }
    let counts = |map: std::collections::BTreeMap<String, i64>| {
        map.into_iter()
            .map(|(kind, count)| {
                Ok(KindCount {
                    kind: stored("kind", kind.parse())?,
                    count,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()
    };
    m.joined = counts(joined)?;
    m.left = counts(left)?;
    Ok(m)
}

/// The annual report: the frozen snapshot of an approved year, else the
/// content as it stands.
pub fn annual_report(
    conn: &mut AnyConnection,
    alliance: &Alliance,
    year: i32,
) -> Result<AnnualReport, ApiError> {
    let row = reports::find_row(conn, &alliance.id, year)?;
    let frozen = row
        .as_ref()
        .map(reports::ReportRow::frozen)
        .transpose()?
        .flatten();
    let is_frozen = frozen.is_some();
    let content = match frozen {
        Some(c) => c,
        None => content(conn, alliance, year)?,
    };
    Ok(AnnualReport {
        status: match &row {
            Some(r) => r.status()?,
            None => ReportStatus::Draft,
        },
        version: row.as_ref().map_or(0, |r| r.version),
        approval: row.as_ref().and_then(reports::ReportRow::approval),
        comment: row.as_ref().and_then(|r| r.comment.clone()),
        history: match &row {
            Some(r) => reports::history(conn, &r.id)?,
            None => vec![],
        },
        frozen: is_frozen,
        content,
    })
}
