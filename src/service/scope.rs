//! Who sees which alliance's records: the scope rules of `api::access`
//! applied to records (the gate applies them to paths), and the lists'
//! filter handed to storage.

use crate::auth::{Principal, Role};
use crate::db::visibility::{self, Visibility};
use crate::db::{AnyConnection, alliances};
use crate::domain::alliance::Alliance;
use crate::error::ApiError;

/// The alliances whose records a caller's lists show: everything for
/// admins, reviewers and viewers; the alliances a secretariat or member
/// token covers (the gate has settled a member's from its organisation).
pub fn visibility(conn: &mut AnyConnection, caller: &Principal) -> Result<Visibility, ApiError> {
    Ok(match caller.role {
        Role::Admin | Role::Reviewer | Role::Viewer => Visibility::All,
        Role::Secretariat | Role::Member => {
            Visibility::Alliances(visibility::alliance_ids(conn, &caller.alliances)?)
        }
    })
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
        impl $crate::service::scope::AllianceRecord for $type {
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
    if visibility(conn, caller)?.covers(record.alliance_id()) {
        Ok(record)
    } else {
        Err(ApiError::NotFound(record.missing()))
    }
}

/// The alliance of a record found by its own id, if the caller may change
/// the record by `operation` (a token that cannot read the record's
/// alliance is told the record does not exist, as when it reads it).
pub fn alliance_to_change<T: AllianceRecord>(
    conn: &mut AnyConnection,
    caller: &Principal,
    operation: &str,
    record: &T,
) -> Result<Alliance, ApiError> {
    let alliance = alliances::find(conn, record.alliance_id())?;
    super::access::authorize(caller, operation, &alliance, || record.missing())?;
    Ok(alliance)
}
