//! Webhook subscriptions: a caller manages its own (an admin everyone's);
//! someone else's answers as missing. What a subscription is sent follows
//! what its owner may read now.

use std::time::Duration;

use super::access::authorize_in;
use super::scope::visibility;
use super::{Precondition, Tx, unchanged};
use crate::auth::{Principal, Role};
use crate::db::changes::{self, FeedQuery};
use crate::db::journal::{Action, Change};
use crate::db::page::{Page, PageRequest};
use crate::db::visibility::{Visibility, member_alliances};
use crate::db::webhooks::{self, DeliveryFilter, Owner, SubscriptionRow};
use crate::db::{AnyConnection, accounts, alliances, new_id, stored};
use crate::domain::webhook::{
    CreatedWebhookSubscription, NewWebhookSubscription, SubscriptionStatus, WebhookDelivery,
    WebhookSubscription, WebhookSubscriptionPatch,
};
use crate::error::ApiError;

const RESOURCE: &str = "webhook_subscription";

/// Whose subscriptions a caller manages: an admin everyone's (`None`);
/// others those made by a token of the same subject, role and scope, so a
/// token that shares only a subject with its maker (another alliance's
/// secretariat) finds nothing. A member's alliances follow its
/// organisation's memberships, so only a secretariat's (typed) scope is
/// part of who owns a subscription.
pub fn owner_filter(caller: &Principal) -> Option<Owner> {
    (!caller.is_admin()).then(|| Owner {
        subject: caller.subject.clone(),
        role: caller.role.as_str().to_owned(),
        alliances: (caller.role != Role::Member).then(|| caller.scope_list()),
    })
}

pub fn find(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
) -> Result<WebhookSubscription, ApiError> {
    webhooks::find(conn, owner_filter(caller).as_ref(), id)
}

pub fn list(
    conn: &mut AnyConnection,
    caller: &Principal,
    page: &PageRequest,
) -> Result<Page<WebhookSubscription>, ApiError> {
    webhooks::list(conn, owner_filter(caller).as_ref(), page)
}

pub fn deliveries(
    conn: &mut AnyConnection,
    caller: &Principal,
    subscription: &str,
    filter: &DeliveryFilter,
    page: &PageRequest,
) -> Result<Page<WebhookDelivery>, ApiError> {
    let sub = webhooks::find_row(conn, owner_filter(caller).as_ref(), subscription)?;
    webhooks::deliveries(conn, &sub.id, filter, page)
}

pub fn delivery(
    conn: &mut AnyConnection,
    caller: &Principal,
    subscription: &str,
    id: &str,
) -> Result<WebhookDelivery, ApiError> {
    let sub = webhooks::find_row(conn, owner_filter(caller).as_ref(), subscription)?;
    webhooks::delivery(conn, &sub.id, id)
}

/// What a subscription's owner may read from the feed now, or `None` when
/// it may read nothing. A subscription an account made follows the
/// account: disabled, nothing; narrowed, the narrower scope; a member
/// account, the alliances its organisation belongs to now. Other owners
/// (tokens from the command line) keep the scope their token had.
pub fn owner_visibility(
    conn: &mut AnyConnection,
    sub: &SubscriptionRow,
) -> Result<Option<Visibility>, ApiError> {
    let owner = match sub.owner_subject.strip_prefix("account:") {
        Some(name) => {
            let Some(found) = accounts::credentials(conn, name)? else {
                return Ok(None);
            };
            if found.account.status != crate::domain::account::AccountStatus::Active {
                return Ok(None);
            }
            let mut owner = super::accounts::principal_of(&found.account);
            owner.alliances = match (owner.role, &owner.organization) {
                (Role::Member, Some(org)) => member_alliances(conn, org)?,
                (Role::Member, None) => vec![],
                _ => owner.alliances,
            };
            owner
        }
        None => Principal {
            subject: sub.owner_subject.clone(),
            role: stored("owner_role", sub.owner_role.parse())?,
            alliances: webhooks::split_list(&sub.owner_alliances),
            organization: None,
        },
    };
    visibility(conn, &owner).map(Some)
}

/// The alliance a filter names, which the caller must be able to see.
fn alliance_filter(
    conn: &mut AnyConnection,
    caller: &Principal,
    key: &str,
) -> Result<String, ApiError> {
    let alliance = match alliances::find(conn, key) {
        Err(ApiError::NotFound(_)) => {
            return Err(ApiError::invalid(
                "alliance",
                "unknown",
                format!("there is no alliance `{key}`"),
            ));
        }
        other => other?,
    };
    if !visibility(conn, caller)?.covers(&alliance.id) {
        return Err(ApiError::Forbidden(format!(
            "this token does not cover the alliance `{}`",
            alliance.slug
        )));
    }
    Ok(alliance.id)
}

/// Creates a subscription that receives events committed from now on.
pub fn create(
    tx: &mut Tx<'_>,
    new: NewWebhookSubscription,
) -> Result<CreatedWebhookSubscription, ApiError> {
    let caller = tx.principal;
    authorize_in(caller, "create_webhook", true, String::new)?;
    let alliance_id = new
        .alliance
        .as_deref()
        .map(|key| alliance_filter(tx.conn, caller, key))
        .transpose()?;
    let row = SubscriptionRow {
        id: new_id(),
        url: new.url.to_string(),
        event_types: webhooks::join_types(&new.event_types),
        alliance_id,
        description: new.description,
        secret: webhooks::new_secret(),
        status: SubscriptionStatus::Active.as_str().to_owned(),
        disabled_reason: None,
        owner_subject: caller.subject.clone(),
        owner_role: caller.role.as_str().to_owned(),
        owner_alliances: caller.scope_list(),
        // From the newest event, every event committed before now
        // positioned first: nothing from before the subscription is sent.
        event_cursor: {
            changes::sequence(tx.conn)?;
            changes::head(tx.conn)?
        },
        failing_since: None,
        last_success_at: None,
        version: 1,
        created_at: tx.now(),
        updated_at: tx.now(),
    };
    webhooks::insert(tx.conn, &row)?;
    let subscription = row.to_resource()?;
    tx.audit(&Change {
        action: Action::Created,
        resource_type: RESOURCE,
        resource_id: &row.id,
        alliance_id: row.alliance_id.as_deref(),
        version: 1,
        before: None,
        after: Some(&subscription),
    })?;
    Ok(CreatedWebhookSubscription {
        subscription,
        secret: row.secret,
    })
}

/// Applies a patch. Re-enabling clears the failure record and gives pending
/// deliveries a fresh retry window.
pub fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: WebhookSubscriptionPatch,
    precondition: &Precondition,
    retry_window: Duration,
) -> Result<WebhookSubscription, ApiError> {
    let caller = tx.principal;
    let mut row = webhooks::find_row(tx.conn, owner_filter(caller).as_ref(), id)?;
    let before = row.to_resource()?;
    precondition.check(&before)?;
    if let Some(url) = patch.url {
        row.url = url.to_string();
    }
    if let Some(types) = &patch.event_types {
        row.event_types = webhooks::join_types(types);
    }
    if let Some(alliance) = patch.alliance {
        row.alliance_id = alliance
            .as_deref()
            .map(|key| alliance_filter(tx.conn, caller, key))
            .transpose()?;
    }
    if let Some(description) = patch.description {
        row.description = description;
    }
    let reenabled = match patch.status {
        Some(SubscriptionStatus::Active) if before.status == SubscriptionStatus::Disabled => {
            row.status = SubscriptionStatus::Active.as_str().to_owned();
            row.disabled_reason = None;
            row.failing_since = None;
            true
        }
        Some(SubscriptionStatus::Disabled) if before.status == SubscriptionStatus::Active => {
            row.status = SubscriptionStatus::Disabled.as_str().to_owned();
            row.disabled_reason = Some(format!("disabled by {}", caller.subject));
            false
        }
        _ => false,
    };
    if unchanged(&before, &row.to_resource()?) {
        return Ok(before);
    }
    row.version += 1;
    row.updated_at = tx.now();
    if !webhooks::replace(tx.conn, &row, before.version)? {
        return Err(ApiError::PreconditionFailed(
            "the subscription changed meanwhile; fetch it again and retry".into(),
        ));
    }
    if reenabled {
        let give_up =
            tx.now() + chrono::Duration::from_std(retry_window).map_err(ApiError::internal)?;
        webhooks::restart_pending(tx.conn, &row.id, tx.now(), give_up)?;
    }
    let after = row.to_resource()?;
    tx.audit(&Change {
        action: Action::Updated,
        resource_type: RESOURCE,
        resource_id: &row.id,
        alliance_id: row.alliance_id.as_deref(),
        version: row.version,
        before: Some(&before),
        after: Some(&after),
    })?;
    Ok(after)
}

/// Deletes a subscription with its deliveries and their log.
pub fn delete(tx: &mut Tx<'_>, id: &str, precondition: &Precondition) -> Result<(), ApiError> {
    let row = webhooks::find_row(tx.conn, owner_filter(tx.principal).as_ref(), id)?;
    let before = row.to_resource()?;
    precondition.check(&before)?;
    webhooks::remove(tx.conn, &row.id)?;
    tx.audit(&Change {
        action: Action::Deleted,
        resource_type: RESOURCE,
        resource_id: &row.id,
        alliance_id: row.alliance_id.as_deref(),
        version: row.version,
        before: Some(&before),
        after: None::<&WebhookSubscription>,
    })?;
    Ok(())
}

/// Queues one event for a subscription again, whatever happened to it
/// before: the event must still be kept and visible to the owner.
pub fn redeliver(
    tx: &mut Tx<'_>,
    subscription: &str,
    event_seq: i64,
    retry_window: Duration,
) -> Result<WebhookDelivery, ApiError> {
    let sub = webhooks::find_row(tx.conn, owner_filter(tx.principal).as_ref(), subscription)?;
    let no_event = || {
        ApiError::invalid(
            "event",
            "unknown",
            format!(
                "there is no event {event_seq} this subscription may see (events older than the retention window are gone)"
            ),
        )
    };
    let visibility = owner_visibility(tx.conn, &sub)?.ok_or_else(no_event)?;
    let event = changes::read(
        tx.conn,
        &FeedQuery {
            after: event_seq - 1,
            until: Some(event_seq),
            limit: 1,
            types: vec![],
            alliance_id: None,
            visibility,
        },
    )
    .ok()
    .and_then(|rows| rows.into_iter().next())
    .ok_or_else(no_event)?;
    let delivery = webhooks::queue_one(tx.conn, &sub.id, &event, tx.now(), retry_window)?;
    tx.audit(&Change {
        action: Action::Created,
        resource_type: "webhook_delivery",
        resource_id: &delivery.id,
        alliance_id: sub.alliance_id.as_deref(),
        version: 1,
        before: None,
        after: Some(&delivery),
    })?;
    Ok(delivery)
}

/// Turns events past each active subscription's cursor into deliveries,
/// each seen as its owner may see it now (the webhook worker's pass).
pub fn queue_new_events(
    conn: &mut AnyConnection,
    now: chrono::NaiveDateTime,
    retry_window: Duration,
) -> Result<bool, ApiError> {
    webhooks::queue_new_events(conn, now, retry_window, owner_visibility)
}
