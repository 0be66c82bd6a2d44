//! First responses stored under `Idempotency-Key`, so a retried POST
//! replays instead of writing again. Rows are written in the same
//! transaction as the change they answer for.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::idempotency_keys;
use crate::error::ApiError;

/// How long a key is remembered.
pub const KEPT_FOR: Duration = Duration::hours(24);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct StoredResponse {
    pub principal: String,
    pub idempotency_key: String,
    pub request_hash: String,
    pub status: i32,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// The stored response for this caller's key, if it is younger than a day.
///
/// On PostgreSQL it first takes the key's own lock, held to commit: a
/// second request with the same key waits here until the first commits,
/// then finds its answer and replays it. (Writers do not wait for each
/// other otherwise; SQLite has one writer anyway.)
pub fn find(
    conn: &mut AnyConnection,
    principal: &str,
    key: &str,
    now: NaiveDateTime,
) -> Result<Option<StoredResponse>, ApiError> {
    if let AnyConnection::Postgresql(pg) = conn {
        // Class 7312 (two-key form, apart from the feed's one-key 7311).
        diesel::sql_query("SELECT pg_advisory_xact_lock(7312, hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(format!("{principal}\n{key}"))
            .execute(pg)?;
    }
    Ok(idempotency_keys::table
        .filter(idempotency_keys::principal.eq(principal))
        .filter(idempotency_keys::idempotency_key.eq(key))
        .filter(idempotency_keys::created_at.ge(now - KEPT_FOR))
        .select(StoredResponse::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a first response, forgetting keys older than a day.
pub fn store(conn: &mut AnyConnection, response: &StoredResponse) -> Result<(), ApiError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(response.created_at - KEPT_FOR)),
    )
    .execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values(response.clone())
        .execute(conn)?;
    Ok(())
}
