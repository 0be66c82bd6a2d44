//! `/alliances`: 产教联合体 and 产业链产教融合共同体.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::List;
use super::extract::{ApiJson, ApiQuery, IfMatch, changed, created, item, patch as nullable};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::alliances::{self, AllianceFilter};
use crate::db::page::PageRequest;
use crate::db::write::Precondition;
use crate::domain::alliance::{
    Alliance, AllianceKind, AlliancePatch, AllianceStatus, Document, NewAlliance, Sector,
};
use crate::domain::{Name, Slug};
use crate::error::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AllianceQuery {
    /// Finds alliances whose Chinese or English name or slug contains this text.
    #[param(example = "生物医药")]
    pub q: Option<String>,
    pub kind: Option<AllianceKind>,
    pub sector: Option<Sector>,
    pub status: Option<AllianceStatus>,
    /// Only alliances changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-f]{2}){0,64}$")]
    pub cursor: Option<String>,
}

/// Founds an alliance (admin only).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "teda-biomedicine",
    "kind": "regional_consortium",
    "sector": "biomedicine",
    "host_zone": "天津经济技术开发区",
    "name_zh": "天津经济技术开发区生物医药产教联合体",
    "name_en": "TEDA Biomedicine Industry-Education Consortium",
    "founded_on": "2023-09-01",
    "documents": [{"kind": "charter", "title": "联合体章程", "url": "https://example.org/charter.pdf", "adopted_on": "2023-09-01"}]
}))]
pub struct CreateAlliance {
    /// Unchangeable once set; tokens and URLs use it.
    pub slug: Slug,
    pub kind: AllianceKind,
    pub sector: Sector,
    pub host_zone: Option<Name>,
    pub name_zh: Name,
    pub name_en: Option<Name>,
    pub founded_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 20, message = "at most 20 documents"))]
    pub documents: Vec<Document>,
}

/// Changes some fields of an alliance: absent fields stay as they are,
/// `null` clears an optional field. The slug cannot change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name_en": "TEDA Biomedicine Consortium", "status": "active"}))]
pub struct UpdateAlliance {
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    pub kind: Option<AllianceKind>,
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    pub sector: Option<Sector>,
    #[serde(default, deserialize_with = "nullable::nullable")]
    #[schema(value_type = Option<Name>)]
    pub host_zone: Option<Option<Name>>,
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    pub name_zh: Option<Name>,
    #[serde(default, deserialize_with = "nullable::nullable")]
    #[schema(value_type = Option<Name>)]
    pub name_en: Option<Option<Name>>,
    #[serde(default, deserialize_with = "nullable::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub founded_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    pub status: Option<AllianceStatus>,
    #[serde(default, deserialize_with = "nullable::present")]
    #[schema(nullable = false)]
    #[validate(length(max = 20, message = "at most 20 documents"))]
    pub documents: Option<Vec<Document>>,
}

/// Lists alliances.
#[utoipa::path(
    operation_id = "list_alliances",
    tag = "alliances",
    params(AllianceQuery),
    responses((status = 200, description = "A page of alliances in a stable order", body = List<Alliance>))
)]
#[get("/alliances")]
pub async fn list(
    db: web::Data<Db>,
    _caller: Principal,
    query: ApiQuery<AllianceQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = AllianceFilter {
        q: q.q,
        kind: q.kind,
        sector: q.sector,
        status: q.status,
        updated_since: q.updated_since.map(|t| t.naive_utc()),
    };
    let page = db.read(move |c| alliances::list(c, &filter, &page)).await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Founds an alliance (admin).
#[utoipa::path(
    operation_id = "create_alliance",
    tag = "alliances",
    request_body = CreateAlliance,
    responses((status = 201, description = "Created; `Location` names it", body = Alliance,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/alliances")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    body: ApiJson<CreateAlliance>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let new = NewAlliance {
        slug: b.slug,
        kind: b.kind,
        sector: b.sector,
        host_zone: b.host_zone,
        name_zh: b.name_zh,
        name_en: b.name_en,
        founded_on: b.founded_on,
        documents: b.documents,
    };
    let alliance = db
        .write(caller, move |tx| alliances::create(tx, new))
        .await?;
    Ok(created(
        format!("/api/v1/alliances/{}", alliance.slug),
        &alliance,
    ))
}

/// Reads one alliance by id or slug.
#[utoipa::path(
    operation_id = "get_alliance",
    tag = "alliances",
    params(("id" = String, Path, description = "Alliance id or slug", example = "teda-biomedicine")),
    responses(
        (status = 200, description = "The alliance", body = Alliance, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/alliances/{id}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    _caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let alliance = db.read(move |c| alliances::find(c, &id)).await?;
    Ok(item(&req, &alliance))
}

/// Changes an alliance (admin, or a secretariat of it).
#[utoipa::path(
    operation_id = "update_alliance",
    tag = "alliances",
    params(
        ("id" = String, Path, description = "Alliance id or slug", example = "teda-biomedicine"),
        IfMatch,
    ),
    request_body = UpdateAlliance,
    responses((status = 200, description = "The alliance after the change", body = Alliance, headers(("ETag" = String))))
)]
#[patch("/alliances/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<UpdateAlliance>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let patch = AlliancePatch {
        kind: b.kind,
        sector: b.sector,
        host_zone: b.host_zone,
        name_zh: b.name_zh,
        name_en: b.name_en,
        founded_on: b.founded_on,
        status: b.status,
        documents: b.documents,
    };
    let id = id.into_inner();
    let alliance = db
        .write(caller, move |tx| alliances::update(tx, &id, patch, &pre))
        .await?;
    Ok(changed(&alliance))
}
