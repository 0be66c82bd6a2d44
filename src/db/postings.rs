//! Queries of postings (demands and offers) and of the matches between them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{posting_matches, postings};
use super::{AnyConnection, Backend, Stored, organizations, stored, utc};
use crate::domain::posting::{
    MatchOutcome, MatchStatus, Posting, PostingKind, PostingMatch, PostingRef, PostingStatus,
};
use crate::domain::{Name, Url};
use crate::error::ApiError;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = postings, treat_none_as_null = true)]
struct PostingRow {
    id: String,
    alliance_id: String,
    organization_id: String,
    kind: String,
    status: String,
    close_reason: Option<String>,
    title_zh: String,
    title_en: Option<String>,
    description_zh: Option<String>,
    description_en: Option<String>,
    majors: String,
    level: Option<String>,
    region: Option<String>,
    headcount: Option<i64>,
    opens_on: Option<NaiveDate>,
    closes_on: Option<NaiveDate>,
    details: String,
    attachments: String,
    external_ref: Option<String>,
    public: bool,
    review_comment: Option<String>,
    published_at: Option<NaiveDateTime>,
    search_text: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

fn to_row(p: &Posting) -> Result<PostingRow, ApiError> {
    Ok(PostingRow {
        id: p.id.clone(),
        alliance_id: p.alliance_id.clone(),
        organization_id: p.organization.id.clone(),
        kind: p.kind.as_str().to_owned(),
        status: p.status.as_str().to_owned(),
        close_reason: p.close_reason.map(|r| r.as_str().to_owned()),
        title_zh: p.title_zh.to_string(),
        title_en: p.title_en.as_ref().map(ToString::to_string),
        description_zh: p.description_zh.clone(),
        description_en: p.description_en.clone(),
        majors: json(&p.majors)?,
        level: p.level.map(|l| l.as_str().to_owned()),
        region: p.region.clone(),
        headcount: p.headcount,
        opens_on: p.opens_on,
        closes_on: p.closes_on,
        details: json(&p.details)?,
        attachments: json(&p.attachments)?,
        external_ref: p.external_ref.clone(),
        public: p.public,
        review_comment: p.review_comment.clone(),
        published_at: p.published_at.map(|t| t.naive_utc()),
        search_text: p.search_text(),
        version: p.version,
        created_at: p.created_at.naive_utc(),
        updated_at: p.updated_at.naive_utc(),
    })
}

fn into_resources(
    conn: &mut AnyConnection,
    rows: Vec<PostingRow>,
) -> Result<Vec<Posting>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.organization_id.clone()).collect();
    let orgs = organizations::summaries(conn, &ids)?;
    rows.into_iter()
        .map(|r| {
            let (organization, _) = orgs.get(&r.organization_id).cloned().ok_or_else(|| {
                ApiError::Internal(format!("organization {} is missing", r.organization_id))
            })?;
            let attachments: Vec<String> =
                stored("attachments", serde_json::from_str(&r.attachments))?;
            let kind: PostingKind = stored("kind", r.kind.parse())?;
            Ok(Posting {
                kind,
                direction: kind.direction(),
                organization,
                status: stored("status", r.status.parse())?,
                close_reason: stored(
                    "close_reason",
                    r.close_reason.as_deref().map(str::parse).transpose(),
                )?,
                title_zh: stored("title_zh", Name::parse(&r.title_zh))?,
                title_en: stored(
                    "title_en",
                    r.title_en.as_deref().map(Name::parse).transpose(),
                )?,
                majors: stored("majors", serde_json::from_str(&r.majors))?,
                level: stored("level", r.level.as_deref().map(str::parse).transpose())?,
                details: stored("details", serde_json::from_str(&r.details))?,
                attachments: stored(
                    "attachments",
                    attachments.iter().map(|u| Url::parse(u)).collect(),
                )?,
                id: r.id,
                alliance_id: r.alliance_id,
                description_zh: r.description_zh,
                description_en: r.description_en,
                region: r.region,
                headcount: r.headcount,
                opens_on: r.opens_on,
                closes_on: r.closes_on,
                external_ref: r.external_ref,
                public: r.public,
                review_comment: r.review_comment,
                published_at: r.published_at.map(utc),
                version: r.version,
                created_at: utc(r.created_at),
                updated_at: utc(r.updated_at),
            })
        })
        .collect()
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Posting, ApiError> {
    let row = postings::table
        .filter(postings::id.eq(id))
        .select(PostingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no posting `{id}`")))?;
    Ok(into_resources(conn, vec![row])?.remove(0))
}

/// Which postings of an alliance a list returns.
#[derive(Debug, Clone, Default)]
pub struct PostingFilter {
    pub kind: Option<PostingKind>,
    /// The status as readers see it (a published posting past its close
    /// date is `closed`), as of `today`.
    pub status: Option<PostingStatus>,
    pub today: Option<NaiveDate>,
    pub organization_id: Option<String>,
    /// A text that the titles, descriptions, majors or positions contain
    /// (in either language, any case).
    pub q: Option<String>,
    /// The caller's scope: only what is published (or was), and this
    /// organisation's own postings in any state.
    pub readable_by: Option<String>,
    pub external_ref: Option<String>,
}

/// `LIKE` pattern for a substring, with `\` escaping the wildcards.
fn containing(q: &str) -> String {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// An alliance's postings (by alliance id), oldest first.
pub fn list(
    conn: &mut AnyConnection,
    alliance_id: &str,
    f: &PostingFilter,
    page: &PageRequest,
) -> Result<Page<Posting>, ApiError> {
    let mut query = postings::table
        .filter(postings::alliance_id.eq(alliance_id))
        .select(PostingRow::as_select())
        .order(postings::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(postings::id.gt(after.clone()));
    }
    if let Some(kind) = f.kind {
        query = query.filter(postings::kind.eq(kind.as_str()));
    }
    if let Some(org) = &f.organization_id {
        query = query.filter(postings::organization_id.eq(org.clone()));
    }
    if let Some(r) = &f.external_ref {
        query = query.filter(postings::external_ref.eq(r.clone()));
    }
    if let Some(q) = &f.q {
        query = query.filter(postings::search_text.like(containing(q)).escape('\\'));
    }
    if let Some(org) = &f.readable_by {
        query = query.filter(
            postings::status
                .eq_any([
                    PostingStatus::Published.as_str(),
                    PostingStatus::Closed.as_str(),
                ])
                .or(postings::organization_id.eq(org.clone())),
        );
    }
    if let (Some(status), Some(today)) = (f.status, f.today) {
        let published = PostingStatus::Published.as_str();
        query = match status {
            PostingStatus::Published => query.filter(postings::status.eq(published)).filter(
                postings::closes_on
                    .is_null()
                    .or(postings::closes_on.ge(today)),
            ),
            PostingStatus::Closed => query.filter(
                postings::status
                    .eq(PostingStatus::Closed.as_str())
                    .or(postings::status
                        .eq(published)
                        .and(postings::closes_on.lt(today))),
            ),
            other => query.filter(postings::status.eq(other.as_str())),
        };
    }
    let page = page.finish(query.load(conn)?, |r| &r.id);
    Ok(Page {
        items: into_resources(conn, page.items)?,
        next_cursor: page.next_cursor,
    })
}

/// The published postings opened to the public, of every alliance (or
/// one), not past their close date on `today`, oldest first.
pub fn public_list(
    conn: &mut AnyConnection,
    alliance_id: Option<&str>,
    kind: Option<PostingKind>,
    q: Option<&str>,
    today: NaiveDate,
    page: &PageRequest,
) -> Result<Page<Posting>, ApiError> {
    let mut query = postings::table
        .filter(postings::public.eq(true))
        .filter(postings::status.eq(PostingStatus::Published.as_str()))
        .filter(
            postings::closes_on
                .is_null()
                .or(postings::closes_on.ge(today)),
        )
        .select(PostingRow::as_select())
        .order(postings::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(postings::id.gt(after.clone()));
    }
    if let Some(id) = alliance_id {
        query = query.filter(postings::alliance_id.eq(id.to_owned()));
    }
    if let Some(kind) = kind {
        query = query.filter(postings::kind.eq(kind.as_str()));
    }
    if let Some(q) = q {
        query = query.filter(postings::search_text.like(containing(q)).escape('\\'));
    }
    let page = page.finish(query.load(conn)?, |r| &r.id);
    Ok(Page {
        items: into_resources(conn, page.items)?,
        next_cursor: page.next_cursor,
    })
}

/// The published postings of an alliance of one kind (candidates for a
/// match), at most `limit`.
pub fn published_of_kind(
    conn: &mut AnyConnection,
    alliance_id: &str,
    kind: PostingKind,
    limit: i64,
) -> Result<Vec<Posting>, ApiError> {
    let rows = postings::table
        .filter(postings::alliance_id.eq(alliance_id))
        .filter(postings::kind.eq(kind.as_str()))
        .filter(postings::status.eq(PostingStatus::Published.as_str()))
        .select(PostingRow::as_select())
        .order(postings::id.asc())
        .limit(limit)
        .load(conn)?;
    into_resources(conn, rows)
}

/// The postings published in `[from, to)` (UTC), of one alliance or of
/// every alliance: what a year's supply–demand summary counts.
pub fn published_between(
    conn: &mut AnyConnection,
    alliance_id: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<Posting>, ApiError> {
    let mut query = postings::table
        .filter(postings::published_at.ge(from))
        .filter(postings::published_at.lt(to))
        .select(PostingRow::as_select())
        .order(postings::id.asc())
        .into_boxed::<Backend>();
    if let Some(id) = alliance_id {
        query = query.filter(postings::alliance_id.eq(id.to_owned()));
    }
    let rows = query.load(conn)?;
    into_resources(conn, rows)
}

/// The organisation's posting with this external reference, if any.
pub fn find_by_ref(
    conn: &mut AnyConnection,
    organization_id: &str,
    reference: &str,
) -> Result<Option<Posting>, ApiError> {
    let row = postings::table
        .filter(postings::organization_id.eq(organization_id))
        .filter(postings::external_ref.eq(reference))
        .select(PostingRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(row) => Some(into_resources(conn, vec![row])?.remove(0)),
        None => None,
    })
}

/// Another posting of the organisation with this external reference.
pub fn ref_taken_by(conn: &mut AnyConnection, p: &Posting) -> Result<Option<String>, ApiError> {
    let Some(r) = &p.external_ref else {
        return Ok(None);
    };
    Ok(postings::table
        .filter(postings::organization_id.eq(&p.organization.id))
        .filter(postings::external_ref.eq(r))
        .filter(postings::id.ne(&p.id))
        .select(postings::id)
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut AnyConnection, p: &Posting) -> Result<(), ApiError> {
    diesel::insert_into(postings::table)
        .values(to_row(p)?)
        .execute(conn)?;
    Ok(())
}

impl Stored for Posting {
    const RESOURCE: &'static str = "posting";
    const NAME: &'static str = "posting";
    super::versioned_fields!();
    fn alliance_id(&self) -> Option<&str> {
        Some(&self.alliance_id)
    }
    fn find(conn: &mut AnyConnection, id: &str) -> Result<Self, ApiError> {
        find(conn, id)
    }
    fn replace(conn: &mut AnyConnection, p: &Self, expected: i64) -> Result<bool, ApiError> {
        let updated = diesel::update(
            postings::table
                .filter(postings::id.eq(&p.id))
                .filter(postings::version.eq(expected)),
        )
        .set(to_row(p)?)
        .execute(conn)?;
        Ok(updated == 1)
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = posting_matches, treat_none_as_null = true)]
struct MatchRow {
    id: String,
    alliance_id: String,
    demand_id: String,
    offer_id: String,
    status: String,
    note: Option<String>,
    demand_accepted_at: Option<NaiveDateTime>,
    offer_accepted_at: Option<NaiveDateTime>,
    closed_on: Option<NaiveDate>,
    close_year: Option<i32>,
    students_placed: Option<i64>,
    contract_amount_cny: Option<i64>,
    project_started: Option<bool>,
    outcome_note: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn match_row(m: &PostingMatch) -> MatchRow {
    use chrono::Datelike;
    let outcome = m.outcome.clone().unwrap_or_default();
    MatchRow {
        id: m.id.clone(),
        alliance_id: m.alliance_id.clone(),
        demand_id: m.demand.id.clone(),
        offer_id: m.offer.id.clone(),
        status: m.status.as_str().to_owned(),
        note: m.note.clone(),
        demand_accepted_at: m.demand_accepted_at.map(|t| t.naive_utc()),
        offer_accepted_at: m.offer_accepted_at.map(|t| t.naive_utc()),
        closed_on: m.closed_on,
        close_year: m.closed_on.map(|d| d.year()),
        students_placed: outcome.students_placed,
        contract_amount_cny: outcome.contract_amount_cny,
        project_started: outcome.project_started,
        outcome_note: outcome.note,
        version: m.version,
        created_at: m.created_at.naive_utc(),
        updated_at: m.updated_at.naive_utc(),
    }
}

fn into_matches(
    conn: &mut AnyConnection,
    rows: Vec<MatchRow>,
) -> Result<Vec<PostingMatch>, ApiError> {
    let ids: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.demand_id.clone(), r.offer_id.clone()])
        .collect();
    let found = postings::table
        .filter(postings::id.eq_any(&ids))
        .select(PostingRow::as_select())
        .load(conn)?;
    let postings: std::collections::HashMap<String, PostingRef> = into_resources(conn, found)?
        .iter()
        .map(|p| (p.id.clone(), PostingRef::from(p)))
        .collect();
    let posting = |id: &str| {
        postings
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::Internal(format!("posting {id} is missing")))
    };
    rows.into_iter()
        .map(|r| {
            let status: MatchStatus = stored("status", r.status.parse())?;
            Ok(PostingMatch {
                demand: posting(&r.demand_id)?,
                offer: posting(&r.offer_id)?,
                outcome: (status == MatchStatus::Closed).then_some(MatchOutcome {
                    students_placed: r.students_placed,
                    contract_amount_cny: r.contract_amount_cny,
                    project_started: r.project_started,
                    note: r.outcome_note,
                }),
                status,
                id: r.id,
                alliance_id: r.alliance_id,
                note: r.note,
                demand_accepted_at: r.demand_accepted_at.map(utc),
                offer_accepted_at: r.offer_accepted_at.map(utc),
                closed_on: r.closed_on,
                version: r.version,
                created_at: utc(r.created_at),
                updated_at: utc(r.updated_at),
            })
        })
        .collect()
}

pub fn find_match(conn: &mut AnyConnection, id: &str) -> Result<PostingMatch, ApiError> {
    let row = posting_matches::table
        .filter(posting_matches::id.eq(id))
        .select(MatchRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no match `{id}`")))?;
    Ok(into_matches(conn, vec![row])?.remove(0))
}

/// An alliance's matches, oldest first; `side_of`: only those where this
/// organisation posted the demand or the offer (the caller's scope).
pub fn list_matches(
    conn: &mut AnyConnection,
    alliance_id: &str,
    side_of: Option<&str>,
    page: &PageRequest,
) -> Result<Page<PostingMatch>, ApiError> {
    let mut query = posting_matches::table
        .filter(posting_matches::alliance_id.eq(alliance_id))
        .select(MatchRow::as_select())
        .order(posting_matches::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(posting_matches::id.gt(after.clone()));
    }
    if let Some(org) = side_of {
        let own = || {
            postings::table
                .filter(postings::organization_id.eq(org.to_owned()))
                .select(postings::id)
        };
        query = query.filter(
            posting_matches::demand_id
                .eq_any(own())
                .or(posting_matches::offer_id.eq_any(own())),
        );
    }
    let page = page.finish(query.load(conn)?, |r| &r.id);
    Ok(Page {
        items: into_matches(conn, page.items)?,
        next_cursor: page.next_cursor,
    })
}

/// The matches that closed in a year, of one alliance or of all.
pub fn closed_in(
    conn: &mut AnyConnection,
    alliance_id: Option<&str>,
    year: i32,
) -> Result<Vec<PostingMatch>, ApiError> {
    let mut query = posting_matches::table
        .filter(posting_matches::close_year.eq(year))
        .select(MatchRow::as_select())
        .order(posting_matches::id.asc())
        .into_boxed::<Backend>();
    if let Some(id) = alliance_id {
        query = query.filter(posting_matches::alliance_id.eq(id.to_owned()));
    }
    let rows = query.load(conn)?;
    into_matches(conn, rows)
}

/// What derived KPIs read of a match closed in the year.
#[derive(Queryable)]
pub struct ClosedMatchFacts {
    pub id: String,
    /// The demand's title.
    pub title: String,
    pub closed_on: Option<NaiveDate>,
    pub students_placed: Option<i64>,
}

/// The matches an alliance closed in a year, for derived KPIs.
pub fn closed_facts(
    conn: &mut AnyConnection,
    alliance_id: &str,
    year: i32,
) -> Result<Vec<ClosedMatchFacts>, ApiError> {
    Ok(posting_matches::table
        .inner_join(postings::table.on(postings::id.eq(posting_matches::demand_id)))
        .filter(posting_matches::alliance_id.eq(alliance_id))
        .filter(posting_matches::close_year.eq(year))
        .order((posting_matches::closed_on.asc(), posting_matches::id.asc()))
        .select((
            posting_matches::id,
            postings::title_zh,
            posting_matches::closed_on,
            posting_matches::students_placed,
        ))
        .load(conn)?)
}

/// The match of this demand and offer, if one was proposed.
pub fn match_of_pair(
    conn: &mut AnyConnection,
    demand_id: &str,
    offer_id: &str,
) -> Result<Option<String>, ApiError> {
    Ok(posting_matches::table
        .filter(posting_matches::demand_id.eq(demand_id))
        .filter(posting_matches::offer_id.eq(offer_id))
        .select(posting_matches::id)
        .first(conn)
        .optional()?)
}

pub fn insert_match(conn: &mut AnyConnection, m: &PostingMatch) -> Result<(), ApiError> {
    diesel::insert_into(posting_matches::table)
        .values(match_row(m))
        .execute(conn)?;
    Ok(())
}

impl Stored for PostingMatch {
    const RESOURCE: &'static str = "posting_match";
    const NAME: &'static str = "match";
    super::versioned_fields!();
    fn alliance_id(&self) -> Option<&str> {
        Some(&self.alliance_id)
    }
    fn find(conn: &mut AnyConnection, id: &str) -> Result<Self, ApiError> {
        find_match(conn, id)
    }
    fn replace(conn: &mut AnyConnection, m: &Self, expected: i64) -> Result<bool, ApiError> {
        let updated = diesel::update(
            posting_matches::table
                .filter(posting_matches::id.eq(&m.id))
                .filter(posting_matches::version.eq(expected)),
        )
        .set(match_row(m))
        .execute(conn)?;
        Ok(updated == 1)
    }
}
