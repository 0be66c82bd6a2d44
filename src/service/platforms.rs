//! Platforms (joint labs, training bases, …) of an alliance, recorded by
//! its secretariat (or an admin).

use super::access::authorize;
use super::reports::guard_records;
use super::scope::alliance_to_change;
use super::{Precondition, Tx, deleted, update as versioned_update};
use crate::db::{alliances, memberships, new_id, organizations, platforms, utc};
use crate::domain::alliance::Alliance;
use crate::domain::organization::OrganizationSummary;
use crate::domain::platform::{NewPlatform, Platform, PlatformPatch, check_dates};
use crate::error::ApiError;

/// The host named in a body: a registered organisation that is a current
/// member of the alliance.
fn host(tx: &mut Tx<'_>, alliance: &Alliance, key: &str) -> Result<OrganizationSummary, ApiError> {
    let org = organizations::named(tx.conn, key, "host_organization")?;
    if memberships::open_membership(tx.conn, &alliance.id, &org.id)?.is_none() {
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

/// The platform's own rules: consistent dates, a name unique in the alliance.
fn checked(tx: &mut Tx<'_>, p: &Platform) -> Result<(), ApiError> {
    check_dates(p.status, p.opened_on, p.closed_on)
        .map_err(|(field, message)| ApiError::invalid(field, "inconsistent", message))?;
    match platforms::name_taken_by(tx.conn, p)? {
        Some(other) => Err(ApiError::conflict(
            "name_zh",
            "taken",
            format!("the alliance already has a platform of this name ({other})"),
        )),
        None => Ok(()),
    }
}

pub fn create(tx: &mut Tx<'_>, alliance_key: &str, new: NewPlatform) -> Result<Platform, ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    authorize(tx.principal, "create_platform", &alliance, String::new)?;
    let host = new
        .host_organization
        .as_deref()
        .map(|key| host(tx, &alliance, key))
        .transpose()?;
    let partners = organizations::named_list(tx.conn, &new.partners, "partners")?.summaries;
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
    checked(tx, &platform)?;
    platforms::insert(tx.conn, &platform)?;
    let platform = platforms::find(tx.conn, &platform.id)?;
    guard_records(tx.conn, &platform.alliance_id, None)?;
    tx.created(&platform)?;
    Ok(platform)
}

pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: PlatformPatch,
    pre: &Precondition,
) -> Result<Platform, ApiError> {
    let before = platforms::find(tx.conn, id)?;
    let alliance = alliance_to_change(tx.conn, tx.principal, "update_platform", &before)?;
    let after = versioned_update(tx, &before, pre, |tx, after| {
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
                .map(|key| host(tx, &alliance, key))
                .transpose()?;
        }
        if let Some(keys) = patch.partners {
            after.partners = organizations::named_list(tx.conn, &keys, "partners")?.summaries;
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
        checked(tx, after)
    })?;
    if after.version != before.version {
        guard_records(tx.conn, &after.alliance_id, None)?;
    }
    Ok(after)
}

/// Deletes a platform recorded by mistake; one that activities name is
/// kept (close it instead).
pub fn delete(tx: &mut Tx<'_>, id: &str, pre: &Precondition) -> Result<(), ApiError> {
    let before = platforms::find(tx.conn, id)?;
    alliance_to_change(tx.conn, tx.principal, "delete_platform", &before)?;
    pre.check(&before)?;
    let used = platforms::activities_naming(tx.conn, &before.id)?;
    if used > 0 {
        return Err(ApiError::Conflict {
            detail: format!(
                "{used} activity record(s) name this platform; set its status to `closed` instead"
            ),
            errors: vec![],
        });
    }
    platforms::remove(tx.conn, &before.id)?;
    guard_records(tx.conn, &before.alliance_id, None)?;
    deleted(tx, &before)
}
