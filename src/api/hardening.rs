//! What every answer gets for safety in browsers: security headers, and
//! cross-origin access only for the origins the operator names.

/// Gives the request the path routing uses (percent-encoded unreserved
/// characters decoded, as actix routes), before anything else reads it: so
/// `/%61pi/v1/…` is throttled, authorised and given its headers as
/// `/api/v1/…` is, not only routed as it.
///
/// A NUL (`%00`) anywhere in the path or the query is refused here (400):
/// no name, id or filter holds one, and PostgreSQL cannot take one in text.
pub async fn canonical_path(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let target = req.uri().path_and_query().map_or("", |t| t.as_str());
    if target.to_ascii_lowercase().contains("%00") {
        let refused = crate::error::ApiError::BadRequest {
            detail: "the path or the query holds a NUL character (%00)".into(),
            errors: vec![crate::error::FieldError::new(
                "path",
                "nul_character",
                "remove %00",
            )],
        };
        let res = actix_web::ResponseError::error_response(&refused);
        return Ok(req.into_response(res).map_into_right_body());
    }
    let routed = req.match_info().as_str();
    if routed != req.path() {
        let target = match req.uri().query() {
            Some(q) => format!("{routed}?{q}"),
            None => routed.to_owned(),
        };
        if let Ok(uri) = target.parse::<actix_web::http::Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Headers every answer carries: no content sniffing, no framing, no
/// referrer; and on the API docs (Swagger UI) a content security policy
/// that keeps them to this origin. The dashboard sets its own, stricter.
pub async fn security_headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::http::header::{self, HeaderValue};
    let docs = req.path().starts_with("/docs");
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let mut set = |name, value| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    if docs {
        set(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self' 'unsafe-inline'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        );
    }
    Ok(res)
}

/// Cross-origin access for the configured origins only: the methods and
/// request headers the API reads, and the response headers a client needs.
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            crate::telemetry::REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            crate::telemetry::REQUEST_ID,
            crate::auth::throttle::RATELIMIT_LIMIT,
            crate::auth::throttle::RATELIMIT_REMAINING,
            crate::auth::throttle::RATELIMIT_RESET,
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin.trim_end_matches('/'));
    }
    cors
}
