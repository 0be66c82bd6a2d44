//! `/alliances`: 产教联合体 and 产业链产教融合共同体.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::List;
use super::extract::{ApiJson, ApiQuery, IfMatch, changed, item};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::alliances::{self, AllianceFilter};
use crate::db::page::PageRequest;
use crate::domain::alliance::{
    Alliance, AllianceKind, AlliancePatch, AllianceStatus, NewAlliance, Sector,
};
use crate::error::ApiError;
use crate::service::Precondition;

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
    params(IdempotencyKeyHeader),
    request_body = NewAlliance,
    responses((status = 201, description = "Created; `Location` names it", body = Alliance,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/alliances")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    body: ApiJson<NewAlliance>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    idempotency::create(&db, caller, key, digest, move |tx| {
        let alliance = crate::service::alliances::create(tx, new)?;
        Ok((format!("/api/v1/alliances/{}", alliance.slug), alliance))
    })
    .await
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
    request_body = AlliancePatch,
    responses((status = 200, description = "The alliance after the change", body = Alliance, headers(("ETag" = String))))
)]
#[patch("/alliances/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<AlliancePatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let id = id.into_inner();
    let alliance = crate::service::write(&db, caller, move |tx| {
        crate::service::alliances::update(tx, &id, patch, &pre)
    })
    .await?;
    Ok(changed(&alliance))
}
