//! What a caller may read. Alliances, organisations and the KPI catalogue
//! are shared records every token reads; an alliance's own records
//! (memberships, council, platforms, activities, KPI years and reports) are
//! read by admins, reviewers and viewers everywhere, and by secretariat and
//! member tokens only in the alliances they name.

use diesel::prelude::*;

use super::AnyConnection;
use super::alliances;
use super::schema::alliances as alliances_table;
use crate::auth::{Principal, Role};
use crate::domain::alliance::Alliance;
use crate::error::ApiError;

/// The alliances whose records a caller sees.
#[derive(Debug, Clone)]
pub enum Visibility {
    All,
    /// The records of these alliances (ids), and the shared records.
    Alliances(Vec<String>),
}

impl Visibility {
    /// What a token with this role and these alliances (ids or slugs) sees.
    pub fn of(
        conn: &mut AnyConnection,
        role: Role,
        alliances: &[String],
    ) -> Result<Self, ApiError> {
        Ok(match role {
            Role::Admin | Role::Reviewer | Role::Viewer => Visibility::All,
            Role::Secretariat | Role::Member => {
                Visibility::Alliances(alliance_ids(conn, alliances)?)
            }
        })
    }

    pub fn of_caller(conn: &mut AnyConnection, caller: &Principal) -> Result<Self, ApiError> {
        Self::of(conn, caller.role, &caller.alliances)
    }

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

/// The alliance a path names, if the caller may read its records. Which
/// alliances exist is public, so one outside the token's scope is 403.
pub fn readable_alliance(
    conn: &mut AnyConnection,
    caller: &Principal,
    key: &str,
) -> Result<Alliance, ApiError> {
    let alliance = alliances::find(conn, key)?;
    if !caller.scoped() || caller.covers_alliance(&alliance.id, alliance.slug.as_str()) {
        Ok(alliance)
    } else {
        Err(ApiError::Forbidden(format!(
            "this token does not cover the alliance `{}`",
            alliance.slug
        )))
    }
}

/// A record that belongs to one alliance and has its own id and path.
pub trait AllianceRecord {
    /// What the record is called in messages ("council seat").
    const KIND: &'static str;
    fn id(&self) -> &str;
    fn alliance_id(&self) -> &str;

    /// What a caller outside the record's alliance is told.
    fn missing(&self) -> String {
        format!("there is no {} `{}`", Self::KIND, self.id())
    }
}

/// Implements [`AllianceRecord`] for a resource with `id` and `alliance_id`
/// fields: `alliance_record!(Platform, "platform");`.
macro_rules! alliance_record {
    ($type:ty, $kind:literal) => {
        impl $crate::db::visibility::AllianceRecord for $type {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn alliance_id(&self) -> &str {
                &self.alliance_id
            }
        }
    };
}
pub(crate) use alliance_record;

/// A record found by its own id, if the caller may read its alliance's
/// records; otherwise it is reported missing, so ids cannot be probed.
pub fn reveal<T: AllianceRecord>(
    conn: &mut AnyConnection,
    caller: &Principal,
    record: T,
) -> Result<T, ApiError> {
    if Visibility::of_caller(conn, caller)?.covers(record.alliance_id()) {
        Ok(record)
    } else {
        Err(ApiError::NotFound(record.missing()))
    }
}

/// The alliance of a record found by its own id, if the caller may change
/// the record (see `Principal::ensure_record_writer`).
pub fn alliance_to_change<T: AllianceRecord>(
    conn: &mut AnyConnection,
    caller: &Principal,
    record: &T,
) -> Result<Alliance, ApiError> {
    let alliance = alliances::find(conn, record.alliance_id())?;
    caller.ensure_record_writer(&alliance.id, alliance.slug.as_str(), || record.missing())?;
    Ok(alliance)
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
    use crate::db::schema::{activities, council_seats, memberships, platforms};
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
        _ => None,
    })
}
