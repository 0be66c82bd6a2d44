//! Webhook subscriptions and their deliveries: a member system (or a
//! dashboard) is told of every change it may see, signed, retried for a day.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::{EventType, Url, Versioned, text_enum};

text_enum!(
    SubscriptionStatus {
        /// Deliveries are made.
        Active = "active",
        /// No deliveries are made, by request or after sustained failure
        /// (see `disabled_reason`). Set back to `active` to resume from
        /// where it stopped: events in between are delivered then.
        Disabled = "disabled",
    }
);

text_enum!(
    DeliveryStatus {
        /// Not yet delivered; retried with exponential back-off.
        Pending = "pending",
        /// The receiver answered 2xx.
        Succeeded = "succeeded",
        /// Given up after the retry window (a day by default).
        Failed = "failed",
    }
);

/// A webhook subscription. Its deliveries show no more than the token that
/// made it could read from the change feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookSubscription {
    #[schema(example = "0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b")]
    pub id: String,
    #[schema(example = "https://hr.example.com/hooks/alliance")]
    pub url: String,
    /// Only these event types; empty means every type.
    #[schema(example = json!(["organization.updated", "membership.created"]))]
    pub event_types: Vec<String>,
    /// Only events of this alliance; `null` means every alliance the
    /// owner may see.
    pub alliance_id: Option<String>,
    #[schema(example = "HR system of 凯莱英")]
    pub description: Option<String>,
    pub status: SubscriptionStatus,
    /// Why it is disabled: by request, or the failure that disabled it.
    #[schema(example = json!(null))]
    pub disabled_reason: Option<String>,
    /// The subject of the token that made it.
    #[schema(example = "hr-system@kailaiying")]
    pub owner: String,
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for WebhookSubscription {
    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// A new subscription, with its signing secret: the only time it is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedWebhookSubscription {
    #[serde(flatten)]
    pub subscription: WebhookSubscription,
    /// Signs every delivery: `Alliance-Signature: t=<unix time>,v1=<hex
    /// HMAC-SHA256(secret, "<t>.<body>")>`. Shown only in this answer.
    #[schema(example = "whsec_3kq9ZJXz0mW7tP1vR8sYb2LcN5dF6gHa")]
    pub secret: String,
}

impl Versioned for CreatedWebhookSubscription {
    fn etag(&self) -> String {
        self.subscription.etag()
    }
}

/// Subscribes a URL to change events. The URL must not point at this
/// machine or a private network unless the operator allows it.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreateWebhookSubscription)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://hr.example.com/hooks/alliance",
    "event_types": ["organization.updated", "membership.created", "membership.updated"],
    "alliance": "teda-biomedicine",
    "description": "HR system of 凯莱英"
}))]
pub struct NewWebhookSubscription {
    pub url: Url,
    /// Only these event types (at most 50); empty or absent: every type.
    #[serde(default)]
    #[validate(
        length(max = 50, message = "at most 50 event types"),
        custom(function = "distinct_types")
    )]
    pub event_types: Vec<EventType>,
    /// Only events of this alliance (id or slug).
    #[schema(example = "teda-biomedicine")]
    pub alliance: Option<String>,
    #[validate(length(max = 500, message = "at most 500 characters"))]
    pub description: Option<String>,
}

/// Changes a subscription: absent fields stay, `null` clears. Setting
/// `status` to `active` re-enables it after a failure.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = UpdateWebhookSubscription)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "active"}))]
pub struct WebhookSubscriptionPatch {
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub url: Option<Url>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(
        length(max = 50, message = "at most 50 event types"),
        custom(function = "distinct_types")
    )]
    pub event_types: Option<Vec<EventType>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    pub alliance: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(max = 500, message = "at most 500 characters"))]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub status: Option<SubscriptionStatus>,
}

fn distinct_types(types: &[EventType]) -> Result<(), ValidationError> {
    let mut seen = std::collections::HashSet::new();
    if types.iter().all(|t| seen.insert(t.as_str())) {
        Ok(())
    } else {
        Err(ValidationError::new("duplicate").with_message("an event type is listed twice".into()))
    }
}

/// One event on its way to one subscription, with every attempt made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookDelivery {
    #[schema(example = "0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5c")]
    pub id: String,
    pub subscription_id: String,
    /// The event's cursor (its id); also sent as `Alliance-Event-Id`.
    #[schema(example = "1042")]
    pub event: String,
    #[schema(example = "membership.created")]
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Retries stop at this time.
    pub give_up_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub log: Vec<WebhookAttempt>,
}

/// One POST to the receiver.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookAttempt {
    pub at: DateTime<Utc>,
    /// Whether the receiver answered 2xx in time.
    pub succeeded: bool,
    /// The receiver's HTTP status; `null` when there was no answer.
    #[schema(example = 200)]
    pub response_code: Option<i32>,
    /// From sending the request to the end of the answer's headers.
    #[schema(example = 84)]
    pub latency_ms: i32,
    #[schema(example = json!(null))]
    pub error: Option<String>,
}

/// Sends one event to a subscription again.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "1042"}))]
pub struct Redelivery {
    /// The event's cursor.
    #[schema(pattern = "^[0-9]{1,18}$")]
    #[validate(custom(function = "event_cursor"))]
    pub event: String,
}

fn event_cursor(c: &str) -> Result<(), ValidationError> {
    if (1..=18).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ValidationError::new("invalid").with_message("use an event's cursor".into()))
    }
}

impl Redelivery {
    pub fn seq(&self) -> i64 {
        self.event.parse().unwrap_or(-1)
    }
}

impl Versioned for WebhookDelivery {
    /// Deliveries change as attempts are made; the time of the last change
    /// and the attempt count tag the representation.
    fn etag(&self) -> String {
        format!(
            "\"{}.{}\"",
            self.updated_at.timestamp_micros(),
            self.attempts
        )
    }
}
