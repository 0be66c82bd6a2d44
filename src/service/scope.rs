//! Who sees which alliance's records: the scope rules of `service::access`
//! applied to records (the gate applies them to paths), and the lists'
//! filter handed to storage.

use crate::auth::{Principal, Role};
use crate::db::visibility::{self, Visibility};
use crate::db::{AnyConnection, Stored, alliances};
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

/// What a caller outside a record's alliance is told: that it does not exist.
fn missing<T: Stored>(record: &T) -> String {
    format!("there is no {} `{}`", T::NAME, record.id())
}

/// A record found by its own id, if the caller may read its alliance's
/// records; otherwise it is reported missing, so ids cannot be probed.
pub fn reveal<T: Stored>(
    conn: &mut AnyConnection,
    caller: &Principal,
    record: T,
) -> Result<T, ApiError> {
    if visibility(conn, caller)?.covers(record.alliance_id().unwrap_or_default()) {
        Ok(record)
    } else {
        Err(ApiError::NotFound(missing(&record)))
    }
}

/// The alliance of a record found by its own id, if the caller may change
/// the record by `operation` (a token that cannot read the record's
/// alliance is told the record does not exist, as when it reads it).
pub fn alliance_to_change<T: Stored>(
    conn: &mut AnyConnection,
    caller: &Principal,
    operation: &str,
    record: &T,
) -> Result<Alliance, ApiError> {
    let alliance = alliances::find(conn, record.alliance_id().unwrap_or_default())?;
    super::access::authorize(caller, operation, &alliance, || missing(record))?;
    Ok(alliance)
}
