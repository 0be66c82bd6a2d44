//! The queries behind a caller's scope: which alliances a list may show
//! (`Visibility`, decided by the service layer and passed in as a filter),
//! an organisation's current alliances, and the alliance of a record named
//! by its own id.

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::alliances as alliances_table;
use crate::error::ApiError;

/// The alliances whose records a query may return (the caller's scope, as
/// the service layer decided it).
#[derive(Debug, Clone)]
pub enum Visibility {
    All,
    /// The records of these alliances (ids), and the shared records.
    Alliances(Vec<String>),
}

impl Visibility {
    pub fn covers(&self, alliance_id: &str) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Alliances(ids) => ids.iter().any(|id| id == alliance_id),
        }
    }

    /// The alliance ids a query must keep to (`None`: every alliance).
    pub fn alliance_ids(&self) -> Option<&[String]> {
        match self {
            Visibility::All => None,
            Visibility::Alliances(ids) => Some(ids),
        }
    }
}

/// The ids of the alliances named by id or slug.
pub fn alliance_ids(conn: &mut AnyConnection, keys: &[String]) -> Result<Vec<String>, ApiError> {
    Ok(alliances_table::table
        .filter(
            alliances_table::id
                .eq_any(keys)
                .or(alliances_table::slug.eq_any(keys)),
        )
        .select(alliances_table::id)
        .load(conn)?)
}

/// The alliances (ids) an organisation (id or slug) belongs to now: what a
/// member token speaking for it may read, derived from the memberships,
/// never from what the token or its account lists.
pub fn member_alliances(
    conn: &mut AnyConnection,
    organization: &str,
) -> Result<Vec<String>, ApiError> {
    use crate::db::schema::{memberships, organizations};
    Ok(memberships::table
        .inner_join(organizations::table)
        .filter(
            organizations::id
                .eq(organization)
                .or(organizations::slug.eq(organization)),
        )
        .filter(memberships::status.ne("left"))
        .select(memberships::alliance_id)
        .distinct()
        .load(conn)?)
}

/// The alliance (id) of a record that a path names by its own id — `kind`
/// is the path's collection (`platforms`, `activities`, `council-seats`,
/// `memberships`) — or `None` when there is no such record or collection.
pub fn alliance_of_record(
    conn: &mut AnyConnection,
    kind: &str,
    id: &str,
) -> Result<Option<String>, ApiError> {
    use crate::db::schema::{
        activities, council_seats, memberships, platforms, posting_matches, postings,
    };
    Ok(match kind {
        "activities" => activities::table
            .filter(activities::id.eq(id))
            .select(activities::alliance_id)
            .first(conn)
            .optional()?,
        "council-seats" => council_seats::table
            .filter(council_seats::id.eq(id))
            .select(council_seats::alliance_id)
            .first(conn)
            .optional()?,
        "memberships" => memberships::table
            .filter(memberships::id.eq(id))
            .select(memberships::alliance_id)
            .first(conn)
            .optional()?,
        "platforms" => platforms::table
            .filter(platforms::id.eq(id))
            .select(platforms::alliance_id)
            .first(conn)
            .optional()?,
        "postings" => postings::table
            .filter(postings::id.eq(id))
            .select(postings::alliance_id)
            .first(conn)
            .optional()?,
        "matches" => posting_matches::table
            .filter(posting_matches::id.eq(id))
            .select(posting_matches::alliance_id)
            .first(conn)
            .optional()?,
        _ => None,
    })
}
