//! Organisations: enterprises, colleges and others, shared by every
//! alliance they belong to. Who may change one is decided here (README,
//! "Who may change what"): an admin, its own member token for the fields it
//! owns, or a secretariat whose token covers every alliance it belongs to.

use super::access::authorize_in;
use super::reports::guard_organization;
use super::{Precondition, Tx, deleted, unchanged, update as versioned_update};
use crate::auth::Role;
use crate::db::journal::{Action, Change, tianjin_today};
use crate::db::{new_id, organizations, utc};
use crate::domain::organization::{
    ExternalRef, FormerName, NewOrganization, Organization, OrganizationPatch,
    RegistrationCategory, check,
};
use crate::domain::{ExternalSystem, Name};
use crate::error::{ApiError, FieldError};

pub fn create(tx: &mut Tx<'_>, new: NewOrganization) -> Result<Organization, ApiError> {
    let org = registered(tx, new)?;
    organizations::check_unique(tx.conn, &org, true)?;
    organizations::insert(tx.conn, std::slice::from_ref(&org))?;
    tx.created(&org)?;
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
    organizations::insert(tx.conn, &orgs)?;
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
    authorize_in(tx.principal, "create_organization", own, || {
        "a member token may register only its own organization".into()
    })?;
    if own && new.certification.is_some() || !new.former_names.is_empty() {
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
    let (in_scope, why) = match p.role {
        Role::Member => (
            p.organization
                .as_deref()
                .is_some_and(|o| o == org.id || o == org.slug.as_str()),
            "a member token may change only its own organization".to_owned(),
        ),
        Role::Secretariat => {
            let scope = organizations::current_alliances(tx.conn, &org.id)?;
            let outside: Vec<&str> = scope
                .iter()
                .filter(|(id, slug)| !p.covers_alliance(id, slug))
                .map(|(_, slug)| slug.as_str())
                .collect();
            if scope.is_empty() {
                (
                    false,
                    format!(
                        "`{}` is not a member of an alliance this token covers",
                        org.slug
                    ),
                )
            } else if !outside.is_empty() {
                (
                    false,
                    format!(
                        "`{}` is also a member of {}: a record several alliances share is changed by an admin or by the organisation's own member token",
                        org.slug,
                        outside.join(", ")
                    ),
                )
            } else {
                (true, String::new())
            }
        }
        // The others' outcome does not depend on the record.
        _ => (true, String::new()),
    };
    authorize_in(p, "update_organization", in_scope, || why)
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
    let before = organizations::find(tx.conn, key)?;
    let after = versioned_update(tx, &before, pre, |tx, after| {
        let explicit_former_names = patch.former_names.is_some();
        patch.apply(after);
        if after.name_zh != before.name_zh && !explicit_former_names {
            after.former_names.push(FormerName {
                name_zh: before.name_zh.clone(),
                used_until: tianjin_today(),
            });
            // As many as a body may set: the oldest go (the audit trail keeps them).
            let excess = after.former_names.len().saturating_sub(MAX_FORMER_NAMES);
            after.former_names.drain(..excess);
        }
        // A change that changes nothing writes nothing and needs no editor
        // (re-importing an export leaves shared records as they are).
        if unchanged(&before, after) {
            return Ok(());
        }
        ensure_editor(tx, &before)?;
        if tx.principal.role == Role::Member {
            ensure_member_owned(&before, after, claimed)?;
        }
        checked(after)?;
        organizations::check_unique(tx.conn, after, false)
    })?;
    if after.version != before.version {
        // A certification feeds the certified-enterprise count of every
        // alliance the organisation belongs to.
        guard_organization(tx.conn, &after.id)?;
    }
    Ok(after)
}

fn checked(o: &Organization) -> Result<(), ApiError> {
    check(o).map_err(|(field, message)| ApiError::invalid(field, "inconsistent", message))
}

/// Deletes an organisation that never belonged to an alliance (a mistaken
/// entry). One with memberships stays: membership history is never deleted.
pub fn delete(tx: &mut Tx<'_>, key: &str, pre: &Precondition) -> Result<(), ApiError> {
    authorize_in(tx.principal, "delete_organization", true, String::new)?;
    let before = organizations::find(tx.conn, key)?;
    pre.check(&before)?;
    let held = organizations::membership_count(tx.conn, &before.id)?;
    if held > 0 {
        return Err(ApiError::Conflict {
            detail: format!(
                "`{}` has {held} membership record(s); membership history is never deleted, so neither is the organization",
                before.slug
            ),
            errors: vec![],
        });
    }
    let used = organizations::records_naming(tx.conn, &before.id)?;
    if used > 0 {
        return Err(ApiError::Conflict {
            detail: format!(
                "`{}` is named by {used} platform or activity record(s); those records are kept, so the organization is too",
                before.slug
            ),
            errors: vec![],
        });
    }
    organizations::remove(tx.conn, &before.id)?;
    deleted(tx, &before)
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
    let existing = match organizations::find_by_ref(tx.conn, system, id)? {
        Some(org) => Some(org),
        None => match organizations::find(tx.conn, body.slug.as_str()) {
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
