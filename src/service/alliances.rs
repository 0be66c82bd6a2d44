//! Alliances: founded by admins, described by their secretariats.

use super::access::{authorize, authorize_in};
use super::{Precondition, Tx, update as versioned_update};
use crate::db::{alliances, new_id, utc};
use crate::domain::alliance::{Alliance, AlliancePatch, AllianceStatus, NewAlliance};
use crate::error::ApiError;

pub fn create(tx: &mut Tx<'_>, new: NewAlliance) -> Result<Alliance, ApiError> {
    authorize_in(tx.principal, "create_alliance", true, String::new)?;
    if alliances::slug_taken(tx.conn, &new.slug)? {
        return Err(ApiError::conflict(
            "slug",
            "taken",
            format!("an alliance with slug `{}` exists", new.slug),
        ));
    }
    let now = utc(tx.now());
    let alliance = Alliance {
        id: new_id(),
        slug: new.slug,
        kind: new.kind,
        sector: new.sector,
        host_zone: new.host_zone,
        name_zh: new.name_zh,
        name_en: new.name_en,
        founded_on: new.founded_on,
        status: AllianceStatus::Active,
        documents: new.documents,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    alliances::insert(tx.conn, &alliance)?;
    tx.created(&alliance)?;
    Ok(alliance)
}

pub fn update(
    tx: &mut Tx<'_>,
    key: &str,
    patch: AlliancePatch,
    pre: &Precondition,
) -> Result<Alliance, ApiError> {
    let before = alliances::find(tx.conn, key)?;
    authorize(tx.principal, "update_alliance", &before, String::new)?;
    versioned_update(tx, &before, pre, |_, after| {
        patch.apply(after);
        Ok(())
    })
}
