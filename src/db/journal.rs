//! The journal of changes: the audit record (who, when, what, before/after)
//! and the change event (the table the change feed and webhooks read) that
//! every write appends in its own transaction.

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{audit_records, change_events};
use super::{AnyConnection, insert_all};
use crate::error::ApiError;

/// Who made a change and when: what every journal row carries.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub at: NaiveDateTime,
    /// The caller's subject.
    pub actor: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
    /// A posting made visible to the alliance's members (`posting.published`).
    Published,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
            Action::Published => "published",
        }
    }
}

/// One change to one resource, as the audit trail and the feed see it.
pub struct Change<'r, R: Serialize> {
    pub action: Action,
    /// `alliance`, `organization`, `membership`, …
    pub resource_type: &'static str,
    pub resource_id: &'r str,
    /// The alliance whose readers may see the change, where there is one.
    pub alliance_id: Option<&'r str>,
    pub version: i64,
    pub before: Option<&'r R>,
    pub after: Option<&'r R>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_records, treat_none_as_default_value = false)]
struct NewAuditRecord<'a> {
    at: NaiveDateTime,
    actor: &'a str,
    action: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = change_events, treat_none_as_default_value = false)]
struct NewChangeEvent<'a> {
    at: NaiveDateTime,
    event_type: String,
    resource_type: &'a str,
    resource_id: &'a str,
    alliance_id: Option<&'a str>,
    version: i64,
    payload: String,
    actor: &'a str,
}

/// The time every database timestamp uses: UTC, microseconds (what both
/// engines keep), so a value reads back exactly as it was written.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// The calendar day in Tianjin (UTC+8), for dates the service fills in itself.
pub fn tianjin_today() -> chrono::NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

impl<'a> Entry<'a> {
    /// Appends the audit records and change events of many changes, in
    /// order, with multi-row inserts (bulk imports).
    pub fn record_all<R: Serialize>(
        self,
        conn: &mut AnyConnection,
        changes: &[Change<'_, R>],
    ) -> Result<(), ApiError> {
        let mut audits = Vec::with_capacity(changes.len());
        let mut events = Vec::with_capacity(changes.len());
        for change in changes {
            let audit = self.audit_row(change)?;
            let payload = match &audit.after {
                Some(after) => after.clone(),
                None => serde_json::json!({"id": change.resource_id, "deleted": true}).to_string(),
            };
            events.push(NewChangeEvent {
                at: self.at,
                event_type: format!("{}.{}", change.resource_type, change.action.as_str()),
                resource_type: change.resource_type,
                resource_id: change.resource_id,
                alliance_id: change.alliance_id,
                version: change.version,
                payload,
                actor: self.actor,
            });
            audits.push(audit);
        }
        insert_all!(conn, audit_records::table, &audits);
        insert_all!(conn, change_events::table, &events);
        Ok(())
    }

    /// Appends only the audit record of a change: for records that are not
    /// shared through the feed (webhook subscriptions). Returns the `after`
    /// JSON.
    pub fn audit<R: Serialize>(
        self,
        conn: &mut AnyConnection,
        change: &Change<'_, R>,
    ) -> Result<Option<String>, ApiError> {
        let row = self.audit_row(change)?;
        diesel::insert_into(audit_records::table)
            .values(&row)
            .execute(conn)?;
        Ok(row.after)
    }

    fn audit_row<'c, R: Serialize>(
        &self,
        change: &Change<'c, R>,
    ) -> Result<NewAuditRecord<'c>, ApiError>
    where
        'a: 'c,
    {
        let json = |r: Option<&R>| {
            r.map(serde_json::to_string)
                .transpose()
                .map_err(ApiError::internal)
        };
        Ok(NewAuditRecord {
            at: self.at,
            actor: self.actor,
            action: change.action.as_str(),
            resource_type: change.resource_type,
            resource_id: change.resource_id,
            before: json(change.before)?,
            after: json(change.after)?,
        })
    }
}
