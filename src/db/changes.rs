//! The change feed: events in commit order (see `Db::write_blocking`), read
//! after a cursor, filtered to what the caller may see.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::change_events;
pub use super::visibility::Visibility;
use super::{AnyConnection, Backend, settings};
use crate::domain::change::ChangeEvent;
use crate::error::ApiError;

/// The settings key holding the highest sequence number pruned away.
const PRUNED_THROUGH: &str = "feed_pruned_through";

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = change_events)]
pub struct EventRow {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub event_type: String,
    pub resource_type: String,
    pub resource_id: String,
    pub alliance_id: Option<String>,
    pub version: i64,
    pub payload: String,
    pub actor: String,
}

impl TryFrom<EventRow> for ChangeEvent {
    type Error = ApiError;

    fn try_from(row: EventRow) -> Result<Self, ApiError> {
        Ok(ChangeEvent {
            cursor: row.seq.to_string(),
            event_type: row.event_type,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            alliance_id: row.alliance_id,
            version: row.version,
            occurred_at: row.at.and_utc(),
            actor: row.actor,
            resource: serde_json::value::RawValue::from_string(row.payload)
                .map_err(ApiError::internal)?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct FeedQuery {
    pub after: i64,
    /// Only events up to this one (inclusive).
    pub until: Option<i64>,
    pub limit: i64,
    pub types: Vec<String>,
    pub alliance_id: Option<String>,
    pub visibility: Visibility,
}

/// Events after the cursor, or `Gone` when the cursor predates what is kept.
pub fn read(conn: &mut AnyConnection, q: &FeedQuery) -> Result<Vec<EventRow>, ApiError> {
    let pruned = pruned_through(conn)?;
    if q.after < pruned {
        return Err(ApiError::Gone(format!(
            "events up to {pruned} are no longer kept; list the resources again, then follow the feed from `after={}`",
            head(conn)?
        )));
    }
    // A cursor this service never gave would silently skip every event up
    // to it; only a cursor at or before the newest event is taken.
    let newest = head(conn)?;
    if q.after > newest {
        return Err(ApiError::BadRequest {
            detail: format!(
                "`after={}` is past the newest event ({newest}); use a next_cursor this service gave",
                q.after
            ),
            errors: vec![crate::error::FieldError::new(
                "after",
                "beyond_head",
                format!("at most {newest}"),
            )],
        });
    }
    let mut query = change_events::table
        .filter(change_events::seq.gt(q.after))
        .order(change_events::seq.asc())
        .limit(q.limit)
        .select(EventRow::as_select())
        .into_boxed::<Backend>();
    if let Some(until) = q.until {
        query = query.filter(change_events::seq.le(until));
    }
    if !q.types.is_empty() {
        query = query.filter(change_events::event_type.eq_any(q.types.clone()));
    }
    if let Some(id) = &q.alliance_id {
        query = query.filter(change_events::alliance_id.eq(id.clone()));
    }
    if let Visibility::Alliances(ids) = &q.visibility {
        query = query.filter(
            change_events::alliance_id
                .eq_any(ids.clone())
                .or(change_events::resource_type.eq("organization")),
        );
    }
    Ok(query.load(conn)?)
}

/// The newest sequence number, counting pruned ones (0 before any event).
pub fn head(conn: &mut AnyConnection) -> Result<i64, ApiError> {
    let max: Option<i64> = change_events::table
        .select(diesel::dsl::max(change_events::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0).max(pruned_through(conn)?))
}

pub fn pruned_through(conn: &mut AnyConnection) -> Result<i64, ApiError> {
    Ok(settings::get(conn, PRUNED_THROUGH)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Deletes events older than `before`; a cursor from before them then gets
/// 410. Returns how many were deleted.
pub fn prune(conn: &mut AnyConnection, before: NaiveDateTime) -> Result<usize, ApiError> {
    conn.transaction(|conn| {
        let through: Option<i64> = change_events::table
            .filter(change_events::at.lt(before))
            .select(diesel::dsl::max(change_events::seq))
            .first(conn)?;
        let Some(through) = through else { return Ok(0) };
        let deleted = diesel::delete(change_events::table.filter(change_events::seq.le(through)))
            .execute(conn)?;
        if through > pruned_through(conn)? {
            settings::set(conn, PRUNED_THROUGH, &through.to_string())?;
        }
        Ok(deleted)
    })
}
