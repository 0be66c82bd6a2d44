//! Webhook subscriptions, the delivery queue and its log.
//!
//! The queue is a table: the worker turns new change events into one
//! delivery row per matching subscription (moving the subscription's
//! `event_cursor` in the same transaction), then sends due rows. Claiming a
//! row pushes its `next_attempt_at` forward by a lease, so a sender that dies
//! mid-attempt (a restart) leaves the row to be sent again: nothing is lost,
//! and a repeat carries the same event id.

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;

use super::changes::{self, EventRow, FeedQuery, Visibility};
use super::page::{Page, PageRequest};
use super::schema::{change_events, webhook_attempts, webhook_deliveries, webhook_subscriptions};
use super::{AnyConnection, Backend, new_id, stored, utc};
use crate::domain::change::ChangeEvent;
use crate::domain::webhook::{
    DeliveryStatus, SubscriptionStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription,
};
use crate::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_subscriptions, treat_none_as_null = true)]
pub struct SubscriptionRow {
    pub id: String,
    pub url: String,
    pub event_types: String,
    pub alliance_id: Option<String>,
    pub description: Option<String>,
    pub secret: String,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub owner_subject: String,
    pub owner_role: String,
    pub owner_alliances: String,
    pub event_cursor: i64,
    pub failing_since: Option<NaiveDateTime>,
    pub last_success_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl SubscriptionRow {
    pub fn to_resource(&self) -> Result<WebhookSubscription, ApiError> {
        Ok(WebhookSubscription {
            id: self.id.clone(),
            url: self.url.clone(),
            event_types: split_list(&self.event_types),
            alliance_id: self.alliance_id.clone(),
            description: self.description.clone(),
            status: stored("status", self.status.parse())?,
            disabled_reason: self.disabled_reason.clone(),
            owner: self.owner_subject.clone(),
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

/// A random signing secret, `whsec_` and 32 letters and digits.
pub fn new_secret() -> String {
    let body: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    format!("whsec_{body}")
}

pub fn join_types(types: &[crate::domain::EventType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Stores a new subscription.
pub fn insert(conn: &mut AnyConnection, row: &SubscriptionRow) -> Result<(), ApiError> {
    diesel::insert_into(webhook_subscriptions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Whose subscriptions a query finds: the maker's subject and role, and for
/// all but members the sorted, comma-joined scope its token had.
#[derive(Debug, Clone)]
pub struct Owner {
    pub subject: String,
    pub role: String,
    pub alliances: Option<String>,
}

/// A subscription by id, among those of `owner` (`None`: everyone's).
pub fn find_row(
    conn: &mut AnyConnection,
    owner: Option<&Owner>,
    id: &str,
) -> Result<SubscriptionRow, ApiError> {
    let mut query = webhook_subscriptions::table.into_boxed::<Backend>();
    if let Some(owner) = owner {
        query = owned_by(query, owner);
    }
    query
        .filter(webhook_subscriptions::id.eq(id))
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no webhook subscription `{id}`")))
}

fn owned_by<'a>(
    mut query: webhook_subscriptions::BoxedQuery<'a, Backend>,
    owner: &Owner,
) -> webhook_subscriptions::BoxedQuery<'a, Backend> {
    query = query
        .filter(webhook_subscriptions::owner_subject.eq(owner.subject.clone()))
        .filter(webhook_subscriptions::owner_role.eq(owner.role.clone()));
    if let Some(alliances) = &owner.alliances {
        query = query.filter(webhook_subscriptions::owner_alliances.eq(alliances.clone()));
    }
    query
}

pub fn find(
    conn: &mut AnyConnection,
    owner: Option<&Owner>,
    id: &str,
) -> Result<WebhookSubscription, ApiError> {
    find_row(conn, owner, id)?.to_resource()
}

/// The subscriptions of `owner` (`None`: everyone's), oldest first.
pub fn list(
    conn: &mut AnyConnection,
    owner: Option<&Owner>,
    page: &PageRequest,
) -> Result<Page<WebhookSubscription>, ApiError> {
    let mut query = webhook_subscriptions::table.into_boxed::<Backend>();
    if let Some(owner) = owner {
        query = owned_by(query, owner);
    }
    let mut query = query
        .select(SubscriptionRow::as_select())
        .order(webhook_subscriptions::id.asc())
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        query = query.filter(webhook_subscriptions::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    let page = page.finish(rows, |r| &r.id);
    Ok(Page {
        items: page
            .items
            .iter()
            .map(SubscriptionRow::to_resource)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

/// Replaces a subscription if its version is still `expected`.
pub fn replace(
    conn: &mut AnyConnection,
    row: &SubscriptionRow,
    expected: i64,
) -> Result<bool, ApiError> {
    let updated = diesel::update(
        webhook_subscriptions::table
            .filter(webhook_subscriptions::id.eq(&row.id))
            .filter(webhook_subscriptions::version.eq(expected)),
    )
    .set(row)
    .execute(conn)?;
    Ok(updated == 1)
}

/// Gives a subscription's pending deliveries a fresh start: due now, given
/// up at `give_up`.
pub fn restart_pending(
    conn: &mut AnyConnection,
    subscription_id: &str,
    now: NaiveDateTime,
    give_up: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(subscription_id))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str())),
    )
    .set((
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::give_up_at.eq(give_up),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}

/// Deletes a subscription with its deliveries and their log.
pub fn remove(conn: &mut AnyConnection, id: &str) -> Result<(), ApiError> {
    diesel::delete(webhook_subscriptions::table.filter(webhook_subscriptions::id.eq(id)))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: String,
    subscription_id: String,
    event_seq: i64,
    event_type: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    give_up_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
struct AttemptRow {
    id: String,
    delivery_id: String,
    at: NaiveDateTime,
    succeeded: bool,
    response_code: Option<i32>,
    latency_ms: i32,
    error: Option<String>,
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    /// An event's feed position.
    pub event: Option<i64>,
}

fn with_log(
    conn: &mut AnyConnection,
    rows: Vec<DeliveryRow>,
) -> Result<Vec<WebhookDelivery>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut log: HashMap<String, Vec<WebhookAttempt>> = HashMap::new();
    for a in webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(&ids))
        .order((webhook_attempts::at.asc(), webhook_attempts::id.asc()))
        .select(AttemptRow::as_select())
        .load(conn)?
    {
        log.entry(a.delivery_id).or_default().push(WebhookAttempt {
            at: utc(a.at),
            succeeded: a.succeeded,
            response_code: a.response_code,
            latency_ms: a.latency_ms,
            error: a.error,
        });
    }
    rows.into_iter()
        .map(|r| {
            let status: DeliveryStatus = stored("status", r.status.parse())?;
            Ok(WebhookDelivery {
                log: log.remove(&r.id).unwrap_or_default(),
                id: r.id,
                subscription_id: r.subscription_id,
                event: r.event_seq.to_string(),
                event_type: r.event_type,
                status,
                attempts: r.attempts,
                next_attempt_at: (status == DeliveryStatus::Pending)
                    .then(|| utc(r.next_attempt_at)),
                give_up_at: utc(r.give_up_at),
                created_at: utc(r.created_at),
                updated_at: utc(r.updated_at),
            })
        })
        .collect()
}

/// A subscription's deliveries, oldest first, each with its attempts.
pub fn deliveries(
    conn: &mut AnyConnection,
    subscription_id: &str,
    filter: &DeliveryFilter,
    page: &PageRequest,
) -> Result<Page<WebhookDelivery>, ApiError> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription_id))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(webhook_deliveries::id.gt(after.clone()));
    }
    if let Some(status) = filter.status {
        query = query.filter(webhook_deliveries::status.eq(status.as_str()));
    }
    if let Some(event) = filter.event {
        query = query.filter(webhook_deliveries::event_seq.eq(event));
    }
    let page = page.finish(query.load(conn)?, |r| &r.id);
    Ok(Page {
        items: with_log(conn, page.items)?,
        next_cursor: page.next_cursor,
    })
}

pub fn delivery(
    conn: &mut AnyConnection,
    subscription_id: &str,
    id: &str,
) -> Result<WebhookDelivery, ApiError> {
    let row = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription_id))
        .filter(webhook_deliveries::id.eq(id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no delivery `{id}` here")))?;
    Ok(with_log(conn, vec![row])?.remove(0))
}

fn new_delivery(
    subscription_id: &str,
    event: &EventRow,
    now: NaiveDateTime,
    retry_window: Duration,
) -> Result<DeliveryRow, ApiError> {
    Ok(DeliveryRow {
        id: new_id(),
        subscription_id: subscription_id.to_owned(),
        event_seq: event.seq,
        event_type: event.event_type.clone(),
        status: DeliveryStatus::Pending.as_str().to_owned(),
        attempts: 0,
        next_attempt_at: now,
        give_up_at: now + chrono::Duration::from_std(retry_window).map_err(ApiError::internal)?,
        created_at: now,
        updated_at: now,
    })
}

/// Queues one delivery of `event` to a subscription.
pub fn queue_one(
    conn: &mut AnyConnection,
    subscription_id: &str,
    event: &EventRow,
    now: NaiveDateTime,
    retry_window: Duration,
) -> Result<WebhookDelivery, ApiError> {
    let row = new_delivery(subscription_id, event, now, retry_window)?;
    diesel::insert_into(webhook_deliveries::table)
        .values(&row)
        .execute(conn)?;
    Ok(with_log(conn, vec![row])?.remove(0))
}

/// Events turned into deliveries per subscription per pass.
const QUEUE_BATCH: i64 = 500;

/// Turns events past each active subscription's cursor into deliveries.
/// Returns whether some subscription has more waiting.
/// `owner_scope` says what a subscription's owner may read now (`None`:
/// nothing); the service layer decides it.
pub fn queue_new_events(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    retry_window: Duration,
    owner_scope: impl Fn(&mut AnyConnection, &SubscriptionRow) -> Result<Option<Visibility>, ApiError>,
) -> Result<bool, ApiError> {
    let subs: Vec<SubscriptionRow> = webhook_subscriptions::table
        .filter(webhook_subscriptions::status.eq(SubscriptionStatus::Active.as_str()))
        .select(SubscriptionRow::as_select())
        .load(conn)?;
    let mut more = false;
    let head = changes::head(conn)?;
    for sub in subs {
        if sub.event_cursor >= head {
            continue;
        }
        // Every position up to `head` is given and no later event can take
        // one (see `changes::sequence`): passing over the events the filter
        // skips cannot skip a late commit.
        let after = sub.event_cursor.max(changes::pruned_through(conn)?);
        // An owner that may read nothing now (a disabled account) is sent
        // nothing: its cursor passes what it may not have.
        let Some(visibility) = owner_scope(conn, &sub)? else {
            diesel::update(
                webhook_subscriptions::table
                    .filter(webhook_subscriptions::id.eq(&sub.id))
                    .filter(webhook_subscriptions::event_cursor.eq(sub.event_cursor)),
            )
            .set(webhook_subscriptions::event_cursor.eq(head))
            .execute(conn)?;
            continue;
        };
        let query = FeedQuery {
            after,
            until: Some(head),
            limit: QUEUE_BATCH,
            types: split_list(&sub.event_types),
            alliance_id: sub.alliance_id.clone(),
            visibility,
        };
        let events = changes::read(conn, &query)?;
        let full = events.len() as i64 == QUEUE_BATCH;
        let through = match events.last() {
            Some(last) if full => last.seq,
            _ => head,
        };
        more |= full;
        let rows = events
            .iter()
            .map(|e| new_delivery(&sub.id, e, now, retry_window))
            .collect::<Result<Vec<_>, _>>()?;
        // Moved only from where it was read: a second replica doing the
        // same pass queues nothing twice.
        let moved = diesel::update(
            webhook_subscriptions::table
                .filter(webhook_subscriptions::id.eq(&sub.id))
                .filter(webhook_subscriptions::event_cursor.eq(sub.event_cursor)),
        )
        .set(webhook_subscriptions::event_cursor.eq(through))
        .execute(conn)?;
        if moved == 1 {
            // One by one: diesel has no batch insert over both engines.
            for row in &rows {
                diesel::insert_into(webhook_deliveries::table)
                    .values(row)
                    .execute(conn)?;
            }
        }
    }
    Ok(more)
}

/// A delivery claimed for one attempt, with what sending it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: String,
    pub subscription_id: String,
    pub url: String,
    pub secret: String,
    pub event_seq: i64,
    pub event_type: String,
    /// The event as the feed shows it; `None` when it is no longer kept.
    pub body: Option<String>,
}

/// Claims up to `limit` due deliveries of active subscriptions for one
/// attempt each, leasing them for `lease`.
pub fn claim_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<DueDelivery>, ApiError> {
    let candidates: Vec<(DeliveryRow, SubscriptionRow)> = webhook_deliveries::table
        .inner_join(webhook_subscriptions::table)
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(webhook_subscriptions::status.eq(SubscriptionStatus::Active.as_str()))
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .limit(limit)
        .select((DeliveryRow::as_select(), SubscriptionRow::as_select()))
        .load(conn)?;
    let until = now + chrono::Duration::from_std(lease).map_err(ApiError::internal)?;
    let mut due = Vec::with_capacity(candidates.len());
    for (d, s) in candidates {
        let claimed = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(&d.id))
                .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
                .filter(webhook_deliveries::next_attempt_at.eq(d.next_attempt_at)),
        )
        .set(webhook_deliveries::next_attempt_at.eq(until))
        .execute(conn)?;
        if claimed != 1 {
            continue;
        }
        let event: Option<EventRow> = change_events::table
            .filter(change_events::position.eq(d.event_seq))
            .select(EventRow::as_select())
            .first(conn)
            .optional()?;
        let body = event
            .map(|e| {
                ChangeEvent::try_from(e)
                    .and_then(|e| serde_json::to_string(&e).map_err(ApiError::internal))
            })
            .transpose()?;
        due.push(DueDelivery {
            id: d.id,
            subscription_id: s.id,
            url: s.url,
            secret: s.secret,
            event_seq: d.event_seq,
            event_type: d.event_type,
            body,
        });
    }
    Ok(due)
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub at: NaiveDateTime,
    pub succeeded: bool,
    pub response_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
}

/// The retry policy: exponential back-off with jitter, for a window.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The delay after the first failure; doubled after each further one.
    pub base: Duration,
    /// The longest delay between two attempts.
    pub max: Duration,
    /// How long a delivery is retried, and how long a subscription may fail
    /// without a single success before it is disabled.
    pub window: Duration,
}

impl RetryPolicy {
    /// The delay before attempt `failures + 1`: `base·2^(failures-1)`, capped
    /// at `max`, then drawn at random from its upper half so receivers that
    /// failed together do not all come back at once.
    pub fn delay(&self, failures: i32) -> Duration {
        let doubling = failures.saturating_sub(1).clamp(0, 30) as u32;
        let full = self.base.saturating_mul(1 << doubling).min(self.max);
        full.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

/// Logs an attempt and moves the delivery and its subscription on: done,
/// retried later, given up; a subscription failing for the whole window is
/// disabled with the reason.
pub fn record_attempt(
    conn: &mut AnyConnection,
    due: &DueDelivery,
    outcome: &AttemptOutcome,
    policy: &RetryPolicy,
) -> Result<(), ApiError> {
    let now = outcome.at;
    let Some(delivery): Option<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(&due.id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(()); // the subscription was deleted meanwhile
    };
    diesel::insert_into(webhook_attempts::table)
        .values(AttemptRow {
            id: new_id(),
            delivery_id: due.id.clone(),
            at: now,
            succeeded: outcome.succeeded,
            response_code: outcome.response_code,
            latency_ms: outcome.latency_ms,
            error: outcome.error.clone(),
        })
        .execute(conn)?;
    let attempts = delivery.attempts + 1;
    let (status, next) = if outcome.succeeded {
        (DeliveryStatus::Succeeded, now)
    } else if due.body.is_none() || now >= delivery.give_up_at {
        (DeliveryStatus::Failed, now)
    } else {
        let delay =
            chrono::Duration::from_std(policy.delay(attempts)).map_err(ApiError::internal)?;
        (DeliveryStatus::Pending, now + delay)
    };
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq(&due.id)))
        .set((
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::status.eq(status.as_str()),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;

    let sub =
        webhook_subscriptions::table.filter(webhook_subscriptions::id.eq(&due.subscription_id));
    if outcome.succeeded {
        diesel::update(sub)
            .set((
                webhook_subscriptions::last_success_at.eq(Some(now)),
                webhook_subscriptions::failing_since.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        return Ok(());
    }
    let health: Option<(Option<NaiveDateTime>, Option<NaiveDateTime>)> = sub
        .select((
            webhook_subscriptions::failing_since,
            webhook_subscriptions::last_success_at,
        ))
        .first(conn)
        .optional()?;
    let Some((failing_since, last_success)) = health else {
        return Ok(());
    };
    let since = failing_since.unwrap_or(now);
    let window = chrono::Duration::from_std(policy.window).map_err(ApiError::internal)?;
    // No success for a whole window: failing that long, or a delivery given
    // up with nothing delivered since it was queued.
    let given_up_unanswered = status == DeliveryStatus::Failed
        && due.body.is_some()
        && last_success.is_none_or(|s| s < delivery.created_at);
    if now - since >= window || given_up_unanswered {
        let reason = format!(
            "disabled at {}: no delivery succeeded within the retry window of {} s (failing since {}); last error: {}",
            utc(now).to_rfc3339(),
            policy.window.as_secs(),
            utc(since).to_rfc3339(),
            outcome.error.as_deref().unwrap_or("none")
        );
        diesel::update(
            sub.filter(webhook_subscriptions::status.eq(SubscriptionStatus::Active.as_str())),
        )
        .set((
            webhook_subscriptions::status.eq(SubscriptionStatus::Disabled.as_str()),
            webhook_subscriptions::disabled_reason.eq(Some(reason)),
            webhook_subscriptions::version.eq(webhook_subscriptions::version + 1),
            webhook_subscriptions::updated_at.eq(now),
        ))
        .execute(conn)?;
    } else if failing_since.is_none() {
        diesel::update(sub)
            .set(webhook_subscriptions::failing_since.eq(Some(now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether any subscription is active.
pub fn any_active(conn: &mut AnyConnection) -> Result<bool, ApiError> {
    Ok(
        diesel::select(diesel::dsl::exists(webhook_subscriptions::table.filter(
            webhook_subscriptions::status.eq(SubscriptionStatus::Active.as_str()),
        )))
        .get_result(conn)?,
    )
}

/// Whether a pass has anything to do: events not yet queued for an active
/// subscription, or a delivery due. Read without taking the writer's turn,
/// so a service without webhooks pays one cheap read per commit.
pub fn work_waiting(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<bool, ApiError> {
    let head = changes::head(conn)?;
    let behind: i64 = webhook_subscriptions::table
        .filter(webhook_subscriptions::status.eq(SubscriptionStatus::Active.as_str()))
        .filter(webhook_subscriptions::event_cursor.lt(head))
        .count()
        .get_result(conn)?;
    if behind > 0 {
        return Ok(true);
    }
    Ok(next_due(conn)?.is_some_and(|due| due <= now))
}

/// When the next pending delivery of an active subscription is due.
pub fn next_due(conn: &mut AnyConnection) -> Result<Option<NaiveDateTime>, ApiError> {
    Ok(webhook_deliveries::table
        .inner_join(webhook_subscriptions::table)
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(webhook_subscriptions::status.eq(SubscriptionStatus::Active.as_str()))
        .select(diesel::dsl::min(webhook_deliveries::next_attempt_at))
        .first(conn)?)
}

/// Deletes finished deliveries (and their log) last changed before `before`.
pub fn prune(conn: &mut AnyConnection, before: NaiveDateTime) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::status.ne(DeliveryStatus::Pending.as_str()))
            .filter(webhook_deliveries::updated_at.lt(before)),
    )
    .execute(conn)?)
}

/// How many deliveries there are in each status (`/metrics`).
pub fn deliveries_by_status(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>, ApiError> {
    Ok(webhook_deliveries::table
        .group_by(webhook_deliveries::status)
        .select((webhook_deliveries::status, diesel::dsl::count_star()))
        .load(conn)?)
}
