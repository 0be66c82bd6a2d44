//! Queries of platforms and their partners.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{activities, platform_partners, platforms};
use super::visibility;
use super::write::{Action, Change, Precondition, Tx, unchanged};
use super::{AnyConnection, Backend, alliances, memberships, new_id, organizations, stored, utc};
use crate::domain::Name;
use crate::domain::alliance::Alliance;
use crate::domain::organization::OrganizationSummary;
use crate::domain::platform::{
    NewPlatform, Platform, PlatformKind, PlatformPatch, PlatformStatus, check_dates,
};
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

/// The host named in a body: a registered organisation that is a current
/// member of the alliance.
fn host(
    conn: &mut AnyConnection,
    alliance: &Alliance,
    key: &str,
) -> Result<OrganizationSummary, ApiError> {
    let org = organizations::named(conn, key, "host_organization")?;
    if memberships::open_membership(conn, &alliance.id, &org.id)?.is_none() {
        return Err(ApiError::invalid(
            "host_organization",
            "not_a_member",
            format!(
                "`{}` is not a current member of `{}`",
                org.slug, alliance.slug
            ),
        ));
    }
    Ok(org.summary())
}

fn check(p: &Platform) -> Result<(), ApiError> {
    check_dates(p.status, p.opened_on, p.closed_on)
        .map_err(|(field, message)| ApiError::invalid(field, "inconsistent", message))
}

fn ensure_unique_name(conn: &mut AnyConnection, p: &Platform) -> Result<(), ApiError> {
    let taken: Option<String> = platforms::table
        .filter(platforms::alliance_id.eq(&p.alliance_id))
        .filter(platforms::name_zh.eq(p.name_zh.as_str()))
        .filter(platforms::id.ne(&p.id))
        .select(platforms::id)
        .first(conn)
        .optional()?;
    match taken {
        Some(other) => Err(ApiError::conflict(
            "name_zh",
            "taken",
            format!("the alliance already has a platform of this name ({other})"),
        )),
        None => Ok(()),
    }
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

pub fn create(tx: &mut Tx<'_>, alliance_key: &str, new: NewPlatform) -> Result<Platform, ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    tx.principal
        .ensure_alliance_writer(&alliance.id, alliance.slug.as_str())?;
    let host = new
        .host_organization
        .as_deref()
        .map(|key| host(tx.conn, &alliance, key))
        .transpose()?;
    let partners = organizations::named_list(tx.conn, &new.partners, "partners")?;
    let now = utc(tx.now());
    let platform = Platform {
        id: new_id(),
        alliance_id: alliance.id.clone(),
        kind: new.kind,
        name_zh: new.name_zh,
        name_en: new.name_en,
        host_organization: host,
        partners,
        focus_areas: new
            .focus_areas
            .iter()
            .map(|a| a.trim().to_owned())
            .collect(),
        status: new.status,
        opened_on: new.opened_on,
        closed_on: new.closed_on,
        description: new.description,
        version: 1,
        created_at: now,
        updated_at: now,
        embedded_versions: 0,
    };
    check(&platform)?;
    ensure_unique_name(tx.conn, &platform)?;
    diesel::insert_into(platforms::table)
        .values(to_row(&platform)?)
        .execute(tx.conn)?;
    write_partners(tx.conn, &platform)?;
    let platform = find(tx.conn, &platform.id)?;
    crate::db::reports::guard_records(tx.conn, &platform.alliance_id, None)?;
    tx.record(Change {
        action: Action::Created,
        resource_type: "platform",
        resource_id: &platform.id,
        alliance_id: Some(&platform.alliance_id),
        version: platform.version,
        before: None,
        after: Some(&platform),
    })?;
    Ok(platform)
}

pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: PlatformPatch,
    pre: &Precondition,
) -> Result<Platform, ApiError> {
    let before = find(tx.conn, id)?;
    let alliance = visibility::alliance_to_change(tx.conn, tx.principal, &before)?;
    pre.check(&before)?;
    let mut after = before.clone();
    if let Some(kind) = patch.kind {
        after.kind = kind;
    }
    if let Some(name) = patch.name_zh {
        after.name_zh = name;
    }
    if let Some(name) = patch.name_en {
        after.name_en = name;
    }
    if let Some(key) = patch.host_organization {
        after.host_organization = key
            .as_deref()
            .map(|key| host(tx.conn, &alliance, key))
            .transpose()?;
    }
    if let Some(keys) = patch.partners {
        after.partners = organizations::named_list(tx.conn, &keys, "partners")?;
    }
    if let Some(areas) = patch.focus_areas {
        after.focus_areas = areas.iter().map(|a| a.trim().to_owned()).collect();
    }
    if let Some(status) = patch.status {
        after.status = status;
    }
    if let Some(d) = patch.opened_on {
        after.opened_on = d;
    }
    if let Some(d) = patch.closed_on {
        after.closed_on = d;
    }
    if let Some(d) = patch.description {
        after.description = d;
    }
    if unchanged(&before, &after) {
        return Ok(before);
    }
    check(&after)?;
    ensure_unique_name(tx.conn, &after)?;
    after.version += 1;
    after.updated_at = utc(tx.now());
    let updated = diesel::update(
        platforms::table
            .filter(platforms::id.eq(&before.id))
            .filter(platforms::version.eq(before.version)),
    )
    .set(to_row(&after)?)
    .execute(tx.conn)?;
    if updated == 0 {
        return Err(ApiError::PreconditionFailed(
            "the platform changed while this request ran; retry".into(),
        ));
    }
    write_partners(tx.conn, &after)?;
    let after = find(tx.conn, &after.id)?;
    crate::db::reports::guard_records(tx.conn, &after.alliance_id, None)?;
    tx.record(Change {
        action: Action::Updated,
        resource_type: "platform",
        resource_id: &after.id,
        alliance_id: Some(&after.alliance_id),
        version: after.version,
        before: Some(&before),
        after: Some(&after),
    })?;
    Ok(after)
}

/// Deletes a platform recorded by mistake; one that activities name is
/// kept (close it instead).
pub fn delete(tx: &mut Tx<'_>, id: &str, pre: &Precondition) -> Result<(), ApiError> {
    let before = find(tx.conn, id)?;
    visibility::alliance_to_change(tx.conn, tx.principal, &before)?;
    pre.check(&before)?;
    let used: i64 = activities::table
        .filter(activities::platform_id.eq(&before.id))
        .count()
        .get_result(tx.conn)?;
    if used > 0 {
        return Err(ApiError::Conflict {
            detail: format!(
                "{used} activity record(s) name this platform; set its status to `closed` instead"
            ),
            errors: vec![],
        });
    }
    diesel::delete(platforms::table.filter(platforms::id.eq(&before.id))).execute(tx.conn)?;
    crate::db::reports::guard_records(tx.conn, &before.alliance_id, None)?;
    tx.record(Change {
        action: Action::Deleted,
        resource_type: "platform",
        resource_id: &before.id,
        alliance_id: Some(&before.alliance_id),
        version: before.version + 1,
        before: Some(&before),
        after: None,
    })?;
    Ok(())
}

visibility::alliance_record!(Platform, "platform");
