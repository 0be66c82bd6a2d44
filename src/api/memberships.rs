//! Memberships: `/alliances/{id}/memberships`, `/organizations/{id}/memberships`
//! and `/memberships/{id}`. Never deleted: leaving closes a membership.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{ApiJson, ApiQuery, IfMatch, changed, item};
use super::files::{self, HeaderLang};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use super::{List, PageQuery};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::memberships::{self, MembershipFilter, Owner};
use crate::db::page::PageRequest;
use crate::domain::membership::{
    Membership, MembershipChange, MembershipPatch, MembershipRole, MembershipStatus, NewMembership,
};
use crate::error::ApiError;
use crate::service::Precondition;
use crate::tabular::Format;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembershipQuery {
    pub role: Option<MembershipRole>,
    pub status: Option<MembershipStatus>,
    /// Only memberships changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-f]{2}){0,64}$")]
    pub cursor: Option<String>,
    /// The file's format: see [`files::FileQuery`] (on the list itself, a
    /// file answer kept for the clients of earlier versions).
    #[param(ignore)]
    pub format: Option<Format>,
    /// The file's header row: see [`files::FileQuery`].
    #[param(ignore)]
    #[serde(alias = "header_language")]
    pub headers: Option<HeaderLang>,
}

impl MembershipQuery {
    fn parse(self) -> Result<(MembershipFilter, PageRequest), ApiError> {
        let page = PageRequest::parse(self.limit, self.cursor.as_deref())?;
        let filter = MembershipFilter {
            role: self.role,
            status: self.status,
            updated_since: self.updated_since.map(|t| t.naive_utc()),
            alliances: None,
        };
        Ok((filter, page))
    }
}

async fn list(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    owner: Owner,
    query: MembershipQuery,
) -> Result<HttpResponse, ApiError> {
    let file = files::wanted(&req, query.format);
    let headers = query.headers.unwrap_or_default();
    let (filter, page) = query.parse()?;
    if let Some(format) = file {
        let name = match &owner {
            Owner::Alliance(k) | Owner::Organization(k) => format!("{k}-memberships"),
        };
        let all = db
            .read(move |c| {
                let filter = crate::service::memberships::filter_for(c, &caller, &owner, filter)?;
                files::all_pages(
                    |p| memberships::list(c, &owner, &filter, p),
                    |m| m.id.clone(),
                )
            })
            .await?;
        return files::download(&all, format, headers, &name);
    }
    let page = db
        .read(move |c| {
            let filter = crate::service::memberships::filter_for(c, &caller, &owner, filter)?;
            memberships::list(c, &owner, &filter, &page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Lists the memberships of an alliance, closed ones included.
#[utoipa::path(
    operation_id = "list_alliance_memberships",
    tag = "memberships",
    params(("id" = String, Path, description = "Alliance id or slug", example = "teda-biomedicine"), MembershipQuery),
    responses((status = 200, description = "A page of memberships", body = List<Membership>))
)]
#[get("/alliances/{id}/memberships")]
pub async fn list_for_alliance(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<MembershipQuery>,
) -> Result<HttpResponse, ApiError> {
    list_for_alliance_or_file(req, db, caller, id, query).await
}

/// Every membership of an alliance that the filters match, as a file (CSV or XLSX).
#[utoipa::path(
    operation_id = "export_alliance_memberships",
    tag = "memberships",
    params(("id" = String, Path, description = "Alliance id or slug", example = "teda-biomedicine"), MembershipQuery, files::FileQuery),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/alliances/{id}/exports/memberships")]
pub async fn export_for_alliance(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    mut query: ApiQuery<MembershipQuery>,
) -> Result<HttpResponse, ApiError> {
    query.0.format = Some(files::required(query.0.format)?);
    list_for_alliance_or_file(req, db, caller, id, query).await
}

async fn list_for_alliance_or_file(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<MembershipQuery>,
) -> Result<HttpResponse, ApiError> {
    list(req, db, caller, Owner::Alliance(id.into_inner()), query.0).await
}

/// Lists the memberships of an organisation across alliances (for a
/// secretariat or member token, those in its alliances).
#[utoipa::path(
    operation_id = "list_organization_memberships",
    tag = "memberships",
    params(("id" = String, Path, description = "Organization id or slug", example = "tianjin-university"), MembershipQuery),
    responses((status = 200, description = "A page of memberships", body = List<Membership>))
)]
#[get("/organizations/{id}/memberships")]
pub async fn list_for_organization(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<MembershipQuery>,
) -> Result<HttpResponse, ApiError> {
    list_for_organization_or_file(req, db, caller, id, query).await
}

/// Every membership of an organisation that the filters match, as a file (CSV or XLSX).
#[utoipa::path(
    operation_id = "export_organization_memberships",
    tag = "memberships",
    params(("id" = String, Path, description = "Organisation id or slug", example = "nankai-university"), MembershipQuery, files::FileQuery),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/organizations/{id}/exports/memberships")]
pub async fn export_for_organization(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    mut query: ApiQuery<MembershipQuery>,
) -> Result<HttpResponse, ApiError> {
    query.0.format = Some(files::required(query.0.format)?);
    list_for_organization_or_file(req, db, caller, id, query).await
}

async fn list_for_organization_or_file(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<MembershipQuery>,
) -> Result<HttpResponse, ApiError> {
    list(
        req,
        db,
        caller,
        Owner::Organization(id.into_inner()),
        query.0,
    )
    .await
}

/// Admits an organisation to an alliance (admin, or a secretariat of it).
#[utoipa::path(
    operation_id = "create_membership",
    tag = "memberships",
    params(IdempotencyKeyHeader, ("id" = String, Path, description = "Alliance id or slug", example = "teda-biomedicine")),
    request_body = NewMembership,
    responses((status = 201, description = "Created; `Location` names it", body = Membership,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/alliances/{id}/memberships")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<NewMembership>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    let id = id.into_inner();
    idempotency::create(&db, caller, key, digest, move |tx| {
        let membership = crate::service::memberships::create(tx, &id, new)?;
        Ok((format!("/api/v1/memberships/{}", membership.id), membership))
    })
    .await
}

/// Reads one membership.
#[utoipa::path(
    operation_id = "get_membership",
    tag = "memberships",
    params(("id" = String, Path, description = "Membership id")),
    responses(
        (status = 200, description = "The membership", body = Membership, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/memberships/{id}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let membership =
        crate::service::read_record(&db, caller, move |c| memberships::find(c, &id)).await?;
    Ok(item(&req, &membership))
}

/// Changes a membership's role, status or note, or closes it with `left_on`
/// (admin, or a secretariat of the alliance).
#[utoipa::path(
    operation_id = "update_membership",
    tag = "memberships",
    params(
        ("id" = String, Path, description = "Membership id"),
        IfMatch,
    ),
    request_body = MembershipPatch,
    responses((status = 200, description = "The membership after the change", body = Membership, headers(("ETag" = String))))
)]
#[patch("/memberships/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<MembershipPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let id = id.into_inner();
    let membership = crate::service::write(&db, caller, move |tx| {
        crate::service::memberships::update(tx, &id, patch, &pre)
    })
    .await?;
    Ok(changed(&membership))
}

/// A membership's history: when it began, and every change of role or
/// status since, with who made it, when and why. Oldest first.
#[utoipa::path(
    operation_id = "list_membership_history",
    tag = "memberships",
    params(("id" = String, Path, description = "Membership id"), PageQuery),
    responses((status = 200, description = "The history, oldest first", body = List<MembershipChange>))
)]
#[get("/memberships/{id}/history")]
pub async fn history(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.0.parse()?;
    let id = id.into_inner();
    let page = db
        .read(move |c| {
            let membership = memberships::find(c, &id)?;
            let membership = crate::service::scope::reveal(c, &caller, membership)?;
            memberships::history(c, &membership.id, &page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}
