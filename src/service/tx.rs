//! The transaction every change runs in, and the write steps versioned
//! records share.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::auth::Principal;
use crate::db::journal::{self, Action, Change, Entry};
use crate::db::{AnyConnection, Stored, utc};
use crate::domain::Versioned;
use crate::error::ApiError;

/// One change in progress: the connection inside its transaction, who is
/// making it, and the time every row it writes carries.
pub struct Tx<'a> {
    pub conn: &'a mut AnyConnection,
    pub principal: &'a Principal,
    now: NaiveDateTime,
}

impl<'a> Tx<'a> {
    pub fn new(conn: &'a mut AnyConnection, principal: &'a Principal) -> Self {
        Tx {
            conn,
            principal,
            now: journal::now(),
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
        let entry = Entry {
            at: self.now,
            actor: &self.principal.subject,
        };
        entry.record_all(self.conn, changes)
    }

    /// Appends only the audit record of a change (records not shared
    /// through the feed); returns the `after` JSON.
    pub fn audit<R: Serialize>(
        &mut self,
        change: &Change<'_, R>,
    ) -> Result<Option<String>, ApiError> {
        let entry = Entry {
            at: self.now,
            actor: &self.principal.subject,
        };
        entry.audit(self.conn, change)
    }

    /// Records the creation of `record`.
    pub fn created<R: Stored + Serialize>(&mut self, record: &R) -> Result<(), ApiError> {
        self.record(Change {
            action: Action::Created,
            resource_type: R::RESOURCE,
            resource_id: record.id(),
            alliance_id: record.alliance_id(),
            version: record.version(),
            before: None,
            after: Some(record),
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
    pub fn check(&self, current: &impl Versioned) -> Result<(), ApiError> {
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

/// The update every versioned record goes through, once the caller has
/// been authorised for `before`: the `If-Match` check, the edit (which
/// applies the patch and the record's own checks), nothing written when
/// nothing changed, the versioned write (412 when another writer got
/// there first), and the journal. Returns the record as stored.
pub fn update<R>(
    tx: &mut Tx<'_>,
    before: &R,
    pre: &Precondition,
    edit: impl FnOnce(&mut Tx<'_>, &mut R) -> Result<(), ApiError>,
) -> Result<R, ApiError>
where
    R: Stored + Versioned + Serialize + Clone,
{
    pre.check(before)?;
    let mut after = before.clone();
    edit(tx, &mut after)?;
    if unchanged(before, &after) {
        return Ok(after);
    }
    after.next_version(utc(tx.now()));
    if !R::replace(tx.conn, &after, before.version())? {
        return Err(ApiError::PreconditionFailed(format!(
            "the {} changed while this request ran; retry",
            R::NAME
        )));
    }
    let after = R::find(tx.conn, after.id())?;
    tx.record(Change {
        action: Action::Updated,
        resource_type: R::RESOURCE,
        resource_id: after.id(),
        alliance_id: after.alliance_id(),
        version: after.version(),
        before: Some(before),
        after: Some(&after),
    })?;
    Ok(after)
}

/// Records the deletion of `before` (already removed from storage).
pub fn deleted<R: Stored + Serialize>(tx: &mut Tx<'_>, before: &R) -> Result<(), ApiError> {
    tx.record(Change {
        action: Action::Deleted,
        resource_type: R::RESOURCE,
        resource_id: before.id(),
        alliance_id: before.alliance_id(),
        version: before.version() + 1,
        before: Some(before),
        after: None,
    })
}
