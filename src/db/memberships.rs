//! Queries of memberships. A membership is never deleted: leaving closes it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{membership_changes, memberships, organizations};
use super::{AnyConnection, Backend, Stored, alliances, insert_all, stored, utc};
use crate::domain::membership::{Membership, MembershipChange, MembershipRole, MembershipStatus};
use crate::domain::organization::OrganizationSummary;
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
pub fn open_membership(
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

/// One line of a membership's history (joined, role, status).
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = membership_changes, treat_none_as_default_value = false)]
pub struct HistoryRow {
    pub id: String,
    pub membership_id: String,
    pub at: NaiveDateTime,
    pub actor: String,
    pub field: String,
    pub from_value: Option<String>,
    pub to_value: String,
    pub effective_on: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// Stores new memberships and the history rows of their start (multi-row
/// inserts for bulk imports; the unique index refuses the whole batch if an
/// organisation already holds an open membership of the alliance).
pub fn insert(
    conn: &mut AnyConnection,
    all: &[Membership],
    history: &[HistoryRow],
) -> Result<(), ApiError> {
    let rows: Vec<_> = all.iter().map(to_row).collect();
    insert_all!(conn, memberships::table, &rows);
    add_history(conn, history)
}

pub fn add_history(conn: &mut AnyConnection, rows: &[HistoryRow]) -> Result<(), ApiError> {
    insert_all!(conn, membership_changes::table, rows);
    Ok(())
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
        .select(HistoryRow::as_select())
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

impl Stored for Membership {
    const RESOURCE: &'static str = "membership";
    const NAME: &'static str = "membership";
    super::versioned_fields!();
    fn alliance_id(&self) -> Option<&str> {
        Some(&self.alliance_id)
    }
    fn find(conn: &mut AnyConnection, id: &str) -> Result<Self, ApiError> {
        find(conn, id)
    }
    fn replace(conn: &mut AnyConnection, m: &Self, expected: i64) -> Result<bool, ApiError> {
        let updated = diesel::update(
            memberships::table
                .filter(memberships::id.eq(&m.id))
                .filter(memberships::version.eq(expected)),
        )
        .set(to_row(m))
        .execute(conn)?;
        Ok(updated == 1)
    }
}
