//! Memberships: which organisations belong to an alliance, in which role,
//! since when. A membership is never deleted: leaving closes it, ends the
//! organisation's council seats and is kept in its history.

use chrono::NaiveDate;

use super::access::authorize;
use super::reports::guard_records;
use super::scope::{alliance_to_change, readable_alliance, visibility};
use super::{Precondition, Tx, update as versioned_update};
use crate::auth::Principal;
use crate::db::journal::{Action, Change};
use crate::db::memberships::{self, HistoryRow, MembershipFilter, Owner};
use crate::db::{AnyConnection, alliances, new_id, organizations, utc};
use crate::domain::alliance::{Alliance, AllianceStatus};
use crate::domain::membership::{
    Membership, MembershipChangeField, MembershipPatch, MembershipStatus, NewMembership,
};
use crate::domain::organization::Organization;
use crate::error::ApiError;

/// The filter kept to what the caller may read: an alliance's list is the
/// caller's to read whole (or 403); an organisation's keeps to the
/// alliances whose records the caller reads.
pub fn filter_for(
    conn: &mut AnyConnection,
    caller: &Principal,
    owner: &Owner,
    mut filter: MembershipFilter,
) -> Result<MembershipFilter, ApiError> {
    match owner {
        Owner::Alliance(key) => {
            readable_alliance(conn, caller, key)?;
        }
        Owner::Organization(_) => {
            filter.alliances = visibility(conn, caller)?
                .alliance_ids()
                .map(<[String]>::to_vec);
        }
    }
    Ok(filter)
}

pub fn create(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    new: NewMembership,
) -> Result<Membership, ApiError> {
    let alliance = writable_alliance(tx, alliance_key)?;
    let org = match organizations::find(tx.conn, &new.organization_id) {
        Err(ApiError::NotFound(msg)) => {
            return Err(ApiError::invalid("organization_id", "not_found", msg));
        }
        other => other?,
    };
    if let Some(existing) = memberships::open_membership(tx.conn, &alliance.id, &org.id)? {
        return Err(ApiError::conflict(
            "organization_id",
            "conflict",
            format!(
                "`{}` already holds membership {existing} in `{}`",
                org.slug, alliance.slug
            ),
        ));
    }
    let membership = admitted(tx, &alliance.id, &org, new);
    let history = joined(tx, &membership);
    memberships::insert(tx.conn, std::slice::from_ref(&membership), &[history])?;
    guard_records(tx.conn, &membership.alliance_id, None)?;
    tx.created(&membership)?;
    Ok(membership)
}

/// Admits many organisations with multi-row inserts (bulk imports). The
/// caller has checked that none holds an open membership of the alliance;
/// the unique index refuses the whole batch if one does. The approved
/// years are checked once, after all rows are in.
pub fn create_many(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    news: Vec<(&Organization, NewMembership)>,
) -> Result<Vec<Membership>, ApiError> {
    let alliance = writable_alliance(tx, alliance_key)?;
    let all: Vec<Membership> = news
        .into_iter()
        .map(|(org, new)| admitted(tx, &alliance.id, org, new))
        .collect();
    let history: Vec<_> = all.iter().map(|m| joined(tx, m)).collect();
    memberships::insert(tx.conn, &all, &history)?;
    guard_records(tx.conn, &alliance.id, None)?;
    let changes: Vec<_> = all
        .iter()
        .map(|m| Change {
            action: Action::Created,
            resource_type: "membership",
            resource_id: &m.id,
            alliance_id: Some(&m.alliance_id),
            version: m.version,
            before: None,
            after: Some(m),
        })
        .collect();
    tx.record_all(&changes)?;
    Ok(all)
}

/// The alliance, if the caller may admit members to it and it admits any.
fn writable_alliance(tx: &mut Tx<'_>, key: &str) -> Result<Alliance, ApiError> {
    let alliance = alliances::find(tx.conn, key)?;
    authorize(tx.principal, "create_membership", &alliance, String::new)?;
    if alliance.status == AllianceStatus::Dissolved {
        return Err(ApiError::Conflict {
            detail: format!("the alliance `{}` is dissolved", alliance.slug),
            errors: vec![],
        });
    }
    Ok(alliance)
}

/// A new, active membership of `org`.
fn admitted(tx: &Tx<'_>, alliance_id: &str, org: &Organization, new: NewMembership) -> Membership {
    let now = utc(tx.now());
    Membership {
        id: new_id(),
        alliance_id: alliance_id.to_owned(),
        organization_id: org.id.clone(),
        organization: org.summary(),
        organization_version: org.version,
        role: new.role,
        status: MembershipStatus::Active,
        joined_on: new.joined_on,
        left_on: None,
        note: new.note,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// The history row of a membership's start.
fn joined(tx: &Tx<'_>, m: &Membership) -> HistoryRow {
    history_row(
        tx,
        &m.id,
        MembershipChangeField::Joined,
        None,
        m.role.as_str(),
        Some(m.joined_on),
        None,
    )
}

pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: MembershipPatch,
    pre: &Precondition,
) -> Result<Membership, ApiError> {
    let before = memberships::find(tx.conn, id)?;
    alliance_to_change(tx.conn, tx.principal, "update_membership", &before)?;
    let reason = patch.reason.clone();
    let after = versioned_update(tx, &before, pre, |_, after| {
        patch
            .apply(after)
            .map_err(|(field, rule)| ApiError::conflict(field, "conflict", rule.to_string()))
    })?;
    if after.version == before.version {
        return Ok(after);
    }
    let mut history = vec![];
    if after.role != before.role {
        history.push(history_row(
            tx,
            &after.id,
            MembershipChangeField::Role,
            Some(before.role.as_str()),
            after.role.as_str(),
            None,
            reason.clone(),
        ));
    }
    if after.status == MembershipStatus::Left
        && let Some(left_on) = after.left_on
    {
        super::council::end_for_leaving(tx, &after.alliance_id, &after.organization_id, left_on)?;
    }
    if after.status != before.status {
        history.push(history_row(
            tx,
            &after.id,
            MembershipChangeField::Status,
            Some(before.status.as_str()),
            after.status.as_str(),
            after
                .left_on
                .filter(|_| after.status == MembershipStatus::Left),
            reason,
        ));
    }
    memberships::add_history(tx.conn, &history)?;
    guard_records(tx.conn, &after.alliance_id, None)?;
    Ok(after)
}

fn history_row(
    tx: &Tx<'_>,
    membership_id: &str,
    field: MembershipChangeField,
    from: Option<&str>,
    to: &str,
    effective_on: Option<NaiveDate>,
    reason: Option<String>,
) -> HistoryRow {
    HistoryRow {
        id: new_id(),
        membership_id: membership_id.to_owned(),
        at: tx.now(),
        actor: tx.principal.subject.clone(),
        field: field.as_str().to_owned(),
        from_value: from.map(str::to_owned),
        to_value: to.to_owned(),
        effective_on,
        reason,
    }
}
