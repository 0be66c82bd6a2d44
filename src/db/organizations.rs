//! Queries of organisations and their external references.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{
    activity_organizations, alliances, memberships, organization_refs, organizations,
    platform_partners, platforms,
};
use super::write::{Action, Change, Precondition, Tx, unchanged};
use super::{
    AnyConnection, Backend, INSERT_BATCH, contains_pattern, insert_all, lower, new_id, stored, utc,
};
use crate::auth::Role;
use crate::domain::organization::{
    Certification, CertificationLevel, ExternalRef, FormerName, NewOrganization, Organization,
    OrganizationKind, OrganizationPatch, OrganizationSummary, RegistrationCategory, check,
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
fn ensure_unique(
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

pub fn create(tx: &mut Tx<'_>, new: NewOrganization) -> Result<Organization, ApiError> {
    let org = registered(tx, new)?;
    ensure_unique(tx.conn, &org, true)?;
    diesel::insert_into(organizations::table)
        .values(OrganizationRow::from_resource(&org))
        .execute(tx.conn)?;
    write_refs(tx.conn, &org)?;
    tx.record(Change {
        action: Action::Created,
        resource_type: "organization",
        resource_id: &org.id,
        alliance_id: None,
        version: org.version,
        before: None,
        after: Some(&org),
    })?;
    Ok(org)
}

/// Registers many organisations with multi-row inserts (bulk imports). The
/// caller has checked that no slug, USCC or reference is taken or repeated;
/// the unique indexes refuse the whole batch if one is.
pub fn create_many(
    tx: &mut Tx<'_>,
    news: Vec<NewOrganization>,
) -> Result<Vec<Organization>, ApiError> {
    let orgs = news
        .into_iter()
        .map(|new| registered(tx, new))
        .collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<_> = orgs.iter().map(OrganizationRow::from_resource).collect();
    insert_all!(tx.conn, organizations::table, &rows);
    let refs: Vec<RefRow> = orgs.iter().flat_map(RefRow::of).collect();
    insert_all!(tx.conn, organization_refs::table, &refs);
    let changes: Vec<_> = orgs
        .iter()
        .map(|org| Change {
            action: Action::Created,
            resource_type: "organization",
            resource_id: &org.id,
            alliance_id: None,
            version: org.version,
            before: None,
            after: Some(org),
        })
        .collect();
    tx.record_all(&changes)?;
    Ok(orgs)
}

/// A new organisation as the caller may register it: an admin or a
/// secretariat, or a member token registering its own slug.
fn registered(tx: &Tx<'_>, new: NewOrganization) -> Result<Organization, ApiError> {
    let own = tx.principal.role == Role::Member
        && tx.principal.organization.as_deref() == Some(new.slug.as_str());
    if !own {
        tx.principal
            .ensure_role(&[Role::Admin, Role::Secretariat], "register organizations")?;
    } else if new.certification.is_some() || !new.former_names.is_empty() {
        // What a member may not change later, it may not set at the start.
        return Err(ApiError::Forbidden(
            "secretariat-owned field(s) a member token cannot set: certification, former_names"
                .into(),
        ));
    }
    let now = utc(tx.now());
    let org = Organization {
        id: new_id(),
        slug: new.slug,
        kind: new.kind,
        name_zh: new.name_zh,
        name_en: new.name_en,
        region: new.region,
        website: new.website,
        external_refs: new.external_refs,
        registration_category: new.uscc.as_ref().map(RegistrationCategory::of),
        uscc: new.uscc,
        certification: new.certification,
        former_names: new.former_names,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    checked(&org)?;
    Ok(org)
}

/// Who may change an organisation: an admin; its own member token; a
/// secretariat whose token covers every alliance it currently belongs to.
/// A record several alliances share belongs to none of them alone, so one
/// secretariat cannot take it over by admitting it (README, "Shared
/// records").
fn ensure_editor(tx: &mut Tx<'_>, org: &Organization) -> Result<(), ApiError> {
    let p = tx.principal;
    match p.role {
        Role::Admin => Ok(()),
        Role::Member
            if p.organization
                .as_deref()
                .is_some_and(|o| o == org.id || o == org.slug.as_str()) =>
        {
            Ok(())
        }
        Role::Secretariat => {
            let scope: Vec<(String, String)> = memberships::table
                .inner_join(alliances::table)
                .filter(memberships::organization_id.eq(&org.id))
                .filter(memberships::status.ne("left"))
                .select((alliances::id, alliances::slug))
                .load(tx.conn)?;
            let outside: Vec<&str> = scope
                .iter()
                .filter(|(id, slug)| !p.covers_alliance(id, slug))
                .map(|(_, slug)| slug.as_str())
                .collect();
            if scope.is_empty() {
                Err(ApiError::Forbidden(format!(
                    "`{}` is not a member of an alliance this token covers",
                    org.slug
                )))
            } else if !outside.is_empty() {
                Err(ApiError::Forbidden(format!(
                    "`{}` is also a member of {}: a record several alliances share is changed by an admin or by the organisation's own member token",
                    org.slug,
                    outside.join(", ")
                )))
            } else {
                Ok(())
            }
        }
        Role::Member => Err(ApiError::Forbidden(
            "a member token may change only its own organization".into(),
        )),
        role => Err(ApiError::Forbidden(format!(
            "the role `{role}` cannot change organizations"
        ))),
    }
}

/// Former names kept on a record, as `domain::organization` lets a body set.
const MAX_FORMER_NAMES: usize = 20;

pub fn update(
    tx: &mut Tx<'_>,
    key: &str,
    patch: OrganizationPatch,
    pre: &Precondition,
) -> Result<Organization, ApiError> {
    update_inner(tx, key, patch, pre, None)
}

/// `update`, where attaching `claimed` (the reference of a by-reference
/// upsert) does not count as a change to a secretariat-owned field.
fn update_inner(
    tx: &mut Tx<'_>,
    key: &str,
    patch: OrganizationPatch,
    pre: &Precondition,
    claimed: Option<&ExternalRef>,
) -> Result<Organization, ApiError> {
    let before = find(tx.conn, key)?;
    pre.check(&before)?;
    let mut after = before.clone();
    let explicit_former_names = patch.former_names.is_some();
    patch.apply(&mut after);
    if after.name_zh != before.name_zh && !explicit_former_names {
        after.former_names.push(FormerName {
            name_zh: before.name_zh.clone(),
            used_until: super::write::tianjin_today(),
        });
        // As many as a body may set: the oldest go (the audit trail keeps them).
        let excess = after.former_names.len().saturating_sub(MAX_FORMER_NAMES);
        after.former_names.drain(..excess);
    }
    // A change that changes nothing writes nothing and needs no editor
    // (re-importing an export leaves shared records as they are).
    if unchanged(&before, &after) {
        return Ok(before);
    }
    ensure_editor(tx, &before)?;
    if tx.principal.role == Role::Member {
        ensure_member_owned(&before, &after, claimed)?;
    }
    checked(&after)?;
    ensure_unique(tx.conn, &after, false)?;
    after.version += 1;
    after.updated_at = utc(tx.now());
    let updated = diesel::update(
        organizations::table
            .filter(organizations::id.eq(&before.id))
            .filter(organizations::version.eq(before.version)),
    )
    .set(OrganizationRow::from_resource(&after))
    .execute(tx.conn)?;
    if updated == 0 {
        return Err(ApiError::PreconditionFailed(
            "the organization changed while this request ran; retry".into(),
        ));
    }
    if after.external_refs != before.external_refs {
        write_refs(tx.conn, &after)?;
    }
    // A certification feeds the certified-enterprise count of every
    // alliance the organisation belongs to.
    crate::db::reports::guard_organization(tx.conn, &after.id)?;
    tx.record(Change {
        action: Action::Updated,
        resource_type: "organization",
        resource_id: &after.id,
        alliance_id: None,
        version: after.version,
        before: Some(&before),
        after: Some(&after),
    })?;
    Ok(after)
}

fn checked(o: &Organization) -> Result<(), ApiError> {
    check(o).map_err(|(field, message)| ApiError::invalid(field, "inconsistent", message))
}

/// The organisations a request body lists (ids or slugs) in `field`, in id
/// order; an unknown or repeated one is a 422 naming its place in the list.
pub fn named_list(
    conn: &mut AnyConnection,
    keys: &[String],
    field: &str,
) -> Result<Vec<OrganizationSummary>, ApiError> {
    let mut out: Vec<OrganizationSummary> = Vec::with_capacity(keys.len());
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
        out.push(org.summary());
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
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

/// Deletes an organisation that never belonged to an alliance (a mistaken
/// entry). One with memberships stays: membership history is never deleted.
pub fn delete(tx: &mut Tx<'_>, key: &str, pre: &Precondition) -> Result<(), ApiError> {
    tx.principal.ensure_admin("delete organizations")?;
    let before = find(tx.conn, key)?;
    pre.check(&before)?;
    let held: i64 = memberships::table
        .filter(memberships::organization_id.eq(&before.id))
        .count()
        .get_result(tx.conn)?;
    if held > 0 {
        return Err(ApiError::Conflict {
            detail: format!(
                "`{}` has {held} membership record(s); membership history is never deleted, so neither is the organization",
                before.slug
            ),
            errors: vec![],
        });
    }
    let used: i64 = platforms::table
        .filter(platforms::host_organization_id.eq(&before.id))
        .count()
        .get_result::<i64>(tx.conn)?
        + platform_partners::table
            .filter(platform_partners::organization_id.eq(&before.id))
            .count()
            .get_result::<i64>(tx.conn)?
        + activity_organizations::table
            .filter(activity_organizations::organization_id.eq(&before.id))
            .count()
            .get_result::<i64>(tx.conn)?;
    if used > 0 {
        return Err(ApiError::Conflict {
            detail: format!(
                "`{}` is named by {used} platform or activity record(s); those records are kept, so the organization is too",
                before.slug
            ),
            errors: vec![],
        });
    }
    diesel::delete(
        organization_refs::table.filter(organization_refs::organization_id.eq(&before.id)),
    )
    .execute(tx.conn)?;
    diesel::delete(organizations::table.filter(organizations::id.eq(&before.id)))
        .execute(tx.conn)?;
    tx.record(Change {
        action: Action::Deleted,
        resource_type: "organization",
        resource_id: &before.id,
        alliance_id: None,
        version: before.version + 1,
        before: Some(&before),
        after: None,
    })?;
    Ok(())
}

/// The fields an organisation's own member token may change; the rest
/// (kind, names of record, USCC, external references) belong to the
/// alliances' secretariats.
pub const MEMBER_OWNED: &[&str] = &["name_en", "region", "website"];

fn ensure_member_owned(
    before: &Organization,
    after: &Organization,
    claimed: Option<&ExternalRef>,
) -> Result<(), ApiError> {
    let mut refs_after = after.external_refs.clone();
    if let Some(r) = claimed.filter(|r| !before.external_refs.contains(r)) {
        refs_after.retain(|x| x != r);
    }
    let changed = [
        ("kind", before.kind != after.kind),
        ("name_zh", before.name_zh != after.name_zh),
        ("uscc", before.uscc != after.uscc),
        ("external_refs", before.external_refs != refs_after),
        ("certification", before.certification != after.certification),
        ("former_names", before.former_names != after.former_names),
    ];
    // And whatever else is not member-owned: `before` with the member-owned
    // fields (and a claimed reference) of `after` must be `after`.
    let mut allowed = before.clone();
    allowed.name_en = after.name_en.clone();
    allowed.region = after.region.clone();
    allowed.website = after.website.clone();
    allowed.external_refs = after.external_refs.clone();
    let other_change = changed.iter().all(|(_, c)| !c) && !unchanged(&allowed, after);
    let mut errors: Vec<FieldError> = changed
        .iter()
        .filter(|(_, c)| *c)
        .map(|(field, _)| {
            FieldError::new(
                *field,
                "not_owned",
                "a member token may change only name_en, region and website",
            )
        })
        .collect();
    if other_change {
        errors.push(FieldError::new(
            "body",
            "not_owned",
            "a member token may change only name_en, region and website",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "secretariat-owned field(s): {}",
            errors
                .iter()
                .map(|e| e.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
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

/// Creates or replaces the organisation a member system knows as
/// `{system, id}`; the reference is kept among its `external_refs`.
/// Returns the organisation and whether it was created.
pub fn upsert_by_ref(
    tx: &mut Tx<'_>,
    system: &ExternalSystem,
    id: &Name,
    body: NewOrganization,
    pre: &Precondition,
) -> Result<(Organization, bool), ApiError> {
    let reference = ExternalRef {
        system: system.clone(),
        id: id.clone(),
    };
    // The holder of the reference, else the organisation the body names.
    let existing = match find_by_ref(tx.conn, system, id)? {
        Some(org) => Some(org),
        None => match find(tx.conn, body.slug.as_str()) {
            Ok(org) => Some(org),
            Err(ApiError::NotFound(_)) => None,
            Err(e) => return Err(e),
        },
    };
    let Some(existing) = existing else {
        if matches!(pre, Precondition::OneOf(_)) {
            return Err(ApiError::PreconditionFailed(format!(
                "no organization holds {system}:{id} yet"
            )));
        }
        let mut new = body;
        if !new.external_refs.contains(&reference) {
            new.external_refs.push(reference);
        }
        return create(tx, new).map(|org| (org, true));
    };
    if existing.slug != body.slug {
        return Err(ApiError::conflict(
            "slug",
            "conflict",
            format!(
                "{system}:{id} belongs to `{}`; a slug does not change",
                existing.slug
            ),
        ));
    }
    // An upsert adds references and never removes one (PATCH does that).
    let mut refs = existing.external_refs.clone();
    for r in body.external_refs.iter().chain([&reference]) {
        if !refs.contains(r) {
            refs.push(r.clone());
        }
    }
    let patch = OrganizationPatch {
        kind: Some(body.kind),
        name_zh: Some(body.name_zh),
        name_en: Some(body.name_en),
        uscc: Some(body.uscc),
        region: Some(body.region),
        website: Some(body.website),
        external_refs: Some(refs),
        // Kept when the body leaves them out: member systems do not know them.
        certification: body.certification.map(Some),
        former_names: (!body.former_names.is_empty()).then_some(body.former_names),
    };
    update_inner(tx, &existing.id, patch, pre, Some(&reference)).map(|org| (org, false))
}
