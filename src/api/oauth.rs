//! `POST /auth/token` answers its errors as OAuth2 does (RFC 6749 §5.2),
//! not as problems, so OAuth2 libraries raise them: every refusal on the
//! way to the token (the throttle, the extractors, the handler) is turned
//! into `{"error": …, "error_description": …}` here, in one place.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The token endpoint's path, as routing sees it.
pub const TOKEN_PATH: &str = "/api/v1/auth/token";

/// An OAuth2 error (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "the client id or secret is wrong, or the account is disabled"}))]
pub struct OAuthError {
    pub error: OAuthErrorCode,
    /// What was wrong, for people.
    pub error_description: String,
}

/// RFC 6749 §5.2's codes, and `temporarily_unavailable` (its §4.1.2.1) for
/// a rate limit or a busy database, with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    /// 400: a parameter is missing, repeated or malformed, or the body is
    /// not a form (or JSON), or too large.
    InvalidRequest,
    /// 401: the client id or secret is wrong, or the account is disabled.
    InvalidClient,
    /// 400: `grant_type` is not `client_credentials`.
    UnsupportedGrantType,
    /// 429 or 503: retry after `Retry-After` seconds.
    TemporarilyUnavailable,
    /// 500.
    ServerError,
}

/// The middleware: rewrites a problem answered at the token endpoint.
pub async fn token_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let token_request = req.path() == TOKEN_PATH && req.method() == Method::POST;
    let res = next.call(req).await?.map_into_boxed_body();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if !token_request || !is_problem {
        return Ok(res);
    }
    let (req, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    let problem = actix_web::body::to_bytes_limited(body, 1 << 20)
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .unwrap_or(Value::Null);
    let (status, error) = translate(head.status(), &problem);
    *head.status_mut() = status;
    head.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    head.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    head.headers_mut().remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&error).unwrap_or_default();
    Ok(ServiceResponse::new(req, head.set_body(BoxBody::new(body))))
}

/// The OAuth2 status and error for a problem.
fn translate(status: StatusCode, problem: &Value) -> (StatusCode, OAuthError) {
    let kind = problem["type"].as_str().unwrap_or_default();
    let detail = problem["detail"]
        .as_str()
        .unwrap_or("the request is not valid");
    let fields: Vec<(&str, &str, &str)> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or_default(),
                e["code"].as_str().unwrap_or_default(),
                e["message"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let described = || {
        if fields.is_empty() {
            detail.to_owned()
        } else {
            fields
                .iter()
                .map(|(field, _, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    use OAuthErrorCode::*;
    let (status, code) = match kind {
        "/problems/invalid-client" => (StatusCode::UNAUTHORIZED, InvalidClient),
        _ if fields
            .iter()
            .any(|f| f.0 == "grant_type" && f.1 == "unsupported") =>
        {
            (StatusCode::BAD_REQUEST, UnsupportedGrantType)
        }
        _ if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::SERVICE_UNAVAILABLE =>
        {
            (status, TemporarilyUnavailable)
        }
        _ if status.is_server_error() => (status, ServerError),
        _ => (StatusCode::BAD_REQUEST, InvalidRequest),
    };
    (
        status,
        OAuthError {
            error: code,
            error_description: described(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn problems_become_oauth_errors() {
        let cases = [
            (
                401,
                json!({"type": "/problems/invalid-client", "detail": "wrong"}),
                401,
                "invalid_client",
            ),
            (
                422,
                json!({"type": "/problems/validation", "detail": "1 field", "errors": [{"field": "grant_type", "code": "unsupported", "message": "only client_credentials"}]}),
                400,
                "unsupported_grant_type",
            ),
            (
                422,
                json!({"type": "/problems/validation", "errors": [{"field": "client_id", "code": "required", "message": "required"}]}),
                400,
                "invalid_request",
            ),
            (
                415,
                json!({"type": "/problems/unsupported-media-type"}),
                400,
                "invalid_request",
            ),
            (
                413,
                json!({"type": "/problems/payload-too-large"}),
                400,
                "invalid_request",
            ),
            (
                429,
                json!({"type": "/problems/too-many-requests"}),
                429,
                "temporarily_unavailable",
            ),
            (
                503,
                json!({"type": "/problems/unavailable"}),
                503,
                "temporarily_unavailable",
            ),
            (
                500,
                json!({"type": "/problems/internal"}),
                500,
                "server_error",
            ),
        ];
        for (status, problem, want_status, want_code) in cases {
            let (got, error) = translate(StatusCode::from_u16(status).unwrap(), &problem);
            assert_eq!(got.as_u16(), want_status, "{problem}");
            assert_eq!(
                serde_json::to_value(&error).unwrap()["error"],
                want_code,
                "{problem}"
            );
        }
    }
}
