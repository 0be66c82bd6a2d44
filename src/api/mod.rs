//! The HTTP edge: one file per resource, each handler parse → authorise →
//! one call → respond. Routes and the OpenAPI description are registered
//! together here, so a route cannot miss the description.

pub use crate::service::access;
pub mod accounts;
pub mod activities;
pub mod alliances;
pub mod audit;
pub mod changes;
pub mod council;
pub mod extract;
pub mod files;
pub mod gate;
pub mod hardening;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod kpis;
pub mod memberships;
pub mod organizations;
pub mod platforms;
pub mod reports;
pub mod webhooks;

use serde::Serialize;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::{FieldError, Problem};

/// One page of a list: the items and the cursor of the next page (`null`
/// on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> From<crate::db::page::Page<T>> for List<T> {
    fn from(p: crate::db::page::Page<T>) -> Self {
        List {
            items: p.items,
            next_cursor: p.next_cursor,
        }
    }
}

/// A representation with people's names in it as this caller may see it:
/// a viewer gets the names masked (see `domain::PersonalData`).
pub fn shown_to<T: crate::domain::PersonalData>(caller: &crate::auth::Principal, value: T) -> T {
    if caller.role == crate::auth::Role::Viewer {
        value.masked()
    } else {
        value
    }
}

/// `limit` and `cursor`, for lists with no other filter.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-f]{2}){0,64}$")]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn parse(&self) -> Result<crate::db::page::PageRequest, crate::error::ApiError> {
        crate::db::page::PageRequest::parse(self.limit, self.cursor.as_deref())
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "alliance-api",
        description = "System of record and reporting API for Tianjin's industry–education alliances \
            (产教联合体 and 产业链产教融合共同体): alliances, member organisations and memberships.\n\n\
            Every error is an RFC 9457 problem (`application/problem+json`). Lists are paged with an \
            opaque `cursor`. Every resource carries `version` and an `ETag`: send `If-None-Match` to get \
            304 when nothing changed and `If-Match` on PATCH/DELETE so a stale write gets 412 instead of \
            overwriting someone else's change.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "alliances", description = "产教联合体 and 产业链产教融合共同体"),
        (name = "organizations", description = "Enterprises, colleges, institutes and authorities, shared across alliances"),
        (name = "memberships", description = "An organisation's place in an alliance; closed, never deleted"),
        (name = "council", description = "The council (理事会): seats, terms, and the council as of a date. People's names are personal information: a viewer token gets them cut to the first character (王*), here, in the annual report and in the change feed"),
        (name = "platforms", description = "Joint labs, training centres, industry colleges and other platforms an alliance runs"),
        (name = "activities", description = "Council meetings, trainings, joint R&D, order-based classes, competitions, exchanges"),
        (name = "kpis", description = "The KPI catalogue: units, direction, and how derived KPIs come from the records"),
        (name = "reports", description = "Yearly KPI targets and actuals, the annual report's workflow (draft → submitted → approved, or returned), and the dashboard"),
        (name = "imports", description = "Spreadsheets (CSV, XLSX) in and out: dry runs, all-or-nothing imports, templates, exports"),
        (name = "changes", description = "The change feed: every committed change, once, in commit order"),
        (name = "webhooks", description = "Signed deliveries of change events to member systems, with a delivery log"),
        (name = "accounts", description = "Accounts of people and member systems, and `POST /auth/token`, where they get short-lived tokens (OAuth2 client credentials)"),
        (name = "audit", description = "The trail every write leaves: who changed what, when, before and after (admins and reviewers; read-only)"),
        (name = "dashboard", description = "The dashboard page (/dashboard) and its files"),
        (name = "operations", description = "Liveness, readiness and metrics"),
    ),
    servers((url = "/", description = "This service")),
    components(schemas(Problem, FieldError)),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Adds what every operation shares: the bearer scheme and the problem
/// responses its method and path can produce. Applied after the routes are
/// registered (see `crate::openapi`), since they bring the paths.
pub struct Conventions;

const PROBLEMS: &[(&str, &str)] = &[
    (
        "400",
        "Malformed request: a query parameter, header or JSON body that does not parse",
    ),
    (
        "401",
        "No bearer token, or one that is not valid (at `/auth/token`: client credentials that are not)",
    ),
    (
        "403",
        "The token's role or scope does not allow this (decided from the token and the path before the body is read)",
    ),
    ("404", "No such resource"),
    (
        "409",
        "The request conflicts with the current state (a taken value, a closed membership, …)",
    ),
    (
        "412",
        "`If-Match` names a version that is no longer current",
    ),
    (
        "413",
        "The body is larger than the limit, or an import file passes one of its bounds: 20 000 rows, 64 columns, 64 MiB of inflated workbook XML (16 MiB of shared strings), 1.5 s of reading",
    ),
    ("415", "The body is not `application/json`"),
    (
        "422",
        "The body is well-formed JSON but not valid; `errors` names each field",
    ),
    (
        "428",
        "`If-Match` is required for this token (member tokens, when the operator requires it)",
    ),
    (
        "429",
        "Past the token's or the address's rate limit; retry after `Retry-After` seconds",
    ),
    (
        "503",
        "The database is not reachable or is busy; retry after `Retry-After` seconds. Type `/problems/outcome-unknown`: a write's COMMIT went unanswered and it may have been kept; read the resource again, or retry with the same `Idempotency-Key`",
    ),
];

impl Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "An account's client id and secret, for `POST /auth/token` only",
                    ))
                    .build(),
            ),
        );
        for (status, description) in PROBLEMS {
            let mut response = ResponseBuilder::new().description(*description).content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            );
            if *status == "429" {
                for (name, meaning) in RATE_LIMIT_HEADERS {
                    response = response.header(*name, seconds_header(meaning));
                }
            }
            components
                .responses
                .insert(problem_response_name(status), RefOr::T(response.build()));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_id = path.contains('{');
            let api = path.starts_with("/api/");
            for (method, op) in [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ] {
                if let Some(op) = op {
                    describe_access(op);
                    let mut statuses = statuses(&method, has_id, api);
                    if crate::auth::throttle::limited(path) && !statuses.contains(&"429") {
                        statuses.push("429");
                    }
                    add_problems(op, &statuses);
                }
            }
        }
    }
}

/// The headers of a 429 (the same `RateLimit-*` come with every API answer).
const RATE_LIMIT_HEADERS: &[(&str, &str)] = &[
    ("Retry-After", "Seconds until the next request is allowed"),
    ("RateLimit-Limit", "Requests the quota holds"),
    ("RateLimit-Remaining", "Requests left in the quota (0)"),
    (
        "RateLimit-Reset",
        "Seconds until the next request is allowed",
    ),
];

fn seconds_header(description: &str) -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::Integer)
                .minimum(Some(0)),
        ))
        .description(Some(description))
        .build()
}

fn problem_response_name(status: &str) -> String {
    format!("Problem{status}")
}

/// The problem statuses an operation can answer with.
fn statuses(method: &HttpMethod, has_id: bool, api: bool) -> Vec<&'static str> {
    if !api {
        return vec![];
    }
    let mut s = vec!["400", "401", "429", "503"];
    if has_id {
        s.push("404");
    }
    match method {
        HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch => {
            s.extend(["403", "409", "413", "415", "422"]);
        }
        HttpMethod::Delete => s.extend(["403", "409"]),
        _ => {}
    }
    if matches!(
        method,
        HttpMethod::Put | HttpMethod::Patch | HttpMethod::Delete
    ) {
        s.extend(["412", "428"]);
    }
    s.sort_unstable();
    s
}

/// Ends the operation's description with who may call it (see `access`).
fn describe_access(op: &mut Operation) {
    let Some(access) = op.operation_id.as_deref().and_then(access::of) else {
        return; // `access::tests` fails on the missing entry
    };
    let line = access.describe();
    op.description = Some(match op.description.take() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{line}"),
        _ => line,
    });
}

fn add_problems(op: &mut Operation, statuses: &[&str]) {
    let mut responses = ResponsesBuilder::new().build();
    std::mem::swap(&mut responses, &mut op.responses);
    for status in statuses {
        responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(problem_response_name(status))));
    }
    op.responses = responses;
}

/// The paths of the description and the methods each answers, so a known
/// path asked with another method gets 405 and `Allow`, not 404.
pub struct KnownRoutes(Vec<(Vec<String>, String)>);

impl KnownRoutes {
    pub fn from_description(doc: &OpenApiDoc) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (
                    path.split('/').map(str::to_owned).collect(),
                    methods.join(", "),
                )
            })
            .collect();
        KnownRoutes(routes)
    }

    /// The `Allow` value of the described path that `path` matches.
    pub fn allowed(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(template, allow)| {
            let matches = template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()));
            matches.then_some(allow.as_str())
        })
    }
}

/// What answers a request no route took: 405 on a described path, else 404.
pub async fn fallback(
    req: actix_web::HttpRequest,
    routes: actix_web::web::Data<KnownRoutes>,
) -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    Err(match routes.allowed(req.path()) {
        Some(allow) => crate::error::ApiError::MethodNotAllowed(allow.to_owned()),
        None => crate::error::ApiError::NotFound("no route here; see /docs/".into()),
    })
}

/// The description as served, made once when the app is built.
pub struct Description(pub String);

/// `GET /api/v1/openapi.json`: this description (not listed in itself).
async fn description(doc: actix_web::web::Data<Description>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

/// Registers every API route; `crate::app` mounts this under `/api/v1`.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.route("/openapi.json", actix_web::web::get().to(description))
        .service(alliances::list)
        .service(alliances::create)
        .service(alliances::get)
        .service(alliances::update)
        .service(memberships::list_for_alliance)
        .service(memberships::create)
        .service(memberships::get)
        .service(memberships::update)
        .service(memberships::history)
        .service(organizations::list)
        .service(organizations::create)
        .service(organizations::get)
        .service(organizations::update)
        .service(organizations::delete)
        .service(organizations::upsert_by_ref)
        .service(memberships::list_for_organization)
        .service(council::view)
        .service(council::list)
        .service(council::create)
        .service(council::get)
        .service(council::update)
        .service(council::delete)
        .service(platforms::list)
        .service(platforms::create)
        .service(platforms::get)
        .service(platforms::update)
        .service(platforms::delete)
        .service(activities::list)
        .service(activities::create)
        .service(activities::get)
        .service(activities::update)
        .service(activities::delete)
        .service(imports::import_members)
        .service(imports::member_template)
        .service(imports::import_activities)
        .service(imports::activity_template)
        .service(imports::import_kpis)
        .service(imports::kpi_template)
        .service(imports::export_members)
        .service(kpis::list)
        .service(kpis::create)
        .service(kpis::get)
        .service(kpis::update)
        .service(reports::get_year)
        .service(reports::put_year)
        .service(reports::get_report)
        .service(reports::submit)
        .service(reports::approve)
        .service(reports::return_report)
        .service(reports::reopen)
        .service(reports::dashboard_kpis)
        .service(changes::list)
        .service(webhooks::list)
        .service(webhooks::create)
        .service(webhooks::get)
        .service(webhooks::update)
        .service(webhooks::delete)
        .service(webhooks::deliveries)
        .service(webhooks::redeliver)
        .service(webhooks::delivery)
        .service(audit::list)
        .service(accounts::list)
        .service(accounts::create)
        .service(accounts::get)
        .service(accounts::update)
        .service(accounts::rotate_secret)
        .service(accounts::token);
}
