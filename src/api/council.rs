//! The council: `/alliances/{id}/council` (as of a date),
//! `/alliances/{id}/council-seats` and `/council-seats/{id}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{ApiJson, ApiQuery, IfMatch, changed, item};
use super::files::{self, HeaderLang};
use super::idempotency::{self, IdempotencyKey, IdempotencyKeyHeader};
use super::{List, shown_to};
use crate::auth::Principal;
use crate::db::Db;
use crate::db::council::{self, SeatFilter};
use crate::db::page::PageRequest;
use crate::domain::council::{Council, CouncilSeat, CouncilSeatPatch, NewCouncilSeat, Position};
use crate::error::{ApiError, FieldError};
use crate::service::Precondition;
use crate::tabular::Format;

const ALLIANCE_ID: &str = "Alliance id or slug";
const SEAT_ID: &str = "Council seat id";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CouncilQuery {
    /// The day to show (default: today, UTC+8).
    #[param(example = "2025-12-31")]
    pub as_of: Option<NaiveDate>,
    /// List in `ending_soon` the seats whose last day is within this many
    /// days of `as_of`, 0–3660 (default 90).
    #[param(minimum = 0, maximum = 3660, example = 90)]
    pub ending_within_days: Option<u32>,
}

/// The council as of a day: sitting seats, vacant single positions (chair,
/// secretary-general), and seats ending soon.
#[utoipa::path(
    operation_id = "get_council",
    tag = "council",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), CouncilQuery),
    responses((status = 200, description = "The council that day", body = Council))
)]
#[get("/alliances/{id}/council")]
pub async fn view(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<CouncilQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let days = q.ending_within_days.unwrap_or(90);
    if days > 3660 {
        return Err(ApiError::BadRequest {
            detail: "ending_within_days is at most 3660".into(),
            errors: vec![FieldError::new(
                "ending_within_days",
                "out_of_range",
                "use 0 to 3660",
            )],
        });
    }
    let as_of = q.as_of.unwrap_or_else(crate::db::journal::tianjin_today);
    let id = id.into_inner();
    let who = caller.clone();
    let council = crate::service::read_alliance(&db, caller, id, move |c, id| {
        council::as_of(c, id, as_of, days)
    })
    .await?;
    Ok(HttpResponse::Ok().json(shown_to(&who, council)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeatQuery {
    pub position: Option<Position>,
    /// Only seats of this term (届).
    #[param(minimum = 1, example = 1)]
    pub term: Option<i32>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-f]{2}){0,64}$")]
    pub cursor: Option<String>,
    /// The file's format: see [`files::FileQuery`] (on the list itself, a
    /// file answer kept for the clients of earlier versions).
    #[param(ignore)]
    pub format: Option<Format>,
    /// The file's header row: see [`files::FileQuery`].
    #[param(ignore)]
    #[serde(alias = "header_language")]
    pub headers: Option<HeaderLang>,
}

/// Lists every seat of an alliance's council, past and present.
#[utoipa::path(
    operation_id = "list_council_seats",
    tag = "council",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), SeatQuery),
    responses((status = 200, description = "A page", body = List<CouncilSeat>))
)]
#[get("/alliances/{id}/council-seats")]
pub async fn list(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<SeatQuery>,
) -> Result<HttpResponse, ApiError> {
    list_or_file(req, db, caller, id, query).await
}

/// Every seat of an alliance's council that the filters match, as a file (CSV or XLSX).
#[utoipa::path(
    operation_id = "export_council_seats",
    tag = "council",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), SeatQuery, files::FileQuery),
    responses((status = 200, description = files::FILE, body = String, content_type = "text/csv"))
)]
#[get("/alliances/{id}/exports/council-seats")]
pub async fn export(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    mut query: ApiQuery<SeatQuery>,
) -> Result<HttpResponse, ApiError> {
    query.0.format = Some(files::required(query.0.format)?);
    list_or_file(req, db, caller, id, query).await
}

async fn list_or_file(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    query: ApiQuery<SeatQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    if q.term.is_some_and(|t| t < 1) {
        return Err(ApiError::BadRequest {
            detail: "term counts from 1".into(),
            errors: vec![FieldError::new(
                "term",
                "out_of_range",
                "terms count from 1",
            )],
        });
    }
    let filter = SeatFilter {
        position: q.position,
        term_number: q.term,
    };
    let id = id.into_inner();
    let who = caller.clone();
    if let Some(format) = files::wanted(&req, q.format) {
        let name = format!("{id}-council");
        let all = crate::service::read_alliance(&db, caller, id, move |c, id| {
            files::all_pages(|p| council::list(c, id, &filter, p), |x| x.id.clone())
        })
        .await?;
        let all = shown_to(&who, all);
        return files::download(&all, format, q.headers.unwrap_or_default(), &name);
    }
    let mut page = crate::service::read_alliance(&db, caller, id, move |c, id| {
        council::list(c, id, &filter, &page)
    })
    .await?;
    page.items = shown_to(&who, page.items);
    Ok(HttpResponse::Ok().json(List::from(page)))
}

/// Seats a person on the council (admin, or a secretariat of the alliance).
/// The organisation must be a current member; an alliance has one sitting
/// chair and one sitting secretary-general at a time (409 naming the rule);
/// one person's terms in one position do not overlap.
#[utoipa::path(
    operation_id = "create_council_seat",
    tag = "council",
    params(("id" = String, Path, description = ALLIANCE_ID, example = "teda-biomedicine"), IdempotencyKeyHeader),
    request_body = NewCouncilSeat,
    responses((status = 201, description = "Created; `Location` names it", body = CouncilSeat,
        headers(("ETag" = String), ("Location" = String))))
)]
#[post("/alliances/{id}/council-seats")]
pub async fn create(
    db: web::Data<Db>,
    caller: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<NewCouncilSeat>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(new, digest) = body;
    let id = id.into_inner();
    idempotency::create(&db, caller, key, digest, move |tx| {
        let seat = crate::service::council::create(tx, &id, new)?;
        Ok((format!("/api/v1/council-seats/{}", seat.id), seat))
    })
    .await
}

/// Reads one seat.
#[utoipa::path(
    operation_id = "get_council_seat",
    tag = "council",
    params(("id" = String, Path, description = SEAT_ID)),
    responses(
        (status = 200, description = "The seat", body = CouncilSeat, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/council-seats/{id}")]
pub async fn get(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let who = caller.clone();
    let seat = crate::service::read_record(&db, caller, move |c| council::find(c, &id)).await?;
    Ok(item(&req, &shown_to(&who, seat)))
}

/// Changes a seat; `ended_on` with `end_reason` ends it early. The council's
/// rules hold after the change or nothing changes.
#[utoipa::path(
    operation_id = "update_council_seat",
    tag = "council",
    params(("id" = String, Path, description = SEAT_ID), IfMatch),
    request_body = CouncilSeatPatch,
    responses((status = 200, description = "The seat after the change", body = CouncilSeat, headers(("ETag" = String))))
)]
#[patch("/council-seats/{id}")]
pub async fn update(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
    body: ApiJson<CouncilSeatPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let id = id.into_inner();
    let seat = crate::service::write(&db, caller, move |tx| {
        crate::service::council::update(tx, &id, patch, &pre)
    })
    .await?;
    Ok(changed(&seat))
}

/// Deletes a seat recorded by mistake (to end a seat, set `ended_on`).
#[utoipa::path(
    operation_id = "delete_council_seat",
    tag = "council",
    params(("id" = String, Path, description = SEAT_ID), IfMatch),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/council-seats/{id}")]
pub async fn delete(
    db: web::Data<Db>,
    caller: Principal,
    id: web::Path<String>,
    pre: Precondition,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    crate::service::write(&db, caller, move |tx| {
        crate::service::council::delete(tx, &id, &pre)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
