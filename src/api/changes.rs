//! `GET /changes`: the change feed member systems follow to keep their copy
//! in sync — every committed change once, each record's in commit order.

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::ApiQuery;
use crate::auth::Principal;
use crate::db::Db;
use crate::db::changes::{self, FeedQuery, Visibility};
use crate::domain::change::{ChangeEvent, is_event_type};
use crate::error::{ApiError, FieldError, Problem};

const MAX_WAIT_SECONDS: u64 = 30;
/// How often a long-poll looks again for writes made by other replicas.
const POLL_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next_cursor` of the previous call; omit (or `0`) to start from
    /// the oldest event kept.
    #[param(pattern = "^[0-9]{0,18}$", example = "0")]
    pub after: Option<String>,
    /// Events per call, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000, example = 100)]
    pub limit: Option<i64>,
    /// Only these event types, comma-separated.
    #[param(
        pattern = r"^([a-z_]+\.(created|updated|deleted|published)(,[a-z_]+\.(created|updated|deleted|published))*)?$",
        example = "membership.created,membership.updated"
    )]
    pub types: Option<String>,
    /// Only events of this alliance (id or slug).
    #[param(example = "teda-biomedicine")]
    pub alliance: Option<String>,
    /// Seconds to wait for an event when there is none yet (long-poll), 0–30.
    #[param(minimum = 0, maximum = 30, example = 25)]
    pub wait: Option<u64>,
}

/// A batch of the feed. `next_cursor` is always set: call again with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    pub items: Vec<ChangeEvent>,
    #[schema(example = "1042")]
    pub next_cursor: String,
}

fn bad(field: &str, message: &str) -> ApiError {
    ApiError::BadRequest {
        detail: format!("{field}: {message}"),
        errors: vec![FieldError::new(field, "invalid", message)],
    }
}

/// Reads the feed: events after `after`, oldest first. With `wait`, an
/// empty answer is held back until an event arrives or the time is up.
#[utoipa::path(
    operation_id = "list_changes",
    tag = "changes",
    params(ChangesQuery),
    responses(
        (status = 200, description = "The next events, in feed order: each record's changes in the order they were committed", body = ChangePage),
        (status = 403, description = "`alliance` names an alliance outside the token's scope",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`alliance` names no alliance",
            body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`after` is older than the events kept: list the resources again and continue from the cursor the problem names",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/changes")]
pub async fn list(
    db: web::Data<Db>,
    shutdown: web::Data<crate::shutdown::Shutdown>,
    caller: Principal,
    query: ApiQuery<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let after = match q.after.as_deref() {
        None | Some("") => 0,
        Some(a) => Some(a)
            .filter(|a| a.len() <= 18 && a.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|a| a.parse::<i64>().ok())
            .ok_or_else(|| bad("after", "use a next_cursor this service gave"))?,
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(bad("limit", "limit must be between 1 and 1000"));
    }
    let types: Vec<String> = q
        .types
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(t) = types.iter().find(|t| !is_event_type(t)) {
        return Err(bad(
            "types",
            &format!("`{t}` is not an event type like `membership.created`"),
        ));
    }
    let wait = q.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        return Err(bad("wait", "wait is at most 30 seconds"));
    }
    let wait = Duration::from_secs(wait);
    let who = caller.clone();
    let feed = {
        let alliance = q.alliance.clone();
        db.read(move |c| {
            let visibility = crate::service::scope::visibility(c, &caller)?;
            let alliance_id = match alliance {
                None => None,
                Some(key) => {
                    let a = crate::db::alliances::find(c, &key)?;
                    if let Visibility::Alliances(ids) = &visibility
                        && !ids.contains(&a.id)
                    {
                        return Err(ApiError::Forbidden(format!(
                            "this token does not cover the alliance `{}`",
                            a.slug
                        )));
                    }
                    Some(a.id)
                }
            };
            Ok(FeedQuery {
                after,
                until: None,
                limit,
                types,
                alliance_id,
                visibility,
            })
        })
        .await?
    };
    let deadline = Instant::now() + wait;
    loop {
        // Listen before reading, so a commit between the read and the wait
        // is not slept through.
        let committed = db.committed();
        let batch = feed.clone();
        let rows = db
            .read_positioned(move |c| changes::read(c, &batch))
            .await?;
        let left = deadline.saturating_duration_since(Instant::now());
        if !rows.is_empty() || left.is_zero() {
            let next_cursor = rows.last().map_or(after, |r| r.seq).to_string();
            let items = rows
                .into_iter()
                .map(ChangeEvent::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            let items = super::shown_to(&who, items);
            return Ok(HttpResponse::Ok().json(ChangePage { items, next_cursor }));
        }
        // A stopping process answers at once with what there is.
        if shutdown.is_stopping() {
            let items = super::shown_to(&who, Vec::<ChangeEvent>::new());
            return Ok(HttpResponse::Ok().json(ChangePage {
                items,
                next_cursor: after.to_string(),
            }));
        }
        tokio::select! {
            _ = tokio::time::timeout(left.min(POLL_EVERY), committed) => {}
            _ = shutdown.stopping() => {}
        }
    }
}
