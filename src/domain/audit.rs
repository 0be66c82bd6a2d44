//! An audit record as `GET /audit` shows it: who changed what, when, and
//! the resource before and after. Records are only ever appended.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecord {
    #[schema(example = 20417)]
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The token's subject (`system:<task>` for the service itself).
    #[schema(example = "secretariat:teda")]
    pub actor: String,
    /// `created`, `updated`, `deleted`, or `published` (a posting).
    #[schema(example = "updated")]
    pub action: String,
    #[schema(example = "membership")]
    pub resource_type: String,
    pub resource_id: String,
    /// The resource before the change (`null` for a creation).
    #[schema(value_type = Option<Object>)]
    pub before: Option<Box<RawValue>>,
    /// The resource after the change (`null` for a deletion).
    #[schema(value_type = Option<Object>)]
    pub after: Option<Box<RawValue>>,
}
