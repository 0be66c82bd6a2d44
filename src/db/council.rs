//! Queries of council seats, and the council's rules that span seats.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{council_seats, organizations};
use super::{AnyConnection, Backend, Stored, alliances, stored, utc};
use crate::domain::council::{Council, CouncilSeat, Position};
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
pub fn all_of(conn: &mut AnyConnection, alliance_id: &str) -> Result<Vec<CouncilSeat>, ApiError> {
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

/// Stores a new seat.
pub fn insert(conn: &mut AnyConnection, seat: &CouncilSeat) -> Result<(), ApiError> {
    diesel::insert_into(council_seats::table)
        .values(to_row(seat))
        .execute(conn)?;
    Ok(())
}

pub fn remove(conn: &mut AnyConnection, id: &str) -> Result<(), ApiError> {
    diesel::delete(council_seats::table.filter(council_seats::id.eq(id))).execute(conn)?;
    Ok(())
}

impl Stored for CouncilSeat {
    const RESOURCE: &'static str = "council_seat";
    const NAME: &'static str = "council seat";
    super::versioned_fields!();
    fn alliance_id(&self) -> Option<&str> {
        Some(&self.alliance_id)
    }
    fn find(conn: &mut AnyConnection, id: &str) -> Result<Self, ApiError> {
        find(conn, id)
    }
    fn replace(conn: &mut AnyConnection, seat: &Self, expected: i64) -> Result<bool, ApiError> {
        let updated = diesel::update(
            council_seats::table
                .filter(council_seats::id.eq(&seat.id))
                .filter(council_seats::version.eq(expected)),
        )
        .set(to_row(seat))
        .execute(conn)?;
        Ok(updated == 1)
    }
}
