//! Queries of activities and the organisations that took part.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{activities, activity_organizations};
use super::{AnyConnection, Backend, Stored, alliances, organizations, stored, utc};
use crate::domain::activity::{Activity, ActivityFigures, ActivityKind};
use crate::domain::{Name, Url};
use crate::error::ApiError;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = activities, treat_none_as_null = true)]
struct ActivityRow {
    id: String,
    alliance_id: String,
    kind: String,
    title: String,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    platform_id: Option<String>,
    persons: Option<i64>,
    person_times: Option<i64>,
    hours: Option<i64>,
    students: Option<i64>,
    awards: Option<i64>,
    budget_cny: Option<i64>,
    research_status: Option<String>,
    open_call: Option<bool>,
    resolutions: String,
    evidence: String,
    outcome: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    /// `starts_on`'s year, for yearly aggregates.
    start_year: i32,
}

fn into_resources(
    conn: &mut AnyConnection,
    rows: Vec<ActivityRow>,
) -> Result<Vec<Activity>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let links: Vec<(String, String)> = activity_organizations::table
        .filter(activity_organizations::activity_id.eq_any(&ids))
        .select((
            activity_organizations::activity_id,
            activity_organizations::organization_id,
        ))
        .order((
            activity_organizations::activity_id,
            activity_organizations::organization_id,
        ))
        .load(conn)?;
    let org_ids: Vec<String> = links.iter().map(|(_, o)| o.clone()).collect();
    let orgs = organizations::summaries(conn, &org_ids)?;
    let mut by_activity: HashMap<String, Vec<String>> = HashMap::new();
    for (activity, org) in links {
        by_activity.entry(activity).or_default().push(org);
    }
    rows.into_iter()
        .map(|r| {
            let mut embedded = 0;
            let organizations = by_activity
                .remove(&r.id)
                .unwrap_or_default()
                .iter()
                .map(|id| {
                    let (s, v) = orgs.get(id).cloned().ok_or_else(|| {
                        ApiError::Internal(format!("organization {id} is missing"))
                    })?;
                    embedded += v;
                    Ok(s)
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let evidence: Vec<String> = stored("evidence", serde_json::from_str(&r.evidence))?;
            Ok(Activity {
                kind: stored("kind", r.kind.parse())?,
                title: stored("title", Name::parse(&r.title))?,
                research_status: stored(
                    "research_status",
                    r.research_status.as_deref().map(str::parse).transpose(),
                )?,
                resolutions: stored("resolutions", serde_json::from_str(&r.resolutions))?,
                evidence: evidence
                    .iter()
                    .map(|e| stored("evidence", Url::parse(e)))
                    .collect::<Result<_, _>>()?,
                figures: ActivityFigures {
                    persons: r.persons,
                    person_times: r.person_times,
                    hours: r.hours,
                    students: r.students,
                    awards: r.awards,
                    budget_cny: r.budget_cny,
                },
                organizations,
                id: r.id,
                alliance_id: r.alliance_id,
                starts_on: r.starts_on,
                ends_on: r.ends_on,
                platform_id: r.platform_id,
                open_call: r.open_call,
                outcome: r.outcome,
                version: r.version,
                created_at: utc(r.created_at),
                updated_at: utc(r.updated_at),
                embedded_versions: embedded,
            })
        })
        .collect()
}

fn to_row(a: &Activity) -> Result<ActivityRow, ApiError> {
    Ok(ActivityRow {
        id: a.id.clone(),
        alliance_id: a.alliance_id.clone(),
        kind: a.kind.as_str().to_owned(),
        title: a.title.to_string(),
        starts_on: a.starts_on,
        ends_on: a.ends_on,
        platform_id: a.platform_id.clone(),
        persons: a.figures.persons,
        person_times: a.figures.person_times,
        hours: a.figures.hours,
        students: a.figures.students,
        awards: a.figures.awards,
        budget_cny: a.figures.budget_cny,
        research_status: a.research_status.map(|s| s.as_str().to_owned()),
        open_call: a.open_call,
        resolutions: json(&a.resolutions)?,
        evidence: json(&a.evidence)?,
        outcome: a.outcome.clone(),
        version: a.version,
        created_at: a.created_at.naive_utc(),
        updated_at: a.updated_at.naive_utc(),
        start_year: a.starts_on.year(),
    })
}

/// A list kept as a JSON text column.
fn json<T: serde::Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Activity, ApiError> {
    let row = activities::table
        .filter(activities::id.eq(id))
        .select(ActivityRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no activity `{id}`")))?;
    Ok(into_resources(conn, vec![row])?.remove(0))
}

/// Filters of an activity list.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub kind: Option<ActivityKind>,
    /// Activities that end on or after this day.
    pub from: Option<NaiveDate>,
    /// Activities that start on or before this day.
    pub to: Option<NaiveDate>,
    /// An organisation (id or slug) that took part.
    pub organization: Option<String>,
    pub platform_id: Option<String>,
}

/// An alliance's activities, oldest record first.
pub fn list(
    conn: &mut AnyConnection,
    alliance_key: &str,
    f: &ActivityFilter,
    page: &PageRequest,
) -> Result<Page<Activity>, ApiError> {
    let alliance = alliances::find(conn, alliance_key)?;
    let mut query = activities::table
        .filter(activities::alliance_id.eq(&alliance.id))
        .select(ActivityRow::as_select())
        .order(activities::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(activities::id.gt(after.clone()));
    }
    if let Some(kind) = f.kind {
        query = query.filter(activities::kind.eq(kind.as_str()));
    }
    if let Some(from) = f.from {
        // Overlaps the range: a multi-day activity counts if any day does.
        query = query.filter(
            activities::ends_on.ge(from).or(activities::ends_on
                .is_null()
                .and(activities::starts_on.ge(from))),
        );
    }
    if let Some(to) = f.to {
        query = query.filter(activities::starts_on.le(to));
    }
    if let Some(key) = &f.organization {
        let org = organizations::find(conn, key)?;
        query = query.filter(
            activities::id.eq_any(
                activity_organizations::table
                    .filter(activity_organizations::organization_id.eq(org.id))
                    .select(activity_organizations::activity_id),
            ),
        );
    }
    if let Some(platform) = &f.platform_id {
        query = query.filter(activities::platform_id.eq(platform.clone()));
    }
    let page = page.finish(query.load(conn)?, |r| &r.id);
    Ok(Page {
        items: into_resources(conn, page.items)?,
        next_cursor: page.next_cursor,
    })
}

/// Stores a new activity and the organisations that took part.
pub fn insert(conn: &mut AnyConnection, a: &Activity) -> Result<(), ApiError> {
    diesel::insert_into(activities::table)
        .values(to_row(a)?)
        .execute(conn)?;
    add_participants(conn, a)
}

pub fn remove(conn: &mut AnyConnection, id: &str) -> Result<(), ApiError> {
    diesel::delete(activities::table.filter(activities::id.eq(id))).execute(conn)?;
    Ok(())
}

fn write_participants(conn: &mut AnyConnection, a: &Activity) -> Result<(), ApiError> {
    diesel::delete(
        activity_organizations::table.filter(activity_organizations::activity_id.eq(&a.id)),
    )
    .execute(conn)?;
    add_participants(conn, a)
}

fn add_participants(conn: &mut AnyConnection, a: &Activity) -> Result<(), ApiError> {
    for org in &a.organizations {
        diesel::insert_into(activity_organizations::table)
            .values((
                activity_organizations::activity_id.eq(&a.id),
                activity_organizations::organization_id.eq(&org.id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

impl Stored for Activity {
    const RESOURCE: &'static str = "activity";
    const NAME: &'static str = "activity";
    super::versioned_fields!();
    fn alliance_id(&self) -> Option<&str> {
        Some(&self.alliance_id)
    }
    fn find(conn: &mut AnyConnection, id: &str) -> Result<Self, ApiError> {
        find(conn, id)
    }
    fn replace(conn: &mut AnyConnection, a: &Self, expected: i64) -> Result<bool, ApiError> {
        let updated = diesel::update(
            activities::table
                .filter(activities::id.eq(&a.id))
                .filter(activities::version.eq(expected)),
        )
        .set(to_row(a)?)
        .execute(conn)?;
        if updated == 1 {
            write_participants(conn, a)?;
        }
        Ok(updated == 1)
    }
}
