//! `/webhooks`: subscriptions, their delivery log, and redelivery. The
//! sending is done by `crate::sync::worker`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{ApiJson, ApiQuery, IfMatch, changed, item};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use super::{List, PageQuery};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::page::PageRequest;
use crate::db::webhooks::DeliveryFilter;
use crate::domain::webhook::{
    CreatedWebhookSubscription, DeliveryStatus, NewWebhookSubscription, Redelivery,
    WebhookDelivery, WebhookSubscription, WebhookSubscriptionPatch,
};
use crate::error::{ApiError, FieldError};
use crate::service::Precondition;
use crate::sync::WebhookSettings;

const SUBSCRIPTION_ID: &str = "Subscription id";

/// Roles that may subscribe: the ones whose systems sync.

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    /// Only deliveries of this event (its cursor).
    #[param(pattern = "^[0-9]{1,18}$", example = "1042")]
    pub event: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-f]{2}){0,64}$")]
    pub cursor: Option<String>,
}

fn check_target(settings: &WebhookSettings, url: &str) -> Result<(), ApiError> {
    settings
        .targets
        .check_url(url)
        .map_err(|m| ApiError::invalid("url", "forbidden_target", m))
}

/// Lists the caller's subscriptions (an admin's: everyone's).
#[utoipa::path(
    operation_id = "list_webhooks",
    tag = "webhooks",
    params(PageQuery),
    responses((status = 200, description = "A page of subscriptions, oldest first", body = List<WebhookSubscription>))
)]
#[get("/webhooks")]
pub async fn list(
    db: web::Data<Db>,
    caller: Principal,
    query: ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(query.0.limit, query.0.cursor.as_deref())?;
    let page = db
        .read(move |c| crate::service::webhooks::list(c, &caller, &page))
        .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Subscribes a URL to change events (admin, secretariat or member). The
/// answer holds the signing secret, shown only this once. Deliveries start
/// with the events committed after this call and carry no more than the
/// caller may read from `/changes`.
///
/// Each delivery is a `POST` of one change event (the feed's JSON) with
/// `Alliance-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret,
/// "<t>.<body>")>`, `Alliance-Event-Id` (the event's cursor: a repeat has
/// the same one), `Alliance-Event-Type` and `Alliance-Delivery-Id`. A 2xx
/// answer within the timeout (10 s) is success; anything else is retried
/// with exponential back-off and jitter for a day. A subscription with no
/// success for a day is disabled, with the reason. Events may arrive out
/// of order: order them by cursor.
#[utoipa::path(
    operation_id = "create_webhook",
    tag = "webhooks",
    params(IdempotencyKeyHeader),
    request_body = NewWebhookSubscription,
    responses((status = 201, description = "Created; the body holds the secret", body = CreatedWebhookSubscription,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/webhooks")]
pub async fn create(
    db: web::Data<Db>,
    settings: web::Data<WebhookSettings>,
    caller: Principal,
    key: IdempotencyKey,
    body: ApiJson<NewWebhookSubscription>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    check_target(&settings, new.url.as_str())?;
    idempotency::create_with_secret(&db, caller, key, digest, move |tx| {
        let created = crate::service::webhooks::create(tx, new)?;
        Ok((
            format!("/api/v1/webhooks/{}", created.subscription.id),
            created,
        ))
    })
    .await
}

/// Reads one subscription (without its secret).
#[utoipa::path(
    operation_id = "get_webhook",
    tag = "webhooks",
    params(("id" = String, Path, description = SUBSCRIPTION_ID)),
    responses(
        (status = 200, description = "The subscription", body = WebhookSubscription, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let sub = db
        .read(move |c| crate::service::webhooks::find(c, &caller, &id))
        .await?;
    Ok(item(&req, &sub))
}

/// Changes a subscription; `{"status": "active"}` re-enables a disabled
/// one, which then delivers what it missed.
#[utoipa::path(
    operation_id = "update_webhook",
    tag = "webhooks",
    params(("id" = String, Path, description = SUBSCRIPTION_ID), IfMatch),
    request_body = WebhookSubscriptionPatch,
    responses((status = 200, description = "The subscription after the change", body = WebhookSubscription, headers(("ETag" = String))))
)]
#[patch("/webhooks/{id}")]
pub async fn update(
    db: web::Data<Db>,
    settings: web::Data<WebhookSettings>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<WebhookSubscriptionPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    if let Some(url) = &patch.url {
        check_target(&settings, url.as_str())?;
    }
    let id = id.into_inner();
    let window = settings.retry.window;
    let sub = crate::service::write(&db, caller, move |tx| {
        crate::service::webhooks::update(tx, &id, patch, &pre, window)
    })
    .await?;
    Ok(changed(&sub))
}

/// Deletes a subscription, its pending deliveries and its log.
#[utoipa::path(
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = String, Path, description = SUBSCRIPTION_ID), IfMatch),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/webhooks/{id}")]
pub async fn delete(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    crate::service::write(&db, caller, move |tx| {
        crate::service::webhooks::delete(tx, &id, &pre)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The delivery log: one entry per event sent to this subscription, with
/// every attempt (time, response code, latency, error).
#[utoipa::path(
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(("id" = String, Path, description = SUBSCRIPTION_ID), DeliveryQuery),
    responses((status = 200, description = "A page of deliveries, oldest first", body = List<WebhookDelivery>))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let event = q
        .event
        .map(|e| {
            Some(&e)
                .filter(|e| (1..=18).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|e| e.parse::<i64>().ok())
                .ok_or_else(|| ApiError::BadRequest {
                    detail: "event: use an event's cursor".into(),
                    errors: vec![FieldError::new("event", "invalid", "use an event's cursor")],
                })
        })
        .transpose()?;
    let filter = DeliveryFilter {
        status: q.status,
        event,
    };
    let id = id.into_inner();
    let page = db
        .read(move |c| crate::service::webhooks::deliveries(c, &caller, &id, &filter, &page))
        .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Reads one delivery with its attempts.
#[utoipa::path(
    operation_id = "get_webhook_delivery",
    tag = "webhooks",
    params(
        ("id" = String, Path, description = SUBSCRIPTION_ID),
        ("delivery_id" = String, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "The delivery", body = WebhookDelivery, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/webhooks/{id}/deliveries/{delivery_id}")]
pub async fn delivery(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let d = db
        .read(move |c| crate::service::webhooks::delivery(c, &caller, &id, &delivery_id))
        .await?;
    Ok(item(&req, &d))
}

/// Sends one event to this subscription again (a new delivery, same event
/// id), whatever became of it before. The event must still be kept.
#[utoipa::path(
    operation_id = "redeliver_webhook_event",
    tag = "webhooks",
    params(("id" = String, Path, description = SUBSCRIPTION_ID), IdempotencyKeyHeader),
    request_body = Redelivery,
    responses((status = 201, description = "Queued; `Location` names the new delivery", body = WebhookDelivery,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/webhooks/{id}/deliveries")]
pub async fn redeliver(
    db: web::Data<Db>,
    settings: web::Data<WebhookSettings>,
    caller: Principal,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: ApiJson<Redelivery>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(redelivery, digest) = body;
    let id = id.into_inner();
    let window = settings.retry.window;
    idempotency::create(&db, caller, key, digest, move |tx| {
        let d = crate::service::webhooks::redeliver(tx, &id, redelivery.seq(), window)?;
        Ok((format!("/api/v1/webhooks/{id}/deliveries/{}", d.id), d))
    })
    .await
}
