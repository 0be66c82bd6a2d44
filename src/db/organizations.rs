//! Queries of organisations and their external references.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{
    activity_organizations, alliances, memberships, organization_refs, organizations,
    platform_partners, platforms,
};
use super::{
    AnyConnection, Backend, INSERT_BATCH, Stored, contains_pattern, insert_all, lower, stored, utc,
};
use crate::domain::organization::{
    Certification, CertificationLevel, ExternalRef, Organization, OrganizationKind,
    OrganizationSummary, RegistrationCategory,
};
use crate::domain::{ExternalSystem, Name, Slug, Url, Uscc};
use crate::error::{ApiError, FieldError};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organizations, treat_none_as_null = true, treat_none_as_default_value = false)]
struct OrganizationRow {
    id: String,
    slug: String,
    kind: String,
    name_zh: String,
    name_en: Option<String>,
    uscc: Option<String>,
    region: Option<String>,
    website: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    certification_level: Option<String>,
    certified_on: Option<NaiveDate>,
    certification_expires_on: Option<NaiveDate>,
    former_names: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = organization_refs, treat_none_as_default_value = false)]
struct RefRow {
    organization_id: String,
    system: String,
    external_id: String,
}

impl OrganizationRow {
    fn into_resource(self, refs: Vec<ExternalRef>) -> Result<Organization, ApiError> {
        let mut org = self.into_resource_raw(refs)?;
        org.registration_category = org.uscc.as_ref().map(RegistrationCategory::of);
        Ok(org)
    }

    fn into_resource_raw(self, refs: Vec<ExternalRef>) -> Result<Organization, ApiError> {
        Ok(Organization {
            slug: stored("slug", Slug::parse(&self.slug))?,
            kind: stored("kind", self.kind.parse())?,
            name_zh: stored("name_zh", Name::parse(&self.name_zh))?,
            name_en: stored(
                "name_en",
                self.name_en.as_deref().map(Name::parse).transpose(),
            )?,
            uscc: stored("uscc", self.uscc.as_deref().map(Uscc::parse).transpose())?,
            region: stored(
                "region",
                self.region.as_deref().map(Name::parse).transpose(),
            )?,
            website: stored(
                "website",
                self.website.as_deref().map(Url::parse).transpose(),
            )?,
            external_refs: refs,
            certification: match (self.certification_level, self.certified_on) {
                (Some(level), Some(certified_on)) => Some(Certification {
                    level: stored("certification_level", level.parse())?,
                    certified_on,
                    expires_on: self.certification_expires_on,
                }),
                _ => None,
            },
            former_names: stored("former_names", serde_json::from_str(&self.former_names))?,
            registration_category: None,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            id: self.id,
        })
    }

    fn from_resource(o: &Organization) -> Self {
        OrganizationRow {
            id: o.id.clone(),
            slug: o.slug.to_string(),
            kind: o.kind.as_str().to_owned(),
            name_zh: o.name_zh.to_string(),
            name_en: o.name_en.as_ref().map(ToString::to_string),
            uscc: o.uscc.as_ref().map(ToString::to_string),
            region: o.region.as_ref().map(ToString::to_string),
            website: o.website.as_ref().map(ToString::to_string),
            version: o.version,
            created_at: o.created_at.naive_utc(),
            updated_at: o.updated_at.naive_utc(),
            certification_level: o
                .certification
                .as_ref()
                .map(|c| c.level.as_str().to_owned()),
            certified_on: o.certification.as_ref().map(|c| c.certified_on),
            certification_expires_on: o.certification.as_ref().and_then(|c| c.expires_on),
            former_names: serde_json::to_string(&o.former_names).unwrap_or_else(|_| "[]".into()),
        }
    }
}

impl RefRow {
    fn of(o: &Organization) -> Vec<RefRow> {
        o.external_refs
            .iter()
            .map(|r| RefRow {
                organization_id: o.id.clone(),
                system: r.system.to_string(),
                external_id: r.id.to_string(),
            })
            .collect()
    }

    fn into_ref(self) -> Result<ExternalRef, ApiError> {
        Ok(ExternalRef {
            system: stored("external_refs.system", ExternalSystem::parse(&self.system))?,
            id: stored("external_refs.id", Name::parse(&self.external_id))?,
        })
    }
}

/// Filters of the organisation list.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    pub q: Option<String>,
    pub kind: Option<OrganizationKind>,
    /// Upper-case text, matched exactly.
    pub uscc: Option<String>,
    /// Holds this external reference.
    pub external_ref: Option<(String, String)>,
    pub updated_since: Option<NaiveDateTime>,
    pub certification: Option<CertificationLevel>,
    /// Certified (at any level, or the one asked for) and valid that day.
    pub certified_on: Option<NaiveDate>,
}

/// External references of these organisations, in one query.
fn refs_of(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<HashMap<String, Vec<ExternalRef>>, ApiError> {
    let rows: Vec<RefRow> = organization_refs::table
        .filter(organization_refs::organization_id.eq_any(ids))
        .order((
            organization_refs::system.asc(),
            organization_refs::external_id.asc(),
        ))
        .select(RefRow::as_select())
        .load(conn)?;
    let mut map: HashMap<String, Vec<ExternalRef>> = HashMap::new();
    for row in rows {
        map.entry(row.organization_id.clone())
            .or_default()
            .push(row.into_ref()?);
    }
    Ok(map)
}

fn with_refs(
    conn: &mut AnyConnection,
    rows: Vec<OrganizationRow>,
) -> Result<Vec<Organization>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut refs = if ids.is_empty() {
        HashMap::new()
    } else {
        refs_of(conn, &ids)?
    };
    rows.into_iter()
        .map(|r| {
            let mine = refs.remove(&r.id).unwrap_or_default();
            r.into_resource(mine)
        })
        .collect()
}

/// An organisation by id or slug.
pub fn find(conn: &mut AnyConnection, key: &str) -> Result<Organization, ApiError> {
    let row = organizations::table
        .filter(organizations::id.eq(key).or(organizations::slug.eq(key)))
        .select(OrganizationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no organization `{key}`")))?;
    Ok(with_refs(conn, vec![row])?.remove(0))
}

pub fn list(
    conn: &mut AnyConnection,
    f: &OrganizationFilter,
    page: &PageRequest,
) -> Result<Page<Organization>, ApiError> {
    let mut query = organizations::table
        .select(OrganizationRow::as_select())
        .order(organizations::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(organizations::id.gt(after.clone()));
    }
    if let Some(kind) = f.kind {
        query = query.filter(organizations::kind.eq(kind.as_str()));
    }
    if let Some(uscc) = &f.uscc {
        query = query.filter(organizations::uscc.eq(uscc.clone()));
    }
    if let Some(since) = f.updated_since {
        query = query.filter(organizations::updated_at.ge(since));
    }
    if let Some((system, id)) = &f.external_ref {
        let holders = organization_refs::table
            .filter(organization_refs::system.eq(system.clone()))
            .filter(organization_refs::external_id.eq(id.clone()))
            .select(organization_refs::organization_id);
        query = query.filter(organizations::id.eq_any(holders));
    }
    if let Some(level) = f.certification {
        query = query.filter(organizations::certification_level.eq(level.as_str()));
    }
    if let Some(day) = f.certified_on {
        query = query.filter(
            organizations::certified_on.le(day).and(
                organizations::certification_expires_on
                    .is_null()
                    .or(organizations::certification_expires_on.ge(day)),
            ),
        );
    }
    if let Some(q) = &f.q {
        let pattern = contains_pattern(q);
        query = query.filter(
            organizations::name_zh
                .like(pattern.clone())
                .escape('\\')
                .or(organizations::former_names
                    .like(pattern.clone())
                    .escape('\\'))
                .or(lower(organizations::name_en)
                    .like(pattern.to_lowercase())
                    .escape('\\'))
                .or(organizations::slug
                    .like(pattern.to_lowercase())
                    .escape('\\')),
        );
    }
    let rows = query.load(conn)?;
    let page = page.finish(rows, |r: &OrganizationRow| &r.id);
    Ok(Page {
        items: with_refs(conn, page.items)?,
        next_cursor: page.next_cursor,
    })
}

/// Refuses values another organisation already holds: slug, USCC, and
/// external references.
pub fn check_unique(
    conn: &mut AnyConnection,
    o: &Organization,
    check_slug: bool,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let others = organizations::table.filter(organizations::id.ne(&o.id));
    if check_slug {
        let n: i64 = others
            .filter(organizations::slug.eq(o.slug.as_str()))
            .count()
            .get_result(conn)?;
        if n > 0 {
            errors.push(FieldError::new(
                "slug",
                "taken",
                format!("another organization has slug `{}`", o.slug),
            ));
        }
    }
    if let Some(uscc) = &o.uscc {
        let holder: Option<String> = others
            .filter(organizations::uscc.eq(uscc.as_str()))
            .select(organizations::slug)
            .first(conn)
            .optional()?;
        if let Some(holder) = holder {
            errors.push(FieldError::new(
                "uscc",
                "taken",
                format!("organization `{holder}` holds USCC {uscc}"),
            ));
        }
    }
    for (i, r) in o.external_refs.iter().enumerate() {
        let holder: Option<String> = organization_refs::table
            .filter(organization_refs::system.eq(r.system.as_str()))
            .filter(organization_refs::external_id.eq(r.id.as_str()))
            .filter(organization_refs::organization_id.ne(&o.id))
            .select(organization_refs::organization_id)
            .first(conn)
            .optional()?;
        if let Some(holder) = holder {
            errors.push(FieldError::new(
                format!("external_refs[{i}]"),
                "taken",
                format!("organization {holder} already holds {}:{}", r.system, r.id),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            detail: "a unique value is already taken".into(),
            errors,
        })
    }
}

fn write_refs(conn: &mut AnyConnection, o: &Organization) -> Result<(), ApiError> {
    diesel::delete(organization_refs::table.filter(organization_refs::organization_id.eq(&o.id)))
        .execute(conn)?;
    insert_all!(conn, organization_refs::table, &RefRow::of(o));
    Ok(())
}

/// The organisations a request body lists (ids or slugs) in `field`, in id
/// order; an unknown or repeated one is a 422 naming its place in the list.
pub fn named_list(
    conn: &mut AnyConnection,
    keys: &[String],
    field: &str,
) -> Result<Named, ApiError> {
    let mut out: Vec<OrganizationSummary> = Vec::with_capacity(keys.len());
    let mut versions = 0;
    for (i, key) in keys.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let org = named(conn, key, &at)?;
        if out.iter().any(|o| o.id == org.id) {
            return Err(ApiError::invalid(
                &at,
                "duplicate",
                format!("`{}` is listed twice", org.slug),
            ));
        }
        versions += org.version;
        out.push(org.summary());
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Named {
        summaries: out,
        versions,
    })
}

/// Organisations named in a request, by id, and the sum of their versions
/// (what a record that embeds them adds to its ETag).
pub struct Named {
    pub summaries: Vec<OrganizationSummary>,
    pub versions: i64,
}

/// The summaries, and versions, of the organisations with these ids.
pub fn summaries(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<HashMap<String, (OrganizationSummary, i64)>, ApiError> {
    let rows: Vec<(String, String, String, String, Option<String>, i64)> = organizations::table
        .filter(organizations::id.eq_any(ids))
        .select((
            organizations::id,
            organizations::slug,
            organizations::kind,
            organizations::name_zh,
            organizations::name_en,
            organizations::version,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, slug, kind, name_zh, name_en, version)| {
            let summary = OrganizationSummary {
                id: id.clone(),
                slug: stored("slug", Slug::parse(&slug))?,
                kind: stored("kind", kind.parse())?,
                name_zh: stored("name_zh", Name::parse(&name_zh))?,
                name_en: stored("name_en", name_en.as_deref().map(Name::parse).transpose())?,
            };
            Ok((id, (summary, version)))
        })
        .collect()
}

/// The organisation a request body names (id or slug) in `field`; an
/// unknown one is a 422 on that field.
pub fn named(conn: &mut AnyConnection, key: &str, field: &str) -> Result<Organization, ApiError> {
    match find(conn, key) {
        Err(ApiError::NotFound(msg)) => Err(ApiError::invalid(field, "not_found", msg)),
        other => other,
    }
}

/// The organisation that holds `{system, id}`, if any.
/// The slugs (or ids), USCCs and external references, of those asked
/// about, that some organisation holds: batched lookups for bulk imports.
#[derive(Debug, Default)]
pub struct Held {
    pub slugs: HashSet<String>,
    pub usccs: HashSet<String>,
    /// `(system, id)`
    pub refs: HashSet<(String, String)>,
}

pub fn held(
    conn: &mut AnyConnection,
    slugs: &[String],
    usccs: &[String],
    refs: &[(String, String)],
) -> Result<Held, ApiError> {
    let mut held = Held::default();
    for chunk in slugs.chunks(INSERT_BATCH) {
        let found: Vec<(String, String)> = organizations::table
            .filter(
                organizations::slug
                    .eq_any(chunk)
                    .or(organizations::id.eq_any(chunk)),
            )
            .select((organizations::id, organizations::slug))
            .load(conn)?;
        held.slugs
            .extend(found.into_iter().flat_map(|(id, slug)| [id, slug]));
    }
    for chunk in usccs.chunks(INSERT_BATCH) {
        let found: Vec<Option<String>> = organizations::table
            .filter(organizations::uscc.eq_any(chunk))
            .select(organizations::uscc)
            .load(conn)?;
        held.usccs.extend(found.into_iter().flatten());
    }
    let asked: HashSet<&(String, String)> = refs.iter().collect();
    let ids: Vec<&str> = refs.iter().map(|(_, id)| id.as_str()).collect();
    for chunk in ids.chunks(INSERT_BATCH) {
        let found: Vec<(String, String)> = organization_refs::table
            .filter(organization_refs::external_id.eq_any(chunk))
            .select((organization_refs::system, organization_refs::external_id))
            .load(conn)?;
        held.refs
            .extend(found.into_iter().filter(|r| asked.contains(r)));
    }
    Ok(held)
}

pub fn find_by_ref(
    conn: &mut AnyConnection,
    system: &ExternalSystem,
    id: &Name,
) -> Result<Option<Organization>, ApiError> {
    let holder: Option<String> = organization_refs::table
        .filter(organization_refs::system.eq(system.as_str()))
        .filter(organization_refs::external_id.eq(id.as_str()))
        .select(organization_refs::organization_id)
        .first(conn)
        .optional()?;
    holder.map(|org_id| find(conn, &org_id)).transpose()
}

/// Stores new organisations and their references (multi-row inserts for
/// bulk imports; the unique indexes refuse the whole batch if a slug, USCC
/// or reference is taken).
pub fn insert(conn: &mut AnyConnection, orgs: &[Organization]) -> Result<(), ApiError> {
    let rows: Vec<_> = orgs.iter().map(OrganizationRow::from_resource).collect();
    insert_all!(conn, organizations::table, &rows);
    let refs: Vec<RefRow> = orgs.iter().flat_map(RefRow::of).collect();
    insert_all!(conn, organization_refs::table, &refs);
    Ok(())
}

pub fn remove(conn: &mut AnyConnection, id: &str) -> Result<(), ApiError> {
    diesel::delete(organization_refs::table.filter(organization_refs::organization_id.eq(id)))
        .execute(conn)?;
    diesel::delete(organizations::table.filter(organizations::id.eq(id))).execute(conn)?;
    Ok(())
}

/// The alliances (id, slug) an organisation currently belongs to.
pub fn current_alliances(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    Ok(memberships::table
        .inner_join(alliances::table)
        .filter(memberships::organization_id.eq(id))
        .filter(memberships::status.ne("left"))
        .select((alliances::id, alliances::slug))
        .load(conn)?)
}

/// How many membership records an organisation has (current or past).
pub fn membership_count(conn: &mut AnyConnection, id: &str) -> Result<i64, ApiError> {
    Ok(memberships::table
        .filter(memberships::organization_id.eq(id))
        .count()
        .get_result(conn)?)
}

/// How many platform and activity records name an organisation.
pub fn records_naming(conn: &mut AnyConnection, id: &str) -> Result<i64, ApiError> {
    Ok(platforms::table
        .filter(platforms::host_organization_id.eq(id))
        .count()
        .get_result::<i64>(conn)?
        + platform_partners::table
            .filter(platform_partners::organization_id.eq(id))
            .count()
            .get_result::<i64>(conn)?
        + activity_organizations::table
            .filter(activity_organizations::organization_id.eq(id))
            .count()
            .get_result::<i64>(conn)?)
}

impl Stored for Organization {
    const RESOURCE: &'static str = "organization";
    const NAME: &'static str = "organization";
    super::versioned_fields!();
    fn find(conn: &mut AnyConnection, id: &str) -> Result<Self, ApiError> {
        find(conn, id)
    }
    fn replace(conn: &mut AnyConnection, o: &Self, expected: i64) -> Result<bool, ApiError> {
        let updated = diesel::update(
            organizations::table
                .filter(organizations::id.eq(&o.id))
                .filter(organizations::version.eq(expected)),
        )
        .set(OrganizationRow::from_resource(o))
        .execute(conn)?;
        if updated == 1 {
            write_refs(conn, o)?;
        }
        Ok(updated == 1)
    }
}
