//! Memberships: `/alliances/{id}/memberships`, `/organizations/{id}/memberships`
//! and `/memberships/{id}`. Never deleted: leaving closes a membership.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::List;
use super::extract::{ApiJson, ApiQuery, IfMatch, changed, created, item, patch as nullable};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::memberships::{self, MembershipFilter, Of};
use crate::db::page::PageRequest;
use crate::db::write::Precondition;
use crate::db::{alliances, organizations};
use crate::domain::membership::{
    Membership, MembershipPatch, MembershipRole, MembershipStatus, NewMembership,
};
use crate::error::ApiError;

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
}

impl MembershipQuery {
    fn parse(self) -> Result<(MembershipFilter, PageRequest), ApiError> {
        let page = PageRequest::parse(self.limit, self.cursor.as_deref())?;
        let filter = MembershipFilter {
            role: self.role,
            status: self.status,
            updated_since: self.updated_since.map(|t| t.naive_utc()),
        };
        Ok((filter, page))
    }
}

/// Admits an organisation to an alliance.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organization_id": "nankai-university", "role": "member", "joined_on": "2024-03-01"}))]
pub struct CreateMembership {
    /// The organisation's id or slug.
    #[validate(length(min = 1, max = 64))]
    pub organization_id: String,
    #[serde(default = "default_role")]
    #[schema(default = "member")]
    pub role: MembershipRole,
    pub joined_on: NaiveDate,
    #[validate(length(max = 2000))]
    pub note: Option<String>,
}

fn default_role() -> MembershipRole {
    MembershipRole::Member
}

/// Changes a membership. `left_on` closes it (status becomes `left`); a
/// closed membership cannot change again (a return is a new membership).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"left_on": "2025-12-31", "note": "withdrew after restructuring"}))]
pub struct UpdateMembership {
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    pub role: Option<MembershipRole>,
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    pub status: Option<MembershipStatus>,
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    pub left_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable::nullable")]
    #[validate(length(max = 2000))]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
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
    db: web::Data<Db>,
    _caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<MembershipQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = query.0.parse()?;
    let id = id.into_inner();
    let page = db
        .read(move |c| {
            let alliance = alliances::find(c, &id)?;
            memberships::list(c, Of::Alliance(&alliance.id), &filter, &page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Lists the memberships of an organisation across alliances.
#[utoipa::path(
    operation_id = "list_organization_memberships",
    tag = "memberships",
    params(("id" = String, Path, description = "Organization id or slug", example = "tianjin-university"), MembershipQuery),
    responses((status = 200, description = "A page of memberships", body = List<Membership>))
)]
#[get("/organizations/{id}/memberships")]
pub async fn list_for_organization(
    db: web::Data<Db>,
    _caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<MembershipQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = query.0.parse()?;
    let id = id.into_inner();
    let page = db
        .read(move |c| {
            let org = organizations::find(c, &id)?;
            memberships::list(c, Of::Organization(&org.id), &filter, &page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Admits an organisation to an alliance (admin, or a secretariat of it).
#[utoipa::path(
    operation_id = "create_membership",
    tag = "memberships",
    params(("id" = String, Path, description = "Alliance id or slug", example = "teda-biomedicine")),
    request_body = CreateMembership,
    responses((status = 201, description = "Created; `Location` names it", body = Membership,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/alliances/{id}/memberships")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    body: ApiJson<CreateMembership>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let new = NewMembership {
        organization_id: b.organization_id,
        role: b.role,
        joined_on: b.joined_on,
        note: b.note,
    };
    let id = id.into_inner();
    let membership = db
        .write(caller, move |tx| memberships::create(tx, &id, new))
        .await?;
    Ok(created(
        format!("/api/v1/memberships/{}", membership.id),
        &membership,
    ))
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
    _caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let membership = db.read(move |c| memberships::find(c, &id)).await?;
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
    request_body = UpdateMembership,
    responses((status = 200, description = "The membership after the change", body = Membership, headers(("ETag" = String))))
)]
#[patch("/memberships/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<UpdateMembership>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let patch = MembershipPatch {
        role: b.role,
        status: b.status,
        left_on: b.left_on,
        note: b.note,
    };
    let id = id.into_inner();
    let membership = db
        .write(caller, move |tx| memberships::update(tx, &id, patch, &pre))
        .await?;
    Ok(changed(&membership))
}
