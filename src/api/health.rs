//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{ApiError, Problem};
use crate::sync::{WorkerState, WorkerStatus};

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    /// For `/readyz`: what was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<Checks>,
}

/// What `/readyz` checks.
#[derive(Serialize, ToSchema)]
pub struct Checks {
    /// `ok`: a query answered.
    #[schema(example = "ok")]
    pub database: &'static str,
    /// `ok`: every migration is applied.
    #[schema(example = "ok")]
    pub migrations: &'static str,
    /// `running`, or `off` where this process is configured without one.
    #[schema(example = "running")]
    pub webhook_worker: &'static str,
}

/// The process is alive.
#[utoipa::path(
    operation_id = "healthz",tag = "operations", security(()), responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        checks: None,
    })
}

/// The service can take traffic: the database answers, every migration
/// has been applied, and the webhook worker runs (where configured).
#[utoipa::path(
    operation_id = "readyz",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready: the database does not answer, migrations are pending, or the webhook worker stopped",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(
    db: web::Data<Db>,
    worker: web::Data<WorkerStatus>,
) -> Result<HttpResponse, ApiError> {
    let ready = db.probe(std::time::Duration::from_secs(2)).await;
    if !ready {
        return Err(ApiError::Unavailable("the database does not answer".into()));
    }
    let db2 = db.clone();
    let migrated = web::block(move || db2.migrations_applied())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false);
    if !migrated {
        return Err(ApiError::Unavailable("migrations are pending".into()));
    }
    let webhook_worker = match worker.state() {
        WorkerState::Running => "running",
        WorkerState::Off => "off",
        WorkerState::Stopped => {
            return Err(ApiError::Unavailable(
                "the webhook worker is not running".into(),
            ));
        }
    };
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        checks: Some(Checks {
            database: "ok",
            migrations: "ok",
            webhook_worker,
        }),
    }))
}

/// Prometheus metrics: requests and latency by route template and status,
/// database pool connections and wait time, webhook deliveries by status,
/// the change feed's head.
#[utoipa::path(
    operation_id = "metrics",
    tag = "operations",
    security(()),
    responses((status = 200, description = "Prometheus text exposition format",
        body = String, content_type = "text/plain")),
)]
#[get("/metrics")]
pub async fn metrics(
    metrics: web::Data<crate::telemetry::Metrics>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let text = metrics.render(&db).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}
