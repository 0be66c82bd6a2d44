//! `/dashboard/kpis`: attainment across alliances × years × KPIs, with
//! totals. Approved years read their frozen figures; other years are
//! computed with a few grouped queries over the whole range rather than
//! year by year, so a big screen can poll it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{
    alliances, annual_reports, kpi_values, memberships, organizations, platforms,
};
use crate::db::{AnyConnection, kpis, stored};
use crate::domain::kpi::{ActivityFigure, Derivation, KpiDefinition, KpiUnit, KpiValueType};
use crate::domain::report::{
    ActualSource, ApprovedFigure, Figure, ReportStatus, attained, attainment,
};
use crate::error::ApiError;

/// What the dashboard is asked for.
#[derive(Debug, Clone, Default)]
pub struct DashboardFilter {
    /// Alliance ids or slugs; empty for all.
    pub alliances: Vec<String>,
    pub sector: Option<String>,
    pub from_year: i32,
    pub to_year: i32,
    /// KPI codes; empty for the whole catalogue.
    pub kpis: Vec<String>,
    pub approved_only: bool,
    /// The alliances (ids) the caller may read; all when `None`.
    pub visible: Option<Vec<String>>,
}

/// One alliance's figure of one KPI in one year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardRow {
    pub alliance_id: String,
    #[schema(example = "teda-biomedicine")]
    pub alliance_slug: String,
    pub year: i32,
    pub status: ReportStatus,
    pub kpi_code: String,
    pub unit: KpiUnit,
    pub target: Option<Figure>,
    pub actual: Option<Figure>,
    pub actual_source: ActualSource,
    pub attainment: Option<f64>,
    pub attained: Option<bool>,
    /// The approved snapshot the figures come from (approved years only).
    pub snapshot_sha256: Option<String>,
}

/// How a total adds the alliances' figures up.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TotalMethod {
    /// Sum of records, each in exactly one alliance (activities, platforms).
    RecordsSummed,
    /// Organisations counted once even when members of several alliances.
    DistinctOrganizations,
    /// Hand-entered figures summed as reported; overlaps cannot be seen.
    SumOfReported,
    /// Percentages do not add up; no total.
    NotAdditive,
}

/// One KPI in one year across the selected alliances.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardTotal {
    pub year: i32,
    pub kpi_code: String,
    pub unit: KpiUnit,
    pub target: Option<Figure>,
    pub actual: Option<Figure>,
    pub attainment: Option<f64>,
    /// Alliances with a figure.
    pub alliances: i64,
    pub method: TotalMethod,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    pub from_year: i32,
    pub to_year: i32,
    pub rows: Vec<DashboardRow>,
    pub totals: Vec<DashboardTotal>,
}

/// An alliance-year's figure before it becomes a row: the organisations it
/// counts matter for totals.
struct Cell {
    target: Option<f64>,
    actual: Option<f64>,
    organizations: Vec<String>,
}

/// Activity aggregates of one alliance, year and kind.
#[derive(Queryable)]
struct ActivityGroup {
    alliance_id: String,
    year: i32,
    kind: String,
    sums: ActivitySums,
}

#[derive(Default, Clone, Copy, Queryable)]
struct ActivitySums {
    count: i64,
    open_call: i64,
    persons: i64,
    person_times: i64,
    students: i64,
    awards: i64,
}

/// What the dashboard reads of a report.
#[derive(Queryable)]
struct ReportFacts {
    id: String,
    alliance_id: String,
    year: i32,
    status: String,
    snapshot_sha256: Option<String>,
    approved_figures: Option<String>,
}

/// What the live (not approved) years need, loaded once for the range.
struct Live {
    activities: HashMap<(String, i32, String), ActivitySums>,
    platforms: Vec<(String, String, NaiveDate, Option<NaiveDate>)>,
    certified: Vec<CertifiedMembership>,
    /// Matches closed, and the students they placed, by alliance and year.
    matches: HashMap<(String, i32), (i64, i64)>,
}

struct CertifiedMembership {
    alliance_id: String,
    organization_id: String,
    joined_on: NaiveDate,
    left_on: Option<NaiveDate>,
    level: Option<String>,
    certified_on: NaiveDate,
    expires_on: Option<NaiveDate>,
}

impl Live {
    fn load(conn: &mut AnyConnection, from: i32, to: i32) -> Result<Live, ApiError> {
        use crate::db::schema::activities as a;
        let rows: Vec<ActivityGroup> = a::table
            .filter(a::start_year.between(from, to))
            .group_by((a::alliance_id, a::start_year, a::kind))
            .select((
                a::alliance_id,
                a::start_year,
                a::kind,
                (
                    sql::<BigInt>("COUNT(*)"),
                    sql::<BigInt>("COUNT(CASE WHEN open_call THEN 1 END)"),
                    sql::<BigInt>("CAST(COALESCE(SUM(persons), 0) AS BIGINT)"),
                    sql::<BigInt>("CAST(COALESCE(SUM(person_times), 0) AS BIGINT)"),
                    sql::<BigInt>("CAST(COALESCE(SUM(students), 0) AS BIGINT)"),
                    sql::<BigInt>("CAST(COALESCE(SUM(awards), 0) AS BIGINT)"),
                ),
            ))
            .load(conn)?;
        let activities = rows
            .into_iter()
            .map(|g| ((g.alliance_id, g.year, g.kind), g.sums))
            .collect();
        let (first, _) = super::derive::bounds(from);
        let (_, last) = super::derive::bounds(to);
        let platforms: Vec<(String, String, Option<NaiveDate>, Option<NaiveDate>)> =
            platforms::table
                .filter(platforms::opened_on.le(last))
                .filter(
                    platforms::closed_on
                        .is_null()
                        .or(platforms::closed_on.ge(first)),
                )
                .select((
                    platforms::alliance_id,
                    platforms::kind,
                    platforms::opened_on,
                    platforms::closed_on,
                ))
                .load(conn)?;
        let certified = memberships::table
            .inner_join(organizations::table)
            .filter(organizations::certified_on.le(last))
            .filter(memberships::joined_on.le(last))
            .select((
                memberships::alliance_id,
                organizations::id,
                memberships::joined_on,
                memberships::left_on,
                organizations::certification_level,
                organizations::certified_on,
                organizations::certification_expires_on,
            ))
            .load::<(
                String,
                String,
                NaiveDate,
                Option<NaiveDate>,
                Option<String>,
                Option<NaiveDate>,
                Option<NaiveDate>,
            )>(conn)?
            .into_iter()
            .filter_map(|(al, org, joined, left, level, certified, expires)| {
                Some(CertifiedMembership {
                    alliance_id: al,
                    organization_id: org,
                    joined_on: joined,
                    left_on: left,
                    level,
                    certified_on: certified?,
                    expires_on: expires,
                })
            })
            .collect();
        use crate::db::schema::posting_matches as m;
        let closed: Vec<(String, Option<i32>, i64, i64)> = m::table
            .filter(m::close_year.between(from, to))
            .group_by((m::alliance_id, m::close_year))
            .select((
                m::alliance_id,
                m::close_year,
                sql::<BigInt>("COUNT(*)"),
                sql::<BigInt>("CAST(COALESCE(SUM(students_placed), 0) AS BIGINT)"),
            ))
            .load(conn)?;
        let matches = closed
            .into_iter()
            .filter_map(|(al, year, n, placed)| Some(((al, year?), (n, placed))))
            .collect();
        Ok(Live {
            matches,
            activities,
            platforms: platforms
                .into_iter()
                .filter_map(|(al, k, opened, closed)| Some((al, k, opened?, closed)))
                .collect(),
            certified,
        })
    }

    /// The same figure `derive::YearRecords::evaluate` gives, from the
    /// aggregates (a test holds the two equal).
    fn evaluate(&self, alliance_id: &str, year: i32, d: &Derivation) -> Cell {
        let (first, last) = super::derive::bounds(year);
        let sums = |kind: &str| {
            self.activities
                .get(&(alliance_id.to_owned(), year, kind.to_owned()))
                .copied()
                .unwrap_or_default()
        };
        let mut organizations = vec![];
        let actual = match d {
            Derivation::ActivityFigure {
                activity_kind,
                figure,
            } => {
                let s = sums(activity_kind.as_str());
                match figure {
                    ActivityFigure::Persons => s.persons,
                    ActivityFigure::PersonTimes => s.person_times,
                    ActivityFigure::Students => s.students,
                    ActivityFigure::Awards => s.awards,
                }
            }
            Derivation::ActivityCount {
                activity_kind,
                open_call,
            } => {
                let s = sums(activity_kind.as_str());
                match open_call {
                    None => s.count,
                    Some(true) => s.open_call,
                    Some(false) => s.count - s.open_call,
                }
            }
            Derivation::OpenPlatforms { platform_kind } => self
                .platforms
                .iter()
                .filter(|(al, kind, opened, closed)| {
                    al == alliance_id
                        && kind == platform_kind.as_str()
                        && *opened <= last
                        && closed.is_none_or(|c| c >= first)
                })
                .count() as i64,
            Derivation::CertifiedMembers { level } => {
                let set: BTreeSet<&str> = self
                    .certified
                    .iter()
                    .filter(|m| {
                        m.alliance_id == alliance_id
                            && m.joined_on <= last
                            && m.left_on.is_none_or(|l| l > last)
                            && m.certified_on <= last
                            && m.expires_on.is_none_or(|e| e >= last)
                            && level.is_none_or(|l| m.level.as_deref() == Some(l.as_str()))
                    })
                    .map(|m| m.organization_id.as_str())
                    .collect();
                organizations = set.iter().map(|s| s.to_string()).collect();
                set.len() as i64
            }
            Derivation::ClosedMatches | Derivation::StudentsPlaced => {
                let (n, placed) = self
                    .matches
                    .get(&(alliance_id.to_owned(), year))
                    .copied()
                    .unwrap_or_default();
                if *d == Derivation::ClosedMatches {
                    n
                } else {
                    placed
                }
            }
        };
        Cell {
            target: None,
            actual: Some(actual as f64),
            organizations,
        }
    }
}

/// A filter naming something that does not exist: a malformed query (400).
fn unknown(field: &str, code: &str, message: String) -> ApiError {
    ApiError::BadRequest {
        detail: message.clone(),
        errors: vec![crate::error::FieldError::new(field, code, message)],
    }
}

pub fn dashboard(conn: &mut AnyConnection, f: &DashboardFilter) -> Result<Dashboard, ApiError> {
    let mut query = alliances::table
        .select((alliances::id, alliances::slug))
        .order(alliances::slug.asc())
        .into_boxed::<crate::db::Backend>();
    if let Some(sector) = &f.sector {
        query = query.filter(alliances::sector.eq(sector.clone()));
    }
    let mut chosen: Vec<(String, String)> = query.load(conn)?;
    if !f.alliances.is_empty() {
        chosen.retain(|(id, slug)| f.alliances.iter().any(|a| a == id || a == slug));
    }
    let catalogue: Vec<KpiDefinition> = kpis::list(conn)?
        .into_iter()
        .filter(|k| f.kpis.is_empty() || f.kpis.contains(&k.code))
        .collect();
    for a in &f.alliances {
        if !chosen.iter().any(|(id, slug)| a == id || a == slug) {
            return Err(unknown(
                "alliance",
                "unknown_alliance",
                format!(
                    "there is no alliance `{a}`{}",
                    if f.sector.is_some() {
                        " in this sector"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    if let Some(ids) = &f.visible {
        chosen.retain(|(id, _)| ids.contains(id));
    }
    for code in &f.kpis {
        if !catalogue.iter().any(|k| &k.code == code) {
            return Err(unknown(
                "kpi",
                "unknown_kpi",
                format!("the catalogue has no KPI `{code}`"),
            ));
        }
    }
    let ids: Vec<&String> = chosen.iter().map(|(id, _)| id).collect();
    let reports: Vec<ReportFacts> = annual_reports::table
        .filter(annual_reports::alliance_id.eq_any(&ids))
        .filter(annual_reports::year.between(f.from_year, f.to_year))
        .select((
            annual_reports::id,
            annual_reports::alliance_id,
            annual_reports::year,
            annual_reports::status,
            annual_reports::snapshot_sha256,
            annual_reports::approved_figures,
        ))
        .load(conn)?;
    let report_ids: Vec<&String> = reports.iter().map(|r| &r.id).collect();
    let mut entries: HashMap<(String, String), (Option<f64>, Option<f64>)> = HashMap::new();
    for (report, code, target, actual) in kpi_values::table
        .filter(kpi_values::report_id.eq_any(&report_ids))
        .select((
            kpi_values::report_id,
            kpi_values::kpi_code,
            kpi_values::target,
            kpi_values::actual,
        ))
        .load::<(String, String, Option<f64>, Option<f64>)>(conn)?
    {
        entries.insert((report, code), (target, actual));
    }
    let by_year: HashMap<(&str, i32), _> = reports
        .iter()
        .map(|r| ((r.alliance_id.as_str(), r.year), r))
        .collect();
    let live = if f.approved_only {
        None
    } else {
        Some(Live::load(conn, f.from_year, f.to_year)?)
    };

    let mut rows = vec![];
    let mut cells: BTreeMap<(i32, String), Vec<Cell>> = BTreeMap::new();
    for (alliance_id, slug) in &chosen {
        for year in f.from_year..=f.to_year {
            let report = by_year.get(&(alliance_id.as_str(), year));
            let status = match report {
                Some(r) => stored("status", r.status.parse())?,
                None => ReportStatus::Draft,
            };
            let approved: Option<BTreeMap<String, ApprovedFigure>> = match report {
                Some(r) if status == ReportStatus::Approved => r
                    .approved_figures
                    .as_deref()
                    .map(|s| stored("approved_figures", serde_json::from_str(s)))
                    .transpose()?,
                _ => None,
            };
            if f.approved_only && approved.is_none() {
                continue;
            }
            for k in &catalogue {
                let cell = match (&approved, &live) {
                    (Some(figures), _) => match figures.get(&k.code) {
                        Some(a) => Cell {
                            target: a.target.map(|f| f.0),
                            actual: a.actual.map(|f| f.0),
                            organizations: a.organizations.clone(),
                        },
                        None => continue,
                    },
                    (None, Some(live)) => {
                        let entry =
                            report.and_then(|r| entries.get(&(r.id.clone(), k.code.clone())));
                        let mut cell = match &k.derivation {
                            Some(d) => live.evaluate(alliance_id, year, d),
                            None => Cell {
                                target: None,
                                actual: entry.and_then(|e| e.1),
                                organizations: vec![],
                            },
                        };
                        cell.target = entry.and_then(|e| e.0);
                        cell
                    }
                    (None, None) => continue,
                };
                let empty = cell.target.is_none() && cell.actual.is_none_or(|a| a == 0.0);
                if empty {
                    continue;
                }
                rows.push(DashboardRow {
                    alliance_id: alliance_id.clone(),
                    alliance_slug: slug.clone(),
                    year,
                    status,
                    kpi_code: k.code.clone(),
                    unit: k.unit,
                    target: cell.target.map(Figure),
                    actual: cell.actual.map(Figure),
                    actual_source: if k.derivation.is_some() {
                        ActualSource::Derived
                    } else {
                        ActualSource::Manual
                    },
                    attainment: attainment(k.direction, cell.target, cell.actual),
                    attained: attained(k.direction, cell.target, cell.actual),
                    snapshot_sha256: approved
                        .as_ref()
                        .and(report.and_then(|r| r.snapshot_sha256.clone())),
                });
                cells.entry((year, k.code.clone())).or_default().push(cell);
            }
        }
    }
    let by_code: HashMap<&str, &KpiDefinition> =
        catalogue.iter().map(|k| (k.code.as_str(), k)).collect();
    let totals = cells
        .into_iter()
        .map(|((year, code), cells)| {
            let k = by_code[code.as_str()];
            total(k, year, &cells)
        })
        .collect();
    Ok(Dashboard {
        from_year: f.from_year,
        to_year: f.to_year,
        rows,
        totals,
    })
}

fn total(k: &KpiDefinition, year: i32, cells: &[Cell]) -> DashboardTotal {
    let method = match &k.derivation {
        _ if k.value_type == KpiValueType::Percent => TotalMethod::NotAdditive,
        Some(Derivation::CertifiedMembers { .. }) => TotalMethod::DistinctOrganizations,
        Some(_) => TotalMethod::RecordsSummed,
        None => TotalMethod::SumOfReported,
    };
    // Rounded to four places: sums of decimals (万元) must not show
    // binary-fraction noise such as 2693.7000000000003.
    let sum = |pick: &dyn Fn(&Cell) -> Option<f64>| {
        let values: Vec<f64> = cells.iter().filter_map(pick).collect();
        (!values.is_empty()).then(|| (values.iter().sum::<f64>() * 10_000.0).round() / 10_000.0)
    };
    let (target, actual) = match method {
        TotalMethod::NotAdditive => (None, None),
        TotalMethod::DistinctOrganizations => {
            let distinct: BTreeSet<&String> =
                cells.iter().flat_map(|c| c.organizations.iter()).collect();
            (sum(&|c| c.target), Some(distinct.len() as f64))
        }
        _ => (sum(&|c| c.target), sum(&|c| c.actual)),
    };
    DashboardTotal {
        year,
        kpi_code: k.code.clone(),
        unit: k.unit,
        attainment: attainment(k.direction, target, actual),
        target: target.map(Figure),
        actual: actual.map(Figure),
        alliances: cells.len() as i64,
        method,
    }
}

/// The dashboard as one table: the rows, then each total as a row of the
/// alliance `total`.
pub fn table(d: &Dashboard) -> crate::tabular::Table<'static> {
    let figure = |f: Option<Figure>| f.map(|f| f.to_string()).unwrap_or_default();
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut rows: Vec<Vec<String>> = d
        .rows
        .iter()
        .map(|r| {
            vec![
                r.alliance_slug.clone(),
                r.year.to_string(),
                r.status.to_string(),
                r.kpi_code.clone(),
                r.unit.to_string(),
                figure(r.target),
                figure(r.actual),
                opt(r.attainment.map(|a| a.to_string())),
                opt(r.attained.map(|a| a.to_string())),
                r.actual_source.to_string(),
                opt(r.snapshot_sha256.clone()),
                String::new(),
            ]
        })
        .collect();
    rows.extend(d.totals.iter().map(|t| {
        vec![
            "total".into(),
            t.year.to_string(),
            String::new(),
            t.kpi_code.clone(),
            t.unit.to_string(),
            figure(t.target),
            figure(t.actual),
            opt(t.attainment.map(|a| a.to_string())),
            String::new(),
            String::new(),
            String::new(),
            serde_json::to_value(t.method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        ]
    }));
    crate::tabular::Table {
        sheet: "dashboard",
        headers: [
            "alliance_slug",
            "year",
            "status",
            "kpi_code",
            "unit",
            "target",
            "actual",
            "attainment",
            "attained",
            "actual_source",
            "snapshot_sha256",
            "total_method",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows,
        numeric: vec![5, 6, 7],
    }
}
