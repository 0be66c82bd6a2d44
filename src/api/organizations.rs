//! `/organizations`: one record per real body, shared across alliances.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::List;
use super::extract::{ApiJson, ApiQuery, IfMatch, changed, created, item, patch as nullable};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::organizations::{self, OrganizationFilter};
use crate::db::page::PageRequest;
use crate::db::write::Precondition;
use crate::domain::organization::{
    ExternalRef, NewOrganization, Organization, OrganizationKind, OrganizationPatch,
};
use crate::domain::{Name, Slug, Url, Uscc};
use crate::error::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganizationQuery {
    /// Finds organisations whose Chinese or English name or slug contains this text.
    #[param(example = "天津大学")]
    pub q: Option<String>,
    pub kind: Option<OrganizationKind>,
    /// Exactly this Unified Social Credit Code (either case); a code no
    /// organisation can hold simply finds nothing.
    #[param(example = "91120116MA05JR6K3W")]
    pub uscc: Option<String>,
    /// Only organisations changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-f]{2}){0,64}$")]
    pub cursor: Option<String>,
}

fn distinct_refs(refs: &[ExternalRef]) -> Result<(), ValidationError> {
    let mut seen = std::collections::HashSet::new();
    if refs
        .iter()
        .all(|r| seen.insert((r.system.as_str(), r.id.as_str())))
    {
        Ok(())
    } else {
        Err(ValidationError::new("duplicate")
            .with_message("the same {system, id} is listed twice".into()))
    }
}

/// Registers an organisation (admin or secretariat).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "kailaiying-pharma",
    "kind": "enterprise",
    "name_zh": "凯莱英医药集团（天津）股份有限公司",
    "name_en": "Asymchem Laboratories (Tianjin) Co., Ltd.",
    "uscc": "91120116MA05JR6K3W",
    "region": "天津经济技术开发区",
    "website": "https://www.asymchem.com/",
    "external_refs": [{"system": "kailaiying-hr", "id": "ORG-0001"}]
}))]
pub struct CreateOrganization {
    /// Unchangeable once set.
    pub slug: Slug,
    pub kind: OrganizationKind,
    pub name_zh: Name,
    pub name_en: Option<Name>,
    pub uscc: Option<Uscc>,
    pub region: Option<Name>,
    pub website: Option<Url>,
    #[serde(default)]
    #[validate(
        length(max = 20, message = "at most 20 external references"),
        custom(function = "distinct_refs")
    )]
    pub external_refs: Vec<ExternalRef>,
}

/// Changes some fields of an organisation: absent fields stay as they are,
/// `null` clears an optional field; `external_refs` replaces the whole list.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"website": "https://www.nankai.edu.cn/", "region": null}))]
pub struct UpdateOrganization {
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    pub kind: Option<OrganizationKind>,
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    pub name_zh: Option<Name>,
    #[serde(default, deserialize_with = "nullable::nullable")]
    #[schema(value_type = Option<Name>)]
    pub name_en: Option<Option<Name>>,
    #[serde(default, deserialize_with = "nullable::nullable")]
    #[schema(value_type = Option<Uscc>)]
    pub uscc: Option<Option<Uscc>>,
    #[serde(default, deserialize_with = "nullable::nullable")]
    #[schema(value_type = Option<Name>)]
    pub region: Option<Option<Name>>,
    #[serde(default, deserialize_with = "nullable::nullable")]
    #[schema(value_type = Option<Url>)]
    pub website: Option<Option<Url>>,
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    #[validate(
        length(max = 20, message = "at most 20 external references"),
        custom(function = "distinct_refs")
    )]
    pub external_refs: Option<Vec<ExternalRef>>,
}

const ORG_ID: &str = "Organization id or slug";

/// Lists organisations.
#[utoipa::path(
    operation_id = "list_organizations",
    tag = "organizations",
    params(OrganizationQuery),
    responses((status = 200, description = "A page of organisations in a stable order", body = List<Organization>))
)]
#[get("/organizations")]
pub async fn list(
    db: web::Data<Db>,
    _caller: Principal,
    query: ApiQuery<OrganizationQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = OrganizationFilter {
        q: q.q,
        kind: q.kind,
        uscc: q.uscc.map(|u| u.trim().to_ascii_uppercase()),
        updated_since: q.updated_since.map(|t| t.naive_utc()),
    };
    let page = db
        .read(move |c| organizations::list(c, &filter, &page))
        .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Registers an organisation (admin or secretariat).
#[utoipa::path(
    operation_id = "create_organization",
    tag = "organizations",
    request_body = CreateOrganization,
    responses((status = 201, description = "Created; `Location` names it", body = Organization,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/organizations")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    body: ApiJson<CreateOrganization>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let new = NewOrganization {
        slug: b.slug,
        kind: b.kind,
        name_zh: b.name_zh,
        name_en: b.name_en,
        uscc: b.uscc,
        region: b.region,
        website: b.website,
        external_refs: b.external_refs,
    };
    let org = db
        .write(caller, move |tx| organizations::create(tx, new))
        .await?;
    Ok(created(format!("/api/v1/organizations/{}", org.slug), &org))
}

/// Reads one organisation by id or slug.
#[utoipa::path(
    operation_id = "get_organization",
    tag = "organizations",
    params(("id" = String, Path, description = ORG_ID, example = "nankai-university")),
    responses(
        (status = 200, description = "The organisation", body = Organization, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/organizations/{id}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    _caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let org = db.read(move |c| organizations::find(c, &id)).await?;
    Ok(item(&req, &org))
}

/// Changes an organisation (admin; a secretariat of an alliance it belongs
/// to; or the organisation's own member token).
#[utoipa::path(
    operation_id = "update_organization",
    tag = "organizations",
    params(
        ("id" = String, Path, description = ORG_ID, example = "nankai-university"),
        IfMatch,
    ),
    request_body = UpdateOrganization,
    responses((status = 200, description = "The organisation after the change", body = Organization, headers(("ETag" = String))))
)]
#[patch("/organizations/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<UpdateOrganization>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let patch = OrganizationPatch {
        kind: b.kind,
        name_zh: b.name_zh,
        name_en: b.name_en,
        uscc: b.uscc,
        region: b.region,
        website: b.website,
        external_refs: b.external_refs,
    };
    let id = id.into_inner();
    let org = db
        .write(caller, move |tx| {
            organizations::update(tx, &id, patch, &pre)
        })
        .await?;
    Ok(changed(&org))
}

/// Deletes an organisation entered by mistake (admin). One that has ever
/// held a membership cannot be deleted (409): history is kept.
#[utoipa::path(
    operation_id = "delete_organization",
    tag = "organizations",
    params(
        ("id" = String, Path, description = ORG_ID, example = "nankai-university"),
        IfMatch,
    ),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/organizations/{id}")]
pub async fn delete(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db.write(caller, move |tx| organizations::delete(tx, &id, &pre))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
