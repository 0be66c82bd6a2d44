//! `/audit`: the trail every write leaves, for admins and reviewers. It is
//! read-only: no route changes or deletes a record.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::List;
use super::extract::ApiQuery;
use crate::auth::Principal;
use crate::db::Db;
use crate::db::audit::{self, AuditFilter};
use crate::db::page::PageRequest;
use crate::domain::audit::AuditRecord;
use crate::error::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only changes by this actor (a token's subject).
    #[param(example = "secretariat:teda")]
    pub actor: Option<String>,
    /// Only changes to this kind of resource.
    #[param(example = "membership")]
    pub resource_type: Option<String>,
    /// Only changes to this resource (its id).
    pub resource_id: Option<String>,
    /// Only changes at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only changes before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-f]{2}){0,64}$")]
    pub cursor: Option<String>,
}

/// The audit trail (admin or reviewer): every change made through the API,
/// oldest first, with the resource before and after.
#[utoipa::path(
    operation_id = "list_audit_records",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit records", body = List<AuditRecord>),
        (status = 403, description = "Only admins and reviewers read the audit trail",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
pub async fn list(
    db: web::Data<Db>,
    _caller: Principal,
    query: ApiQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = AuditFilter {
        actor: q.actor,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        from: q.from.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    };
    let page = db.read(move |c| audit::list(c, &filter, &page)).await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}
