//! A year's KPIs (`/alliances/{id}/kpis/{year}`), the annual report and
//! its workflow (`/alliances/{id}/reports/{year}`), and the dashboard
//! (`/dashboard/kpis`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{
    ApiJson, ApiQuery, IfMatch, OptionalJson, changed, if_none_match, item, names_tag,
    unchanged_since,
};
use super::files::{self, HeaderLang};
use crate::auth::Principal;
use crate::db::{Db, alliances, changes};
use crate::domain::report::{
    AnnualReport, KpiYear, KpiYearInput, ReportAction, ReportActionInput, YEARS, sha256_hex,
};
use crate::error::{ApiError, FieldError};
use crate::report::dashboard::{self, Dashboard, DashboardFilter};
use crate::report::tables::{self, Section};
use crate::report::{self as reporting};
use crate::service::Precondition;
use crate::service::reports::Entries;
use crate::tabular::{self, Format, Table};

const ALLIANCE_ID: &str = "Alliance id or slug";
const YEAR: &str = "The calendar year, 2000–2100";

/// A year's KPI table: every KPI of the catalogue with the year's target,
/// actual (hand-entered, or derived from the records with the records
/// listed), attainment and source. An approved year shows what was approved.
#[utoipa::path(
    operation_id = "get_kpi_year",
    tag = "kpis",
    params(
        ("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"),
        ("year" = i32, Path, description = YEAR, minimum = 2000, maximum = 2100, example = 2025),
    ),
    responses(
        (status = 200, description = "The year's KPIs", body = KpiYear, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/alliances/{id}/kpis/{year}")]
pub async fn get_year(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (key, year) = path.into_inner();
    crate::service::reports::check_year(year)?;
    let sheet = db
        .read(move |c| {
            let alliance = crate::service::scope::readable_alliance(c, &caller, &key)?;
            reporting::kpi_year(c, &alliance, year)
        })
        .await?;
    Ok(item(&req, &sheet))
}

/// Sets a year's targets and hand-entered actuals, with notes and evidence
/// links (secretariat of the alliance, or admin). The body is the whole
/// year: a KPI left out has no target or actual afterwards. A derived
/// KPI takes a target but never an actual. A year under review or
/// approved answers 409 with the reason.
#[utoipa::path(
    operation_id = "put_kpi_year",
    tag = "kpis",
    params(
        ("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"),
        ("year" = i32, Path, description = YEAR, minimum = 2000, maximum = 2100, example = 2025),
        IfMatch,
    ),
    request_body = KpiYearInput,
    responses((status = 200, description = "The year after the change", body = KpiYear, headers(("ETag" = String))))
)]
#[put("/alliances/{id}/kpis/{year}")]
pub async fn put_year(
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, i32)>,
    pre: Precondition,
    body: ApiJson<KpiYearInput>,
) -> Result<HttpResponse, ApiError> {
    let (key, year) = path.into_inner();
    let input = body.0;
    let sheet = crate::service::write(&db, caller, move |tx| {
        crate::service::reports::put_year(tx, &key, year, input, Entries::Replace, &pre)
    })
    .await?;
    Ok(changed(&sheet))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The file's format: see [`files::FileQuery`].
    #[param(ignore)]
    pub format: Option<Format>,
    /// The section a CSV file holds (default `kpis`).
    pub section: Option<Section>,
    /// The header row: `zh` (the default here, with units, for sending
    /// upward) or `en` (the JSON keys).
    #[param(ignore)]
    #[serde(alias = "header_language")]
    pub headers: Option<HeaderLang>,
}

/// The annual report: status and history, the KPI table, membership
/// movement, the council on 31 December, platforms and activities. An
/// approved year is the frozen snapshot (`frozen: true`).
#[utoipa::path(
    operation_id = "get_annual_report",
    tag = "reports",
    params(
        ("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"),
        ("year" = i32, Path, description = YEAR, minimum = 2000, maximum = 2100, example = 2025),
        ReportQuery,
    ),
    responses(
        (status = 200, description = "The report (as a file: `export_annual_report`)", body = AnnualReport, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/alliances/{id}/reports/{year}")]
pub async fn get_report(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, i32)>,
    query: ApiQuery<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    get_report_or_file(req, db, caller, path, query).await
}

/// The annual report as a file: CSV (one section, `section`) or XLSX (a workbook, one sheet per section). Headers are Chinese with units by default (`header_language=en` for the keys).
#[utoipa::path(
    operation_id = "export_annual_report",
    tag = "reports",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), ("year" = i32, Path, description = YEAR, minimum = 2000, maximum = 2100, example = 2025), ReportQuery, files::FileQuery),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/alliances/{id}/exports/reports/{year}")]
pub async fn export_report(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, i32)>,
    mut query: ApiQuery<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    query.0.format = Some(files::required(query.0.format)?);
    get_report_or_file(req, db, caller, path, query).await
}

async fn get_report_or_file(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, i32)>,
    query: ApiQuery<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (key, year) = path.into_inner();
    crate::service::reports::check_year(year)?;
    let q = query.0;
    let report = db
        .read(move |c| {
            let alliance = crate::service::scope::readable_alliance(c, &caller, &key)?;
            let report = reporting::annual_report(c, &alliance, year)?;
            Ok(super::shown_to(&caller, report))
        })
        .await?;
    let zh = q.headers.unwrap_or(HeaderLang::Zh) == HeaderLang::Zh;
    let name = format!("{}-{}", report.content.alliance_slug, year);
    match files::wanted(&req, q.format) {
        None => Ok(item(&req, &report)),
        Some(Format::Csv) => {
            let table = tables::table(&report, q.section.unwrap_or_default(), zh);
            let bytes = table.write(Format::Csv).map_err(ApiError::Internal)?;
            Ok(files::attachment(bytes, Format::Csv, &name))
        }
        Some(Format::Xlsx) => {
            let sheets: Vec<Table> = Section::ALL
                .iter()
                .map(|s| tables::table(&report, *s, zh))
                .collect();
            let bytes = tabular::workbook(&sheets).map_err(ApiError::Internal)?;
            Ok(files::attachment(bytes, Format::Xlsx, &name))
        }
    }
}

async fn act(
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, i32)>,
    body: ReportActionInput,
    action: ReportAction,
) -> Result<HttpResponse, ApiError> {
    let (key, year) = path.into_inner();
    let report = crate::service::write(&db, caller, move |tx| {
        crate::service::reports::act(tx, &key, year, action, body.comment)?;
        let alliance = alliances::find(tx.conn, &key)?;
        reporting::annual_report(tx.conn, &alliance, year)
    })
    .await?;
    Ok(changed(&report))
}

macro_rules! workflow_step {
    ($fn:ident, $action:expr, $path:literal, $op:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            operation_id = $op,
            tag = "reports",
            params(
                ("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"),
                ("year" = i32, Path, description = YEAR, minimum = 2000, maximum = 2100, example = 2025),
            ),
            request_body(content = Option<ReportActionInput>, description = "Optional: no body, an empty one and `{}` all mean no comment. `comment` is required to return or reopen"),
            responses((status = 200, description = "The report after the step", body = AnnualReport, headers(("ETag" = String))))
        )]
        #[post($path)]
        pub async fn $fn(
            db: web::Data<Db>,
            caller: Principal,
            path: web::Path<(String, i32)>,
            body: OptionalJson<ReportActionInput>,
        ) -> Result<HttpResponse, ApiError> {
            act(db, caller, path, body.0, $action).await
        }
    };
}

workflow_step!(
    submit,
    ReportAction::Submit,
    "/alliances/{id}/reports/{year}/submit",
    "submit_annual_report",
    "Submits a draft or returned year for review (secretariat of the alliance, or admin). Every evidence-required KPI with a figure needs evidence links, else 422 naming each KPI."
);
workflow_step!(
    approve,
    ReportAction::Approve,
    "/alliances/{id}/reports/{year}/approve",
    "approve_annual_report",
    "Approves a submitted year (reviewer or admin): the report is frozen as a snapshot with the SHA-256 of its canonical JSON, and the year's figures are locked."
);
workflow_step!(
    return_report,
    ReportAction::Return,
    "/alliances/{id}/reports/{year}/return",
    "return_annual_report",
    "Returns a submitted year to the secretariat with a comment (reviewer or admin)."
);
workflow_step!(
    reopen,
    ReportAction::Reopen,
    "/alliances/{id}/reports/{year}/reopen",
    "reopen_annual_report",
    "Reopens an approved year as a draft, with the reason (reviewer or admin); the snapshot is dropped and a new approval makes a new one."
);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Alliances (ids or slugs, comma-separated); all by default.
    #[param(example = "teda-biomedicine,port-offshore-equipment")]
    pub alliance: Option<String>,
    /// Only alliances of this sector.
    #[param(example = "biomedicine")]
    pub sector: Option<crate::domain::alliance::Sector>,
    /// First year (default: nine years before `to_year`).
    #[param(minimum = 2000, maximum = 2100, example = 2024)]
    pub from_year: Option<i32>,
    /// Last year (default: this year in Tianjin).
    #[param(minimum = 2000, maximum = 2100, example = 2025)]
    pub to_year: Option<i32>,
    /// KPI codes, comma-separated; the whole catalogue by default.
    #[param(example = "teacher_training_person_times,certified_enterprises")]
    pub kpi: Option<String>,
    /// Only approved years, with the figures exactly as approved.
    pub approved_only: Option<bool>,
    /// As a file: see `export_dashboard_kpis`.
    #[param(ignore)]
    pub format: Option<CsvFormat>,
}

/// The dashboard's one file format.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[schema(as = CsvFileFormat)]
#[serde(rename_all = "lowercase")]
pub enum CsvFormat {
    Csv,
}

fn list_param(v: Option<String>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// Attainment across alliances × years × KPIs, with totals per year and
/// KPI. Rows with neither a target nor a figure are left out. Approved
/// years give their approved figures (and the snapshot hash); other years
/// give the figures as they stand. Totals count an organisation that
/// belongs to several alliances once (`method` says how each total adds up).
/// A screen that polls with `If-None-Match` gets 304 until a record changes.
#[utoipa::path(
    operation_id = "dashboard_kpis",
    tag = "reports",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Rows and totals (as CSV: `export_dashboard_kpis`)", body = Dashboard, headers(("ETag" = String, description = "Changes when any record changes; poll with `If-None-Match`"))),
        (status = 304, description = "Nothing has changed since the `If-None-Match` tag"),
    )
)]
#[get("/dashboard/kpis")]
pub async fn dashboard_kpis(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    query: ApiQuery<DashboardQuery>,
) -> Result<HttpResponse, ApiError> {
    dashboard_kpis_or_file(req, db, caller, query).await
}

/// The dashboard's rows, then the totals (alliance `total`), as CSV.
#[utoipa::path(
    operation_id = "export_dashboard_kpis",
    tag = "reports",
    params(DashboardQuery, files::CsvFileQuery),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/exports/dashboard/kpis")]
pub async fn export_dashboard(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    mut query: ApiQuery<DashboardQuery>,
) -> Result<HttpResponse, ApiError> {
    query.0.format = Some(files::required(query.0.format)?);
    dashboard_kpis_or_file(req, db, caller, query).await
}

async fn dashboard_kpis_or_file(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    query: ApiQuery<DashboardQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let to_year = q
        .to_year
        .unwrap_or_else(|| chrono::Datelike::year(&crate::db::journal::tianjin_today()));
    let from_year = q
        .from_year
        .unwrap_or_else(|| (to_year - 9).max(*YEARS.start()));
    let mut errors = vec![];
    for (field, y) in [("from_year", from_year), ("to_year", to_year)] {
        if !YEARS.contains(&y) {
            errors.push(FieldError::new(
                field,
                "out_of_range",
                "years run 2000-2100",
            ));
        }
    }
    if from_year > to_year {
        errors.push(FieldError::new(
            "from_year",
            "after_to_year",
            "from_year is after to_year",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest {
            detail: "the year range is not valid".into(),
            errors,
        });
    }
    let csv = q.format.is_some() || files::wanted(&req, None) == Some(Format::Csv);
    let mut filter = DashboardFilter {
        alliances: list_param(q.alliance),
        sector: q.sector.map(|s| s.as_str().to_owned()),
        from_year,
        to_year,
        kpis: list_param(q.kpi),
        approved_only: q.approved_only.unwrap_or(false),
        visible: None,
    };
    // Every change that can move a figure is a change event, so the feed's
    // head and the question make a tag: a screen that polls with
    // `If-None-Match` gets 304 for one indexed read until something changes.
    let client_tag = if_none_match(&req);
    let answer = db
        .read(move |c| {
            // A secretariat or member token sees its own alliances only; an
            // unknown name is the dashboard's to report (400, as the description says).
            for key in &filter.alliances {
                match crate::service::scope::readable_alliance(c, &caller, key) {
                    Err(ApiError::NotFound(_)) | Ok(_) => {}
                    Err(refused) => return Err(refused),
                }
            }
            filter.visible = crate::service::scope::visibility(c, &caller)?
                .alliance_ids()
                .map(<[String]>::to_vec);
            let question = format!("{filter:?} csv={csv}");
            let etag = format!(
                "\"{}-{}\"",
                changes::written_through(c)?,
                &sha256_hex(&question)[..16]
            );
            if names_tag(client_tag.as_deref(), &etag) {
                return Ok((etag, None));
            }
            Ok((etag, Some(dashboard::dashboard(c, &filter)?)))
        })
        .await?;
    let (etag, board) = match answer {
        (etag, None) => return Ok(unchanged_since(etag)),
        (etag, Some(board)) => (etag, board),
    };
    let mut res = match csv {
        false => HttpResponse::Ok().json(board),
        true => {
            let bytes = dashboard::table(&board)
                .write(Format::Csv)
                .map_err(ApiError::Internal)?;
            files::attachment(bytes, Format::Csv, "dashboard-kpis")
        }
    };
    let etag = header::HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    res.headers_mut().insert(header::ETAG, etag);
    Ok(res)
}
