//! Extractors every handler uses: the caller (`Principal`), a JSON body
//! parsed into request types (`ApiJson`), query strings (`ApiQuery`), and
//! `If-Match` (`Precondition`). Each turns bad input into a problem with
//! field-level errors, so handlers only see parsed values.

use actix_web::dev::Payload;
use actix_web::http::header::{self, EntityTag, HeaderMap};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use bytes::BytesMut;
use futures_util::StreamExt;
use futures_util::future::{LocalBoxFuture, Ready, ready};
use serde::Serialize;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::auth::{JwtKeys, Principal};
use crate::domain::Versioned;
use crate::error::{ApiError, FieldError};
use crate::service::Precondition;

/// The largest request body accepted, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The gate (`api::gate`) has verified the token and settled the
        // scope; outside the API the token is verified here.
        if let Some(decided) = req.extensions().get::<Principal>() {
            return ready(Ok(decided.clone()));
        }
        ready(principal_of(req))
    }
}

pub(crate) fn principal_of(req: &HttpRequest) -> Result<Principal, ApiError> {
    let keys = req
        .app_data::<web::Data<JwtKeys>>()
        .ok_or_else(|| ApiError::internal("JWT keys are not configured"))?;
    keys.verify(bearer_token(req.headers())?)
}

pub use crate::auth::bearer_token;

/// A JSON request body, deserialised into `T` and validated.
///
/// 415 without a JSON content type, 413 past the body limit, 400 for JSON
/// that does not parse (including invalid UTF-8), 422 naming the field for
/// JSON of the wrong shape or values that fail validation.
pub struct ApiJson<T>(pub T, pub RequestDigest);

/// SHA-256 of a request's method, path and raw body (hex): what
/// `Idempotency-Key` compares to tell a retry from a different request.
pub type RequestDigest = String;

fn digest(method: &str, path: &str, body: &[u8]) -> RequestDigest {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_bytes(req, payload);
        let (method, path) = (req.method().to_string(), req.path().to_owned());
        Box::pin(async move {
            let body = body.await?;
            parse_json(&body).map(|value| ApiJson(value, digest(&method, &path, &body)))
        })
    }
}

/// A JSON body's bytes: a JSON `Content-Type` (415 otherwise) and at most
/// the body limit (413).
fn json_bytes(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<BytesMut, ApiError>> {
    let limit = req
        .app_data::<web::Data<BodyLimit>>()
        .map(|l| l.0)
        .unwrap_or(256 * 1024);
    let checked =
        check_json_content_type(req).and_then(|()| check_declared_length(req.headers(), limit));
    let mut payload = payload.take();
    Box::pin(async move {
        checked?;
        read_body(&mut payload, limit).await
    })
}

/// A JSON body that may be left out: no body at all (whatever the
/// `Content-Type`) or an empty one reads as `T::default()`; any other body
/// is read as [`ApiJson`] reads it, so `null`, which the description's
/// object schema does not allow, is refused.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Validate + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let declared_empty = headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0")
            || (!headers.contains_key(header::CONTENT_LENGTH)
                && !headers.contains_key(header::TRANSFER_ENCODING));
        if declared_empty {
            return Box::pin(async { Ok(OptionalJson(T::default())) });
        }
        let body = json_bytes(req, payload);
        Box::pin(async move {
            let body = body.await?;
            let text = body.trim_ascii();
            if text.is_empty() {
                return Ok(OptionalJson(T::default()));
            }
            parse_json(&body).map(OptionalJson)
        })
    }
}

/// Reads a whole body, refusing it (413) past `limit` bytes.
async fn read_body(payload: &mut Payload, limit: usize) -> Result<BytesMut, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The largest spreadsheet an import accepts, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimit(pub usize);

/// A spreadsheet body: `application/octet-stream`, `text/csv` or `.xlsx` (415 otherwise), at most the
/// import limit (413). The digest covers the query too, so a dry run and a
/// real run are different requests to `Idempotency-Key`.
pub struct Upload {
    pub format: crate::tabular::Format,
    pub bytes: BytesMut,
    pub digest: RequestDigest,
}

impl FromRequest for Upload {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<ImportLimit>>()
            .map_or(16 * 1024 * 1024, |l| l.0);
        // A named type is kept to; `application/octet-stream` (what
        // generated clients send) is told by its first bytes.
        let declared = req.mime_type().ok().flatten();
        let format = match declared.as_ref().map(|m| m.essence_str()) {
            Some("application/octet-stream") => Ok(None),
            Some(essence) => crate::tabular::Format::of_mime(essence).map(Some).ok_or(()),
            None => Err(()),
        }
        .map_err(|()| {
            ApiError::UnsupportedMediaType(format!(
                "send the file as `Content-Type: application/octet-stream`, `{}` or `{}`",
                crate::tabular::CSV,
                crate::tabular::XLSX
            ))
        });
        let checked = format.and_then(|f| check_declared_length(req.headers(), limit).map(|()| f));
        let mut payload = payload.take();
        let target = format!("{}?{}", req.path(), req.query_string());
        let method = req.method().to_string();
        Box::pin(async move {
            let declared = checked?;
            let bytes = read_body(&mut payload, limit).await?;
            let format = declared.unwrap_or_else(|| crate::tabular::Format::sniff(&bytes));
            let digest = digest(&method, &target, &bytes);
            Ok(Upload {
                format,
                bytes,
                digest,
            })
        })
    }
}

fn check_json_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let mime = req.mime_type().ok().flatten();
    let is_json = mime.as_ref().is_some_and(|m| {
        m.type_() == mime::APPLICATION
            && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
    });
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send the body as `Content-Type: application/json`".into(),
        ))
    }
}

fn check_declared_length(headers: &HeaderMap, limit: usize) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > limit => Err(ApiError::PayloadTooLarge(limit)),
        _ => Ok(()),
    }
}

/// Parses and validates a JSON body; public so the command line and tests
/// read request bodies exactly as the API does.
pub fn parse_json<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    if nested_deeper_than(body, MAX_JSON_DEPTH) {
        return Err(ApiError::BadRequest {
            detail: format!("the body nests arrays and objects more than {MAX_JSON_DEPTH} deep"),
            errors: vec![FieldError::new(
                "body",
                "too_deep",
                format!("at most {MAX_JSON_DEPTH} levels of arrays and objects"),
            )],
        });
    }
    if let Some(at) = escaped_nul(body) {
        return Err(ApiError::BadRequest {
            detail: format!(
                "the body holds a NUL character (\\u0000) at byte {at}; no field takes one"
            ),
            errors: vec![FieldError::new("body", "nul_character", "remove \\u0000")],
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.classify() == serde_json::error::Category::Data {
            ApiError::Validation(vec![field_error(&path, &inner.to_string())])
        } else {
            ApiError::bad_request(format!("the body is not valid JSON: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    value
        .validate()
        .map_err(|e| ApiError::Validation(validation_errors(&e)))?;
    Ok(value)
}

/// Where a JSON text escapes a NUL (`\u0000`, the `\` not itself
/// escaped), if it does. A raw NUL is not JSON and the parser refuses it.
fn escaped_nul(body: &[u8]) -> Option<usize> {
    let mut backslashes = 0usize;
    for (i, &b) in body.iter().enumerate() {
        if b == b'\\' {
            backslashes += 1;
            continue;
        }
        if backslashes % 2 == 1 && body[i..].starts_with(b"u0000") {
            return Some(i - 1);
        }
        backslashes = 0;
    }
    None
}

/// How deep a JSON body may nest. The deepest body the API takes has four
/// levels; the limit stops a hostile body before it is parsed at all.
pub const MAX_JSON_DEPTH: usize = 32;

/// Whether arrays and objects nest deeper than `max` (brackets inside
/// strings do not count). Malformed JSON is left to the parser.
fn nested_deeper_than(body: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// A query string deserialised into `T`; 400 naming the parameter when a
/// value does not parse or a parameter is unknown.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = serde_urlencoded::Deserializer::new(form_urlencoded::parse(
            req.query_string().as_bytes(),
        ));
        ready(
            serde_path_to_error::deserialize(parsed)
                .map(ApiQuery)
                .map_err(|e| {
                    let path = e.path().to_string();
                    let err = field_error(&path, &e.into_inner().to_string());
                    ApiError::BadRequest {
                        detail: format!("query parameter `{}`: {}", err.field, err.message),
                        errors: vec![err],
                    }
                }),
        )
    }
}

/// A field error from serde's message: where, and a stable code.
fn field_error(path: &str, message: &str) -> FieldError {
    let path = if path == "." { "" } else { path };
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(|name| {
                if path.is_empty() || path.ends_with(name) {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            })
    };
    let (field, code) = if let Some(f) = named("missing field `") {
        (f, "required")
    } else if let Some(f) = named("unknown field `") {
        (f, "unknown_field")
    } else if message.starts_with("unknown variant") {
        (path.to_owned(), "unknown_variant")
    } else if message.starts_with("invalid type") {
        (path.to_owned(), "invalid_type")
    } else {
        (path.to_owned(), "invalid")
    };
    let message = message.split(" at line ").next().unwrap_or(message);
    FieldError::new(
        if field.is_empty() {
            "body".to_owned()
        } else {
            field
        },
        code,
        message,
    )
}

/// Flattens validator's nested errors into dotted paths.
fn validation_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    fn walk(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
        for (field, kind) in errors.errors() {
            let path = if prefix.is_empty() {
                field.to_string()
            } else {
                format!("{prefix}.{field}")
            };
            match kind {
                ValidationErrorsKind::Field(list) => {
                    for e in list {
                        let message = e
                            .message
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_else(|| e.to_string());
                        out.push(FieldError::new(path.clone(), e.code.to_string(), message));
                    }
                }
                ValidationErrorsKind::Struct(inner) => walk(&path, inner, out),
                ValidationErrorsKind::List(items) => {
                    for (i, inner) in items {
                        walk(&format!("{path}[{i}]"), inner, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk("", errors, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

/// `If-Match`, as the description shows it on every PUT, PATCH and DELETE.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The `ETag` last read; when it is no longer current the write is
    /// refused with 412 and nothing changes. `*` matches any version.
    #[param(
        rename = "If-Match",
        nullable = false,
        pattern = r#"^(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)$"#,
        example = "\"1\""
    )]
    pub if_match: Option<String>,
}

/// Whether writes must carry `If-Match` (an operator setting).
#[derive(Debug, Clone, Copy, Default)]
pub struct IfMatchPolicy {
    pub required_for_members: bool,
}

impl FromRequest for Precondition {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let required = req
            .app_data::<web::Data<IfMatchPolicy>>()
            .is_some_and(|p| p.required_for_members)
            && principal_of(req).is_ok_and(|p| p.role == crate::auth::Role::Member);
        ready(precondition_of(req.headers()).and_then(|pre| match pre {
            Precondition::None if required => Err(ApiError::PreconditionRequired(
                "member tokens must send If-Match with the ETag they last read".into(),
            )),
            pre => Ok(pre),
        }))
    }
}

fn precondition_of(headers: &HeaderMap) -> Result<Precondition, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(Precondition::None);
    };
    let malformed = || ApiError::BadRequest {
        detail: "If-Match must be `*` or a list of quoted entity tags".into(),
        errors: vec![FieldError::new(
            "If-Match",
            "invalid",
            "expected `*` or \"<etag>\"",
        )],
    };
    let value = value.to_str().map_err(|_| malformed())?.trim();
    if value == "*" {
        return Ok(Precondition::Any);
    }
    let tags = entity_tags(value).ok_or_else(malformed)?;
    // If-Match compares strongly: a weak tag never matches.
    Ok(Precondition::OneOf(
        tags.into_iter()
            .filter(|t| !t.weak)
            .map(|t| t.to_string())
            .collect(),
    ))
}

/// The tags of `"a", W/"b"` (actix's `EntityTag`); None when malformed.
fn entity_tags(value: &str) -> Option<Vec<EntityTag>> {
    let tags: Option<Vec<EntityTag>> = value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().ok())
        .collect();
    tags.filter(|t| !t.is_empty())
}

/// Whether the client's `If-None-Match` names `etag` (weak comparison).
pub fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    names_tag(if_none_match(req).as_deref(), etag)
}

/// The `If-None-Match` header's text, to take off the request's thread.
pub fn if_none_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Whether an `If-None-Match` value names `etag` (weak comparison).
pub fn names_tag(if_none_match: Option<&str>, etag: &str) -> bool {
    let Ok(current) = etag.parse::<EntityTag>() else {
        return false;
    };
    if_none_match.is_some_and(|v| {
        v.trim() == "*"
            || entity_tags(v)
                .unwrap_or_default()
                .iter()
                .any(|t| t.weak_eq(&current))
    })
}

/// 304 with the tag.
pub fn unchanged_since(etag: String) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag))
        .finish()
}

/// A resource as a response: its JSON with its `ETag`, or 304 when the
/// client's `If-None-Match` names the current tag (weak comparison).
pub fn item<R: Serialize + Versioned>(req: &HttpRequest, resource: &R) -> HttpResponse {
    let etag = resource.etag();
    if not_modified(req, &etag) {
        unchanged_since(etag)
    } else {
        HttpResponse::Ok()
            .insert_header((header::ETAG, etag))
            .json(resource)
    }
}

/// A resource after a change: 200 with its new `ETag`.
pub fn changed<R: Serialize + Versioned>(resource: &R) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, resource.etag()))
        .json(resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_parse() {
        assert_eq!(
            entity_tags(r#""1", W/"2""#).unwrap(),
            vec![
                EntityTag::new_strong("1".into()),
                EntityTag::new_weak("2".into())
            ]
        );
        assert!(entity_tags("1").is_none());
        assert!(entity_tags(r#""a"b""#).is_none());
    }

    #[test]
    fn escaped_nuls_are_found() {
        assert_eq!(escaped_nul(br#"{"a": "x\u0000"}"#), Some(8));
        assert_eq!(escaped_nul(br#"{"a": "x\\u0000"}"#), None);
        assert_eq!(escaped_nul(br#"{"a": "x\\\u0000"}"#), Some(10));
        assert_eq!(escaped_nul(br#"{"a": "\u00001"}"#), Some(7));
        assert_eq!(escaped_nul(br#"{"a": "\u0001"}"#), None);
    }

    #[test]
    fn nesting_is_counted_outside_strings() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(!nested_deeper_than(deep(32).as_bytes(), 32));
        assert!(nested_deeper_than(deep(33).as_bytes(), 32));
        let quoted = format!(r#"{{"a": "{}\"{}"}}"#, "[".repeat(100), "{".repeat(100));
        assert!(!nested_deeper_than(quoted.as_bytes(), 32));
        assert!(nested_deeper_than(br#"{"a": [[["x"]]]}"#, 3));
    }

    #[test]
    fn serde_messages_become_field_errors() {
        let e = field_error(".", "missing field `name_zh` at line 1 column 2");
        assert_eq!((e.field.as_str(), e.code.as_str()), ("name_zh", "required"));
        let e = field_error("documents[0]", "missing field `url`");
        assert_eq!(e.field, "documents[0].url");
        let e = field_error("kind", "unknown variant `x`, expected `a`");
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("kind", "unknown_variant")
        );
    }
}
