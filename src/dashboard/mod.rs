//! `/dashboard`: a read-only page of charts over the public API, served
//! from the binary (HTML, CSS, JS and the vendored ECharts are compiled in,
//! so the page needs no network beyond the service).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{JwtKeys, Principal, Role};
use crate::error::ApiError;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("dashboard.js");
const STYLE: &str = include_str!("dashboard.css");
const ECHARTS: &str = include_str!("vendor/echarts.min.js");

/// How long an anonymous dashboard token lasts; the page asks again.
const PUBLIC_TOKEN_SECONDS: i64 = 15 * 60;

/// Whether anyone may view the dashboard without a token of their own.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicDashboard(pub bool);

/// What the page's own responses carry: only its own scripts and styles,
/// no framing, no sniffing, no referrer.
fn hardened(mut res: HttpResponse) -> HttpResponse {
    let h = res.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

/// The dashboard page (Chinese, with an English toggle). It asks for a
/// viewer token, or gets one from `POST /dashboard/token` where the
/// operator made the dashboard public.
#[utoipa::path(
    operation_id = "dashboard_page",
    tag = "dashboard",
    security(()),
    responses((status = 200, description = "The page", body = String, content_type = "text/html"))
)]
#[get("/dashboard")]
pub async fn page() -> HttpResponse {
    hardened(
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(INDEX),
    )
}

/// The files the page loads.
#[derive(Debug, Clone, Copy, serde::Deserialize, ToSchema)]
pub enum Asset {
    #[serde(rename = "dashboard.js")]
    Script,
    #[serde(rename = "dashboard.css")]
    Style,
    #[serde(rename = "echarts.min.js")]
    Echarts,
}

/// The page's script, style sheet and the vendored ECharts.
#[utoipa::path(
    operation_id = "dashboard_asset",
    tag = "dashboard",
    security(()),
    params(("name" = inline(Asset), Path, description = "The file", example = "dashboard.js")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/javascript"),
            (String = "text/css"),
        )),
        (status = 400, description = "No such file", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/dashboard/assets/{name}")]
pub async fn asset(name: web::Path<Asset>) -> Result<HttpResponse, ApiError> {
    let (body, content_type) = match name.into_inner() {
        Asset::Script => (SCRIPT, "text/javascript; charset=utf-8"),
        Asset::Style => (STYLE, "text/css; charset=utf-8"),
        Asset::Echarts => (ECHARTS, "text/javascript; charset=utf-8"),
    };
    Ok(hardened(
        HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
            .body(body),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct DashboardToken {
    /// A viewer token for the API.
    pub token: String,
    #[schema(example = 900)]
    pub expires_in: i64,
}

/// A short-lived viewer token for the page, when the operator runs the
/// dashboard open to everyone (`ALLIANCE_PUBLIC_DASHBOARD=true`); 404
/// otherwise (the default).
#[utoipa::path(
    operation_id = "dashboard_token",
    tag = "dashboard",
    security(()),
    responses(
        (status = 200, description = "A viewer token", body = DashboardToken),
        (status = 404, description = "The dashboard is not public here",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/dashboard/token")]
pub async fn token(
    public: web::Data<PublicDashboard>,
    keys: web::Data<JwtKeys>,
) -> Result<HttpResponse, ApiError> {
    if !public.0 {
        return Err(ApiError::NotFound(
            "the dashboard is not public here; paste a viewer token".into(),
        ));
    }
    let viewer = Principal {
        subject: "dashboard:anonymous".into(),
        role: Role::Viewer,
        alliances: vec![],
        organization: None,
    };
    let token = keys
        .issue(&viewer, PUBLIC_TOKEN_SECONDS)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(DashboardToken {
        token,
        expires_in: PUBLIC_TOKEN_SECONDS,
    }))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(page).service(asset).service(token);
}
