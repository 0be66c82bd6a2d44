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
pub mod description;
pub mod extract;
pub mod files;
pub mod gate;
pub mod hardening;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod kpis;
pub mod memberships;
pub mod oauth;
pub mod organizations;
pub mod platforms;
pub mod postings;
pub mod reports;
pub mod webhooks;

use serde::Serialize;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{OpenApi, ToSchema};

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
        (name = "postings", description = "供需对接: enterprises post what they need (talent, research, projects) and colleges what they offer (graduates, research results, training places); the secretariat reviews and publishes; suggested counterparts, matches accepted by both sides and closed with an outcome; the year's supply–demand summary"),
        (name = "kpis", description = "The KPI catalogue: units, direction, and how derived KPIs come from the records"),
        (name = "reports", description = "Yearly KPI targets and actuals, the annual report's workflow (draft → submitted → approved, or returned), and the dashboard"),
        (name = "imports", description = "Spreadsheets (CSV, XLSX) in and out: dry runs, all-or-nothing imports, templates, exports"),
        (name = "changes", description = "The change feed: every committed change, once; each record's changes in the order they were committed"),
        (name = "webhooks", description = "Signed deliveries of change events to member systems, with a delivery log"),
        (name = "accounts", description = "Accounts of people and member systems, and `POST /auth/token`, where they get short-lived tokens (OAuth2 client credentials)"),
        (name = "audit", description = "The trail every write leaves: who changed what, when, before and after (admins and reviewers; read-only)"),
        (name = "dashboard", description = "The dashboard page (/dashboard) and its files"),
        (name = "operations", description = "Liveness, readiness and metrics"),
    ),
    servers((url = "/", description = "This service")),
    components(schemas(Problem, FieldError, crate::tabular::Format, files::HeaderLang, reports::CsvFormat, crate::report::tables::Section)),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

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
        .service(memberships::export_for_alliance)
        .service(memberships::create)
        .service(memberships::get)
        .service(memberships::update)
        .service(memberships::history)
        .service(organizations::list)
        .service(organizations::export)
        .service(organizations::create)
        .service(organizations::get)
        .service(organizations::update)
        .service(organizations::delete)
        .service(organizations::upsert_by_ref)
        .service(memberships::list_for_organization)
        .service(memberships::export_for_organization)
        .service(council::view)
        .service(council::list)
        .service(council::export)
        .service(council::create)
        .service(council::get)
        .service(council::update)
        .service(council::delete)
        .service(platforms::list)
        .service(platforms::export)
        .service(platforms::create)
        .service(platforms::get)
        .service(platforms::update)
        .service(platforms::delete)
        .service(activities::list)
        .service(activities::export)
        .service(activities::create)
        .service(activities::get)
        .service(activities::update)
        .service(activities::delete)
        .service(postings::public_list)
        .service(postings::list)
        .service(postings::export)
        .service(postings::create)
        .service(postings::upsert_by_ref)
        .service(postings::get)
        .service(postings::update)
        .service(postings::submit)
        .service(postings::publish)
        .service(postings::return_posting)
        .service(postings::close)
        .service(postings::suggestions)
        .service(postings::list_matches)
        .service(postings::create_match)
        .service(postings::get_match)
        .service(postings::accept_match)
        .service(postings::close_match)
        .service(postings::summary)
        .service(postings::export_summary)
        .service(postings::city_summary)
        .service(postings::export_city_summary)
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
        .service(reports::export_report)
        .service(reports::submit)
        .service(reports::approve)
        .service(reports::return_report)
        .service(reports::reopen)
        .service(reports::dashboard_kpis)
        .service(reports::export_dashboard)
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
