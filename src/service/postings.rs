//! 供需对接: postings (demands and offers) of an alliance's members, their
//! review by the secretariat, suggested counterparts, and matches closed
//! with an outcome that derived KPIs count.
//!
//! Who may do what beyond the access table: a member token posts, edits,
//! submits and closes only its own organisation's postings and accepts a
//! match only for its own side; it reads the published postings of its
//! alliances and its own in any state (another's draft is as if it did not
//! exist), and only the matches its organisation is a side of.

use chrono::{Datelike, NaiveDate};

use super::access::authorize;
use super::reports::guard_records;
use super::scope::{alliance_to_change, reveal};
use super::{Precondition, Tx, update as versioned_update};
use crate::auth::{Principal, Role};
use crate::db::journal::{Action, Change, tianjin_today};
use crate::db::page::{Page, PageRequest};
use crate::db::postings::{self, PostingFilter};
use crate::db::{AnyConnection, Stored, alliances, memberships, new_id, organizations, utc};
use crate::domain::alliance::Alliance;
use crate::domain::organization::OrganizationSummary;
use crate::domain::posting::{
    AcceptMatch, CloseMatch, ClosePosting, CloseReason, MatchSide, MatchStatus, NewMatch,
    NewPosting, Posting, PostingDirection, PostingMatch, PostingPatch, PostingRef, PostingReview,
    PostingStatus, PublicPosting, Suggestion, check, suggestion,
};
use crate::domain::posting_summary::{SupplyDemandSummary, summarize};
use crate::error::{ApiError, FieldError};

/// Whether a member token speaks for this organisation.
fn speaks_for(caller: &Principal, org: &OrganizationSummary) -> bool {
    caller.role == Role::Member
        && caller
            .organization
            .as_deref()
            .is_some_and(|o| o == org.id || o == org.slug.as_str())
}

/// The id of a member token's organisation; empty (matching nothing) for
/// a token whose organisation is not registered.
fn own_organization_id(conn: &mut AnyConnection, caller: &Principal) -> Result<String, ApiError> {
    let key = caller.organization.as_deref().unwrap_or_default();
    match organizations::find(conn, key) {
        Ok(o) => Ok(o.id),
        Err(ApiError::NotFound(_)) => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// A member token may act only for its own organisation's postings.
fn ensure_poster(caller: &Principal, p: &Posting) -> Result<(), ApiError> {
    if caller.role == Role::Member && !speaks_for(caller, &p.organization) {
        return Err(ApiError::Forbidden(format!(
            "this posting is `{}`'s; a member token acts only for its own organization",
            p.organization.slug
        )));
    }
    Ok(())
}

/// Whether the caller may read this posting in its current state: a
/// member reads another organisation's only once it is published.
fn may_read(caller: &Principal, p: &Posting) -> bool {
    caller.role != Role::Member
        || matches!(p.status, PostingStatus::Published | PostingStatus::Closed)
        || speaks_for(caller, &p.organization)
}

fn checked(tx: &mut Tx<'_>, p: &Posting) -> Result<(), ApiError> {
    check(p).map_err(|(field, message)| ApiError::invalid(&field, "inconsistent", message))?;
    match postings::ref_taken_by(tx.conn, p)? {
        Some(other) => Err(ApiError::conflict(
            "external_ref",
            "taken",
            format!("this organization already has a posting with this external_ref ({other})"),
        )),
        None => Ok(()),
    }
}

/// The posting organisation: a member token's own (it may not name
/// another), or the one a secretariat names; a current member either way.
fn poster(
    tx: &mut Tx<'_>,
    alliance: &Alliance,
    named: Option<&str>,
) -> Result<OrganizationSummary, ApiError> {
    let key = match (
        tx.principal.role,
        named,
        tx.principal.organization.as_deref(),
    ) {
        (Role::Member, None, Some(own)) => own.to_owned(),
        (_, Some(key), _) => key.to_owned(),
        _ => {
            return Err(ApiError::invalid(
                "organization",
                "required",
                "name the organization that posts it",
            ));
        }
    };
    let org = organizations::named(tx.conn, &key, "organization")?.summary();
    if tx.principal.role == Role::Member && !speaks_for(tx.principal, &org) {
        return Err(ApiError::Forbidden(
            "a member token posts only for its own organization".into(),
        ));
    }
    if memberships::open_membership(tx.conn, &alliance.id, &org.id)?.is_none() {
        return Err(ApiError::invalid(
            "organization",
            "not_a_member",
            format!(
                "`{}` is not a current member of `{}`",
                org.slug, alliance.slug
            ),
        ));
    }
    Ok(org)
}

pub fn create(tx: &mut Tx<'_>, alliance_key: &str, new: NewPosting) -> Result<Posting, ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    authorize(tx.principal, "create_posting", &alliance, String::new)?;
    let organization = poster(tx, &alliance, new.organization.as_deref())?;
    insert_new(tx, &alliance, organization, new)
}

fn insert_new(
    tx: &mut Tx<'_>,
    alliance: &Alliance,
    organization: OrganizationSummary,
    new: NewPosting,
) -> Result<Posting, ApiError> {
    let now = utc(tx.now());
    let mut posting = Posting {
        id: new_id(),
        alliance_id: alliance.id.clone(),
        kind: new.kind,
        direction: new.kind.direction(),
        organization,
        status: PostingStatus::Draft,
        close_reason: None,
        title_zh: new.title_zh.clone(),
        title_en: None,
        description_zh: None,
        description_en: None,
        majors: vec![],
        level: None,
        region: None,
        headcount: None,
        opens_on: None,
        closes_on: None,
        details: Default::default(),
        attachments: vec![],
        external_ref: None,
        public: false,
        review_comment: None,
        published_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    if new.submit {
        posting.status = PostingStatus::PendingReview;
    }
    replace_content(&mut posting, new);
    checked(tx, &posting)?;
    postings::insert(tx.conn, &posting)?;
    tx.created(&posting)?;
    Ok(posting)
}

/// What a body says of a posting, in place of what it said before (the
/// kind, the organisation and the status are not content).
fn replace_content(p: &mut Posting, new: NewPosting) {
    p.title_zh = new.title_zh;
    p.title_en = new.title_en;
    p.description_zh = new.description_zh;
    p.description_en = new.description_en;
    p.majors = new.majors.iter().map(|m| m.trim().to_owned()).collect();
    p.level = new.level;
    p.region = new.region.map(|r| r.trim().to_owned());
    p.headcount = new.headcount;
    p.opens_on = new.opens_on;
    p.closes_on = new.closes_on;
    p.details = new.details;
    p.attachments = new.attachments;
    p.external_ref = new.external_ref;
    p.public = new.public;
}

/// A member system's sync of its own posting by its own reference: the
/// body replaces the posting of this organisation with `reference`, or
/// posts it when there is none (`true`). As with edits, a member's change
/// to a published posting goes back to review; `submit` sends a draft to
/// review; a closed posting takes no change (409).
pub fn upsert_by_ref(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    reference: &str,
    mut new: NewPosting,
    pre: &Precondition,
) -> Result<(Posting, bool), ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    authorize(
        tx.principal,
        "upsert_posting_by_ref",
        &alliance,
        String::new,
    )?;
    if new.external_ref.as_deref().is_some_and(|r| r != reference) {
        return Err(ApiError::invalid(
            "external_ref",
            "differs",
            format!("the body's external_ref is not the path's `{reference}`"),
        ));
    }
    new.external_ref = Some(reference.to_owned());
    let organization = poster(tx, &alliance, new.organization.as_deref())?;
    let Some(before) = postings::find_by_ref(tx.conn, &organization.id, reference)? else {
        if let Precondition::OneOf(_) = pre {
            return Err(ApiError::PreconditionFailed(format!(
                "there is no posting `{reference}` of `{}` to match If-Match",
                organization.slug
            )));
        }
        return Ok((insert_new(tx, &alliance, organization, new)?, true));
    };
    if before.alliance_id != alliance.id {
        return Err(ApiError::conflict(
            "external_ref",
            "other_alliance",
            format!(
                "`{}` already has a posting `{reference}` in another alliance",
                organization.slug
            ),
        ));
    }
    if new.kind != before.kind {
        return Err(ApiError::conflict(
            "kind",
            "changed",
            format!("the posting `{reference}` is a `{}` posting", before.kind),
        ));
    }
    not_closed(&before, "change")?;
    let member = tx.principal.role == Role::Member;
    let submit = new.submit;
    let after = versioned_update(tx, &before, pre, |tx, after| {
        replace_content(after, new);
        let changed = !super::unchanged(&before, after);
        if changed && member && after.status == PostingStatus::Published {
            after.status = PostingStatus::PendingReview;
        }
        if submit && after.status == PostingStatus::Draft {
            after.status = PostingStatus::PendingReview;
        }
        checked(tx, after)
    })?;
    Ok((after, false))
}

/// A posting by its id, as this caller may read it (404 otherwise).
pub fn find(conn: &mut AnyConnection, caller: &Principal, id: &str) -> Result<Posting, ApiError> {
    let found = postings::find(conn, id)?;
    let p = reveal(conn, caller, found)?;
    if !may_read(caller, &p) {
        return Err(ApiError::NotFound(format!("there is no posting `{id}`")));
    }
    Ok(p.as_of(tianjin_today()))
}

/// An alliance's postings as this caller may read them.
pub fn list(
    conn: &mut AnyConnection,
    caller: &Principal,
    alliance_id: &str,
    mut filter: PostingFilter,
    page: &PageRequest,
) -> Result<Page<Posting>, ApiError> {
    if caller.role == Role::Member {
        filter.readable_by = Some(own_organization_id(conn, caller)?);
    }
    let today = tianjin_today();
    filter.today = Some(today);
    Ok(postings::list(conn, alliance_id, &filter, page)?.map(|p| p.as_of(today)))
}

/// The public listing: published postings whose posters opened them to
/// the public, of every alliance or of one (id or slug; unknown: 400).
pub fn public_list(
    conn: &mut AnyConnection,
    alliance: Option<&str>,
    kind: Option<crate::domain::posting::PostingKind>,
    q: Option<&str>,
    page: &PageRequest,
) -> Result<Page<PublicPosting>, ApiError> {
    let only = match alliance {
        Some(key) => match alliances::find(conn, key) {
            Ok(a) => Some(a.id),
            Err(ApiError::NotFound(_)) => {
                return Err(ApiError::BadRequest {
                    detail: format!("there is no alliance `{key}`"),
                    errors: vec![FieldError::new(
                        "alliance",
                        "unknown",
                        "an alliance id or slug",
                    )],
                });
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    let found = postings::public_list(conn, only.as_deref(), kind, q, tianjin_today(), page)?;
    let mut slugs: std::collections::HashMap<String, String> = Default::default();
    let mut items = Vec::with_capacity(found.items.len());
    for p in found.items {
        if !slugs.contains_key(&p.alliance_id) {
            let slug = alliances::find(conn, &p.alliance_id)?.slug.to_string();
            slugs.insert(p.alliance_id.clone(), slug);
        }
        let slug = slugs[&p.alliance_id].clone();
        items.push(PublicPosting::of(p, slug));
    }
    Ok(Page {
        items,
        next_cursor: found.next_cursor,
    })
}

/// A posting the caller is about to change: authorised for `operation`,
/// and, for a member token, its own organisation's.
fn to_change(tx: &mut Tx<'_>, id: &str, operation: &str) -> Result<(Posting, Alliance), ApiError> {
    let p = postings::find(tx.conn, id)?;
    let alliance = alliance_to_change(tx.conn, tx.principal, operation, &p)?;
    if !may_read(tx.principal, &p) {
        return Err(ApiError::NotFound(format!("there is no posting `{id}`")));
    }
    ensure_poster(tx.principal, &p)?;
    Ok((p, alliance))
}

fn not_closed(p: &Posting, doing: &str) -> Result<(), ApiError> {
    let p = p.clone().as_of(tianjin_today());
    if p.status == PostingStatus::Closed {
        return Err(ApiError::Conflict {
            detail: format!(
                "the posting is closed ({}); one cannot {doing} it",
                p.close_reason.map_or("closed", CloseReason::as_str)
            ),
            errors: vec![],
        });
    }
    Ok(())
}

pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: PostingPatch,
    pre: &Precondition,
) -> Result<Posting, ApiError> {
    let (before, _) = to_change(tx, id, "update_posting")?;
    not_closed(&before, "change")?;
    versioned_update(tx, &before, pre, |tx, after| {
        if let Some(v) = patch.title_zh {
            after.title_zh = v;
        }
        if let Some(v) = patch.title_en {
            after.title_en = v;
        }
        if let Some(v) = patch.description_zh {
            after.description_zh = v;
        }
        if let Some(v) = patch.description_en {
            after.description_en = v;
        }
        if let Some(v) = patch.majors {
            after.majors = v.iter().map(|m| m.trim().to_owned()).collect();
        }
        if let Some(v) = patch.level {
            after.level = v;
        }
        if let Some(v) = patch.region {
            after.region = v.map(|r| r.trim().to_owned());
        }
        if let Some(v) = patch.headcount {
            after.headcount = v;
        }
        if let Some(v) = patch.opens_on {
            after.opens_on = v;
        }
        if let Some(v) = patch.closes_on {
            after.closes_on = v;
        }
        if let Some(v) = patch.details {
            after.details = v;
        }
        if let Some(v) = patch.attachments {
            after.attachments = v;
        }
        if let Some(v) = patch.external_ref {
            after.external_ref = v;
        }
        if let Some(v) = patch.public {
            after.public = v;
        }
        // What the members read was reviewed: a member's change is reviewed again.
        let changed = !super::unchanged(&before, after);
        if changed && tx.principal.role == Role::Member && after.status == PostingStatus::Published
        {
            after.status = PostingStatus::PendingReview;
        }
        checked(tx, after)
    })
}

/// One step of the lifecycle: the status it leaves from, where it goes,
/// and what the journal calls it.
fn step(
    tx: &mut Tx<'_>,
    before: &Posting,
    from: &[PostingStatus],
    edit: impl FnOnce(&mut Posting),
    action: Action,
) -> Result<Posting, ApiError> {
    let mut after = before.clone();
    edit(&mut after);
    if super::unchanged(before, &after) {
        return Ok(after);
    }
    if !from.contains(&before.status) {
        return Err(ApiError::Conflict {
            detail: format!(
                "the posting is `{}`; this step needs it {}",
                before.status,
                from.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            errors: vec![],
        });
    }
    after.next_version(utc(tx.now()));
    if !Posting::replace(tx.conn, &after, before.version)? {
        return Err(ApiError::PreconditionFailed(
            "the posting changed while this request ran; retry".into(),
        ));
    }
    tx.record(Change {
        action,
        resource_type: Posting::RESOURCE,
        resource_id: &after.id,
        alliance_id: Some(&after.alliance_id),
        version: after.version,
        before: Some(before),
        after: Some(&after),
    })?;
    Ok(after)
}

/// Sends a draft to the secretariat's review.
pub fn submit(tx: &mut Tx<'_>, id: &str) -> Result<Posting, ApiError> {
    let (before, _) = to_change(tx, id, "submit_posting")?;
    not_closed(&before, "submit")?;
    step(
        tx,
        &before,
        &[PostingStatus::Draft],
        |p| p.status = PostingStatus::PendingReview,
        Action::Updated,
    )
}

/// Publishes a posting under review (the secretariat).
pub fn publish(tx: &mut Tx<'_>, id: &str, review: PostingReview) -> Result<Posting, ApiError> {
    let (before, _) = to_change(tx, id, "publish_posting")?;
    let now = utc(tx.now());
    step(
        tx,
        &before,
        &[PostingStatus::PendingReview],
        |p| {
            if p.status != PostingStatus::Published {
                p.status = PostingStatus::Published;
                p.published_at = Some(now);
                p.review_comment = review.comment;
            }
        },
        Action::Published,
    )
}

/// Returns a posting under review to its poster as a draft, with why.
pub fn return_posting(
    tx: &mut Tx<'_>,
    id: &str,
    review: PostingReview,
) -> Result<Posting, ApiError> {
    let Some(comment) = review.comment else {
        return Err(ApiError::invalid(
            "comment",
            "required",
            "say what the poster should change",
        ));
    };
    let (before, _) = to_change(tx, id, "return_posting")?;
    step(
        tx,
        &before,
        &[PostingStatus::PendingReview],
        |p| {
            p.status = PostingStatus::Draft;
            p.review_comment = Some(comment);
        },
        Action::Updated,
    )
}

/// Closes a posting: `filled` once published, `withdrawn` from any state.
pub fn close(tx: &mut Tx<'_>, id: &str, body: ClosePosting) -> Result<Posting, ApiError> {
    let (before, _) = to_change(tx, id, "close_posting")?;
    let from: &[PostingStatus] = match body.reason {
        CloseReason::Filled => &[PostingStatus::Published],
        CloseReason::Withdrawn => &[
            PostingStatus::Draft,
            PostingStatus::PendingReview,
            PostingStatus::Published,
        ],
        CloseReason::Expired => {
            return Err(ApiError::invalid(
                "reason",
                "not_allowed",
                "a posting expires by itself after closes_on; close it as `filled` or `withdrawn`",
            ));
        }
    };
    step(
        tx,
        &before,
        from,
        |p| {
            p.status = PostingStatus::Closed;
            p.close_reason = Some(body.reason);
        },
        Action::Updated,
    )
}

/// How many suggestions at most, and how many candidates are scored.
const SUGGESTIONS: usize = 20;
const CANDIDATES: i64 = 2000;

/// Published counterparts of a posting in its alliance, best first.
pub fn suggestions(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
) -> Result<Vec<Suggestion>, ApiError> {
    let of = find(conn, caller, id)?;
    let today = tianjin_today();
    let mut found: Vec<Suggestion> =
        postings::published_of_kind(conn, &of.alliance_id, of.kind.counterpart(), CANDIDATES)?
            .into_iter()
            .map(|p| p.as_of(today))
            .filter(|p| p.status == PostingStatus::Published)
            .filter_map(|p| suggestion(&of, &p))
            .collect();
    found.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.posting.id.cmp(&b.posting.id))
    });
    found.truncate(SUGGESTIONS);
    Ok(found)
}

/// A posting a new match names: published, of this alliance (another
/// alliance's is as if unknown), in the direction its field says.
fn matchable(
    tx: &mut Tx<'_>,
    alliance: &Alliance,
    id: &str,
    field: &str,
    direction: PostingDirection,
) -> Result<Posting, ApiError> {
    let unknown = || {
        ApiError::invalid(
            field,
            "not_found",
            format!("this alliance has no posting `{id}`"),
        )
    };
    let p = match postings::find(tx.conn, id) {
        Ok(p) if p.alliance_id == alliance.id && may_read(tx.principal, &p) => p,
        Ok(_) | Err(ApiError::NotFound(_)) => return Err(unknown()),
        Err(e) => return Err(e),
    };
    if p.kind.direction() != direction {
        return Err(ApiError::invalid(
            field,
            "wrong_direction",
            format!("`{id}` is a `{}` posting, not a {direction}", p.kind),
        ));
    }
    if p.clone().as_of(tianjin_today()).status != PostingStatus::Published {
        return Err(ApiError::conflict(
            field,
            "not_published",
            format!("`{id}` is not published (it is `{}`)", p.status),
        ));
    }
    Ok(p)
}

/// Proposes a match (the secretariat, or a member token of either side).
pub fn create_match(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    new: NewMatch,
) -> Result<PostingMatch, ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    authorize(tx.principal, "create_match", &alliance, String::new)?;
    let demand = matchable(
        tx,
        &alliance,
        &new.demand_id,
        "demand_id",
        PostingDirection::Demand,
    )?;
    let offer = matchable(
        tx,
        &alliance,
        &new.offer_id,
        "offer_id",
        PostingDirection::Offer,
    )?;
    if offer.kind != demand.kind.counterpart() {
        return Err(ApiError::invalid(
            "offer_id",
            "wrong_kind",
            format!(
                "a `{}` demand matches a `{}` offer, not `{}`",
                demand.kind,
                demand.kind.counterpart(),
                offer.kind
            ),
        ));
    }
    if demand.organization.id == offer.organization.id {
        return Err(ApiError::invalid(
            "offer_id",
            "same_organization",
            "an organization's demand and its own offer are not a match",
        ));
    }
    let caller = tx.principal;
    if caller.role == Role::Member
        && !speaks_for(caller, &demand.organization)
        && !speaks_for(caller, &offer.organization)
    {
        return Err(ApiError::Forbidden(
            "a member token proposes only matches its own organization is a side of".into(),
        ));
    }
    if let Some(existing) = postings::match_of_pair(tx.conn, &demand.id, &offer.id)? {
        return Err(ApiError::conflict(
            "offer_id",
            "taken",
            format!("this demand and offer are already matched ({existing})"),
        ));
    }
    let now = utc(tx.now());
    let m = PostingMatch {
        id: new_id(),
        alliance_id: alliance.id.clone(),
        demand: PostingRef::from(&demand),
        offer: PostingRef::from(&offer),
        status: MatchStatus::Proposed,
        note: new.note,
        demand_accepted_at: None,
        offer_accepted_at: None,
        closed_on: None,
        outcome: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    postings::insert_match(tx.conn, &m)?;
    tx.created(&m)?;
    Ok(m)
}

/// Whether the caller may read this match: a member only as a side of it.
fn may_read_match(caller: &Principal, m: &PostingMatch) -> bool {
    caller.role != Role::Member
        || speaks_for(caller, &m.demand.organization)
        || speaks_for(caller, &m.offer.organization)
}

pub fn find_match(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
) -> Result<PostingMatch, ApiError> {
    let found = postings::find_match(conn, id)?;
    let m = reveal(conn, caller, found)?;
    if !may_read_match(caller, &m) {
        return Err(ApiError::NotFound(format!("there is no match `{id}`")));
    }
    Ok(m)
}

pub fn list_matches(
    conn: &mut AnyConnection,
    caller: &Principal,
    alliance_id: &str,
    page: &PageRequest,
) -> Result<Page<PostingMatch>, ApiError> {
    let side_of = match caller.role {
        Role::Member => Some(own_organization_id(conn, caller)?),
        _ => None,
    };
    postings::list_matches(conn, alliance_id, side_of.as_deref(), page)
}

fn match_to_change(tx: &mut Tx<'_>, id: &str, operation: &str) -> Result<PostingMatch, ApiError> {
    let m = postings::find_match(tx.conn, id)?;
    alliance_to_change(tx.conn, tx.principal, operation, &m)?;
    if !may_read_match(tx.principal, &m) {
        return Err(ApiError::NotFound(format!("there is no match `{id}`")));
    }
    Ok(m)
}

/// Accepts a match for one side; accepted by both, it is `accepted`.
pub fn accept_match(
    tx: &mut Tx<'_>,
    id: &str,
    body: AcceptMatch,
    pre: &Precondition,
) -> Result<PostingMatch, ApiError> {
    let before = match_to_change(tx, id, "accept_match")?;
    let caller = tx.principal;
    let side = match (caller.role, body.side) {
        (Role::Member, side) => {
            let demand = speaks_for(caller, &before.demand.organization);
            let offer = speaks_for(caller, &before.offer.organization);
            match side {
                Some(MatchSide::Demand) if demand => MatchSide::Demand,
                Some(MatchSide::Offer) if offer => MatchSide::Offer,
                None if demand => MatchSide::Demand,
                None if offer => MatchSide::Offer,
                _ => {
                    return Err(ApiError::Forbidden(
                        "a member token accepts only for its own organization's side".into(),
                    ));
                }
            }
        }
        (_, Some(side)) => side,
        (_, None) => {
            return Err(ApiError::invalid(
                "side",
                "required",
                "say which side accepts: `demand` or `offer`",
            ));
        }
    };
    if before.status == MatchStatus::Closed {
        return Err(ApiError::Conflict {
            detail: "the match is closed".into(),
            errors: vec![],
        });
    }
    let now = utc(tx.now());
    versioned_update(tx, &before, pre, |_, after| {
        match side {
            MatchSide::Demand => after.demand_accepted_at = after.demand_accepted_at.or(Some(now)),
            MatchSide::Offer => after.offer_accepted_at = after.offer_accepted_at.or(Some(now)),
        }
        if after.demand_accepted_at.is_some() && after.offer_accepted_at.is_some() {
            after.status = MatchStatus::Accepted;
        }
        Ok(())
    })
}

/// Closes an accepted match with its outcome, which counts in the year of
/// `closed_on` (refused while that year's report is approved).
pub fn close_match(
    tx: &mut Tx<'_>,
    id: &str,
    body: CloseMatch,
    pre: &Precondition,
) -> Result<PostingMatch, ApiError> {
    let before = match_to_change(tx, id, "close_match")?;
    if body.closed_on > tianjin_today() {
        return Err(ApiError::invalid(
            "closed_on",
            "in_the_future",
            format!(
                "closed_on ({}) is after today; close a match once it has come to something",
                body.closed_on
            ),
        ));
    }
    if before.status != MatchStatus::Accepted {
        return Err(ApiError::Conflict {
            detail: format!(
                "the match is `{}`; both sides accept it before it closes",
                before.status
            ),
            errors: vec![],
        });
    }
    let after = versioned_update(tx, &before, pre, |_, after| {
        after.status = MatchStatus::Closed;
        after.closed_on = Some(body.closed_on);
        after.outcome = Some(body.outcome);
        Ok(())
    })?;
    guard_records(tx.conn, &after.alliance_id, Some(&[body.closed_on.year()]))?;
    Ok(after)
}

/// A year's supply–demand summary of one alliance (`Some`) or the city.
pub fn summary(
    conn: &mut AnyConnection,
    alliance: Option<&Alliance>,
    year: i32,
) -> Result<SupplyDemandSummary, ApiError> {
    // The year in Tianjin: from 16:00 UTC of the last day of the year before.
    let start = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .expect("years are checked to 2000-2100")
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            - chrono::Duration::hours(8)
    };
    let id = alliance.map(|a| a.id.as_str());
    let posted = postings::published_between(conn, id, start(year), start(year + 1))?;
    let closed = postings::closed_in(conn, id, year)?;
    Ok(summarize(
        year,
        alliance.map(|a| a.slug.to_string()),
        &posted,
        &closed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::posting::PostingKind;

    #[test]
    fn a_posting_kind_names_its_direction() {
        assert_eq!(PostingKind::Talent.direction(), PostingDirection::Demand);
        assert_eq!(
            PostingKind::TalentSupply.direction(),
            PostingDirection::Offer
        );
    }
}
