//! A committed change as the feed and webhooks show it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// One committed change. Webhook deliveries carry the same body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeEvent {
    /// This event's place in the feed, and its id: pass it as `after` to
    /// continue past it; a webhook delivered twice carries the same one.
    #[schema(example = "1042")]
    pub cursor: String,
    /// `<resource_type>.<created|updated|deleted>`, or `posting.published`
    /// when a posting becomes visible to the alliance's members.
    #[serde(rename = "type")]
    #[schema(example = "membership.created")]
    pub event_type: String,
    #[schema(example = "membership")]
    pub resource_type: String,
    pub resource_id: String,
    pub alliance_id: Option<String>,
    /// The resource's version after the change.
    pub version: i64,
    pub occurred_at: DateTime<Utc>,
    /// Who made the change (the token's subject).
    pub actor: String,
    /// The resource as it is after the change; for a deletion a tombstone
    /// `{"id": …, "deleted": true}`. A `kpi_year` carries its entries as
    /// stored (targets, hand-entered actuals, notes, evidence), not the
    /// derived figures: `GET …/kpis/{year}` computes those.
    #[schema(value_type = Object)]
    pub resource: Box<RawValue>,
}

impl super::PersonalData for ChangeEvent {
    /// A council seat's names masked as its own representation masks them;
    /// no other resource names people.
    fn masked(mut self) -> Self {
        if self.resource_type != "council_seat" {
            return self;
        }
        let Ok(mut seat) =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(self.resource.get())
        else {
            return self;
        };
        for field in ["person_name_zh", "person_name_en"] {
            if let Some(serde_json::Value::String(name)) = seat.get_mut(field) {
                *name = super::mask_person_name(name);
            }
        }
        if let Ok(raw) = serde_json::value::to_raw_value(&seat) {
            self.resource = raw;
        }
        self
    }
}

/// Whether `t` reads like an event type: `membership.created`.
pub fn is_event_type(t: &str) -> bool {
    t.split_once('.').is_some_and(|(resource, action)| {
        (1..=64).contains(&resource.len())
            && resource.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            && matches!(action, "created" | "updated" | "deleted" | "published")
    })
}
