//! `/accounts`: who may get tokens (admins only), and `/auth/token`, where
//! an account trades its client id and secret for a short-lived token.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, patch, post, web};
use futures_util::future::LocalBoxFuture;

use super::extract::{ApiJson, IfMatch, OptionalJson, changed, item};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use super::oauth::OAuthError;
use super::{List, PageQuery};
use crate::auth::{JwtKeys, Principal};
use crate::db::Db;
use crate::db::accounts;
use crate::domain::account::{
    Account, AccountPatch, AccountWithSecret, NewAccount, SecretRotation, TokenRequest,
    TokenResponse,
};
use crate::error::{ApiError, FieldError};
use crate::service::Precondition;

const ACCOUNT_ID: &str = "Account id or name";

/// How long the tokens of `POST /auth/token` last, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetime(pub i64);

/// Lists the accounts (admin), without their secrets.
#[utoipa::path(
    operation_id = "list_accounts",
    tag = "accounts",
    params(PageQuery),
    responses((status = 200, description = "A page of accounts, oldest first", body = List<Account>))
)]
#[get("/accounts")]
pub async fn list(
    db: web::Data<Db>,
    _caller: Principal,
    query: super::extract::ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.0.parse()?;
    let page = db.read(move |c| accounts::list(c, &page)).await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Creates an account (admin). The answer holds its `client_secret`, shown
/// only this once.
#[utoipa::path(
    operation_id = "create_account",
    tag = "accounts",
    params(IdempotencyKeyHeader),
    request_body = NewAccount,
    responses((status = 201, description = "Created; the body holds the secret", body = AccountWithSecret,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/accounts")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    body: ApiJson<NewAccount>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    idempotency::create_with_secret(&db, caller, key, digest, move |tx| {
        let created = crate::service::accounts::create(tx, new)?;
        Ok((format!("/api/v1/accounts/{}", created.account.id), created))
    })
    .await
}

/// Reads an account (admin), without its secret.
#[utoipa::path(
    operation_id = "get_account",
    tag = "accounts",
    params(("id" = String, Path, description = ACCOUNT_ID)),
    responses(
        (status = 200, description = "The account", body = Account, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/accounts/{id}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    _caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let account = db.read(move |c| accounts::find(c, &id)).await?;
    Ok(item(&req, &account))
}

/// Changes an account's role, scope, description or status (admin).
/// Disabling it refuses new tokens at once; tokens already issued expire
/// within their lifetime.
#[utoipa::path(
    operation_id = "update_account",
    tag = "accounts",
    params(("id" = String, Path, description = ACCOUNT_ID), IfMatch),
    request_body = AccountPatch,
    responses((status = 200, description = "The account after the change", body = Account, headers(("ETag" = String))))
)]
#[patch("/accounts/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<AccountPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let id = id.into_inner();
    let account = crate::service::write(&db, caller, move |tx| {
        crate::service::accounts::update(tx, &id, patch, &pre)
    })
    .await?;
    Ok(changed(&account))
}

/// Replaces an account's secret (admin); the old one stops working at
/// once. The answer holds the new `client_secret`, shown only this once.
#[utoipa::path(
    operation_id = "rotate_account_secret",
    tag = "accounts",
    params(("id" = String, Path, description = ACCOUNT_ID)),
    request_body(content = Option<SecretRotation>, description = "Optional: no body, an empty one and `{}` are the same"),
    responses((status = 200, description = "The account with its new secret", body = AccountWithSecret, headers(("ETag" = String))))
)]
#[post("/accounts/{id}/secret")]
pub async fn rotate_secret(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    _body: OptionalJson<SecretRotation>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rotated = crate::service::write(&db, caller, move |tx| {
        crate::service::accounts::rotate_secret(tx, &id)
    })
    .await?;
    let mut res = changed(&rotated);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// The body of `POST /auth/token`: JSON or a form
/// (`application/x-www-form-urlencoded`, as OAuth2 clients send it).
pub struct TokenForm(TokenRequest);

impl FromRequest for TokenForm {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form {
            let json = ApiJson::<TokenRequest>::from_request(req, payload);
            return Box::pin(async move { json.await.map(|j| TokenForm(j.0)) });
        }
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body
                .await
                .map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
            serde_urlencoded::from_bytes::<TokenRequest>(&body)
                .map(TokenForm)
                .map_err(|e| ApiError::BadRequest {
                    detail: format!("the form is not valid: {e}"),
                    errors: vec![FieldError::new("body", "invalid", e.to_string())],
                })
        })
    }
}

/// A client id and secret sent with HTTP Basic (RFC 6749 §2.3.1: each
/// form-urlencoded, then `id:secret` in base64); `None` without a Basic
/// `Authorization` header.
pub struct ClientBasic(Option<(String, String)>);

impl FromRequest for ClientBasic {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(client_basic(req.headers()).map(ClientBasic))
    }
}

fn client_basic(headers: &header::HeaderMap) -> Result<Option<(String, String)>, ApiError> {
    use base64::Engine as _;
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default();
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let unreadable = || ApiError::InvalidClient("the Basic credentials do not decode".into());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| unreadable())?;
    let decoded = String::from_utf8(decoded).map_err(|_| unreadable())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(unreadable)?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

/// One form-urlencoded value (`+` is a space, `%xx` a byte).
fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The client's id and secret: from HTTP Basic or from the body, one of the
/// two (RFC 6749 §2.3).
fn client_credentials(
    basic: Option<(String, String)>,
    id: Option<String>,
    secret: Option<String>,
) -> Result<(String, String), ApiError> {
    match (basic, id, secret) {
        (Some(basic), None, None) => Ok(basic),
        (Some(basic), Some(id), None) if id == basic.0 => Ok(basic),
        (Some(_), _, _) => Err(ApiError::bad_request(
            "send the client credentials with HTTP Basic or in the body, not both",
        )),
        (None, Some(id), Some(secret)) => Ok((id, secret)),
        (None, id, secret) => Err(ApiError::Validation(
            [
                ("client_id", id.is_none()),
                ("client_secret", secret.is_none()),
            ]
            .into_iter()
            .filter(|(_, missing)| *missing)
            .map(|(field, _)| {
                FieldError::new(field, "required", "required unless sent with HTTP Basic")
            })
            .collect(),
        )),
    }
}

/// Trades an account's client id and secret for an access token (OAuth2
/// client credentials, RFC 6749 §4.4): a form, with the credentials in it
/// or in HTTP Basic (`Authorization: Basic`, RFC 6749 §2.3.1), as OAuth2
/// libraries send it (a JSON body with the same fields is taken too). The
/// token carries the account's role and scope, and lasts 15 minutes unless
/// the operator set another lifetime. Errors are OAuth2's
/// (`{"error", "error_description"}`, RFC 6749 §5.2), not problems: a wrong
/// id or secret, or a disabled account, gets 401 `invalid_client` with no
/// hint which; after 20 wrong secrets in a minute for one client id, that
/// id gets 429 `temporarily_unavailable` (with `Retry-After`) until the
/// minute is over.
#[utoipa::path(
    operation_id = "issue_token",
    tag = "accounts",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token", body = TokenResponse),
        (status = 400, description = "`invalid_request` (a parameter missing or malformed, a body that is not a form) or `unsupported_grant_type`", body = OAuthError,
            example = json!({"error": "unsupported_grant_type", "error_description": "grant_type: the only grant is `client_credentials`"})),
        (status = 401, description = "`invalid_client`: the client id or secret is wrong, or the account is disabled", body = OAuthError,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"alliance-api\"`"))),
        (status = 429, description = "`temporarily_unavailable`: too many wrong secrets for this client id, or past the address's rate limit", body = OAuthError,
            headers(("Retry-After" = u64, description = "Seconds until a retry may succeed")),
            example = json!({"error": "temporarily_unavailable", "error_description": "too many requests: this token or address has used its quota; retry in 42 s"})),
        (status = 503, description = "`temporarily_unavailable`: the database is busy or not reachable", body = OAuthError,
            headers(("Retry-After" = u64, description = "Seconds until a retry may succeed")),
            example = json!({"error": "temporarily_unavailable", "error_description": "the service is busy; retry shortly"})),
    )
)]
#[post("/auth/token")]
pub async fn token(
    db: web::Data<Db>,
    keys: web::Data<JwtKeys>,
    lifetime: web::Data<TokenLifetime>,
    failures: web::Data<crate::auth::throttle::FailedSecrets>,
    basic: ClientBasic,
    form: TokenForm,
) -> Result<HttpResponse, ApiError> {
    let TokenRequest {
        grant_type,
        client_id,
        client_secret,
        scope: _,
    } = form.0;
    if grant_type != "client_credentials" {
        return Err(ApiError::invalid(
            "grant_type",
            "unsupported",
            "the only grant is `client_credentials`",
        ));
    }
    let (client_id, client_secret) = client_credentials(basic.0, client_id, client_secret)?;
    // No stored id or secret holds a NUL; PostgreSQL could not even compare one.
    if client_id.contains('\0') || client_secret.contains('\0') {
        return Err(ApiError::InvalidClient(
            "the client id or secret is wrong, or the account is disabled".into(),
        ));
    }
    if let Some(retry) = failures.refused(&client_id) {
        return Err(ApiError::TooManyRequests(retry));
    }
    let found = {
        let client_id = client_id.clone();
        db.read(move |c| accounts::credentials(c, &client_id))
            .await?
    };
    let checked = crate::heavy::SECRETS
        .run("checking credentials", move || {
            crate::service::accounts::authenticate(found, &client_secret)
        })
        .await?
        .map_err(|_| ApiError::internal("checking a secret failed"))?;
    if matches!(checked, Err(ApiError::InvalidClient(_))) {
        failures.failed(&client_id);
    }
    let principal = checked?;
    let ttl = lifetime.0;
    let access_token = keys.issue(&principal, ttl).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: ttl,
        }))
}
