//! The write path: every change runs inside one transaction that also
//! appends an audit record (who, when, what, before/after) and a change
//! event (the table the change feed and webhooks read).

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{audit_records, change_events};
use super::{AnyConnection, insert_all};
use crate::auth::Principal;
use crate::error::ApiError;

pub struct Tx<'a> {
    pub conn: &'a mut AnyConnection,
    pub principal: &'a Principal,
    now: NaiveDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
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

impl<'a> Tx<'a> {
    pub fn new(conn: &'a mut AnyConnection, principal: &'a Principal) -> Self {
        Tx {
            conn,
            principal,
            now: now(),
        }
    }

    /// The time of this transaction: every row it writes carries it.
    pub fn now(&self) -> NaiveDateTime {
        self.now
    }

    /// Appends the audit record and the change event of one change.
    pub fn record<R: Serialize>(&mut self, change: Change<'_, R>) -> Result<(), ApiError> {
        self.record_all(std::slice::from_ref(&change))
    }

    /// Appends the audit records and change events of many changes, in
    /// order, with multi-row inserts (bulk imports).
    pub fn record_all<R: Serialize>(&mut self, changes: &[Change<'_, R>]) -> Result<(), ApiError> {
        let mut audits = Vec::with_capacity(changes.len());
        let mut events = Vec::with_capacity(changes.len());
        for change in changes {
            let audit = self.audit_row(change)?;
            let payload = match &audit.after {
                Some(after) => after.clone(),
                None => serde_json::json!({"id": change.resource_id, "deleted": true}).to_string(),
            };
            events.push(NewChangeEvent {
                at: self.now,
                event_type: format!("{}.{}", change.resource_type, change.action.as_str()),
                resource_type: change.resource_type,
                resource_id: change.resource_id,
                alliance_id: change.alliance_id,
                version: change.version,
                payload,
                actor: &self.principal.subject,
            });
            audits.push(audit);
        }
        insert_all!(self.conn, audit_records::table, &audits);
        insert_all!(self.conn, change_events::table, &events);
        Ok(())
    }

    /// Appends only the audit record of a change: for records that are not
    /// shared through the feed (webhook subscriptions). Returns the `after`
    /// JSON.
    pub fn audit<R: Serialize>(
        &mut self,
        change: &Change<'_, R>,
    ) -> Result<Option<String>, ApiError> {
        let row = self.audit_row(change)?;
        diesel::insert_into(audit_records::table)
            .values(&row)
            .execute(self.conn)?;
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
            at: self.now,
            actor: &self.principal.subject,
            action: change.action.as_str(),
            resource_type: change.resource_type,
            resource_id: change.resource_id,
            before: json(change.before)?,
            after: json(change.after)?,
        })
    }
}

/// What the client said about the version it last saw (`If-Match`).
#[derive(Debug, Clone, Default)]
pub enum Precondition {
    /// No `If-Match`: the write goes ahead whatever the version.
    #[default]
    None,
    /// `If-Match: *`: any current version will do.
    Any,
    /// `If-Match: "3", "4"`: one of these tags must be current.
    OneOf(Vec<String>),
}

impl Precondition {
    pub fn check(&self, current: &impl crate::domain::Versioned) -> Result<(), ApiError> {
        match self {
            Precondition::OneOf(tags) if !tags.contains(&current.etag()) => {
                Err(ApiError::PreconditionFailed(format!(
                    "If-Match {} does not match the current ETag {}; fetch the resource again and retry",
                    tags.join(", "),
                    current.etag()
                )))
            }
            _ => Ok(()),
        }
    }
}

/// Whether a change leaves the representation as it was (a no-op PATCH
/// writes nothing and keeps the version).
pub fn unchanged<R: Serialize>(before: &R, after: &R) -> bool {
    serde_json::to_value(before).ok() == serde_json::to_value(after).ok()
}
