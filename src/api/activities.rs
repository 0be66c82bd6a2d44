//! Activities: `/alliances/{id}/activities` and `/activities/{id}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::List;
use super::extract::{ApiJson, ApiQuery, IfMatch, changed, item};
use super::files::{self, HeaderLang};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::activities::{self, ActivityFilter};
use crate::db::page::PageRequest;
use crate::domain::activity::{Activity, ActivityKind, ActivityPatch, NewActivity};
use crate::error::ApiError;
use crate::service::Precondition;
use crate::tabular::Format;

const ALLIANCE_ID: &str = "Alliance id or slug";
const ACTIVITY_ID: &str = "Activity id";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    pub kind: Option<ActivityKind>,
    /// Only activities that run on or after this day.
    #[param(example = "2025-01-01")]
    pub from: Option<NaiveDate>,
    /// Only activities that start on or before this day.
    #[param(example = "2025-12-31")]
    pub to: Option<NaiveDate>,
    /// Only activities this organisation (id or slug) took part in.
    #[param(example = "nankai-university")]
    pub organization: Option<String>,
    /// Only activities on this platform (id).
    pub platform: Option<String>,
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

/// Lists an alliance's activities.
#[utoipa::path(
    operation_id = "list_activities",
    tag = "activities",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), ActivityQuery),
    responses((status = 200, description = "A page", body = List<Activity>))
)]
#[get("/alliances/{id}/activities")]
pub async fn list(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<ActivityQuery>,
) -> Result<HttpResponse, ApiError> {
    list_or_file(req, db, caller, id, query).await
}

/// Every activity of an alliance that the filters match, as a file (CSV or XLSX).
#[utoipa::path(
    operation_id = "export_activities",
    tag = "activities",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), ActivityQuery, files::FileQuery),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/alliances/{id}/exports/activities")]
pub async fn export(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    mut query: ApiQuery<ActivityQuery>,
) -> Result<HttpResponse, ApiError> {
    query.0.format = Some(files::required(query.0.format)?);
    list_or_file(req, db, caller, id, query).await
}

async fn list_or_file(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<ActivityQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = ActivityFilter {
        kind: q.kind,
        from: q.from,
        to: q.to,
        organization: q.organization,
        platform_id: q.platform,
    };
    let id = id.into_inner();
    if let Some(format) = files::wanted(&req, q.format) {
        let name = format!("{id}-activities");
        let all = crate::service::read_alliance(&db, caller, id, move |c, id| {
            files::all_pages(|p| activities::list(c, id, &filter, p), |x| x.id.clone())
        })
        .await?;
        return files::download(&all, format, q.headers.unwrap_or_default(), &name);
    }
    let page = crate::service::read_alliance(&db, caller, id, move |c, id| {
        activities::list(c, id, &filter, &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Records an activity of an alliance (admin, or a secretariat of it).
/// Each kind takes only its own figures (see `ActivityKind`).
#[utoipa::path(
    operation_id = "create_activity",
    tag = "activities",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), IdempotencyKeyHeader),
    request_body = NewActivity,
    responses((status = 201, description = "Created; `Location` names it", body = Activity,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/alliances/{id}/activities")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<NewActivity>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    let id = id.into_inner();
    idempotency::create(&db, caller, key, digest, move |tx| {
        let a = crate::service::activities::create(tx, &id, new)?;
        Ok((format!("/api/v1/activities/{}", a.id), a))
    })
    .await
}

/// Reads one activity.
#[utoipa::path(
    operation_id = "get_activity",
    tag = "activities",
    params(("id" = String, Path, description = ACTIVITY_ID)),
    responses(
        (status = 200, description = "The activity", body = Activity, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/activities/{id}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let a = crate::service::read_record(&db, caller, move |c| activities::find(c, &id)).await?;
    Ok(item(&req, &a))
}

/// Changes an activity (admin, or a secretariat of its alliance).
#[utoipa::path(
    operation_id = "update_activity",
    tag = "activities",
    params(("id" = String, Path, description = ACTIVITY_ID), IfMatch),
    request_body = ActivityPatch,
    responses((status = 200, description = "The activity after the change", body = Activity, headers(("ETag" = String))))
)]
#[patch("/activities/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<ActivityPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let id = id.into_inner();
    let a = crate::service::write(&db, caller, move |tx| {
        crate::service::activities::update(tx, &id, patch, &pre)
    })
    .await?;
    Ok(changed(&a))
}

/// Deletes an activity recorded by mistake (the audit trail keeps it).
#[utoipa::path(
    operation_id = "delete_activity",
    tag = "activities",
    params(("id" = String, Path, description = ACTIVITY_ID), IfMatch),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/activities/{id}")]
pub async fn delete(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    crate::service::write(&db, caller, move |tx| {
        crate::service::activities::delete(tx, &id, &pre)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
