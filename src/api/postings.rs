//! 供需对接: postings (`/alliances/{id}/postings`, `/postings/{id}`), their
//! suggested counterparts, matches (`/alliances/{id}/matches`,
//! `/matches/{id}`) and the year's supply–demand summary.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::List;
use super::extract::{ApiJson, ApiQuery, IfMatch, OptionalJson, changed, item};
use super::files::{self, FileQuery, HeaderLang};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::page::PageRequest;
use crate::db::postings::PostingFilter;
use crate::domain::Versioned;
use crate::domain::posting::{
    AcceptMatch, CloseMatch, ClosePosting, NewMatch, NewPosting, Posting, PostingKind,
    PostingMatch, PostingPatch, PostingReview, PostingStatus, PublicPosting, Suggestion,
};
use crate::domain::posting_summary::{SummaryLine, SupplyDemandSummary};
use crate::error::{ApiError, FieldError};
use crate::service::Precondition;
use crate::service::postings as service;
use crate::tabular::{Format, Table};

const ALLIANCE_ID: &str = "Alliance id or slug";
const POSTING_ID: &str = "Posting id";
const MATCH_ID: &str = "Match id";
const YEAR: &str = "The calendar year, 2000–2100";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PostingQuery {
    /// Text the titles, descriptions, majors or positions contain, in
    /// Chinese or English, any case (1–100 characters).
    #[param(example = "细胞药物", min_length = 1, max_length = 100)]
    pub q: Option<String>,
    pub kind: Option<PostingKind>,
    /// The status as readers see it (`closed` includes the expired).
    pub status: Option<PostingStatus>,
    /// Only this organisation's postings (id or slug).
    #[param(example = "kailaiying-pharma")]
    pub organization: Option<String>,
    /// Only the posting with this external reference (with `organization`,
    /// how a member system finds its own).
    pub external_ref: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-f]{2}){0,64}$")]
    pub cursor: Option<String>,
    /// The file's format, on `export_postings` only: see [`files::FileQuery`].
    #[param(ignore)]
    pub format: Option<Format>,
    /// The file's header row: see [`files::FileQuery`].
    #[param(ignore)]
    pub header_language: Option<HeaderLang>,
}

/// The search text `q`, trimmed: 1-100 characters.
fn search_text(q: Option<&str>) -> Result<Option<String>, ApiError> {
    let q = q.map(str::trim);
    if q.is_some_and(|q| q.is_empty() || q.chars().count() > 100) {
        return Err(ApiError::BadRequest {
            detail: "query parameter `q`: 1-100 characters".into(),
            errors: vec![FieldError::new("q", "invalid", "1-100 characters")],
        });
    }
    Ok(q.map(str::to_owned))
}

impl PostingQuery {
    fn filter(&self) -> Result<PostingFilter, ApiError> {
        Ok(PostingFilter {
            kind: self.kind,
            status: self.status,
            q: search_text(self.q.as_deref())?,
            external_ref: self.external_ref.clone(),
            ..PostingFilter::default()
        })
    }
}

/// Resolves `organization` (id or slug) in a filter: an unknown one matches nothing.
fn with_organization(
    c: &mut crate::db::AnyConnection,
    mut filter: PostingFilter,
    key: Option<&str>,
) -> Result<PostingFilter, ApiError> {
    if let Some(key) = key {
        filter.organization_id = Some(match crate::db::organizations::find(c, key) {
            Ok(o) => o.id,
            Err(ApiError::NotFound(_)) => String::new(),
            Err(e) => return Err(e),
        });
    }
    Ok(filter)
}

/// Whether the operator opened the public listing (`ALLIANCE_PUBLIC_POSTINGS`).
#[derive(Debug, Clone, Copy)]
pub struct PublicPostings(pub bool);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicQuery {
    /// Only this alliance's (id or slug).
    #[param(example = "teda-biomedicine")]
    pub alliance: Option<String>,
    pub kind: Option<PostingKind>,
    /// Text the titles, descriptions, majors or positions contain (1–100 characters).
    #[param(example = "细胞药物", min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-f]{2}){0,64}$")]
    pub cursor: Option<String>,
}

/// The public listing: every alliance's published postings that their
/// posters opened to the public (`public: true`), without a token. It shows
/// what was posted, not the poster's own reference, the attachments or the
/// review; it is off (404) unless the operator sets
/// `ALLIANCE_PUBLIC_POSTINGS=true`.
#[utoipa::path(
    operation_id = "list_public_postings",
    tag = "postings",
    params(PublicQuery),
    responses(
        (status = 200, description = "A page", body = List<PublicPosting>,
            headers(("Cache-Control" = String, description = "`public, max-age=60`"))),
        (status = 404, description = "The listing is not open here",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public/postings")]
pub async fn public_list(
    db: web::Data<Db>,
    open: web::Data<PublicPostings>,
    query: ApiQuery<PublicQuery>,
) -> Result<HttpResponse, ApiError> {
    if !open.0 {
        return Err(ApiError::NotFound(
            "the public listing of postings is not open here".into(),
        ));
    }
    let q = query.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let text = search_text(q.q.as_deref())?;
    let page = db
        .read(move |c| {
            service::public_list(c, q.alliance.as_deref(), q.kind, text.as_deref(), &page)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=60"))
        .json(List::from(page)))
}

/// Lists and searches an alliance's postings. A member token sees the
/// published ones and its own organisation's in any state.
#[utoipa::path(
    operation_id = "list_postings",
    tag = "postings",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), PostingQuery),
    responses((status = 200, description = "A page", body = List<Posting>))
)]
#[get("/alliances/{id}/postings")]
pub async fn list(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<PostingQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    if q.format.is_some() {
        return Err(ApiError::BadRequest {
            detail: "a list answers JSON; `export_postings` answers a file".into(),
            errors: vec![FieldError::new(
                "format",
                "not_here",
                "use /exports/postings",
            )],
        });
    }
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = q.filter()?;
    let who = caller.clone();
    let page = crate::service::read_alliance(&db, caller, id.into_inner(), move |c, id| {
        let filter = with_organization(c, filter, q.organization.as_deref())?;
        service::list(c, &who, id, filter, &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Every posting of an alliance that the filters match, as a file (CSV or XLSX).
#[utoipa::path(
    operation_id = "export_postings",
    tag = "postings",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), PostingQuery, FileQuery),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/alliances/{id}/exports/postings")]
pub async fn export(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<PostingQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let format = files::required(q.format)?;
    // The file holds every page; `limit` and `cursor` are still checked.
    PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let header_language = q.header_language;
    let filter = q.filter()?;
    let who = caller.clone();
    let key = id.into_inner();
    let name = format!("{key}-postings");
    let all = crate::service::read_alliance(&db, caller, key, move |c, id| {
        let filter = with_organization(c, filter, q.organization.as_deref())?;
        files::all_pages(
            |p| service::list(c, &who, id, filter.clone(), p),
            |x| x.id.clone(),
        )
    })
    .await?;
    files::download(&all, format, header_language.unwrap_or_default(), &name)
}

/// Posts a demand or an offer into an alliance: a member token for its own
/// organisation (a current member), or the alliance's secretariat on
/// behalf of one. It starts as a draft, or under review with `submit`.
/// Each kind takes only its own `details` (see `PostingKind`).
#[utoipa::path(
    operation_id = "create_posting",
    tag = "postings",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), IdempotencyKeyHeader),
    request_body = NewPosting,
    responses((status = 201, description = "Created; `Location` names it", body = Posting,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/alliances/{id}/postings")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<NewPosting>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    let id = id.into_inner();
    idempotency::create(&db, caller, key, digest, move |tx| {
        let p = service::create(tx, &id, new)?;
        Ok((format!("/api/v1/postings/{}", p.id), p))
    })
    .await
}

/// A member system's sync of its own posting by its own reference (the
/// `external_ref`, unique per organisation): the body replaces the posting
/// with that reference, or posts it when there is none (201). A member
/// token syncs its own organisation's; the secretariat names the
/// organisation. A member's change to a published posting goes back to
/// review; a closed posting takes no change (409); the same body again
/// changes nothing.
#[utoipa::path(
    operation_id = "upsert_posting_by_ref",
    tag = "postings",
    params(
        ("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"),
        ("ref" = String, Path, description = "The poster's own reference", example = "HR-2025-017"),
        IfMatch,
    ),
    request_body = NewPosting,
    responses(
        (status = 200, description = "Replaced", body = Posting, headers(("ETag" = String))),
        (status = 201, description = "Posted", body = Posting, headers(("ETag" = String), ("Location" = String))),
    )
)]
#[put("/alliances/{id}/postings/by-ref/{ref}")]
pub async fn upsert_by_ref(
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, String)>,
    pre: Precondition,
    body: ApiJson<NewPosting>,
) -> Result<HttpResponse, ApiError> {
    let (key, reference) = path.into_inner();
    let reference = reference.trim().to_owned();
    if reference.is_empty() || reference.chars().count() > 100 {
        return Err(ApiError::BadRequest {
            detail: "path segment `ref`: 1-100 characters".into(),
            errors: vec![FieldError::new("ref", "invalid", "1-100 characters")],
        });
    }
    let new = body.0;
    let (p, created) = crate::service::write(&db, caller, move |tx| {
        service::upsert_by_ref(tx, &key, &reference, new, &pre)
    })
    .await?;
    if created {
        Ok(HttpResponse::Created()
            .insert_header((
                actix_web::http::header::LOCATION,
                format!("/api/v1/postings/{}", p.id),
            ))
            .insert_header((actix_web::http::header::ETAG, p.etag()))
            .json(&p))
    } else {
        Ok(changed(&p))
    }
}

/// Reads one posting.
#[utoipa::path(
    operation_id = "get_posting",
    tag = "postings",
    params(("id" = String, Path, description = POSTING_ID)),
    responses(
        (status = 200, description = "The posting", body = Posting, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/postings/{id}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = db.read(move |c| service::find(c, &caller, &id)).await?;
    Ok(item(&req, &p))
}

/// Changes a posting that is not closed (its organisation's member token,
/// the secretariat, or an admin). A member's change to a published posting
/// sends it back to review.
#[utoipa::path(
    operation_id = "update_posting",
    tag = "postings",
    params(("id" = String, Path, description = POSTING_ID), IfMatch),
    request_body = PostingPatch,
    responses((status = 200, description = "The posting after the change", body = Posting, headers(("ETag" = String))))
)]
#[patch("/postings/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<PostingPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let id = id.into_inner();
    let p =
        crate::service::write(&db, caller, move |tx| service::update(tx, &id, patch, &pre)).await?;
    Ok(changed(&p))
}

/// Sends a draft to the secretariat's review (`pending_review`).
#[utoipa::path(
    operation_id = "submit_posting",
    tag = "postings",
    params(("id" = String, Path, description = POSTING_ID)),
    responses((status = 200, description = "The posting, under review", body = Posting, headers(("ETag" = String))))
)]
#[post("/postings/{id}/submit")]
pub async fn submit(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = crate::service::write(&db, caller, move |tx| service::submit(tx, &id)).await?;
    Ok(changed(&p))
}

/// Publishes a posting under review (the alliance's secretariat, or an
/// admin): every member of the alliance sees it, the feed and webhooks
/// carry `posting.published`, and matches may name it.
#[utoipa::path(
    operation_id = "publish_posting",
    tag = "postings",
    params(("id" = String, Path, description = POSTING_ID)),
    request_body(content = Option<PostingReview>, description = "Optional: a comment for the poster"),
    responses((status = 200, description = "The published posting", body = Posting, headers(("ETag" = String))))
)]
#[post("/postings/{id}/publish")]
pub async fn publish(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    body: OptionalJson<PostingReview>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let review = body.0;
    let p = crate::service::write(&db, caller, move |tx| service::publish(tx, &id, review)).await?;
    Ok(changed(&p))
}

/// Returns a posting under review to its poster as a draft, with a comment
/// saying what to change (the secretariat, or an admin).
#[utoipa::path(
    operation_id = "return_posting",
    tag = "postings",
    params(("id" = String, Path, description = POSTING_ID)),
    request_body(content = Option<PostingReview>, description = "`comment` is required"),
    responses((status = 200, description = "The posting, a draft again", body = Posting, headers(("ETag" = String))))
)]
#[post("/postings/{id}/return")]
pub async fn return_posting(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    body: OptionalJson<PostingReview>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let review = body.0;
    let p = crate::service::write(&db, caller, move |tx| {
        service::return_posting(tx, &id, review)
    })
    .await?;
    Ok(changed(&p))
}

/// Closes a posting as `filled` (a published one) or `withdrawn` (from any
/// state). One past `closes_on` reads as closed (`expired`) by itself.
#[utoipa::path(
    operation_id = "close_posting",
    tag = "postings",
    params(("id" = String, Path, description = POSTING_ID)),
    request_body = ClosePosting,
    responses((status = 200, description = "The closed posting", body = Posting, headers(("ETag" = String))))
)]
#[post("/postings/{id}/close")]
pub async fn close(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    body: ApiJson<ClosePosting>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let reason = body.0;
    let p = crate::service::write(&db, caller, move |tx| service::close(tx, &id, reason)).await?;
    Ok(changed(&p))
}

/// Suggested counterparts of a posting: the alliance's published postings
/// of the matching kind (talent ↔ talent supply, research ↔ research
/// results, projects ↔ training capacity) from other organisations, scored
/// by shared majors, level, region and open dates, each with its reasons;
/// at most 20, best first.
#[utoipa::path(
    operation_id = "list_posting_suggestions",
    tag = "postings",
    params(("id" = String, Path, description = POSTING_ID)),
    responses((status = 200, description = "Suggestions, best first", body = Vec<Suggestion>))
)]
#[get("/postings/{id}/suggestions")]
pub async fn suggestions(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = db
        .read(move |c| service::suggestions(c, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Lists an alliance's matches (a member token: those its organisation is a side of).
#[utoipa::path(
    operation_id = "list_matches",
    tag = "postings",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), super::PageQuery),
    responses((status = 200, description = "A page", body = List<PostingMatch>))
)]
#[get("/alliances/{id}/matches")]
pub async fn list_matches(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<super::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.0.parse()?;
    let who = caller.clone();
    let page = crate::service::read_alliance(&db, caller, id.into_inner(), move |c, id| {
        service::list_matches(c, &who, id, &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Proposes a match of a published demand and a published offer of the
/// alliance, from different organisations (the secretariat, or a member
/// token of either side). Both sides then accept it.
#[utoipa::path(
    operation_id = "create_match",
    tag = "postings",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), IdempotencyKeyHeader),
    request_body = NewMatch,
    responses((status = 201, description = "Proposed; `Location` names it", body = PostingMatch,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/alliances/{id}/matches")]
pub async fn create_match(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<NewMatch>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    let id = id.into_inner();
    idempotency::create(&db, caller, key, digest, move |tx| {
        let m = service::create_match(tx, &id, new)?;
        Ok((format!("/api/v1/matches/{}", m.id), m))
    })
    .await
}

/// Reads one match.
#[utoipa::path(
    operation_id = "get_match",
    tag = "postings",
    params(("id" = String, Path, description = MATCH_ID)),
    responses(
        (status = 200, description = "The match", body = PostingMatch, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/matches/{id}")]
pub async fn get_match(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let m = db
        .read(move |c| service::find_match(c, &caller, &id))
        .await?;
    Ok(item(&req, &m))
}

/// Accepts a match for one side: a member token for its own organisation's
/// side, the secretariat or an admin for the `side` it names. Accepted by
/// both, the match is `accepted`; accepting again changes nothing.
#[utoipa::path(
    operation_id = "accept_match",
    tag = "postings",
    params(("id" = String, Path, description = MATCH_ID), IfMatch),
    request_body(content = Option<AcceptMatch>, description = "Optional for a member token; the secretariat names `side`"),
    responses((status = 200, description = "The match", body = PostingMatch, headers(("ETag" = String))))
)]
#[post("/matches/{id}/accept")]
pub async fn accept_match(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: OptionalJson<AcceptMatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let accept = body.0;
    let m = crate::service::write(&db, caller, move |tx| {
        service::accept_match(tx, &id, accept, &pre)
    })
    .await?;
    Ok(changed(&m))
}

/// Closes an accepted match with its outcome (students placed, a contract,
/// a project started), which derived KPIs (`closed_matches`,
/// `students_placed`) count in the year of `closed_on`; refused (409)
/// while that year's report is approved.
#[utoipa::path(
    operation_id = "close_match",
    tag = "postings",
    params(("id" = String, Path, description = MATCH_ID), IfMatch),
    request_body = CloseMatch,
    responses((status = 200, description = "The closed match", body = PostingMatch, headers(("ETag" = String))))
)]
#[post("/matches/{id}/close")]
pub async fn close_match(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<CloseMatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let outcome = body.0;
    let m = crate::service::write(&db, caller, move |tx| {
        service::close_match(tx, &id, outcome, &pre)
    })
    .await?;
    Ok(changed(&m))
}

/// A year in the path (400 outside 2000-2100, as for reports).
fn year_of(year: i32) -> Result<i32, ApiError> {
    crate::service::reports::check_year(year)?;
    Ok(year)
}

/// An alliance's supply–demand summary of a year: the postings published
/// in it by kind, major and level, the fill rate, and the matches closed.
#[utoipa::path(
    operation_id = "get_supply_demand_summary",
    tag = "postings",
    params(
        ("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"),
        ("year" = i32, Path, description = YEAR, minimum = 2000, maximum = 2100, example = 2025),
    ),
    responses((status = 200, description = "The summary", body = SupplyDemandSummary))
)]
#[get("/alliances/{id}/supply-demand/{year}")]
pub async fn summary(
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (key, year) = path.into_inner();
    let year = year_of(year)?;
    let s = alliance_summary(&db, caller, key, year).await?;
    Ok(HttpResponse::Ok().json(s))
}

async fn alliance_summary(
    db: &Db,
    caller: Principal,
    key: String,
    year: i32,
) -> Result<SupplyDemandSummary, ApiError> {
    crate::service::read_alliance(db, caller, key, move |c, id| {
        let alliance = crate::db::alliances::find(c, id)?;
        service::summary(c, Some(&alliance), year)
    })
    .await
}

/// The alliance's summary as a file: CSV (the breakdown) or XLSX (the
/// breakdown and the totals, one sheet each).
#[utoipa::path(
    operation_id = "export_supply_demand_summary",
    tag = "postings",
    params(
        ("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"),
        ("year" = i32, Path, description = YEAR, minimum = 2000, maximum = 2100, example = 2025),
        FileQuery,
    ),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/alliances/{id}/exports/supply-demand/{year}")]
pub async fn export_summary(
    db: web::Data<Db>,
    caller: Principal,
    path: web::Path<(String, i32)>,
    query: ApiQuery<FileQuery>,
) -> Result<HttpResponse, ApiError> {
    let (key, year) = path.into_inner();
    let year = year_of(year)?;
    let name = format!("{key}-supply-demand-{year}");
    let s = alliance_summary(&db, caller, key, year).await?;
    summary_file(&s, query.0, &name)
}

/// The city's supply–demand summary of a year: every alliance's postings
/// and matches together.
#[utoipa::path(
    operation_id = "get_city_supply_demand_summary",
    tag = "postings",
    params(("year" = i32, Path, description = YEAR, minimum = 2000, maximum = 2100, example = 2025)),
    responses((status = 200, description = "The summary (`alliance` is `null`)", body = SupplyDemandSummary))
)]
#[get("/supply-demand/{year}")]
pub async fn city_summary(
    db: web::Data<Db>,
    path: web::Path<i32>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(path.into_inner())?;
    let s = db.read(move |c| service::summary(c, None, year)).await?;
    Ok(HttpResponse::Ok().json(s))
}

/// The city's summary as a file (see `export_supply_demand_summary`).
#[utoipa::path(
    operation_id = "export_city_supply_demand_summary",
    tag = "postings",
    params(
        ("year" = i32, Path, description = YEAR, minimum = 2000, maximum = 2100, example = 2025),
        FileQuery,
    ),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/exports/supply-demand/{year}")]
pub async fn export_city_summary(
    db: web::Data<Db>,
    path: web::Path<i32>,
    query: ApiQuery<FileQuery>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(path.into_inner())?;
    let s = db.read(move |c| service::summary(c, None, year)).await?;
    summary_file(&s, query.0, &format!("tianjin-supply-demand-{year}"))
}

const BREAKDOWN: &[(&str, &str)] = &[
    ("section", "分类"),
    ("name", "名称"),
    ("demands", "需求数"),
    ("offers", "供给数"),
    ("demand_headcount", "需求人数"),
    ("offer_headcount", "供给人数"),
    ("demands_filled", "已满足需求数"),
];

const TOTALS: &[(&str, &str)] = &[("metric", "指标"), ("value", "数值")];

fn summary_file(
    s: &SupplyDemandSummary,
    q: FileQuery,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let zh = q.header_language == Some(HeaderLang::Zh);
    let headers = |cols: &[(&str, &str)]| -> Vec<String> {
        cols.iter()
            .map(|(en, cn)| if zh { *cn } else { *en }.to_owned())
            .collect()
    };
    let line = |section: &str, l: &SummaryLine| {
        vec![
            section.to_owned(),
            l.name.clone(),
            l.demands.to_string(),
            l.offers.to_string(),
            l.demand_headcount.to_string(),
            l.offer_headcount.to_string(),
            l.demands_filled.to_string(),
        ]
    };
    let t = &s.totals;
    let total = SummaryLine {
        name: s.alliance.clone().unwrap_or_else(|| "tianjin".into()),
        demands: t.demands,
        offers: t.offers,
        demand_headcount: t.demand_headcount,
        offer_headcount: t.offer_headcount,
        demands_filled: t.demands_filled,
    };
    let mut rows = vec![line("total", &total)];
    rows.extend(s.by_kind.iter().map(|l| line("kind", l)));
    rows.extend(s.by_major.iter().map(|l| line("major", l)));
    rows.extend(s.by_level.iter().map(|l| line("level", l)));
    let breakdown = Table {
        sheet: "breakdown",
        headers: headers(BREAKDOWN),
        rows,
        numeric: (2..BREAKDOWN.len()).collect(),
    };
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let totals = Table {
        sheet: "totals",
        headers: headers(TOTALS),
        rows: [
            ("year", s.year.to_string()),
            ("demands", t.demands.to_string()),
            ("offers", t.offers.to_string()),
            ("demand_headcount", t.demand_headcount.to_string()),
            ("offer_headcount", t.offer_headcount.to_string()),
            ("demands_filled", t.demands_filled.to_string()),
            ("fill_rate", opt(t.fill_rate)),
            ("matches_closed", t.matches_closed.to_string()),
            ("students_placed", t.students_placed.to_string()),
            ("contract_amount_cny", t.contract_amount_cny.to_string()),
            ("median_days_to_match", opt(t.median_days_to_match)),
        ]
        .into_iter()
        .map(|(k, v)| vec![k.to_owned(), v])
        .collect(),
        numeric: vec![1],
    };
    let bytes = match q.format {
        Format::Csv => breakdown.write(Format::Csv),
        Format::Xlsx => crate::tabular::workbook(&[breakdown, totals]),
    }
    .map_err(ApiError::Internal)?;
    Ok(files::attachment(bytes, q.format, name))
}
