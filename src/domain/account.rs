//! Accounts: who may get a token from `POST /auth/token`, with which role
//! and scope. The secret is shown once, when it is made; only its argon2
//! hash is kept, and no answer carries it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::role::Role;
use super::text_enum;

text_enum!(
    AccountKind {
        /// A person (a secretariat clerk, a reviewer at the commission).
        Human = "human",
        /// A member organisation's system that syncs through the API.
        System = "system",
    }
);

text_enum!(
    AccountStatus {
        /// May get tokens.
        Active = "active",
        /// Gets no new tokens; those already issued expire within their
        /// lifetime (15 minutes by default).
        Disabled = "disabled",
    }
);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Account {
    pub id: String,
    /// The `client_id` of `POST /auth/token`.
    #[schema(example = "kailaiying-hr")]
    pub name: String,
    pub kind: AccountKind,
    pub role: Role,
    /// Alliances (ids or slugs) a secretariat or member account covers.
    pub alliances: Vec<String>,
    /// The organisation a member account speaks for.
    pub organization: Option<String>,
    pub description: Option<String>,
    pub status: AccountStatus,
    /// When the current secret was made.
    pub secret_rotated_at: DateTime<Utc>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl crate::domain::Versioned for Account {
    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// An account and its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountWithSecret {
    #[serde(flatten)]
    pub account: Account,
    /// The `client_secret`: store it now; it cannot be shown again, only
    /// replaced (`POST /accounts/{id}/secret`).
    #[schema(example = "Qm9vZ3Vz…")]
    pub client_secret: String,
}

impl crate::domain::Versioned for AccountWithSecret {
    fn etag(&self) -> String {
        crate::domain::Versioned::etag(&self.account)
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreateAccount)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "kailaiying-hr", "kind": "system", "role": "member",
    "alliances": ["teda-biomedicine"], "organization": "kailaiying-pharma",
    "description": "HR system of 凯莱英"
}))]
pub struct NewAccount {
    /// Letters, digits, `-`, `_`, `.`; 3 to 64 characters.
    #[validate(
        length(min = 3, max = 64, message = "3 to 64 characters"),
        custom(function = "name_chars")
    )]
    pub name: String,
    pub kind: AccountKind,
    pub role: Role,
    #[serde(default)]
    #[validate(length(max = 50, message = "at most 50 alliances"))]
    pub alliances: Vec<String>,
    pub organization: Option<String>,
    #[validate(length(max = 500, message = "at most 500 characters"))]
    pub description: Option<String>,
}

fn name_chars(name: &str) -> Result<(), validator::ValidationError> {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid")
            .with_message("only letters, digits, `-`, `_` and `.`".into()))
    }
}

/// Changes an account: absent fields stay, `null` clears. Disabling it
/// stops new tokens at once.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = UpdateAccount)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "disabled"}))]
pub struct AccountPatch {
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(length(max = 50, message = "at most 50 alliances"))]
    pub alliances: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    pub organization: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(max = 500, message = "at most 500 characters"))]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub status: Option<AccountStatus>,
}

/// The body of `POST /accounts/{id}/secret`: nothing to say; send no body
/// or `{}`.
#[derive(Debug, Clone, Default, Validate, ToSchema)]
#[schema(example = json!({}))]
pub struct SecretRotation {}

/// Only `{}`: serde would take `[]` for a struct without fields too.
impl<'de> Deserialize<'de> for SecretRotation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        match fields.keys().next() {
            Some(key) => Err(serde::de::Error::unknown_field(key, &[])),
            None => Ok(SecretRotation {}),
        }
    }
}

/// `POST /auth/token`, as JSON (the form has the same fields). The client
/// id and secret come here or in an HTTP Basic `Authorization` header
/// (RFC 6749 §2.3.1), not both.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grant_type": "client_credentials", "client_id": "kailaiying-hr", "client_secret": "…"}))]
pub struct TokenRequest {
    /// `client_credentials` (the only grant).
    pub grant_type: String,
    /// The account's name; required unless sent with HTTP Basic.
    pub client_id: Option<String>,
    /// Required unless sent with HTTP Basic.
    pub client_secret: Option<String>,
    /// Accepted and not used: a token's scope is always its account's
    /// (RFC 6749 §3.3, a pre-defined scope).
    pub scope: Option<String>,
}

/// An access token (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds the token is valid.
    #[schema(example = 900)]
    pub expires_in: i64,
}
