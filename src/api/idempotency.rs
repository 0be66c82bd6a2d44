//! `Idempotency-Key` on POST: the first response (status, body, headers) is
//! kept for a day with a digest of the request; a retry with the same key
//! and request replays it and writes nothing; the same key with another
//! request is refused (422). Writers run one at a time (see `Db::transact`), so
//! a concurrent duplicate finds the first response stored, never a gap.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use futures_util::future::{Ready, ready};
use serde::Serialize;

use crate::auth::Principal;
use crate::db::Db;
use crate::db::idempotency::{self, StoredResponse};
use crate::domain::Versioned;
use crate::error::{ApiError, FieldError};
use crate::service::Tx;

pub const HEADER: &str = "Idempotency-Key";

/// The `Idempotency-Key` header: 1–255 visible ASCII characters.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(HEADER) {
            None => Ok(IdempotencyKey(None)),
            Some(v) => v
                .to_str()
                .ok()
                .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
                .map(|k| IdempotencyKey(Some(k.to_owned())))
                .ok_or_else(|| ApiError::BadRequest {
                    detail: "Idempotency-Key must be 1-255 visible ASCII characters".into(),
                    errors: vec![FieldError::new(
                        HEADER,
                        "invalid",
                        "use a UUID or another unique token",
                    )],
                }),
        };
        ready(parsed)
    }
}

/// `Idempotency-Key`, as the description shows it on every POST.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// A unique key for this request (a UUID will do). Sent again with the
    /// same body within 24 hours, it replays the first response
    /// (`Idempotent-Replayed: true`) and writes nothing; with another body,
    /// it is refused with 422.
    #[param(
        rename = "Idempotency-Key",
        nullable = false,
        pattern = "^[!-~]{1,255}$",
        example = "5f0c2b1e-8d43-4a57-9a44-1f7e3c2b9d10"
    )]
    pub key: Option<String>,
}

/// What a write answers, in the form it is kept for replays.
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: String,
    /// The body holds a secret shown once: it is sent with
    /// `Cache-Control: no-store` and never kept; a replay gets a 409 naming
    /// what the first request made instead.
    pub secret: bool,
}

/// Runs a create at most once per key: `f` returns where the new resource
/// lives and the resource; the answer is 201 with `Location` and `ETag`.
pub async fn create<R, F>(
    db: &Db,
    caller: Principal,
    key: IdempotencyKey,
    digest: String,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    R: Serialize + Versioned + Send + 'static,
    F: FnOnce(&mut Tx<'_>) -> Result<(String, R), ApiError> + Send + 'static,
{
    create_answer(db, caller, key, digest, false, f).await
}

/// [`create`] for a resource whose answer holds a secret shown once (see
/// [`Answer::secret`]).
pub async fn create_with_secret<R, F>(
    db: &Db,
    caller: Principal,
    key: IdempotencyKey,
    digest: String,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    R: Serialize + Versioned + Send + 'static,
    F: FnOnce(&mut Tx<'_>) -> Result<(String, R), ApiError> + Send + 'static,
{
    create_answer(db, caller, key, digest, true, f).await
}

async fn create_answer<R, F>(
    db: &Db,
    caller: Principal,
    key: IdempotencyKey,
    digest: String,
    secret: bool,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    R: Serialize + Versioned + Send + 'static,
    F: FnOnce(&mut Tx<'_>) -> Result<(String, R), ApiError> + Send + 'static,
{
    once(db, caller, key, digest, move |tx| {
        let (location, resource) = f(tx)?;
        Ok(Answer {
            status: 201,
            location: Some(location),
            etag: Some(resource.etag()),
            body: serde_json::to_string(&resource).map_err(ApiError::internal)?,
            secret,
        })
    })
    .await
}

/// What a replay of a request whose answer held a secret gets: not the
/// secret, which is kept nowhere.
fn secret_not_kept(location: Option<&str>) -> String {
    let made = location.unwrap_or("the resource");
    let problem = ApiError::Conflict {
        detail: format!(
            "this Idempotency-Key was used for a request that created {made}; its secret was shown \
             once in that answer and is not kept, so it cannot be replayed (rotate the secret if it was lost)"
        ),
        errors: vec![FieldError::new(HEADER, "secret_not_replayed", "use a new key for a new request")],
    }
    .to_problem();
    serde_json::to_string(&problem).unwrap_or_default()
}

/// Runs a write at most once per key, keeping its answer (any status) in
/// the write's own transaction; a retry replays it.
pub async fn once<F>(
    db: &Db,
    caller: Principal,
    key: IdempotencyKey,
    digest: String,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut Tx<'_>) -> Result<Answer, ApiError> + Send + 'static,
{
    let principal = caller.identity();
    let (stored, replayed, holds_secret) = crate::service::write(db, caller, move |tx| {
        if let Some(key) = &key.0
            && let Some(first) = idempotency::find(tx.conn, &principal, key, tx.now())?
        {
            return if first.request_hash == digest {
                Ok((first, true, false))
            } else {
                Err(ApiError::Validation(vec![FieldError::new(
                    HEADER,
                    "reused",
                    "this key was used with a different request; use a new key for a new request",
                )]))
            };
        }
        let answer = f(tx)?;
        let secret = answer.secret;
        let response = StoredResponse {
            principal,
            idempotency_key: key.0.clone().unwrap_or_default(),
            request_hash: digest,
            status: i32::from(answer.status),
            location: answer.location,
            etag: answer.etag,
            body: answer.body,
            created_at: tx.now(),
        };
        if key.0.is_some() {
            let kept = if secret {
                StoredResponse {
                    status: 409,
                    etag: None,
                    body: secret_not_kept(response.location.as_deref()),
                    ..response.clone()
                }
            } else {
                response.clone()
            };
            idempotency::store(tx.conn, &kept)?;
        }
        Ok((response, false, secret))
    })
    .await?;
    let status =
        actix_web::http::StatusCode::from_u16(stored.status as u16).map_err(ApiError::internal)?;
    let mut res = HttpResponse::build(status);
    res.content_type(if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    });
    if holds_secret {
        res.insert_header((header::CACHE_CONTROL, "no-store"));
    }
    if let Some(location) = stored.location {
        res.insert_header((header::LOCATION, location));
    }
    if let Some(etag) = stored.etag {
        res.insert_header((header::ETAG, etag));
    }
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.body(stored.body))
}
