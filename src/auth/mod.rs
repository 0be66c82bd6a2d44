//! Bearer JWTs (HS256) carrying a role and a scope, and the checks every
//! handler makes with them.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::text_enum;
use crate::error::ApiError;

pub const ISSUER: &str = "alliance-api";

text_enum!(
    Role {
        /// Everything.
        Admin = "admin",
        /// Reads everything; approves, returns and reopens reports.
        Reviewer = "reviewer",
        /// Writes within its alliances.
        Secretariat = "secretariat",
        /// Reads its alliances, edits its own organisation.
        Member = "member",
        /// Reads only.
        Viewer = "viewer",
    }
);

/// What a token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    /// Alliances (ids or slugs) a secretariat or member token covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alliances: Vec<String>,
    /// The organisation a member token speaks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Who is acting: the verified claims of a request's token, or the system
/// itself for the command line and the demo seed.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub alliances: Vec<String>,
    pub organization: Option<String>,
}

impl Principal {
    /// The service acting on its own behalf (seeding, operator commands).
    pub fn system(task: &str) -> Self {
        Principal {
            subject: format!("system:{task}"),
            role: Role::Admin,
            alliances: vec![],
            organization: None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the token names this alliance (by id or by slug).
    pub fn covers_alliance(&self, id: &str, slug: &str) -> bool {
        self.alliances.iter().any(|a| a == id || a == slug)
    }

    /// Writes to an alliance's records: admin, or a secretariat of it.
    pub fn ensure_alliance_writer(&self, id: &str, slug: &str) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Secretariat if self.covers_alliance(id, slug) => Ok(()),
            Role::Secretariat => Err(ApiError::Forbidden(format!(
                "this token does not cover the alliance `{slug}`"
            ))),
            role => Err(ApiError::Forbidden(format!(
                "the role `{role}` cannot change alliance records"
            ))),
        }
    }

    pub fn ensure_admin(&self, what: &str) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("only an admin can {what}")))
        }
    }

    /// Roles that may write at all (to some alliance or organisation).
    pub fn ensure_role(&self, allowed: &[Role], what: &str) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the role `{}` cannot {what}",
                self.role
            )))
        }
    }
}

impl From<Claims> for Principal {
    fn from(c: Claims) -> Self {
        Principal {
            subject: c.sub,
            role: c.role,
            alliances: c.alliances,
            organization: c.org,
        }
    }
}

/// Signing and verification keys.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn hs256(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 30;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs a token for `principal` valid for `ttl_seconds`.
    pub fn issue(&self, principal: &Principal, ttl_seconds: i64) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: principal.subject.clone(),
            role: principal.role,
            alliances: principal.alliances.clone(),
            org: principal.organization.clone(),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + ttl_seconds,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims.into())
            .map_err(|e| ApiError::Unauthorized(format!("the bearer token is not valid: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_a_foreign_one_does_not() {
        let keys = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
        let p = Principal {
            subject: "u1".into(),
            role: Role::Secretariat,
            alliances: vec!["teda".into()],
            organization: None,
        };
        let t = keys.issue(&p, 60).unwrap();
        let back = keys.verify(&t).unwrap();
        assert_eq!(back.role, Role::Secretariat);
        assert_eq!(back.alliances, vec!["teda".to_string()]);
        let other = JwtKeys::hs256(b"another-secret-another-secret-xx");
        assert!(matches!(other.verify(&t), Err(ApiError::Unauthorized(_))));
        let expired = keys.issue(&p, -120).unwrap();
        assert!(keys.verify(&expired).is_err());
    }
}
