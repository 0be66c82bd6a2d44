//! Bearer JWTs carrying a role and a scope, and the checks every handler
//! makes with them.
//!
//! Keys form a ring: one signs (HS256 from the secret by default, or an
//! Ed25519 or RSA key from a PEM file), and every key in the ring verifies,
//! chosen by the token's `kid`, so a key can be replaced without downtime:
//! add the new one, switch signing to it, drop the old one once the last
//! token it signed has expired.

pub mod secret;
pub mod throttle;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::error::ApiError;

pub const ISSUER: &str = "alliance-api";
/// Who tokens are for: this API (`aud`).
pub const AUDIENCE: &str = "alliance-api";

pub use crate::domain::role::Role;

/// The token of `Authorization: Bearer <token>` (the scheme in any case,
/// spaces around the token ignored): what authentication verifies, and so
/// what the rate limit counts.
pub fn bearer_token(headers: &actix_web::http::header::HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("send `Authorization: Bearer <token>`".into()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not ASCII".into()))?;
    value
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })
}

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
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// The token's own id, for the audit trail.
    pub jti: String,
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

    /// Who this is and what it may reach: the subject with the role and
    /// the scope the token states. Two tokens that share a subject but not a
    /// scope are different callers to everything that keeps state per
    /// caller (idempotent replays, webhook subscriptions).
    pub fn identity(&self) -> String {
        let mut alliances = self.alliances.clone();
        alliances.sort();
        format!(
            "{} {} [{}] {}",
            self.subject,
            self.role,
            alliances.join(","),
            self.organization.as_deref().unwrap_or("-")
        )
    }

    /// The scope as subscriptions keep it (`owner_alliances`).
    pub fn scope_list(&self) -> String {
        let mut alliances = self.alliances.clone();
        alliances.sort();
        alliances.join(",")
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the token reads and writes only within the alliances it
    /// names (secretariat and member tokens).
    pub fn scoped(&self) -> bool {
        matches!(self.role, Role::Secretariat | Role::Member)
    }

    /// Whether the token names this alliance (by id or by slug).
    pub fn covers_alliance(&self, id: &str, slug: &str) -> bool {
        self.alliances.iter().any(|a| a == id || a == slug)
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

/// A key that verifies tokens whose header names its `kid`.
struct VerifyingKey {
    kid: String,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// The signing key and every verification key.
pub struct JwtKeys {
    kid: String,
    algorithm: Algorithm,
    signing: EncodingKey,
    verifying: Vec<VerifyingKey>,
}

/// The id of an HS256 key: a digest of it, so the `kid` names the key
/// without revealing it.
fn secret_kid(secret: &[u8]) -> String {
    let digest = sha2::Sha256::digest(secret);
    format!("hs256-{}", hex_prefix(&digest, 8))
}

fn hex_prefix(bytes: &[u8], n: usize) -> String {
    hex::encode(&bytes[..(n / 2).min(bytes.len())])
}

impl JwtKeys {
    /// Signs and verifies with one HS256 secret.
    pub fn hs256(secret: &[u8]) -> Self {
        let kid = secret_kid(secret);
        JwtKeys {
            kid: kid.clone(),
            algorithm: Algorithm::HS256,
            signing: EncodingKey::from_secret(secret),
            verifying: vec![VerifyingKey {
                kid,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret),
            }],
        }
    }

    /// Also accepts tokens signed with an earlier HS256 secret.
    pub fn verifying_secret(mut self, secret: &[u8]) -> Self {
        self.verifying.push(VerifyingKey {
            kid: secret_kid(secret),
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(secret),
        });
        self
    }

    /// Signs with a private key (PKCS#8 PEM, Ed25519 or RSA; RSA signs
    /// RS256) under `kid`. Its public half must be in the ring too
    /// ([`JwtKeys::verifying_pem`]).
    pub fn signing_pem(mut self, kid: &str, pem: &[u8]) -> anyhow::Result<Self> {
        let (algorithm, signing) = match EncodingKey::from_ed_pem(pem) {
            Ok(key) => (Algorithm::EdDSA, key),
            Err(_) => (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(pem).map_err(|e| {
                    anyhow::anyhow!("the signing key is neither Ed25519 nor RSA PEM: {e}")
                })?,
            ),
        };
        self.kid = kid.to_owned();
        self.algorithm = algorithm;
        self.signing = signing;
        Ok(self)
    }

    /// Accepts tokens signed by the private half of a public key (SPKI PEM,
    /// Ed25519 or RSA) whose header names `kid`.
    pub fn verifying_pem(mut self, kid: &str, pem: &[u8]) -> anyhow::Result<Self> {
        let (algorithm, key) = match DecodingKey::from_ed_pem(pem) {
            Ok(key) => (Algorithm::EdDSA, key),
            Err(_) => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(pem).map_err(|e| {
                    anyhow::anyhow!("the key `{kid}` is neither Ed25519 nor RSA PEM: {e}")
                })?,
            ),
        };
        anyhow::ensure!(
            !self.verifying.iter().any(|k| k.kid == kid),
            "two verification keys have the id `{kid}`"
        );
        self.verifying.push(VerifyingKey {
            kid: kid.to_owned(),
            algorithm,
            key,
        });
        Ok(self)
    }

    /// The ids of the keys that verify, signing key first.
    pub fn key_ids(&self) -> Vec<&str> {
        let mut ids = vec![self.kid.as_str()];
        ids.extend(
            self.verifying
                .iter()
                .map(|k| k.kid.as_str())
                .filter(|k| *k != self.kid),
        );
        ids
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
            aud: AUDIENCE.to_owned(),
            iat: now,
            nbf: now,
            exp: now + ttl_seconds,
            jti: uuid::Uuid::now_v7().to_string(),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.signing)?)
    }

    /// The principal a token speaks for. The header's `kid` picks the key,
    /// and the header's algorithm must be that key's own (so a token cannot
    /// pass off a public key as an HMAC secret); then the signature, `iss`,
    /// `aud`, `exp` and `nbf` (30 s of leeway for clocks) are checked.
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let invalid =
            |why: String| ApiError::Unauthorized(format!("the bearer token is not valid: {why}"));
        // The reasons are ours, never the library's text or the token's own
        // values echoed back (the caller's `kid`).
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("it is not a signed JWT".into()))?;
        let kid = header
            .kid
            .ok_or_else(|| invalid("its header names no key (`kid`)".into()))?;
        let key = self
            .verifying
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| invalid("its key id (`kid`) names no key of this service".into()))?;
        if header.alg != key.algorithm {
            return Err(invalid(
                "its algorithm is not the one its key signs with".into(),
            ));
        }
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map(|data| data.claims.into())
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                invalid(
                    match e.kind() {
                        ErrorKind::ExpiredSignature => "it has expired",
                        ErrorKind::ImmatureSignature => "it is not valid yet (`nbf`)",
                        ErrorKind::InvalidIssuer => "it was not issued by this service",
                        ErrorKind::InvalidAudience => "it is not meant for this service",
                        ErrorKind::InvalidSignature => "its signature does not hold",
                        ErrorKind::MissingRequiredClaim(_) => "it lacks a required claim",
                        _ => "its claims cannot be read",
                    }
                    .into(),
                )
            })
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
