//! `/kpi-definitions`: the KPI catalogue.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::List;
use super::extract::{ApiJson, IfMatch, changed, item};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::kpis;
use crate::domain::kpi::{KpiDefinition, KpiDefinitionPatch, NewKpiDefinition};
use crate::error::ApiError;
use crate::service::Precondition;

const KPI_CODE: &str = "KPI code";

/// The whole KPI catalogue, by code (one page: it is small).
#[utoipa::path(
    operation_id = "list_kpi_definitions",
    tag = "kpis",
    responses((status = 200, description = "Every KPI", body = List<KpiDefinition>))
)]
#[get("/kpi-definitions")]
pub async fn list(db: web::Data<Db>, _caller: Principal) -> Result<HttpResponse, ApiError> {
    let items = db.read(kpis::list).await?;
    Ok(HttpResponse::Ok().json(List {
        items,
        next_cursor: None,
    }))
}

/// Reads one KPI.
#[utoipa::path(
    operation_id = "get_kpi_definition",
    tag = "kpis",
    params(("code" = String, Path, description = KPI_CODE, example = "teacher_training_person_times")),
    responses(
        (status = 200, description = "The KPI", body = KpiDefinition, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/kpi-definitions/{code}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    _caller: Principal,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let kpi = db.read(move |c| kpis::find(c, &code)).await?;
    Ok(item(&req, &kpi))
}

/// Adds a KPI to the catalogue (admin). A derived KPI's unit must be the
/// unit its derivation gives.
#[utoipa::path(
    operation_id = "create_kpi_definition",
    tag = "kpis",
    params(IdempotencyKeyHeader),
    request_body = NewKpiDefinition,
    responses((status = 201, description = "Created; `Location` names it", body = KpiDefinition,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/kpi-definitions")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    body: ApiJson<NewKpiDefinition>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    idempotency::create(&db, caller, key, digest, move |tx| {
        let kpi = crate::service::kpis::create(tx, new)?;
        Ok((format!("/api/v1/kpi-definitions/{}", kpi.code), kpi))
    })
    .await
}

/// Changes a KPI (admin).
#[utoipa::path(
    operation_id = "update_kpi_definition",
    tag = "kpis",
    params(("code" = String, Path, description = KPI_CODE, example = "teacher_training_person_times"), IfMatch),
    request_body = KpiDefinitionPatch,
    responses((status = 200, description = "The KPI after the change", body = KpiDefinition, headers(("ETag" = String))))
)]
#[patch("/kpi-definitions/{code}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    code: web::Path<String>,
    pre: Precondition,
    body: ApiJson<KpiDefinitionPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let code = code.into_inner();
    let kpi = crate::service::write(&db, caller, move |tx| {
        crate::service::kpis::update(tx, &code, patch, &pre)
    })
    .await?;
    Ok(changed(&kpi))
}
