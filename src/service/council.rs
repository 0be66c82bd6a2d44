//! Council seats: who sits on an alliance's council, in which position and
//! term. A seat represents a current member; the rules across seats (one
//! sitting chair, one secretary-general, no overlapping terms of one
//! person in one position) are checked on every write.

use chrono::NaiveDate;

use super::access::authorize;
use super::scope::alliance_to_change;
use super::{Precondition, Tx, deleted, update as versioned_update};
use crate::db::{AnyConnection, alliances, council, memberships, new_id, organizations, utc};
use crate::domain::council::{CouncilSeat, CouncilSeatPatch, NewCouncilSeat, check_dates};
use crate::error::ApiError;

/// The rules across seats: one sitting chair and one sitting
/// secretary-general at any date; one person's terms in one position do not
/// overlap.
fn check_rules(conn: &mut AnyConnection, seat: &CouncilSeat) -> Result<(), ApiError> {
    check_dates(seat).map_err(|(field, m)| ApiError::invalid(field, "inconsistent", m))?;
    for other in council::all_of(conn, &seat.alliance_id)? {
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
    authorize(tx.principal, "create_council_seat", &alliance, String::new)?;
    let org = organizations::named(tx.conn, &new.organization, "organization")?;
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
    council::insert(tx.conn, &seat)?;
    tx.created(&seat)?;
    Ok(seat)
}

pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: CouncilSeatPatch,
    pre: &Precondition,
) -> Result<CouncilSeat, ApiError> {
    let before = council::find(tx.conn, id)?;
    alliance_to_change(tx.conn, tx.principal, "update_council_seat", &before)?;
    versioned_update(tx, &before, pre, |tx, after| {
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
        check_rules(tx.conn, after)
    })
}

/// Deletes a seat recorded by mistake (end it with `ended_on` otherwise).
pub fn delete(tx: &mut Tx<'_>, id: &str, pre: &Precondition) -> Result<(), ApiError> {
    let before = council::find(tx.conn, id)?;
    alliance_to_change(tx.conn, tx.principal, "delete_council_seat", &before)?;
    pre.check(&before)?;
    council::remove(tx.conn, &before.id)?;
    deleted(tx, &before)
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
    let seats: Vec<CouncilSeat> = council::all_of(tx.conn, alliance_id)?
        .into_iter()
        .filter(|s| s.organization.id == organization_id && s.last_day() > left_on)
        .collect();
    let count = seats.len();
    for before in seats {
        versioned_update(tx, &before, &Precondition::None, |_, after| {
            after.ended_on = Some(left_on.max(before.term_starts_on));
            after.end_reason = Some(format!(
                "{} left the alliance on {left_on}",
                before.organization.slug
            ));
            Ok(())
        })?;
    }
    Ok(count)
}
