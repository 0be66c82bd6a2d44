//! Reading the audit trail. Nothing here writes: records are appended by
//! the write path (`write::Tx`) and never changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::value::RawValue;

use super::page::{Page, PageRequest};
use super::schema::audit_records;
use super::{AnyConnection, Backend, utc};
use crate::domain::audit::AuditRecord;
use crate::error::{ApiError, FieldError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_records)]
struct AuditRow {
    id: i64,
    at: NaiveDateTime,
    actor: String,
    action: String,
    resource_type: String,
    resource_id: String,
    before: Option<String>,
    after: Option<String>,
}

impl AuditRow {
    fn into_record(self) -> Result<AuditRecord, ApiError> {
        let json = |text: Option<String>| {
            text.map(|t| RawValue::from_string(t).map_err(ApiError::internal))
                .transpose()
        };
        Ok(AuditRecord {
            id: self.id,
            at: utc(self.at),
            actor: self.actor,
            action: self.action,
            resource_type: self.resource_type,
            resource_id: self.resource_id,
            before: json(self.before)?,
            after: json(self.after)?,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

/// Records in the order they were written, filtered.
pub fn list(
    conn: &mut AnyConnection,
    f: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<AuditRecord>, ApiError> {
    let mut query = audit_records::table
        .select(AuditRow::as_select())
        .order(audit_records::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        let after: i64 = after.parse().map_err(|_| {
            let message = "not a cursor of this list".to_owned();
            ApiError::BadRequest {
                detail: message.clone(),
                errors: vec![FieldError::new("cursor", "invalid", message)],
            }
        })?;
        query = query.filter(audit_records::id.gt(after));
    }
    if let Some(actor) = &f.actor {
        query = query.filter(audit_records::actor.eq(actor.clone()));
    }
    if let Some(t) = &f.resource_type {
        query = query.filter(audit_records::resource_type.eq(t.clone()));
    }
    if let Some(id) = &f.resource_id {
        query = query.filter(audit_records::resource_id.eq(id.clone()));
    }
    if let Some(from) = f.from {
        query = query.filter(audit_records::at.ge(from));
    }
    if let Some(until) = f.until {
        query = query.filter(audit_records::at.lt(until));
    }
    let rows: Vec<(String, AuditRow)> = query
        .load::<AuditRow>(conn)?
        .into_iter()
        .map(|r| (r.id.to_string(), r))
        .collect();
    let page = page.finish(rows, |(id, _)| id);
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|(_, r)| r.into_record())
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}
