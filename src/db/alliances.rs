//! Queries of alliances.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::alliances;
use super::{AnyConnection, Backend, Stored, contains_pattern, lower, stored, utc};
use crate::domain::alliance::{Alliance, AllianceKind, AllianceStatus, Sector};
use crate::domain::{Name, Slug};
use crate::error::ApiError;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = alliances, treat_none_as_null = true)]
struct AllianceRow {
    id: String,
    slug: String,
    kind: String,
    sector: String,
    host_zone: Option<String>,
    name_zh: String,
    name_en: Option<String>,
    founded_on: Option<NaiveDate>,
    status: String,
    documents: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl AllianceRow {
    fn into_resource(self) -> Result<Alliance, ApiError> {
        Ok(Alliance {
            slug: stored("slug", Slug::parse(&self.slug))?,
            kind: stored("kind", self.kind.parse())?,
            sector: stored("sector", self.sector.parse())?,
            host_zone: stored(
                "host_zone",
                self.host_zone.as_deref().map(Name::parse).transpose(),
            )?,
            name_zh: stored("name_zh", Name::parse(&self.name_zh))?,
            name_en: stored(
                "name_en",
                self.name_en.as_deref().map(Name::parse).transpose(),
            )?,
            founded_on: self.founded_on,
            status: stored("status", self.status.parse())?,
            documents: stored("documents", serde_json::from_str(&self.documents))?,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            id: self.id,
        })
    }

    fn from_resource(a: &Alliance) -> Result<Self, ApiError> {
        Ok(AllianceRow {
            id: a.id.clone(),
            slug: a.slug.to_string(),
            kind: a.kind.as_str().to_owned(),
            sector: a.sector.as_str().to_owned(),
            host_zone: a.host_zone.as_ref().map(ToString::to_string),
            name_zh: a.name_zh.to_string(),
            name_en: a.name_en.as_ref().map(ToString::to_string),
            founded_on: a.founded_on,
            status: a.status.as_str().to_owned(),
            documents: serde_json::to_string(&a.documents).map_err(ApiError::internal)?,
            version: a.version,
            created_at: a.created_at.naive_utc(),
            updated_at: a.updated_at.naive_utc(),
        })
    }
}

/// Filters of the alliance list.
#[derive(Debug, Clone, Default)]
pub struct AllianceFilter {
    pub q: Option<String>,
    pub kind: Option<AllianceKind>,
    pub sector: Option<Sector>,
    pub status: Option<AllianceStatus>,
    pub updated_since: Option<NaiveDateTime>,
}

/// An alliance by id or slug.
pub fn find(conn: &mut AnyConnection, key: &str) -> Result<Alliance, ApiError> {
    alliances::table
        .filter(alliances::id.eq(key).or(alliances::slug.eq(key)))
        .select(AllianceRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no alliance `{key}`")))?
        .into_resource()
}

pub fn list(
    conn: &mut AnyConnection,
    f: &AllianceFilter,
    page: &PageRequest,
) -> Result<Page<Alliance>, ApiError> {
    let mut query = alliances::table
        .select(AllianceRow::as_select())
        .order(alliances::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(alliances::id.gt(after.clone()));
    }
    if let Some(kind) = f.kind {
        query = query.filter(alliances::kind.eq(kind.as_str()));
    }
    if let Some(sector) = f.sector {
        query = query.filter(alliances::sector.eq(sector.as_str()));
    }
    if let Some(status) = f.status {
        query = query.filter(alliances::status.eq(status.as_str()));
    }
    if let Some(since) = f.updated_since {
        query = query.filter(alliances::updated_at.ge(since));
    }
    if let Some(q) = &f.q {
        let pattern = contains_pattern(q);
        query = query.filter(
            alliances::name_zh
                .like(pattern.clone())
                .escape('\\')
                .or(lower(alliances::name_en)
                    .like(pattern.to_lowercase())
                    .escape('\\'))
                .or(alliances::slug.like(pattern.to_lowercase()).escape('\\')),
        );
    }
    let rows = query.load(conn)?;
    let page = page.finish(rows, |r: &AllianceRow| &r.id);
    let items = page
        .items
        .into_iter()
        .map(AllianceRow::into_resource)
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

pub fn slug_taken(conn: &mut AnyConnection, slug: &Slug) -> Result<bool, ApiError> {
    let n: i64 = alliances::table
        .filter(alliances::slug.eq(slug.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Stores a new alliance.
pub fn insert(conn: &mut AnyConnection, a: &Alliance) -> Result<(), ApiError> {
    diesel::insert_into(alliances::table)
        .values(AllianceRow::from_resource(a)?)
        .execute(conn)?;
    Ok(())
}

impl Stored for Alliance {
    const RESOURCE: &'static str = "alliance";
    const NAME: &'static str = "alliance";
    super::versioned_fields!();
    /// An alliance's own changes are its readers' too.
    fn alliance_id(&self) -> Option<&str> {
        Some(&self.id)
    }
    fn find(conn: &mut AnyConnection, id: &str) -> Result<Self, ApiError> {
        find(conn, id)
    }
    fn replace(conn: &mut AnyConnection, a: &Self, expected: i64) -> Result<bool, ApiError> {
        let updated = diesel::update(
            alliances::table
                .filter(alliances::id.eq(&a.id))
                .filter(alliances::version.eq(expected)),
        )
        .set(AllianceRow::from_resource(a)?)
        .execute(conn)?;
        Ok(updated == 1)
    }
}
