//! `ApiError` → RFC 9457 `application/problem+json`: the one place where
//! statuses are chosen. Handlers and queries return `ApiError`; nothing else
//! writes an error body.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem detail (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation",
    "title": "The request body is not valid",
    "status": 422,
    "detail": "1 field is not valid",
    "errors": [{"field": "uscc", "code": "invalid", "message": "check character is '4' but the code requires '3'"}]
}))]
pub struct Problem {
    /// A stable identifier of the kind of problem (a URI reference).
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation")]
    pub type_: &'static str,
    pub title: &'static str,
    #[schema(example = 422)]
    pub status: u16,
    pub detail: String,
    /// The fields at fault, for validation failures (for an import:
    /// `rows[<row>].<column>`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a rejected import: the whole report of what it found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<crate::domain::import_report::ImportReport>>,
    /// The request's id (also the `Request-Id` header), to quote to the
    /// operator; the service's log line for the request carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b")]
    pub request_id: Option<String>,
}

/// One field at fault: where (a dotted path into the body or the name of a
/// query parameter or header), a stable code, and a message for people.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    #[schema(example = "uscc")]
    pub field: String,
    /// `required`, `invalid`, `invalid_type`, `unknown_variant`,
    /// `unknown_field`, `out_of_range`, `taken`, `not_found`, `conflict`.
    #[schema(example = "invalid")]
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    /// `POST /auth/token` with client credentials that do not hold
    /// (RFC 6749 §5.2 `invalid_client`).
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The path exists but not with this method; the methods it has.
    #[error("this path answers only {0}")]
    MethodNotAllowed(String),
    #[error("{detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// A write into a year that is under review or approved: the detail
    /// says since when and by whom.
    #[error("{0}")]
    YearLocked(String),
    #[error("{0}")]
    PreconditionFailed(String),
    /// `If-Match` is required here and was not sent.
    #[error("{0}")]
    PreconditionRequired(String),
    /// A feed cursor older than what is kept.
    #[error("{0}")]
    Gone(String),
    #[error("the body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// An upload past one of its bounds (rows, columns, inflated size,
    /// time): the detail names the bound.
    #[error("{0}")]
    FileTooLarge(String),
    /// Past a rate limit: the seconds until the next request is allowed.
    #[error("too many requests: this token or address has used its quota; retry in {0} s")]
    TooManyRequests(u64),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{} field(s) are not valid", .0.len())]
    Validation(Vec<FieldError>),
    /// An import with rejected rows: nothing was written.
    #[error("{} problem(s) in the file; nothing was written", .0.conflict_count())]
    ImportRejected(Box<crate::domain::import_report::ImportReport>),
    #[error("{0}")]
    Unavailable(String),
    /// A write whose COMMIT was sent but not answered (the connection
    /// dropped): it may have been kept. Like PostgreSQL's
    /// `transaction_resolution_unknown`, so the client re-reads, or retries
    /// with its `Idempotency-Key`, instead of assuming nothing happened.
    #[error(
        "the connection to the database was lost while the change was being committed ({0}); it may have been kept: read the resource again, or retry with the same Idempotency-Key"
    )]
    OutcomeUnknown(String),
    /// Something the client cannot fix; the detail goes to the log, not the body.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            detail: detail.into(),
            errors: vec![],
        }
    }

    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn conflict(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Conflict {
            detail: message.clone(),
            errors: vec![FieldError::new(field, code, message)],
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            BadRequest { .. } => (
                StatusCode::BAD_REQUEST,
                "/problems/bad-request",
                "The request is malformed",
            ),
            Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "/problems/unauthorized",
                "A valid bearer token is required",
            ),
            InvalidClient(_) => (
                StatusCode::UNAUTHORIZED,
                "/problems/invalid-client",
                "The client credentials are not valid",
            ),
            Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "/problems/forbidden",
                "The token does not allow this",
            ),
            NotFound(_) => (
                StatusCode::NOT_FOUND,
                "/problems/not-found",
                "No such resource",
            ),
            MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "/problems/method-not-allowed",
                "Method not allowed",
            ),
            Conflict { .. } => (
                StatusCode::CONFLICT,
                "/problems/conflict",
                "The request conflicts with the current state",
            ),
            YearLocked(_) => (
                StatusCode::CONFLICT,
                "/problems/year-locked",
                "The year is locked",
            ),
            Gone(_) => (StatusCode::GONE, "/problems/gone", "The cursor is too old"),
            PreconditionRequired(_) => (
                StatusCode::PRECONDITION_REQUIRED,
                "/problems/precondition-required",
                "If-Match is required",
            ),
            PreconditionFailed(_) => (
                StatusCode::PRECONDITION_FAILED,
                "/problems/precondition-failed",
                "The resource has changed",
            ),
            PayloadTooLarge(_) | FileTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "/problems/payload-too-large",
                "The request body is too large",
            ),
            TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "/problems/too-many-requests",
                "Too many requests",
            ),
            UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "/problems/unsupported-media-type",
                "Unsupported media type",
            ),
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "/problems/validation",
                "The request is not valid",
            ),
            ImportRejected(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "/problems/import-rejected",
                "The import was rejected",
            ),
            OutcomeUnknown(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "/problems/outcome-unknown",
                "The change may or may not have been kept",
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "/problems/unavailable",
                "The service is busy; retry shortly",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "/problems/internal",
                "Internal error",
            ),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (status, type_, title) = self.parts();
        let (detail, errors) = match self {
            ApiError::BadRequest { detail, errors } | ApiError::Conflict { detail, errors } => {
                (detail.clone(), errors.clone())
            }
            ApiError::Validation(errors) => {
                let n = errors.len();
                (
                    format!(
                        "{n} field{} not valid",
                        if n == 1 { " is" } else { "s are" }
                    ),
                    errors.clone(),
                )
            }
            ApiError::ImportRejected(report) => (
                self.to_string(),
                report
                    .conflicts
                    .iter()
                    .map(|c| {
                        let field = match &c.column {
                            Some(col) => format!("rows[{}].{col}", c.row),
                            None => format!("rows[{}]", c.row),
                        };
                        FieldError::new(field, c.code.clone(), c.message.clone())
                    })
                    .collect(),
            ),
            ApiError::Internal(_) => ("the error has been logged".to_owned(), vec![]),
            other => (other.to_string(), vec![]),
        };
        Problem {
            type_,
            title,
            status: status.as_u16(),
            detail,
            errors,
            report: match self {
                ApiError::ImportRejected(r) => Some(r.clone()),
                _ => None,
            },
            // Filled in by `telemetry::Observe`, which knows the request.
            request_id: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(e) => tracing::error!(error = %e, "internal error"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        match self {
            ApiError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ApiError::InvalidClient(_) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"alliance-api\""),
                ));
            }
            ApiError::MethodNotAllowed(allow) => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            ApiError::TooManyRequests(seconds) => {
                res.insert_header((header::RETRY_AFTER, *seconds));
            }
            ApiError::Unavailable(_) | ApiError::OutcomeUnknown(_) => {
                res.insert_header((header::RETRY_AFTER, 1));
            }
            _ => {}
        }
        res.body(serde_json::to_vec(&self.to_problem()).unwrap_or_default())
    }
}

/// Whether an error says the database went away (restarted, shut down,
/// the network dropped) rather than that the query was wrong: a 503 the
/// client may retry, not a 500.
fn connection_lost(kind: &DatabaseErrorKind, message: &str) -> bool {
    matches!(
        kind,
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
    ) || [
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "server closed the connection",
        "connection to server",
        "no connection to the server",
    ]
    .iter()
    .any(|m| message.contains(m))
}

impl From<DieselError> for ApiError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => ApiError::NotFound("no such resource".into()),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                ApiError::Conflict {
                    detail: format!(
                        "a unique value is already taken ({})",
                        info.constraint_name().unwrap_or("unique")
                    ),
                    errors: vec![],
                }
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                ApiError::Conflict {
                    detail: "the change would leave a reference to a record that does not exist"
                        .into(),
                    errors: vec![],
                }
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::Unavailable("a concurrent change won; retry the request".into())
            }
            DieselError::DatabaseError(_, info)
                if info.message().contains("database is locked") =>
            {
                ApiError::Unavailable(
                    "another process holds the database's write lock; retry".into(),
                )
            }
            DieselError::DatabaseError(_, info) if info.message().contains("statement timeout") => {
                ApiError::Unavailable(
                    "the query took longer than the request timeout; retry".into(),
                )
            }
            DieselError::DatabaseError(kind, info) if connection_lost(&kind, info.message()) => {
                ApiError::Unavailable(format!(
                    "the database connection was lost ({}); retry shortly",
                    info.message()
                ))
            }
            DieselError::BrokenTransactionManager => {
                ApiError::Unavailable("the database connection was lost; retry shortly".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        ApiError::Unavailable(format!("no database connection available: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
