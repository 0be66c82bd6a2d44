use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::organization::OrganizationSummary;
use super::{Versioned, text_enum};

text_enum!(
    MembershipRole {
        /// 牵头单位.
        Lead = "lead",
        CoLead = "co_lead",
        Member = "member",
    }
);

text_enum!(
    MembershipStatus {
        Active = "active",
        Suspended = "suspended",
        /// Closed with `left_on`; a closed membership is kept, never deleted.
        Left = "left",
    }
);

/// An organisation's place in an alliance, from the day it joined to the day
/// it left. History is never deleted: leaving closes the membership.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Membership {
    #[schema(example = "0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b")]
    pub id: String,
    pub alliance_id: String,
    pub organization_id: String,
    /// The organisation as it is now (read-only; part of this representation's ETag).
    pub organization: OrganizationSummary,
    pub role: MembershipRole,
    pub status: MembershipStatus,
    #[schema(example = "2023-05-08")]
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    #[schema(example = "named in the founding plan of 2023-05-08")]
    pub note: Option<String>,
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub organization_version: i64,
}

impl Versioned for Membership {
    /// The summary of the organisation is part of the body, so its version is
    /// part of the tag: a renamed organisation never hides behind a 304.
    fn etag(&self) -> String {
        format!("\"{}.{}\"", self.version, self.organization_version)
    }
}

/// Admits an organisation to an alliance.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreateMembership)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organization_id": "nankai-university", "role": "member", "joined_on": "2024-03-01"}))]
pub struct NewMembership {
    /// The organisation's id or slug.
    #[validate(length(min = 1, max = 64))]
    pub organization_id: String,
    #[serde(default = "default_role")]
    #[schema(default = "member")]
    pub role: MembershipRole,
    pub joined_on: NaiveDate,
    #[validate(length(max = 2000))]
    pub note: Option<String>,
}

/// Changes a membership. `left_on` closes it (status becomes `left`); a
/// closed membership cannot change again (a return is a new membership).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = UpdateMembership)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"left_on": "2025-12-31", "note": "withdrew after restructuring"}))]
pub struct MembershipPatch {
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub role: Option<MembershipRole>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub status: Option<MembershipStatus>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub left_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(max = 2000))]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
    /// Why the role or status changes; kept in the membership's history.
    #[validate(length(max = 2000))]
    #[schema(example = "merged into the group's Tianjin subsidiary")]
    pub reason: Option<String>,
}

text_enum!(
    MembershipChangeField {
        /// The membership began (`to`: the role it began with).
        Joined = "joined",
        Role = "role",
        Status = "status",
    }
);

/// One entry of a membership's history: a change of role or status, with
/// who made it, when, and why. Entries are only ever added.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipChange {
    pub id: String,
    pub membership_id: String,
    pub at: DateTime<Utc>,
    /// The subject of the token that made the change.
    #[schema(example = "secretariat@teda")]
    pub actor: String,
    pub field: MembershipChangeField,
    #[schema(example = "active")]
    pub from: Option<String>,
    #[schema(example = "left")]
    pub to: String,
    /// The day the change took effect, where the membership says (joined_on, left_on).
    pub effective_on: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// Why a membership change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipRuleError {
    #[error("the membership was closed on {0}; a return to the alliance is a new membership")]
    AlreadyLeft(NaiveDate),
    #[error("left_on ({left}) is before joined_on ({joined})")]
    LeftBeforeJoined { left: NaiveDate, joined: NaiveDate },
    #[error("status `left` needs left_on, the day the organisation left")]
    LeftWithoutDate,
    #[error("left_on goes with status `left`, not `{0}`")]
    DateWithoutLeaving(MembershipStatus),
}

impl MembershipPatch {
    /// Applies the change, keeping the rules: a closed membership stays
    /// closed; closing needs a date no earlier than joining; `left_on`
    /// alone closes the membership.
    pub fn apply(self, m: &mut Membership) -> Result<(), (&'static str, MembershipRuleError)> {
        if m.status == MembershipStatus::Left {
            let field = if self.status.is_some() {
                "status"
            } else {
                "left_on"
            };
            return Err((
                field,
                MembershipRuleError::AlreadyLeft(m.left_on.unwrap_or(m.joined_on)),
            ));
        }
        let status = match (self.status, self.left_on) {
            (Some(MembershipStatus::Left) | None, Some(_)) => Some(MembershipStatus::Left),
            (Some(MembershipStatus::Left), None) => {
                return Err(("left_on", MembershipRuleError::LeftWithoutDate));
            }
            (Some(other), Some(_)) => {
                return Err(("status", MembershipRuleError::DateWithoutLeaving(other)));
            }
            (s, None) => s,
        };
        if let Some(left) = self.left_on {
            if left < m.joined_on {
                return Err((
                    "left_on",
                    MembershipRuleError::LeftBeforeJoined {
                        left,
                        joined: m.joined_on,
                    },
                ));
            }
            m.left_on = Some(left);
        }
        if let Some(s) = status {
            m.status = s;
        }
        if let Some(r) = self.role {
            m.role = r;
        }
        if let Some(n) = self.note {
            m.note = n;
        }
        Ok(())
    }
}

fn default_role() -> MembershipRole {
    MembershipRole::Member
}
