//! `/organizations`: one record per real body, shared across alliances.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::List;
use super::extract::{ApiJson, ApiQuery, IfMatch, changed, item};
use super::files::{self, HeaderLang};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::organizations::{self, OrganizationFilter};
use crate::db::page::PageRequest;
use crate::domain::organization::{
    CertificationLevel, NewOrganization, Organization, OrganizationKind, OrganizationPatch,
};
use crate::domain::{ExternalSystem, Name, Versioned};
use crate::error::ApiError;
use crate::service::Precondition;
use crate::tabular::Format;

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
    /// Only the organisation a member system knows by this reference,
    /// written `system:id`.
    #[serde(rename = "ref")]
    #[param(rename = "ref", example = "kailaiying-hr:ORG-0001")]
    pub external_ref: Option<String>,
    /// Only organisations changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Only enterprises with this 产教融合型企业 certification level.
    pub certification: Option<CertificationLevel>,
    /// Only enterprises whose certification holds on this day.
    #[param(example = "2025-12-31")]
    pub certified_on: Option<NaiveDate>,
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
    req: HttpRequest,
    db: web::Data<Db>,
    _caller: Principal,
    query: ApiQuery<OrganizationQuery>,
) -> Result<HttpResponse, ApiError> {
    list_or_file(req, db, _caller, query).await
}

/// Every organisation that the filters match, as a file (CSV or XLSX).
#[utoipa::path(
    operation_id = "export_organizations",
    tag = "organizations",
    params(OrganizationQuery, files::FileQuery),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/exports/organizations")]
pub async fn export(
    req: HttpRequest,
    db: web::Data<Db>,
    _caller: Principal,
    mut query: ApiQuery<OrganizationQuery>,
) -> Result<HttpResponse, ApiError> {
    query.0.format = Some(files::required(query.0.format)?);
    list_or_file(req, db, _caller, query).await
}

async fn list_or_file(
    req: HttpRequest,
    db: web::Data<Db>,
    _caller: Principal,
    query: ApiQuery<OrganizationQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let external_ref = match q.external_ref {
        None => None,
        Some(r) => Some(
            r.split_once(':')
                .map(|(s, i)| (s.to_owned(), i.to_owned()))
                .ok_or_else(|| ApiError::BadRequest {
                    detail: "ref is written `system:id`".into(),
                    errors: vec![crate::error::FieldError::new(
                        "ref",
                        "invalid",
                        "write the reference as system:id",
                    )],
                })?,
        ),
    };
    let filter = OrganizationFilter {
        q: q.q,
        kind: q.kind,
        uscc: q.uscc.map(|u| u.trim().to_ascii_uppercase()),
        external_ref,
        updated_since: q.updated_since.map(|t| t.naive_utc()),
        certification: q.certification,
        certified_on: q.certified_on,
    };
    if let Some(format) = files::wanted(&req, q.format) {
        let all = db
            .read(move |c| {
                files::all_pages(|p| organizations::list(c, &filter, p), |o| o.id.clone())
            })
            .await?;
        return files::download(&all, format, q.headers.unwrap_or_default(), "organizations");
    }
    let page = db
        .read(move |c| organizations::list(c, &filter, &page))
        .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Registers an organisation (admin or secretariat).
#[utoipa::path(
    operation_id = "create_organization",
    tag = "organizations",
    params(IdempotencyKeyHeader),
    request_body = NewOrganization,
    responses((status = 201, description = "Created; `Location` names it", body = Organization,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/organizations")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    body: ApiJson<NewOrganization>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    idempotency::create(&db, caller, key, digest, move |tx| {
        let org = crate::service::organizations::create(tx, new)?;
        Ok((format!("/api/v1/organizations/{}", org.slug), org))
    })
    .await
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
    request_body = OrganizationPatch,
    responses((status = 200, description = "The organisation after the change", body = Organization, headers(("ETag" = String))))
)]
#[patch("/organizations/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<OrganizationPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let id = id.into_inner();
    let org = crate::service::write(&db, caller, move |tx| {
        crate::service::organizations::update(tx, &id, patch, &pre)
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
    crate::service::write(&db, caller, move |tx| {
        crate::service::organizations::delete(tx, &id, &pre)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates or replaces the organisation a member system knows by its own
/// id: `{system}` names the system, `{ref}` its id for the organisation.
/// The reference is kept in `external_refs`. Admins and secretariats may
/// upsert any; a member token only its own organisation, and only its
/// member-owned fields (`name_en`, `region`, `website`) may differ.
#[utoipa::path(
    operation_id = "upsert_organization_by_ref",
    tag = "organizations",
    params(
        ("system" = String, Path, description = "The member system", example = "kailaiying-hr", pattern = "^[A-Za-z0-9._-]{1,64}$"),
        ("ref" = String, Path, description = "The system's own id for the organisation", example = "ORG-0001"),
        IfMatch,
    ),
    request_body = NewOrganization,
    responses(
        (status = 200, description = "Replaced", body = Organization, headers(("ETag" = String))),
        (status = 201, description = "Created", body = Organization, headers(("ETag" = String), ("Location" = String))),
    )
)]
#[put("/organizations/by-ref/{system}/{ref}")]
pub async fn upsert_by_ref(
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, String)>,
    pre: Precondition,
    body: ApiJson<NewOrganization>,
) -> Result<HttpResponse, ApiError> {
    let (system, reference) = path.into_inner();
    let path_error = |field: &str, message: &str| ApiError::BadRequest {
        detail: format!("path segment `{field}`: {message}"),
        errors: vec![crate::error::FieldError::new(field, "invalid", message)],
    };
    let system = ExternalSystem::parse(&system).map_err(|m| path_error("system", m))?;
    let reference = Name::parse(&reference).map_err(|m| path_error("ref", m))?;
    let new = body.0;
    let (org, created) = crate::service::write(&db, caller, move |tx| {
        crate::service::organizations::upsert_by_ref(tx, &system, &reference, new, &pre)
    })
    .await?;
    if created {
        Ok(HttpResponse::Created()
            .insert_header((
                actix_web::http::header::LOCATION,
                format!("/api/v1/organizations/{}", org.slug),
            ))
            .insert_header((actix_web::http::header::ETAG, org.etag()))
            .json(&org))
    } else {
        Ok(changed(&org))
    }
}
