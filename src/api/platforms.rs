//! Platforms: `/alliances/{id}/platforms` and `/platforms/{id}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::List;
use super::extract::{ApiJson, ApiQuery, IfMatch, changed, item};
use super::files::{self, HeaderLang};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::page::PageRequest;
use crate::db::platforms::{self, PlatformFilter};
use crate::domain::platform::{NewPlatform, Platform, PlatformKind, PlatformPatch, PlatformStatus};
use crate::error::ApiError;
use crate::service::Precondition;
use crate::tabular::Format;

const ALLIANCE_ID: &str = "Alliance id or slug";
const PLATFORM_ID: &str = "Platform id";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlatformQuery {
    pub kind: Option<PlatformKind>,
    pub status: Option<PlatformStatus>,
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

/// Lists an alliance's platforms.
#[utoipa::path(
    operation_id = "list_platforms",
    tag = "platforms",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), PlatformQuery),
    responses((status = 200, description = "A page", body = List<Platform>))
)]
#[get("/alliances/{id}/platforms")]
pub async fn list(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<PlatformQuery>,
) -> Result<HttpResponse, ApiError> {
    list_or_file(req, db, caller, id, query).await
}

/// Every platform of an alliance that the filters match, as a file (CSV or XLSX).
#[utoipa::path(
    operation_id = "export_platforms",
    tag = "platforms",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), PlatformQuery, files::FileQuery),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/alliances/{id}/exports/platforms")]
pub async fn export(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    mut query: ApiQuery<PlatformQuery>,
) -> Result<HttpResponse, ApiError> {
    query.0.format = Some(files::required(query.0.format)?);
    list_or_file(req, db, caller, id, query).await
}

async fn list_or_file(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<PlatformQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = PlatformFilter {
        kind: q.kind,
        status: q.status,
    };
    let id = id.into_inner();
    if let Some(format) = files::wanted(&req, q.format) {
        let name = format!("{id}-platforms");
        let all = crate::service::read_alliance(&db, caller, id, move |c, id| {
            files::all_pages(|p| platforms::list(c, id, &filter, p), |x| x.id.clone())
        })
        .await?;
        return files::download(&all, format, q.headers.unwrap_or_default(), &name);
    }
    let page = crate::service::read_alliance(&db, caller, id, move |c, id| {
        platforms::list(c, id, &filter, &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Records a platform of an alliance (admin, or a secretariat of it). The
/// host must be a current member; partners may be any registered organisation.
#[utoipa::path(
    operation_id = "create_platform",
    tag = "platforms",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), IdempotencyKeyHeader),
    request_body = NewPlatform,
    responses((status = 201, description = "Created; `Location` names it", body = Platform,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/alliances/{id}/platforms")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<NewPlatform>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    let id = id.into_inner();
    idempotency::create(&db, caller, key, digest, move |tx| {
        let p = crate::service::platforms::create(tx, &id, new)?;
        Ok((format!("/api/v1/platforms/{}", p.id), p))
    })
    .await
}

/// Reads one platform.
#[utoipa::path(
    operation_id = "get_platform",
    tag = "platforms",
    params(("id" = String, Path, description = PLATFORM_ID)),
    responses(
        (status = 200, description = "The platform", body = Platform, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/platforms/{id}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = crate::service::read_record(&db, caller, move |c| platforms::find(c, &id)).await?;
    Ok(item(&req, &p))
}

/// Changes a platform (admin, or a secretariat of its alliance). Closing
/// needs `status: closed` with `closed_on`.
#[utoipa::path(
    operation_id = "update_platform",
    tag = "platforms",
    params(("id" = String, Path, description = PLATFORM_ID), IfMatch),
    request_body = PlatformPatch,
    responses((status = 200, description = "The platform after the change", body = Platform, headers(("ETag" = String))))
)]
#[patch("/platforms/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<PlatformPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let id = id.into_inner();
    let p = crate::service::write(&db, caller, move |tx| {
        crate::service::platforms::update(tx, &id, patch, &pre)
    })
    .await?;
    Ok(changed(&p))
}

/// Deletes a platform recorded by mistake. One that activities name is
/// kept (409): close it instead.
#[utoipa::path(
    operation_id = "delete_platform",
    tag = "platforms",
    params(("id" = String, Path, description = PLATFORM_ID), IfMatch),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/platforms/{id}")]
pub async fn delete(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    crate::service::write(&db, caller, move |tx| {
        crate::service::platforms::delete(tx, &id, &pre)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
