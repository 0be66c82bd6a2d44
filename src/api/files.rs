//! Lists as files: `?format=csv|xlsx` (or `Accept: text/csv` / the XLSX
//! type) turns a list into a spreadsheet of every matching record, with
//! English keys or Chinese headers (`headers=zh`).

use actix_web::http::header::{self, Header};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::db::page::{MAX_LIMIT, Page, PageRequest};
use crate::domain::activity::Activity;
use crate::domain::council::CouncilSeat;
use crate::domain::membership::Membership;
use crate::domain::organization::Organization;
use crate::domain::platform::Platform;
use crate::domain::posting::Posting;
use crate::error::{ApiError, FieldError};
use crate::tabular::{Format, Table};

/// The language of a file's header row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = HeaderLanguage)]
pub enum HeaderLang {
    /// The JSON keys.
    #[default]
    En,
    /// Chinese headers, for people.
    Zh,
}

/// What a download is: its format and the language of its header row. The
/// `export_*` operations take it (a list's own `format` answers a file too,
/// for the clients of earlier versions).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `csv` (UTF-8, starting with a byte-order mark so that Excel reads it
    /// as UTF-8) or `xlsx`.
    pub format: Format,
    /// The header row: `en` (the JSON keys; default) or `zh` (Chinese
    /// names). The annual report's default is `zh`.
    pub header_language: Option<HeaderLang>,
}

/// The dashboard's download: CSV only.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvFileQuery {
    /// `csv` (UTF-8, starting with a byte-order mark so that Excel reads it
    /// as UTF-8).
    pub format: crate::api::reports::CsvFormat,
}

/// The description of a download's 200.
pub const FILE: &str = "The file, as an attachment named in `Content-Disposition`: `text/csv` or the XLSX type, as `format` asked (`application/octet-stream` is listed for generated clients, which then hand over the bytes as they came)";

/// The `format` a download needs; 400 naming it when it is missing.
pub fn required<T>(format: Option<T>) -> Result<T, ApiError> {
    format.ok_or_else(|| ApiError::BadRequest {
        detail: "query parameter `format`: required".into(),
        errors: vec![FieldError::new("format", "required", "csv or xlsx")],
    })
}

/// The most records a file holds; narrow the filters for more.
pub const MAX_ROWS: usize = 100_000;

/// The file format a request asks for: `format`, else an `Accept` that
/// names CSV or XLSX; `None` means JSON.
pub fn wanted(req: &HttpRequest, format: Option<Format>) -> Option<Format> {
    format.or_else(|| {
        // The most wanted type the service has (q-values honoured): a
        // file format, or JSON (which `*/*` and `application/*` include).
        let accept = header::Accept::parse(req).ok()?;
        accept.ranked().into_iter().find_map(|wanted| {
            match Format::of_mime(wanted.essence_str()) {
                Some(format) => Some(Some(format)),
                None if wanted.subtype() == mime::JSON || wanted.subtype() == mime::STAR => {
                    Some(None)
                }
                None => None,
            }
        })?
    })
}

/// A resource as a spreadsheet row.
pub trait Tabular {
    /// `(key, Chinese header)` of each column.
    const COLUMNS: &'static [(&'static str, &'static str)];
    const SHEET: &'static str;
    fn cells(&self) -> Vec<String>;
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn num(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl Tabular for Membership {
    const SHEET: &'static str = "memberships";
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("id", "编号"),
        ("organization_slug", "单位标识"),
        ("organization_name_zh", "单位名称"),
        ("organization_kind", "单位类型"),
        ("role", "角色"),
        ("status", "状态"),
        ("joined_on", "加入日期"),
        ("left_on", "退出日期"),
        ("note", "备注"),
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.organization.slug.to_string(),
            self.organization.name_zh.to_string(),
            self.organization.kind.to_string(),
            self.role.to_string(),
            self.status.to_string(),
            self.joined_on.to_string(),
            opt(&self.left_on),
            opt(&self.note),
        ]
    }
}

impl Tabular for Organization {
    const SHEET: &'static str = "organizations";
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("slug", "标识"),
        ("kind", "类型"),
        ("name_zh", "名称"),
        ("name_en", "英文名称"),
        ("uscc", "统一社会信用代码"),
        ("region", "地区"),
        ("website", "网站"),
        ("external_refs", "外部编号"),
        ("certification_level", "产教融合型企业"),
        ("certified_on", "认定日期"),
        ("certification_expires_on", "有效期至"),
        ("former_names", "曾用名"),
    ];
    fn cells(&self) -> Vec<String> {
        let c = self.certification.as_ref();
        vec![
            self.slug.to_string(),
            self.kind.to_string(),
            self.name_zh.to_string(),
            opt(&self.name_en),
            opt(&self.uscc),
            opt(&self.region),
            opt(&self.website),
            self.external_refs
                .iter()
                .map(|r| format!("{}:{}", r.system, r.id))
                .collect::<Vec<_>>()
                .join("；"),
            c.map(|c| c.level.to_string()).unwrap_or_default(),
            c.map(|c| c.certified_on.to_string()).unwrap_or_default(),
            opt(&c.and_then(|c| c.expires_on)),
            self.former_names
                .iter()
                .map(|f| f.name_zh.to_string())
                .collect::<Vec<_>>()
                .join("；"),
        ]
    }
}

impl Tabular for Posting {
    const SHEET: &'static str = "postings";
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("id", "编号"),
        ("kind", "类型"),
        ("direction", "供需"),
        ("organization_slug", "单位标识"),
        ("organization_name_zh", "单位名称"),
        ("status", "状态"),
        ("close_reason", "关闭原因"),
        ("title_zh", "标题"),
        ("title_en", "英文标题"),
        ("majors", "专业"),
        ("level", "层次"),
        ("region", "地区"),
        ("headcount", "人数"),
        ("opens_on", "开始日期"),
        ("closes_on", "截止日期"),
        ("external_ref", "外部编号"),
        ("published_at", "发布时间"),
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.kind.to_string(),
            self.direction.to_string(),
            self.organization.slug.to_string(),
            self.organization.name_zh.to_string(),
            self.status.to_string(),
            opt(&self.close_reason),
            self.title_zh.to_string(),
            opt(&self.title_en),
            self.majors.join("; "),
            opt(&self.level),
            opt(&self.region),
            num(self.headcount),
            opt(&self.opens_on),
            opt(&self.closes_on),
            opt(&self.external_ref),
            self.published_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
        ]
    }
}

impl Tabular for Platform {
    const SHEET: &'static str = "platforms";
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("id", "编号"),
        ("kind", "类型"),
        ("name_zh", "名称"),
        ("name_en", "英文名称"),
        ("host_organization", "依托单位"),
        ("partners", "合作单位"),
        ("focus_areas", "重点领域"),
        ("status", "状态"),
        ("opened_on", "启用日期"),
        ("closed_on", "关闭日期"),
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.kind.to_string(),
            self.name_zh.to_string(),
            opt(&self.name_en),
            self.host_organization
                .as_ref()
                .map(|o| o.name_zh.to_string())
                .unwrap_or_default(),
            self.partners
                .iter()
                .map(|o| o.name_zh.to_string())
                .collect::<Vec<_>>()
                .join("；"),
            self.focus_areas.join("；"),
            self.status.to_string(),
            opt(&self.opened_on),
            opt(&self.closed_on),
        ]
    }
}

impl Tabular for Activity {
    const SHEET: &'static str = "activities";
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("id", "编号"),
        ("kind", "类型"),
        ("title", "名称"),
        ("starts_on", "开始日期"),
        ("ends_on", "结束日期"),
        ("platform_id", "平台"),
        ("organizations", "参与单位"),
        ("persons", "人数（人）"),
        ("person_times", "人次"),
        ("hours", "学时"),
        ("students", "学生数（人）"),
        ("awards", "获奖（项）"),
        ("budget_cny", "经费（元）"),
        ("research_status", "研发状态"),
        ("open_call", "揭榜挂帅"),
        ("resolutions", "决议"),
        ("outcome", "成效"),
        ("evidence", "佐证材料"),
    ];
    fn cells(&self) -> Vec<String> {
        let f = &self.figures;
        vec![
            self.id.clone(),
            self.kind.to_string(),
            self.title.to_string(),
            self.starts_on.to_string(),
            opt(&self.ends_on),
            opt(&self.platform_id),
            self.organizations
                .iter()
                .map(|o| o.name_zh.to_string())
                .collect::<Vec<_>>()
                .join("；"),
            num(f.persons),
            num(f.person_times),
            num(f.hours),
            num(f.students),
            num(f.awards),
            num(f.budget_cny),
            opt(&self.research_status),
            opt(&self.open_call),
            self.resolutions.join("；"),
            opt(&self.outcome),
            self.evidence
                .iter()
                .map(|u| u.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ]
    }
}

impl Tabular for CouncilSeat {
    const SHEET: &'static str = "council";
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("id", "编号"),
        ("position", "职务"),
        ("person_name_zh", "姓名"),
        ("person_name_en", "英文姓名"),
        ("organization", "所在单位"),
        ("term_number", "届次"),
        ("term_starts_on", "任期开始"),
        ("term_ends_on", "任期结束"),
        ("ended_on", "提前结束"),
        ("end_reason", "结束原因"),
        ("appointment_document", "任命文件"),
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.position.to_string(),
            self.person_name_zh.to_string(),
            opt(&self.person_name_en),
            self.organization.name_zh.to_string(),
            self.term_number.to_string(),
            self.term_starts_on.to_string(),
            self.term_ends_on.to_string(),
            opt(&self.ended_on),
            opt(&self.end_reason),
            opt(&self.appointment_document),
        ]
    }
}

/// Every page of a list, up to `MAX_ROWS`.
pub fn all_pages<T>(
    mut page: impl FnMut(&PageRequest) -> Result<Page<T>, ApiError>,
    id_of: impl Fn(&T) -> String,
) -> Result<Vec<T>, ApiError> {
    let mut request = PageRequest {
        limit: MAX_LIMIT,
        after: None,
    };
    let mut all = Vec::new();
    loop {
        let batch = page(&request)?;
        let more = batch.next_cursor.is_some();
        request.after = batch.items.last().map(&id_of);
        all.extend(batch.items);
        if all.len() > MAX_ROWS {
            return Err(ApiError::BadRequest {
                detail: format!("more than {MAX_ROWS} records match; narrow the filters"),
                errors: vec![FieldError::new("format", "too_many", "narrow the filters")],
            });
        }
        if !more {
            return Ok(all);
        }
    }
}

/// The records as a file to download.
pub fn download<T: Tabular>(
    items: &[T],
    format: Format,
    headers: HeaderLang,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let table = Table {
        sheet: T::SHEET,
        headers: T::COLUMNS
            .iter()
            .map(|(key, zh)| if headers == HeaderLang::Zh { *zh } else { *key }.to_owned())
            .collect(),
        rows: items.iter().map(Tabular::cells).collect(),
        numeric: vec![],
    };
    let bytes = table.write(format).map_err(ApiError::Internal)?;
    Ok(attachment(bytes, format, name))
}

/// A file to download as `name.<extension>`.
pub fn attachment(bytes: Vec<u8>, format: Format, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(header::ContentDisposition {
            disposition: header::DispositionType::Attachment,
            parameters: vec![header::DispositionParam::Filename(format!(
                "{name}.{}",
                format.extension()
            ))],
        })
        .body(bytes)
}
