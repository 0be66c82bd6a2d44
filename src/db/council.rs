//! Queries of council seats, and the council's rules that span seats.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{council_seats, organizations};
use super::visibility;
use super::write::{Action, Change, Precondition, Tx, unchanged};
use super::{AnyConnection, Backend, alliances, memberships, new_id, stored, utc};
use crate::domain::council::{
    Council, CouncilSeat, CouncilSeatPatch, NewCouncilSeat, Position, check_dates,
};
use crate::domain::organization::OrganizationSummary;
use crate::domain::{Name, Slug, Url};
use crate::error::ApiError;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = council_seats, treat_none_as_null = true)]
struct SeatRow {
    id: String,
    alliance_id: String,
    organization_id: String,
    person_name_zh: String,
    person_name_en: Option<String>,
    position: String,
    term_number: i32,
    term_starts_on: NaiveDate,
    term_ends_on: NaiveDate,
    ended_on: Option<NaiveDate>,
    end_reason: Option<String>,
    appointment_document: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = organizations)]
struct OrgRow {
    id: String,
    slug: String,
    kind: String,
    name_zh: String,
    name_en: Option<String>,
    version: i64,
}

fn into_resource((s, o): (SeatRow, OrgRow)) -> Result<CouncilSeat, ApiError> {
    Ok(CouncilSeat {
        organization: OrganizationSummary {
            id: o.id,
            slug: stored("slug", Slug::parse(&o.slug))?,
            kind: stored("kind", o.kind.parse())?,
            name_zh: stored("name_zh", Name::parse(&o.name_zh))?,
            name_en: stored("name_en", o.name_en.as_deref().map(Name::parse).transpose())?,
        },
        organization_version: o.version,
        person_name_zh: stored("person_name_zh", Name::parse(&s.person_name_zh))?,
        person_name_en: stored(
            "person_name_en",
            s.person_name_en.as_deref().map(Name::parse).transpose(),
        )?,
        position: stored("position", s.position.parse())?,
        appointment_document: stored(
            "appointment_document",
            s.appointment_document
                .as_deref()
                .map(Url::parse)
                .transpose(),
        )?,
        id: s.id,
        alliance_id: s.alliance_id,
        term_number: s.term_number,
        term_starts_on: s.term_starts_on,
        term_ends_on: s.term_ends_on,
        ended_on: s.ended_on,
        end_reason: s.end_reason,
        version: s.version,
        created_at: utc(s.created_at),
        updated_at: utc(s.updated_at),
    })
}

fn to_row(s: &CouncilSeat) -> SeatRow {
    SeatRow {
        id: s.id.clone(),
        alliance_id: s.alliance_id.clone(),
        organization_id: s.organization.id.clone(),
        person_name_zh: s.person_name_zh.to_string(),
        person_name_en: s.person_name_en.as_ref().map(|n| n.to_string()),
        position: s.position.as_str().to_owned(),
        term_number: s.term_number,
        term_starts_on: s.term_starts_on,
        term_ends_on: s.term_ends_on,
        ended_on: s.ended_on,
        end_reason: s.end_reason.clone(),
        appointment_document: s.appointment_document.as_ref().map(|u| u.to_string()),
        version: s.version,
        created_at: s.created_at.naive_utc(),
        updated_at: s.updated_at.naive_utc(),
    }
}

/// Seats joined with their organisations, boxed so filters can be added.
macro_rules! seats_query {
    () => {
        council_seats::table
            .inner_join(
                organizations::table.on(organizations::id.eq(council_seats::organization_id)),
            )
            .select((SeatRow::as_select(), OrgRow::as_select()))
            .into_boxed::<Backend>()
    };
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<CouncilSeat, ApiError> {
    let found = seats_query!()
        .filter(council_seats::id.eq(id.to_owned()))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no council seat `{id}`")))?;
    into_resource(found)
}

/// Every seat of an alliance, past and present.
fn all_of(conn: &mut AnyConnection, alliance_id: &str) -> Result<Vec<CouncilSeat>, ApiError> {
    seats_query!()
        .filter(council_seats::alliance_id.eq(alliance_id.to_owned()))
        .order(council_seats::id.asc())
        .load(conn)?
        .into_iter()
        .map(into_resource)
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct SeatFilter {
    pub position: Option<Position>,
    pub term_number: Option<i32>,
}

/// An alliance's seats, past and present, oldest record first.
pub fn list(
    conn: &mut AnyConnection,
    alliance_key: &str,
    f: &SeatFilter,
    page: &PageRequest,
) -> Result<Page<CouncilSeat>, ApiError> {
    let alliance = alliances::find(conn, alliance_key)?;
    let mut query = seats_query!()
        .filter(council_seats::alliance_id.eq(alliance.id))
        .order(council_seats::id.asc())
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        query = query.filter(council_seats::id.gt(after.clone()));
    }
    if let Some(p) = f.position {
        query = query.filter(council_seats::position.eq(p.as_str()));
    }
    if let Some(t) = f.term_number {
        query = query.filter(council_seats::term_number.eq(t));
    }
    let page = page.finish(query.load(conn)?, |(s, _)| &s.id);
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(into_resource)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

/// The council on `as_of`: who sits, which single positions are vacant,
/// and whose seat ends within `within_days`.
pub fn as_of(
    conn: &mut AnyConnection,
    alliance_key: &str,
    as_of: NaiveDate,
    within_days: u32,
) -> Result<Council, ApiError> {
    let alliance = alliances::find(conn, alliance_key)?;
    let mut seats: Vec<CouncilSeat> = all_of(conn, &alliance.id)?
        .into_iter()
        .filter(|s| s.sits_on(as_of))
        .collect();
    let rank = |p: Position| Position::ALL.iter().position(|q| *q == p);
    seats.sort_by(|a, b| {
        (rank(a.position), a.person_name_zh.as_str())
            .cmp(&(rank(b.position), b.person_name_zh.as_str()))
    });
    let vacancies = Position::ALL
        .iter()
        .copied()
        .filter(|p| p.is_single() && !seats.iter().any(|s| s.position == *p))
        .collect();
    let horizon = as_of + chrono::Duration::days(i64::from(within_days));
    let ending_soon = seats
        .iter()
        .filter(|s| s.last_day() <= horizon)
        .cloned()
        .collect();
    Ok(Council {
        as_of,
        seats,
        vacancies,
        ending_soon,
    })
}

/// The rules across seats: one sitting chair and one sitting
/// secretary-general at any date; one person's terms in one position do not
/// overlap.
fn check_rules(conn: &mut AnyConnection, seat: &CouncilSeat) -> Result<(), ApiError> {
    check_dates(seat).map_err(|(field, m)| ApiError::invalid(field, "inconsistent", m))?;
    for other in all_of(conn, &seat.alliance_id)? {
        if other.id == seat.id || other.position != seat.position || !other.overlaps(seat) {
            continue;
        }
        if seat.position.is_single() {
            return Err(ApiError::conflict(
                "position",
                &format!("one_sitting_{}", seat.position),
                format!(
                    "an alliance has one sitting {} at a time: {} holds it from {} to {}",
                    seat.position,
                    other.person_name_zh,
                    other.term_starts_on,
                    other.last_day()
                ),
            ));
        }
        if other.person_name_zh == seat.person_name_zh {
            return Err(ApiError::conflict(
                "term_starts_on",
                "overlapping_term",
                format!(
                    "{} already holds a {} seat from {} to {}; terms of one person in one position do not overlap",
                    seat.person_name_zh,
                    seat.position,
                    other.term_starts_on,
                    other.last_day()
                ),
            ));
        }
    }
    Ok(())
}

pub fn create(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    new: NewCouncilSeat,
) -> Result<CouncilSeat, ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    tx.principal
        .ensure_alliance_writer(&alliance.id, alliance.slug.as_str())?;
    let org = super::organizations::named(tx.conn, &new.organization, "organization")?;
    if memberships::open_membership(tx.conn, &alliance.id, &org.id)?.is_none() {
        return Err(ApiError::invalid(
            "organization",
            "not_a_member",
            format!(
                "`{}` is not a current member of `{}`; a council seat represents a member",
                org.slug, alliance.slug
            ),
        ));
    }
    let now = utc(tx.now());
    let seat = CouncilSeat {
        id: new_id(),
        alliance_id: alliance.id,
        organization: org.summary(),
        organization_version: org.version,
        person_name_zh: new.person_name_zh,
        person_name_en: new.person_name_en,
        position: new.position,
        term_number: new.term_number,
        term_starts_on: new.term_starts_on,
        term_ends_on: new.term_ends_on,
        ended_on: None,
        end_reason: None,
        appointment_document: new.appointment_document,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    check_rules(tx.conn, &seat)?;
    diesel::insert_into(council_seats::table)
        .values(to_row(&seat))
        .execute(tx.conn)?;
    tx.record(Change {
        action: Action::Created,
        resource_type: "council_seat",
        resource_id: &seat.id,
        alliance_id: Some(&seat.alliance_id),
        version: seat.version,
        before: None,
        after: Some(&seat),
    })?;
    Ok(seat)
}

/// Stores a changed seat (version checked) and records the change.
fn save(
    tx: &mut Tx<'_>,
    before: &CouncilSeat,
    mut after: CouncilSeat,
) -> Result<CouncilSeat, ApiError> {
    after.version += 1;
    after.updated_at = utc(tx.now());
    let updated = diesel::update(
        council_seats::table
            .filter(council_seats::id.eq(&before.id))
            .filter(council_seats::version.eq(before.version)),
    )
    .set(to_row(&after))
    .execute(tx.conn)?;
    if updated == 0 {
        return Err(ApiError::PreconditionFailed(
            "the seat changed while this request ran; retry".into(),
        ));
    }
    tx.record(Change {
        action: Action::Updated,
        resource_type: "council_seat",
        resource_id: &after.id,
        alliance_id: Some(&after.alliance_id),
        version: after.version,
        before: Some(before),
        after: Some(&after),
    })?;
    Ok(after)
}

pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: CouncilSeatPatch,
    pre: &Precondition,
) -> Result<CouncilSeat, ApiError> {
    let before = find(tx.conn, id)?;
    visibility::alliance_to_change(tx.conn, tx.principal, &before)?;
    pre.check(&before)?;
    let mut after = before.clone();
    if let Some(v) = patch.person_name_zh {
        after.person_name_zh = v;
    }
    if let Some(v) = patch.person_name_en {
        after.person_name_en = v;
    }
    if let Some(v) = patch.position {
        after.position = v;
    }
    if let Some(v) = patch.term_number {
        after.term_number = v;
    }
    if let Some(v) = patch.term_starts_on {
        after.term_starts_on = v;
    }
    if let Some(v) = patch.term_ends_on {
        after.term_ends_on = v;
    }
    if let Some(v) = patch.ended_on {
        after.ended_on = v;
    }
    if let Some(v) = patch.end_reason {
        after.end_reason = v;
    }
    if let Some(v) = patch.appointment_document {
        after.appointment_document = v;
    }
    if unchanged(&before, &after) {
        return Ok(before);
    }
    check_rules(tx.conn, &after)?;
    save(tx, &before, after)
}

/// Deletes a seat recorded by mistake (end it with `ended_on` otherwise).
pub fn delete(tx: &mut Tx<'_>, id: &str, pre: &Precondition) -> Result<(), ApiError> {
    let before = find(tx.conn, id)?;
    visibility::alliance_to_change(tx.conn, tx.principal, &before)?;
    pre.check(&before)?;
    diesel::delete(council_seats::table.filter(council_seats::id.eq(&before.id)))
        .execute(tx.conn)?;
    tx.record(Change {
        action: Action::Deleted,
        resource_type: "council_seat",
        resource_id: &before.id,
        alliance_id: Some(&before.alliance_id),
        version: before.version + 1,
        before: Some(&before),
        after: None,
    })?;
    Ok(())
}

/// Ends the seats an organisation holds in an alliance it leaves on
/// `left_on`: a seat represents a member. Seats whose term starts later end
/// on their first day. Returns how many were ended.
pub fn end_for_leaving(
    tx: &mut Tx<'_>,
    alliance_id: &str,
    organization_id: &str,
    left_on: NaiveDate,
) -> Result<usize, ApiError> {
    let seats: Vec<CouncilSeat> = all_of(tx.conn, alliance_id)?
        .into_iter()
        .filter(|s| s.organization.id == organization_id && s.last_day() > left_on)
        .collect();
    let count = seats.len();
    for before in seats {
        let mut after = before.clone();
        after.ended_on = Some(left_on.max(before.term_starts_on));
        after.end_reason = Some(format!(
            "{} left the alliance on {left_on}",
            before.organization.slug
        ));
        save(tx, &before, after)?;
    }
    Ok(count)
}

visibility::alliance_record!(CouncilSeat, "council seat");
