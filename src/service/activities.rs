//! Activities: recorded by an alliance's secretariat (or an admin), each
//! counted in the year it starts, so a change to one is refused while that
//! year is approved.

use chrono::Datelike;

use super::access::authorize;
use super::reports::guard_records;
use super::scope::alliance_to_change;
use super::{Precondition, Tx, deleted, update as versioned_update};
use crate::db::{activities, alliances, new_id, organizations, platforms, utc};
use crate::domain::activity::{Activity, ActivityPatch, NewActivity, check};
use crate::domain::alliance::Alliance;
use crate::error::ApiError;

/// A platform of this alliance, by id. Another alliance's platform answers
/// as an unknown one: the caller learns nothing of records outside the
/// alliance it writes to.
fn platform_of(tx: &mut Tx<'_>, alliance: &Alliance, id: &str) -> Result<String, ApiError> {
    match platforms::alliance_of(tx.conn, id)? {
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

pub fn create(tx: &mut Tx<'_>, alliance_key: &str, new: NewActivity) -> Result<Activity, ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    authorize(tx.principal, "create_activity", &alliance, String::new)?;
    let platform_id = new
        .platform_id
        .as_deref()
        .map(|id| platform_of(tx, &alliance, id))
        .transpose()?;
    let named = organizations::named_list(tx.conn, &new.organizations, "organizations")?;
    let now = utc(tx.now());
    let activity = Activity {
        id: new_id(),
        alliance_id: alliance.id.clone(),
        kind: new.kind,
        title: new.title,
        starts_on: new.starts_on,
        ends_on: new.ends_on,
        platform_id,
        organizations: named.summaries,
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
        embedded_versions: named.versions,
    };
    checked(&activity)?;
    // Returned as built: it is what `find` would read back.
    activities::insert(tx.conn, &activity)?;
    guard_records(
        tx.conn,
        &activity.alliance_id,
        Some(&[activity.starts_on.year()]),
    )?;
    tx.created(&activity)?;
    Ok(activity)
}

pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: ActivityPatch,
    pre: &Precondition,
) -> Result<Activity, ApiError> {
    let before = activities::find(tx.conn, id)?;
    let alliance = alliance_to_change(tx.conn, tx.principal, "update_activity", &before)?;
    let after = versioned_update(tx, &before, pre, |tx, after| {
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
                .map(|id| platform_of(tx, &alliance, id))
                .transpose()?;
        }
        if let Some(keys) = patch.organizations {
            after.organizations =
                organizations::named_list(tx.conn, &keys, "organizations")?.summaries;
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
        checked(after)
    })?;
    if after.version != before.version {
        let years = [before.starts_on.year(), after.starts_on.year()];
        guard_records(tx.conn, &after.alliance_id, Some(&years))?;
    }
    Ok(after)
}

/// Deletes an activity recorded by mistake (the audit trail keeps it).
pub fn delete(tx: &mut Tx<'_>, id: &str, pre: &Precondition) -> Result<(), ApiError> {
    let before = activities::find(tx.conn, id)?;
    alliance_to_change(tx.conn, tx.principal, "delete_activity", &before)?;
    pre.check(&before)?;
    activities::remove(tx.conn, &before.id)?;
    guard_records(
        tx.conn,
        &before.alliance_id,
        Some(&[before.starts_on.year()]),
    )?;
    deleted(tx, &before)
}
