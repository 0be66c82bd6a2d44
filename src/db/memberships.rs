//! Queries of memberships. A membership is never deleted: leaving closes it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{membership_changes, memberships, organizations};
use super::visibility::{self, Visibility};
use super::write::{Action, Change, Precondition, Tx, unchanged};
use super::{AnyConnection, Backend, alliances, insert_all, new_id, stored, utc};
use crate::auth::Principal;
use crate::domain::alliance::{Alliance, AllianceStatus};
use crate::domain::membership::{
    Membership, MembershipChange, MembershipChangeField, MembershipPatch, MembershipRole,
    MembershipStatus, NewMembership,
};
use crate::domain::organization::{Organization, OrganizationSummary};
use crate::domain::{Name, Slug};
use crate::error::ApiError;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = memberships, treat_none_as_null = true, treat_none_as_default_value = false)]
struct MembershipRow {
    id: String,
    alliance_id: String,
    organization_id: String,
    role: String,
    status: String,
    joined_on: NaiveDate,
    left_on: Option<NaiveDate>,
    note: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = organizations)]
struct SummaryRow {
    id: String,
    slug: String,
    kind: String,
    name_zh: String,
    name_en: Option<String>,
    version: i64,
}

fn into_resource((m, o): (MembershipRow, SummaryRow)) -> Result<Membership, ApiError> {
    Ok(Membership {
        organization: OrganizationSummary {
            id: o.id,
            slug: stored("slug", Slug::parse(&o.slug))?,
            kind: stored("kind", o.kind.parse())?,
            name_zh: stored("name_zh", Name::parse(&o.name_zh))?,
            name_en: stored("name_en", o.name_en.as_deref().map(Name::parse).transpose())?,
        },
        organization_version: o.version,
        role: stored("role", m.role.parse())?,
        status: stored("status", m.status.parse())?,
        id: m.id,
        alliance_id: m.alliance_id,
        organization_id: m.organization_id,
        joined_on: m.joined_on,
        left_on: m.left_on,
        note: m.note,
        version: m.version,
        created_at: utc(m.created_at),
        updated_at: utc(m.updated_at),
    })
}

fn to_row(m: &Membership) -> MembershipRow {
    MembershipRow {
        id: m.id.clone(),
        alliance_id: m.alliance_id.clone(),
        organization_id: m.organization_id.clone(),
        role: m.role.as_str().to_owned(),
        status: m.status.as_str().to_owned(),
        joined_on: m.joined_on,
        left_on: m.left_on,
        note: m.note.clone(),
        version: m.version,
        created_at: m.created_at.naive_utc(),
        updated_at: m.updated_at.naive_utc(),
    }
}

/// Filters of a membership list.
#[derive(Debug, Clone, Default)]
pub struct MembershipFilter {
    pub role: Option<MembershipRole>,
    pub status: Option<MembershipStatus>,
    pub updated_since: Option<NaiveDateTime>,
    /// Only memberships of these alliances (ids); all when `None`.
    pub alliances: Option<Vec<String>>,
}

impl MembershipFilter {
    /// The filter kept to what the caller may read: an alliance's list is
    /// the caller's to read whole (or 403); an organisation's keeps to the
    /// alliances whose records the caller reads.
    pub fn for_caller(
        mut self,
        conn: &mut AnyConnection,
        caller: &Principal,
        owner: &Owner,
    ) -> Result<Self, ApiError> {
        match owner {
            Owner::Alliance(key) => {
                visibility::readable_alliance(conn, caller, key)?;
            }
            Owner::Organization(_) => {
                self.alliances = Visibility::of_caller(conn, caller)?
                    .alliance_ids()
                    .map(<[String]>::to_vec);
            }
        }
        Ok(self)
    }
}

/// Whose memberships a list shows: an alliance or an organisation, by id or slug.
#[derive(Debug, Clone)]
pub enum Owner {
    Alliance(String),
    Organization(String),
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Membership, ApiError> {
    let found = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::id.eq(id))
        .select((MembershipRow::as_select(), SummaryRow::as_select()))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no membership `{id}`")))?;
    into_resource(found)
}

pub fn list(
    conn: &mut AnyConnection,
    owner: &Owner,
    f: &MembershipFilter,
    page: &PageRequest,
) -> Result<Page<Membership>, ApiError> {
    let mut query = memberships::table
        .inner_join(organizations::table)
        .select((MembershipRow::as_select(), SummaryRow::as_select()))
        .order(memberships::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    query = match owner {
        Owner::Alliance(key) => {
            query.filter(memberships::alliance_id.eq(alliances::find(conn, key)?.id))
        }
        Owner::Organization(key) => {
            query.filter(memberships::organization_id.eq(super::organizations::find(conn, key)?.id))
        }
    };
    if let Some(after) = &page.after {
        query = query.filter(memberships::id.gt(after.clone()));
    }
    if let Some(ids) = &f.alliances {
        query = query.filter(memberships::alliance_id.eq_any(ids.clone()));
    }
    if let Some(role) = f.role {
        query = query.filter(memberships::role.eq(role.as_str()));
    }
    if let Some(status) = f.status {
        query = query.filter(memberships::status.eq(status.as_str()));
    }
    if let Some(since) = f.updated_since {
        query = query.filter(memberships::updated_at.ge(since));
    }
    let rows = query.load::<(MembershipRow, SummaryRow)>(conn)?;
    let page = page.finish(rows, |(m, _)| &m.id);
    let items = page
        .items
        .into_iter()
        .map(into_resource)
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// Whether the organisation holds a membership that is not closed.
pub(crate) fn open_membership(
    conn: &mut AnyConnection,
    alliance_id: &str,
    org_id: &str,
) -> Result<Option<String>, ApiError> {
    Ok(memberships::table
        .filter(memberships::alliance_id.eq(alliance_id))
        .filter(memberships::organization_id.eq(org_id))
        .filter(memberships::status.ne(MembershipStatus::Left.as_str()))
        .select(memberships::id)
        .first(conn)
        .optional()?)
}

pub fn create(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    new: NewMembership,
) -> Result<Membership, ApiError> {
    let alliance = writable_alliance(tx, alliance_key)?;
    let org = match super::organizations::find(tx.conn, &new.organization_id) {
        Err(ApiError::NotFound(msg)) => {
            return Err(ApiError::invalid("organization_id", "not_found", msg));
        }
        other => other?,
    };
    if let Some(existing) = open_membership(tx.conn, &alliance.id, &org.id)? {
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
    diesel::insert_into(memberships::table)
        .values(to_row(&membership))
        .execute(tx.conn)?;
    diesel::insert_into(membership_changes::table)
        .values(joined(tx, &membership))
        .execute(tx.conn)?;
    crate::db::reports::guard_records(tx.conn, &membership.alliance_id, None)?;
    tx.record(created(&membership))?;
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
    let rows: Vec<_> = all.iter().map(to_row).collect();
    insert_all!(tx.conn, memberships::table, &rows);
    let history: Vec<_> = all.iter().map(|m| joined(tx, m)).collect();
    insert_all!(tx.conn, membership_changes::table, &history);
    crate::db::reports::guard_records(tx.conn, &alliance.id, None)?;
    let changes: Vec<_> = all.iter().map(created).collect();
    tx.record_all(&changes)?;
    Ok(all)
}

/// The alliance, if the caller may admit members to it and it admits any.
fn writable_alliance(tx: &mut Tx<'_>, key: &str) -> Result<Alliance, ApiError> {
    let alliance = alliances::find(tx.conn, key)?;
    tx.principal
        .ensure_alliance_writer(&alliance.id, alliance.slug.as_str())?;
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
fn joined(tx: &Tx<'_>, m: &Membership) -> ChangeRow {
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

fn created(m: &Membership) -> Change<'_, Membership> {
    Change {
        action: Action::Created,
        resource_type: "membership",
        resource_id: &m.id,
        alliance_id: Some(&m.alliance_id),
        version: m.version,
        before: None,
        after: Some(m),
    }
}

pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: MembershipPatch,
    pre: &Precondition,
) -> Result<Membership, ApiError> {
    let before = find(tx.conn, id)?;
    visibility::alliance_to_change(tx.conn, tx.principal, &before)?;
    pre.check(&before)?;
    let mut after = before.clone();
    let reason = patch.reason.clone();
    match patch.apply(&mut after) {
        Ok(()) if unchanged(&before, &after) => return Ok(before),
        Ok(()) => {}
        Err((field, rule)) => return Err(ApiError::conflict(field, "conflict", rule.to_string())),
    }
    after.version += 1;
    after.updated_at = utc(tx.now());
    let updated = diesel::update(
        memberships::table
            .filter(memberships::id.eq(&before.id))
            .filter(memberships::version.eq(before.version)),
    )
    .set(to_row(&after))
    .execute(tx.conn)?;
    if updated == 0 {
        return Err(ApiError::PreconditionFailed(
            "the membership changed while this request ran; retry".into(),
        ));
    }
    if after.role != before.role {
        add_history(
            tx,
            &after.id,
            MembershipChangeField::Role,
            Some(before.role.as_str()),
            after.role.as_str(),
            None,
            reason.clone(),
        )?;
    }
    if after.status == MembershipStatus::Left
        && let Some(left_on) = after.left_on
    {
        super::council::end_for_leaving(tx, &after.alliance_id, &after.organization_id, left_on)?;
    }
    if after.status != before.status {
        add_history(
            tx,
            &after.id,
            MembershipChangeField::Status,
            Some(before.status.as_str()),
            after.status.as_str(),
            after
                .left_on
                .filter(|_| after.status == MembershipStatus::Left),
            reason,
        )?;
    }
    crate::db::reports::guard_records(tx.conn, &after.alliance_id, None)?;
    tx.record(Change {
        action: Action::Updated,
        resource_type: "membership",
        resource_id: &after.id,
        alliance_id: Some(&after.alliance_id),
        version: after.version,
        before: Some(&before),
        after: Some(&after),
    })?;
    Ok(after)
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = membership_changes, treat_none_as_default_value = false)]
struct ChangeRow {
    id: String,
    membership_id: String,
    at: NaiveDateTime,
    actor: String,
    field: String,
    from_value: Option<String>,
    to_value: String,
    effective_on: Option<NaiveDate>,
    reason: Option<String>,
}

fn add_history(
    tx: &mut Tx<'_>,
    membership_id: &str,
    field: MembershipChangeField,
    from: Option<&str>,
    to: &str,
    effective_on: Option<NaiveDate>,
    reason: Option<String>,
) -> Result<(), ApiError> {
    let row = history_row(tx, membership_id, field, from, to, effective_on, reason);
    diesel::insert_into(membership_changes::table)
        .values(row)
        .execute(tx.conn)?;
    Ok(())
}

fn history_row(
    tx: &Tx<'_>,
    membership_id: &str,
    field: MembershipChangeField,
    from: Option<&str>,
    to: &str,
    effective_on: Option<NaiveDate>,
    reason: Option<String>,
) -> ChangeRow {
    ChangeRow {
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

/// A membership's history, oldest first.
pub fn history(
    conn: &mut AnyConnection,
    id: &str,
    page: &PageRequest,
) -> Result<Page<MembershipChange>, ApiError> {
    let membership = find(conn, id)?;
    let mut query = membership_changes::table
        .filter(membership_changes::membership_id.eq(&membership.id))
        .select(ChangeRow::as_select())
        .order(membership_changes::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(membership_changes::id.gt(after.clone()));
    }
    let page = page.finish(query.load(conn)?, |r| &r.id);
    let items = page
        .items
        .into_iter()
        .map(|r| {
            Ok(MembershipChange {
                field: stored("field", r.field.parse())?,
                id: r.id,
                membership_id: r.membership_id,
                at: utc(r.at),
                actor: r.actor,
                from: r.from_value,
                to: r.to_value,
                effective_on: r.effective_on,
                reason: r.reason,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

visibility::alliance_record!(Membership, "membership");
