//! Spreadsheet imports and exports: members in, members and templates out.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{ApiQuery, Upload};
use super::files::HeaderLang;
use super::idempotency::{self, Answer, IdempotencyKey, IdempotencyKeyHeader};
use crate::auth::Principal;
use crate::db::Db;
use crate::error::{ApiError, FieldError};
use crate::import::{self, ImportReport, activities, kpis, members};
use crate::service::Tx;
use crate::tabular::{self, Format, SpreadsheetFile, Table};

/// How an upload is sent, for the description.
const UPLOAD: &str = "The spreadsheet's bytes: a CSV file (UTF-8, a BOM is fine) or an XLSX workbook, \
    told apart by their first bytes (a workbook is a zip). `Content-Type: text/csv` or the XLSX type \
    is taken too, and then the file must be what it says.";

const ALLIANCE_ID: &str = "Alliance id or slug";
/// Rows one import takes (413 beyond): ten times the largest alliance's
/// member list, and what a single transaction handles in a few seconds.
pub const MAX_ROWS: usize = tabular::IMPORT_BOUNDS.rows;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: check every row and report what would happen; write nothing.
    #[param(example = true)]
    pub dry_run: Option<bool>,
}

/// Imports an alliance's members from a spreadsheet (admin, or a
/// secretariat of the alliance): CSV (UTF-8) or XLSX, first sheet, a header
/// row with the column keys or their Chinese names (`GET
/// /imports/members/template`). Each row registers or updates an
/// organisation (found by USCC, external reference `system:id`, or slug)
/// and admits it, or changes its role. All rows are written in one
/// transaction or none: any rejected cell → 422 with every conflict (row,
/// column, reason) and nothing written. `dry_run=true` reports the same
/// without writing.
#[utoipa::path(
    operation_id = "import_members",
    tag = "imports",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), ImportQuery, IdempotencyKeyHeader),
    request_body(
        description = UPLOAD,
        content((inline(SpreadsheetFile) = "application/octet-stream", example = "slug,kind,name_zh,role,joined_on\nkailaiying-pharma,enterprise,凯莱英医药集团（天津）股份有限公司,member,2023-05-08\n"))
    ),
    responses(
        (status = 200, description = "Imported (or, in a dry run, what would be)", body = ImportReport),
    )
)]
#[post("/alliances/{id}/imports/members")]
pub async fn import_members(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    query: ApiQuery<ImportQuery>,
    upload: Upload,
) -> Result<HttpResponse, ApiError> {
    let how = Import {
        columns: members::COLUMNS,
        parse: members::parse_row,
        run: members::run,
    };
    how.run(db, caller, key, id.into_inner(), query.0, upload)
        .await
}

/// Imports an alliance's activities from a spreadsheet (admin, or a
/// secretariat of the alliance), like the member import: CSV or XLSX, keys
/// or Chinese headers (`GET /imports/activities/template`), dry run, all or
/// nothing. Platforms are named by name or id; participating organisations
/// by slug, id or exact Chinese name, separated by `；`. A row with the kind,
/// title and start day of a recorded activity updates it.
#[utoipa::path(
    operation_id = "import_activities",
    tag = "imports",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), ImportQuery, IdempotencyKeyHeader),
    request_body(
        description = UPLOAD,
        content((inline(SpreadsheetFile) = "application/octet-stream", example = "kind,title,starts_on,persons,person_times\ntraining,2025年生物医药骨干教师培训班,2025-07-14,40,200\n"))
    ),
    responses(
        (status = 200, description = "Imported (or, in a dry run, what would be)", body = ImportReport),
    )
)]
#[post("/alliances/{id}/imports/activities")]
pub async fn import_activities(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    query: ApiQuery<ImportQuery>,
    upload: Upload,
) -> Result<HttpResponse, ApiError> {
    let how = Import {
        columns: activities::COLUMNS,
        parse: activities::parse_row,
        run: activities::run,
    };
    how.run(db, caller, key, id.into_inner(), query.0, upload)
        .await
}

/// Enters yearly KPI figures from a spreadsheet (admin, or a secretariat
/// of the alliance): one row per year and KPI with its target, actual
/// (hand-entered KPIs only), note and evidence links; columns by key or
/// Chinese header (`GET /imports/kpis/template`). KPIs the file does not
/// name keep their entries. Dry run, all or nothing, like the other
/// imports; a year under review or approved refuses the file (409).
#[utoipa::path(
    operation_id = "import_kpis",
    tag = "imports",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), ImportQuery, IdempotencyKeyHeader),
    request_body(
        description = UPLOAD,
        content((inline(SpreadsheetFile) = "application/octet-stream", example = "year,code,target,actual,note,evidence\n2025,technical_service_income,500,532.5,技术服务合同12项,https://www.teda.gov.cn/alliance/2025/income.pdf\n"))
    ),
    responses(
        (status = 200, description = "Imported (or, in a dry run, what would be)", body = ImportReport),
    )
)]
#[post("/alliances/{id}/imports/kpis")]
pub async fn import_kpis(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    query: ApiQuery<ImportQuery>,
    upload: Upload,
) -> Result<HttpResponse, ApiError> {
    let how = Import {
        columns: kpis::COLUMNS,
        parse: kpis::parse_row,
        run: kpis::run,
    };
    how.run(db, caller, key, id.into_inner(), query.0, upload)
        .await
}

/// How one kind of import reads and writes its rows.
struct Import<R> {
    columns: &'static [import::Column],
    parse: import::ParseRow<R>,
    run: fn(&mut Tx<'_>, &str, Vec<R>, &mut ImportReport) -> Result<(), ApiError>,
}

impl<R: Send + 'static> Import<R> {
    async fn run(
        self,
        db: web::Data<Db>,
        caller: Principal,
        key: IdempotencyKey,
        alliance: String,
        query: ImportQuery,
        upload: Upload,
    ) -> Result<HttpResponse, ApiError> {
        // The role and the alliance were checked from the token before the
        // body was read (`api::gate`); the file is read off the async
        // workers, within bounds.
        let dry_run = query.dry_run.unwrap_or(false);
        let Upload {
            format,
            bytes,
            digest,
        } = upload;
        let (columns, parse) = (self.columns, self.parse);
        let (rows, mut report) = crate::heavy::UPLOADS
            .run("reading files", move || {
                read_rows(format, &bytes, columns, parse, dry_run)
            })
            .await?
            .map_err(|_| unreadable("the file could not be read".into()))??;
        let run = self.run;
        let result = idempotency::once(&db, caller, key, digest, move |tx| {
            run(tx, &alliance, rows, &mut report)?;
            // Nothing is kept from a dry run or a run with conflicts: the
            // error rolls the transaction back, carrying the report out.
            if dry_run || !report.conflicts.is_empty() {
                return Err(ApiError::ImportRejected(Box::new(report)));
            }
            Ok(Answer {
                status: 200,
                location: None,
                etag: None,
                body: serde_json::to_string(&report).map_err(ApiError::internal)?,
                secret: false,
            })
        })
        .await;
        match result {
            Err(ApiError::ImportRejected(report)) if dry_run => Ok(HttpResponse::Ok().json(report)),
            other => other,
        }
    }
}

fn unreadable(m: String) -> ApiError {
    ApiError::BadRequest {
        detail: m.clone(),
        errors: vec![FieldError::new("body", "unreadable", m)],
    }
}

/// A file's rows, parsed into the import's row type, with the conflicts
/// of the cells that did not parse.
fn read_rows<R>(
    format: Format,
    bytes: &[u8],
    columns: &'static [import::Column],
    parse: import::ParseRow<R>,
    dry_run: bool,
) -> Result<(Vec<R>, ImportReport), ApiError> {
    let sheet = tabular::read(format, bytes, &tabular::IMPORT_BOUNDS).map_err(|e| match e {
        tabular::ReadError::Unreadable(m) => unreadable(m),
        tabular::ReadError::TooLarge(m) => ApiError::FileTooLarge(m),
    })?;
    let at = import::locate(columns, &sheet.headers).map_err(|errors| {
        ApiError::Validation(
            errors
                .into_iter()
                .map(|(column, m)| FieldError::new(format!("columns.{column}"), "invalid", m))
                .collect(),
        )
    })?;
    let mut report = ImportReport {
        dry_run,
        rows: sheet.rows.len(),
        ..Default::default()
    };
    let rows = import::parse_rows(&sheet, &at, columns, &mut report, parse);
    Ok((rows, report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `csv` (UTF-8 with a byte-order mark, for Excel) or `xlsx` (default).
    pub format: Option<Format>,
    /// `zh` for Chinese column headers (default `en`: the column keys).
    #[serde(alias = "headers")]
    pub header_language: Option<HeaderLang>,
}

impl FileQuery {
    fn parse(&self) -> Result<(Format, bool), ApiError> {
        let zh = self.header_language == Some(HeaderLang::Zh);
        Ok((self.format.unwrap_or(Format::Xlsx), zh))
    }
}

fn file(table: &Table<'_>, format: Format, name: &str) -> Result<HttpResponse, ApiError> {
    let bytes = table.write(format).map_err(ApiError::Internal)?;
    Ok(super::files::attachment(bytes, format, name))
}

/// The member import's template: the columns and one example row.
#[utoipa::path(
    operation_id = "member_import_template",
    tag = "imports",
    params(FileQuery),
    responses((status = 200, description = "The template", content(
        (String = "text/csv"),
        (SpreadsheetFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )))
)]
#[get("/imports/members/template")]
pub async fn member_template(
    _caller: Principal,
    query: ApiQuery<FileQuery>,
) -> Result<HttpResponse, ApiError> {
    let (format, zh) = query.0.parse()?;
    file(&members::template(zh), format, "members-template")
}

/// The activity import's template: the columns and one example row.
#[utoipa::path(
    operation_id = "activity_import_template",
    tag = "imports",
    params(FileQuery),
    responses((status = 200, description = "The template", content(
        (String = "text/csv"),
        (SpreadsheetFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )))
)]
#[get("/imports/activities/template")]
pub async fn activity_template(
    _caller: Principal,
    query: ApiQuery<FileQuery>,
) -> Result<HttpResponse, ApiError> {
    let (format, zh) = query.0.parse()?;
    file(&activities::template(zh), format, "activities-template")
}

/// The KPI import's template: the columns and two example rows.
#[utoipa::path(
    operation_id = "kpi_import_template",
    tag = "imports",
    params(FileQuery),
    responses((status = 200, description = "The template", content(
        (String = "text/csv"),
        (SpreadsheetFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )))
)]
#[get("/imports/kpis/template")]
pub async fn kpi_template(
    _caller: Principal,
    query: ApiQuery<FileQuery>,
) -> Result<HttpResponse, ApiError> {
    let (format, zh) = query.0.parse()?;
    file(&kpis::template(zh), format, "kpis-template")
}

/// An alliance's current members in the import's columns: edit the file
/// and import it again.
#[utoipa::path(
    operation_id = "export_members",
    tag = "imports",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), FileQuery),
    responses((status = 200, description = "The members", content(
        (String = "text/csv"),
        (SpreadsheetFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )))
)]
#[get("/alliances/{id}/exports/members")]
pub async fn export_members(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<FileQuery>,
) -> Result<HttpResponse, ApiError> {
    let (format, zh) = query.0.parse()?;
    let id = id.into_inner();
    let name = format!("{id}-members");
    let table =
        crate::service::read_alliance(&db, caller, id, move |c, id| members::export(c, id, zh))
            .await?;
    file(&table, format, &name)
}
