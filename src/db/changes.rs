//! The change feed: events by feed position, read after a cursor, filtered
//! to what the caller may see.
//!
//! Writers commit concurrently and their events arrive with no position
//! (`seq` is only the order they were written in). [`sequence`] gives
//! committed events their positions, one pass at a time under one lock, so a
//! position is given once, gap-free and above every position given before:
//! a reader that has seen position `p` can never later find an event at or
//! below `p`. docs/PERFORMANCE.md ("The feed without a write lock") has the
//! argument, including a sequencer killed mid-pass and several replicas.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::change_events;
pub use super::visibility::Visibility;
use super::{AnyConnection, Backend, settings};
use crate::domain::change::ChangeEvent;
use crate::error::ApiError;

/// The settings key holding the highest feed position pruned away.
const PRUNED_THROUGH: &str = "feed_pruned_through";

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = change_events)]
pub struct EventRow {
    /// The feed position (the cursor clients keep).
    #[diesel(select_expression = change_events::position.assume_not_null())]
    #[diesel(select_expression_type = diesel::dsl::AssumeNotNull<change_events::position>)]
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
        .filter(change_events::position.gt(q.after))
        .order(change_events::position.asc())
        .limit(q.limit)
        .select(EventRow::as_select())
        .into_boxed::<Backend>();
    if let Some(until) = q.until {
        query = query.filter(change_events::position.le(until));
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

/// The newest feed position, counting pruned ones (0 before any event).
pub fn head(conn: &mut AnyConnection) -> Result<i64, ApiError> {
    let max: Option<i64> = change_events::table
        .select(diesel::dsl::max(change_events::position))
        .first(conn)?;
    Ok(max.unwrap_or(0).max(pruned_through(conn)?))
}

/// The newest event written, positioned or not: changes whenever a write
/// commits (what a cached answer's validator needs), unlike [`head`],
/// which moves only when the sequencer has run.
pub fn written_through(conn: &mut AnyConnection) -> Result<i64, ApiError> {
    let max: Option<i64> = change_events::table
        .select(diesel::dsl::max(change_events::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// Whether some committed event waits for its position (an index lookup).
pub fn waiting(conn: &mut AnyConnection) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        change_events::table.filter(change_events::position.is_null()),
    ))
    .get_result(conn)?)
}

/// Events given positions per statement, so that a pass after a large
/// import holds its lock for bounded steps.
const SEQUENCE_BATCH: i64 = 5_000;

/// Gives every committed event without a position the next positions, in
/// the order the events were written. Run inside a transaction; returns how
/// many were given.
///
/// One pass at a time: on PostgreSQL a transaction-scoped advisory lock
/// (released at commit, or when a killed process's connection closes), on
/// SQLite the database's single writer. Each statement sees every event
/// committed before it started, and the pass before it has committed, so
/// the new positions continue from the newest without a gap. Two events of
/// one record are written by transactions that both write the record's
/// row, so the later one waits for the earlier to commit and is written —
/// and positioned — after it.
pub fn sequence(conn: &mut AnyConnection) -> Result<usize, ApiError> {
    if let AnyConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7311)").execute(pg)?;
    }
    let mut given = 0;
    loop {
        let from = head(conn)?;
        // Two integers of our own in the text: the same statement on both
        // engines, whose placeholders differ.
        let n = diesel::sql_query(format!(
            "UPDATE change_events SET position = numbered.position \
             FROM (SELECT seq, {from} + ROW_NUMBER() OVER (ORDER BY seq) AS position \
                   FROM change_events WHERE position IS NULL ORDER BY seq LIMIT {SEQUENCE_BATCH}) AS numbered \
             WHERE change_events.seq = numbered.seq"
        ))
        .execute(conn)?;
        given += n;
        if (n as i64) < SEQUENCE_BATCH {
            return Ok(given);
        }
    }
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
            .select(diesel::dsl::max(change_events::position))
            .first(conn)?;
        let Some(through) = through else { return Ok(0) };
        let deleted =
            diesel::delete(change_events::table.filter(change_events::position.le(through)))
                .execute(conn)?;
        if through > pruned_through(conn)? {
            settings::set(conn, PRUNED_THROUGH, &through.to_string())?;
        }
        Ok(deleted)
    })
}
