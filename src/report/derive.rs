//! Derived KPIs: the figures a year's records give, and the records that
//! give them (provenance).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{activities, memberships, organizations, platforms};
use crate::domain::activity::ActivityKind;
use crate::domain::kpi::{ActivityFigure, Derivation};
use crate::domain::report::{Contribution, Figure, RecordType};
use crate::error::ApiError;

/// The first and last day of a year.
pub fn bounds(year: i32) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("years are checked to 2000-2100");
    let last = NaiveDate::from_ymd_opt(year, 12, 31).expect("years are checked to 2000-2100");
    (first, last)
}

/// What derived KPIs and the report read of an activity.
#[derive(Queryable)]
pub struct ActivityFacts {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub starts_on: NaiveDate,
    pub persons: Option<i64>,
    pub person_times: Option<i64>,
    pub students: Option<i64>,
    pub awards: Option<i64>,
    pub open_call: Option<bool>,
}

#[derive(Queryable)]
struct PlatformFacts {
    id: String,
    kind: String,
    name_zh: String,
    opened_on: Option<NaiveDate>,
}

#[derive(Queryable)]
struct CertifiedFacts {
    id: String,
    name_zh: String,
    level: Option<String>,
    certified_on: Option<NaiveDate>,
}

/// The records of one alliance and year that derived KPIs read, loaded
/// once (three queries) and then evaluated for every KPI.
pub struct YearRecords {
    activities: Vec<ActivityFacts>,
    platforms: Vec<PlatformFacts>,
    certified: Vec<CertifiedFacts>,
    matches: Vec<crate::db::postings::ClosedMatchFacts>,
}

impl YearRecords {
    pub fn load(conn: &mut AnyConnection, alliance_id: &str, year: i32) -> Result<Self, ApiError> {
        let (first, last) = bounds(year);
        let activities = activities::table
            .filter(activities::alliance_id.eq(alliance_id))
            .filter(activities::start_year.eq(year))
            .order((activities::starts_on.asc(), activities::id.asc()))
            .select((
                activities::id,
                activities::kind,
                activities::title,
                activities::starts_on,
                activities::persons,
                activities::person_times,
                activities::students,
                activities::awards,
                activities::open_call,
            ))
            .load(conn)?;
        let platforms = platforms::table
            .filter(platforms::alliance_id.eq(alliance_id))
            .filter(platforms::opened_on.le(last))
            .filter(
                platforms::closed_on
                    .is_null()
                    .or(platforms::closed_on.ge(first)),
            )
            .order((platforms::opened_on.asc(), platforms::id.asc()))
            .select((
                platforms::id,
                platforms::kind,
                platforms::name_zh,
                platforms::opened_on,
            ))
            .load(conn)?;
        let certified = memberships::table
            .inner_join(organizations::table)
            .filter(memberships::alliance_id.eq(alliance_id))
            .filter(memberships::joined_on.le(last))
            .filter(
                memberships::left_on
                    .is_null()
                    .or(memberships::left_on.gt(last)),
            )
            .filter(organizations::certified_on.le(last))
            .filter(
                organizations::certification_expires_on
                    .is_null()
                    .or(organizations::certification_expires_on.ge(last)),
            )
            .order(organizations::id.asc())
            .select((
                organizations::id,
                organizations::name_zh,
                organizations::certification_level,
                organizations::certified_on,
            ))
            .distinct()
            .load(conn)?;
        let matches = crate::db::postings::closed_facts(conn, alliance_id, year)?;
        Ok(YearRecords {
            activities,
            platforms,
            certified,
            matches,
        })
    }

    /// The year's activities of one kind.
    pub fn of_kind(&self, kind: ActivityKind) -> impl Iterator<Item = &ActivityFacts> {
        self.activities
            .iter()
            .filter(move |a| a.kind == kind.as_str())
    }

    /// The figure a derivation gives, with the records it counts.
    pub fn evaluate(&self, d: &Derivation) -> (f64, Vec<Contribution>) {
        let records: Vec<Contribution> = match d {
            Derivation::ActivityFigure {
                activity_kind,
                figure,
            } => self
                .of_kind(*activity_kind)
                .filter_map(|a| {
                    let v = match figure {
                        ActivityFigure::Persons => a.persons,
                        ActivityFigure::PersonTimes => a.person_times,
                        ActivityFigure::Students => a.students,
                        ActivityFigure::Awards => a.awards,
                    }?;
                    Some(activity(a, v))
                })
                .collect(),
            Derivation::ActivityCount {
                activity_kind,
                open_call,
            } => self
                .of_kind(*activity_kind)
                .filter(|a| open_call.is_none_or(|want| a.open_call.unwrap_or(false) == want))
                .map(|a| activity(a, 1))
                .collect(),
            Derivation::OpenPlatforms { platform_kind } => self
                .platforms
                .iter()
                .filter(|p| p.kind == platform_kind.as_str())
                .map(|p| Contribution {
                    record_type: RecordType::Platform,
                    id: p.id.clone(),
                    title: p.name_zh.clone(),
                    date: p.opened_on,
                    value: Figure(1.0),
                })
                .collect(),
            Derivation::CertifiedMembers { level } => self
                .certified
                .iter()
                .filter(|o| level.is_none_or(|l| o.level.as_deref() == Some(l.as_str())))
                .map(|o| Contribution {
                    record_type: RecordType::Organization,
                    id: o.id.clone(),
                    title: o.name_zh.clone(),
                    date: o.certified_on,
                    value: Figure(1.0),
                })
                .collect(),
            Derivation::ClosedMatches => self.matched(|_| Some(1)),
            Derivation::StudentsPlaced => self.matched(|placed| placed),
        };
        (records.iter().map(|r| r.value.0).sum(), records)
    }
}

impl YearRecords {
    /// The year's closed matches, each with what `value` makes of its
    /// students placed (those it gives no value are not counted).
    fn matched(&self, value: impl Fn(Option<i64>) -> Option<i64>) -> Vec<Contribution> {
        self.matches
            .iter()
            .filter_map(|m| {
                Some(Contribution {
                    record_type: RecordType::PostingMatch,
                    id: m.id.clone(),
                    title: m.title.clone(),
                    date: m.closed_on,
                    value: Figure(value(m.students_placed)? as f64),
                })
            })
            .collect()
    }
}

fn activity(a: &ActivityFacts, value: i64) -> Contribution {
    Contribution {
        record_type: RecordType::Activity,
        id: a.id.clone(),
        title: a.title.clone(),
        date: Some(a.starts_on),
        value: Figure(value as f64),
    }
}

/// What a derived figure is made of, for telling whether a write changed
/// an approved year: the value and each record's id and value (titles
/// may change; the figures may not).
pub fn fingerprint(records: &[Contribution]) -> BTreeMap<String, f64> {
    records
        .iter()
        .map(|r| (format!("{}:{}", r.record_type, r.id), r.value.0))
        .collect()
}
