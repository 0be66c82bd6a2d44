//! Queries of platforms and their partners.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{activities, platform_partners, platforms};
use super::{AnyConnection, Backend, Stored, alliances, organizations, stored, utc};
use crate::domain::Name;
use crate::domain::organization::OrganizationSummary;
use crate::domain::platform::{Platform, PlatformKind, PlatformStatus};
use crate::error::ApiError;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = platforms, treat_none_as_null = true)]
struct PlatformRow {
    id: String,
    alliance_id: String,
    kind: String,
    name_zh: String,
    name_en: Option<String>,
    host_organization_id: Option<String>,
    focus_areas: String,
    status: String,
    opened_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
    description: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Turns rows into platforms, loading hosts and partners in two queries.
fn into_resources(
    conn: &mut AnyConnection,
    rows: Vec<PlatformRow>,
) -> Result<Vec<Platform>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let partner_rows: Vec<(String, String)> = platform_partners::table
        .filter(platform_partners::platform_id.eq_any(&ids))
        .select((
            platform_partners::platform_id,
            platform_partners::organization_id,
        ))
        .order((
            platform_partners::platform_id,
            platform_partners::organization_id,
        ))
        .load(conn)?;
    let mut org_ids: Vec<String> = partner_rows.iter().map(|(_, o)| o.clone()).collect();
    org_ids.extend(rows.iter().filter_map(|r| r.host_organization_id.clone()));
    let orgs = organizations::summaries(conn, &org_ids)?;
    let mut partners: HashMap<String, Vec<String>> = HashMap::new();
    for (platform, org) in partner_rows {
        partners.entry(platform).or_default().push(org);
    }
    let summary = |id: &str| -> Result<(OrganizationSummary, i64), ApiError> {
        orgs.get(id)
            .cloned()
            .ok_or_else(|| ApiError::Internal(format!("organization {id} is missing")))
    };
    rows.into_iter()
        .map(|r| {
            let mut embedded = 0;
            let host = match &r.host_organization_id {
                Some(id) => {
                    let (s, v) = summary(id)?;
                    embedded += v;
                    Some(s)
                }
                None => None,
            };
            let partners = partners
                .remove(&r.id)
                .unwrap_or_default()
                .iter()
                .map(|id| {
                    let (s, v) = summary(id)?;
                    embedded += v;
                    Ok(s)
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok(Platform {
                kind: stored("kind", r.kind.parse())?,
                name_zh: stored("name_zh", Name::parse(&r.name_zh))?,
                name_en: stored("name_en", r.name_en.as_deref().map(Name::parse).transpose())?,
                focus_areas: stored("focus_areas", serde_json::from_str(&r.focus_areas))?,
                status: stored("status", r.status.parse())?,
                host_organization: host,
                partners,
                id: r.id,
                alliance_id: r.alliance_id,
                opened_on: r.opened_on,
                closed_on: r.closed_on,
                description: r.description,
                version: r.version,
                created_at: utc(r.created_at),
                updated_at: utc(r.updated_at),
                embedded_versions: embedded,
            })
        })
        .collect()
}

fn to_row(p: &Platform) -> Result<PlatformRow, ApiError> {
    Ok(PlatformRow {
        id: p.id.clone(),
        alliance_id: p.alliance_id.clone(),
        kind: p.kind.as_str().to_owned(),
        name_zh: p.name_zh.to_string(),
        name_en: p.name_en.as_ref().map(|n| n.to_string()),
        host_organization_id: p.host_organization.as_ref().map(|o| o.id.clone()),
        focus_areas: serde_json::to_string(&p.focus_areas).map_err(ApiError::internal)?,
        status: p.status.as_str().to_owned(),
        opened_on: p.opened_on,
        closed_on: p.closed_on,
        description: p.description.clone(),
        version: p.version,
        created_at: p.created_at.naive_utc(),
        updated_at: p.updated_at.naive_utc(),
    })
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Platform, ApiError> {
    let row = platforms::table
        .filter(platforms::id.eq(id))
        .select(PlatformRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no platform `{id}`")))?;
    Ok(into_resources(conn, vec![row])?.remove(0))
}

#[derive(Debug, Clone, Default)]
pub struct PlatformFilter {
    pub kind: Option<PlatformKind>,
    pub status: Option<PlatformStatus>,
}

/// An alliance's platforms, oldest first.
pub fn list(
    conn: &mut AnyConnection,
    alliance_key: &str,
    f: &PlatformFilter,
    page: &PageRequest,
) -> Result<Page<Platform>, ApiError> {
    let alliance = alliances::find(conn, alliance_key)?;
    let mut query = platforms::table
        .filter(platforms::alliance_id.eq(&alliance.id))
        .select(PlatformRow::as_select())
        .order(platforms::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(platforms::id.gt(after.clone()));
    }
    if let Some(kind) = f.kind {
        query = query.filter(platforms::kind.eq(kind.as_str()));
    }
    if let Some(status) = f.status {
        query = query.filter(platforms::status.eq(status.as_str()));
    }
    let page = page.finish(query.load(conn)?, |r| &r.id);
    Ok(Page {
        items: into_resources(conn, page.items)?,
        next_cursor: page.next_cursor,
    })
}

/// Another platform of the alliance with this Chinese name (names are
/// unique within an alliance).
pub fn name_taken_by(conn: &mut AnyConnection, p: &Platform) -> Result<Option<String>, ApiError> {
    Ok(platforms::table
        .filter(platforms::alliance_id.eq(&p.alliance_id))
        .filter(platforms::name_zh.eq(p.name_zh.as_str()))
        .filter(platforms::id.ne(&p.id))
        .select(platforms::id)
        .first(conn)
        .optional()?)
}

/// The alliance (id) of a platform, if there is one with this id.
pub fn alliance_of(conn: &mut AnyConnection, id: &str) -> Result<Option<String>, ApiError> {
    Ok(platforms::table
        .filter(platforms::id.eq(id))
        .select(platforms::alliance_id)
        .first(conn)
        .optional()?)
}

/// How many activities name this platform.
pub fn activities_naming(conn: &mut AnyConnection, id: &str) -> Result<i64, ApiError> {
    Ok(activities::table
        .filter(activities::platform_id.eq(id))
        .count()
        .get_result(conn)?)
}

/// Stores a new platform and its partners.
pub fn insert(conn: &mut AnyConnection, p: &Platform) -> Result<(), ApiError> {
    diesel::insert_into(platforms::table)
        .values(to_row(p)?)
        .execute(conn)?;
    write_partners(conn, p)
}

pub fn remove(conn: &mut AnyConnection, id: &str) -> Result<(), ApiError> {
    diesel::delete(platforms::table.filter(platforms::id.eq(id))).execute(conn)?;
    Ok(())
}

fn write_partners(conn: &mut AnyConnection, p: &Platform) -> Result<(), ApiError> {
    diesel::delete(platform_partners::table.filter(platform_partners::platform_id.eq(&p.id)))
        .execute(conn)?;
    for org in &p.partners {
        diesel::insert_into(platform_partners::table)
            .values((
                platform_partners::platform_id.eq(&p.id),
                platform_partners::organization_id.eq(&org.id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

impl Stored for Platform {
    const RESOURCE: &'static str = "platform";
    const NAME: &'static str = "platform";
    super::versioned_fields!();
    fn alliance_id(&self) -> Option<&str> {
        Some(&self.alliance_id)
    }
    fn find(conn: &mut AnyConnection, id: &str) -> Result<Self, ApiError> {
        find(conn, id)
    }
    fn replace(conn: &mut AnyConnection, p: &Self, expected: i64) -> Result<bool, ApiError> {
        let updated = diesel::update(
            platforms::table
                .filter(platforms::id.eq(&p.id))
                .filter(platforms::version.eq(expected)),
        )
        .set(to_row(p)?)
        .execute(conn)?;
        if updated == 1 {
            write_partners(conn, p)?;
        }
        Ok(updated == 1)
    }
}
