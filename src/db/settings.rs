//! Small key/value settings the service keeps in its own database.

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::settings;
use crate::error::ApiError;

pub fn get(conn: &mut AnyConnection, key: &str) -> Result<Option<String>, ApiError> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()?)
}

/// Stores `value` under `key` unless a value is there already; returns the
/// value that is stored afterwards (so two starting processes agree).
pub fn get_or_insert(conn: &mut AnyConnection, key: &str, value: &str) -> Result<String, ApiError> {
    if let Some(v) = get(conn, key)? {
        return Ok(v);
    }
    let inserted = diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value)))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(value.to_owned()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => get(conn, key)?.ok_or_else(|| ApiError::internal("setting vanished")),
        Err(e) => Err(e.into()),
    }
}

/// Stores `value` under `key`, replacing what was there.
pub fn set(conn: &mut AnyConnection, key: &str, value: &str) -> Result<(), ApiError> {
    let updated = diesel::update(settings::table.find(key))
        .set(settings::value.eq(value))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(value)))
            .execute(conn)?;
    }
    Ok(())
}
