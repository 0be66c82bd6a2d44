//! Queries of activities and the organisations that took part.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{activities, activity_organizations, platforms};
use super::visibility;
use super::write::{Action, Change, Precondition, Tx, unchanged};
use super::{AnyConnection, Backend, alliances, new_id, organizations, stored, utc};
use crate::domain::activity::{
    Activity, ActivityFigures, ActivityKind, ActivityPatch, NewActivity, check,
};
use crate::domain::alliance::Alliance;
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

/// A platform of this alliance, by id.
fn platform_of(
    conn: &mut AnyConnection,
    alliance: &Alliance,
    id: &str,
) -> Result<String, ApiError> {
    let owner: Option<String> = platforms::table
        .filter(platforms::id.eq(id))
        .select(platforms::alliance_id)
        .first(conn)
        .optional()?;
    // Another alliance's platform answers as an unknown one: the caller
    // learns nothing of records outside the alliance it writes to.
    match owner {
        Some(a) if a == alliance.id => Ok(id.to_owned()),
        _ => Err(ApiError::invalid(
            "platform_id",
            "not_found",
            format!("this alliance has no platform `{id}`"),
        )),
    }
}

fn checked(a: &Activity) -> Result<(), ApiError> {
    check(a).map_err(|(field, message)| ApiError::invalid(&field, "inconsistent", message))
}

fn write_participants(conn: &mut AnyConnection, a: &Activity) -> Result<(), ApiError> {
    diesel::delete(
        activity_organizations::table.filter(activity_organizations::activity_id.eq(&a.id)),
    )
    .execute(conn)?;
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

pub fn create(tx: &mut Tx<'_>, alliance_key: &str, new: NewActivity) -> Result<Activity, ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    tx.principal
        .ensure_alliance_writer(&alliance.id, alliance.slug.as_str())?;
    let platform_id = new
        .platform_id
        .as_deref()
        .map(|id| platform_of(tx.conn, &alliance, id))
        .transpose()?;
    let organizations = organizations::named_list(tx.conn, &new.organizations, "organizations")?;
    let now = utc(tx.now());
    let activity = Activity {
        id: new_id(),
        alliance_id: alliance.id.clone(),
        kind: new.kind,
        title: new.title,
        starts_on: new.starts_on,
        ends_on: new.ends_on,
        platform_id,
        organizations,
        figures: new.figures,
        research_status: new.research_status,
        open_call: new.open_call,
        resolutions: new
            .resolutions
            .iter()
            .map(|r| r.trim().to_owned())
            .collect(),
        outcome: new.outcome,
        evidence: new.evidence,
        version: 1,
        created_at: now,
        updated_at: now,
        embedded_versions: 0,
    };
    checked(&activity)?;
    diesel::insert_into(activities::table)
        .values(to_row(&activity)?)
        .execute(tx.conn)?;
    write_participants(tx.conn, &activity)?;
    let activity = find(tx.conn, &activity.id)?;
    crate::db::reports::guard_records(
        tx.conn,
        &activity.alliance_id,
        Some(&[activity.starts_on.year()]),
    )?;
    tx.record(Change {
        action: Action::Created,
        resource_type: "activity",
        resource_id: &activity.id,
        alliance_id: Some(&activity.alliance_id),
        version: activity.version,
        before: None,
        after: Some(&activity),
    })?;
    Ok(activity)
}

pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: ActivityPatch,
    pre: &Precondition,
) -> Result<Activity, ApiError> {
    let before = find(tx.conn, id)?;
    let alliance = visibility::alliance_to_change(tx.conn, tx.principal, &before)?;
    pre.check(&before)?;
    let mut after = before.clone();
    if let Some(v) = patch.title {
        after.title = v;
    }
    if let Some(v) = patch.starts_on {
        after.starts_on = v;
    }
    if let Some(v) = patch.ends_on {
        after.ends_on = v;
    }
    if let Some(v) = patch.platform_id {
        after.platform_id = v
            .as_deref()
            .map(|id| platform_of(tx.conn, &alliance, id))
            .transpose()?;
    }
    if let Some(keys) = patch.organizations {
        after.organizations = organizations::named_list(tx.conn, &keys, "organizations")?;
    }
    if let Some(v) = patch.figures {
        after.figures = v;
    }
    if let Some(v) = patch.research_status {
        after.research_status = v;
    }
    if let Some(v) = patch.open_call {
        after.open_call = v;
    }
    if let Some(v) = patch.resolutions {
        after.resolutions = v.iter().map(|r| r.trim().to_owned()).collect();
    }
    if let Some(v) = patch.outcome {
        after.outcome = v;
    }
    if let Some(v) = patch.evidence {
        after.evidence = v;
    }
    if unchanged(&before, &after) {
        return Ok(before);
    }
    checked(&after)?;
    after.version += 1;
    after.updated_at = utc(tx.now());
    let updated = diesel::update(
        activities::table
            .filter(activities::id.eq(&before.id))
            .filter(activities::version.eq(before.version)),
    )
    .set(to_row(&after)?)
    .execute(tx.conn)?;
    if updated == 0 {
        return Err(ApiError::PreconditionFailed(
            "the activity changed while this request ran; retry".into(),
        ));
    }
    write_participants(tx.conn, &after)?;
    let after = find(tx.conn, &after.id)?;
    let years = [before.starts_on.year(), after.starts_on.year()];
    crate::db::reports::guard_records(tx.conn, &after.alliance_id, Some(&years))?;
    tx.record(Change {
        action: Action::Updated,
        resource_type: "activity",
        resource_id: &after.id,
        alliance_id: Some(&after.alliance_id),
        version: after.version,
        before: Some(&before),
        after: Some(&after),
    })?;
    Ok(after)
}

/// Deletes an activity recorded by mistake (the audit trail keeps it).
pub fn delete(tx: &mut Tx<'_>, id: &str, pre: &Precondition) -> Result<(), ApiError> {
    let before = find(tx.conn, id)?;
    visibility::alliance_to_change(tx.conn, tx.principal, &before)?;
    pre.check(&before)?;
    diesel::delete(activities::table.filter(activities::id.eq(&before.id))).execute(tx.conn)?;
    crate::db::reports::guard_records(
        tx.conn,
        &before.alliance_id,
        Some(&[before.starts_on.year()]),
    )?;
    tx.record(Change {
        action: Action::Deleted,
        resource_type: "activity",
        resource_id: &before.id,
        alliance_id: Some(&before.alliance_id),
        version: before.version + 1,
        before: Some(&before),
        after: None,
    })?;
    Ok(())
}

visibility::alliance_record!(Activity, "activity");
