//! Account secrets: made random, kept only as an argon2id hash (PHC string
//! with its own salt and parameters), checked in constant time.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;

/// A new secret: 40 random letters and digits (about 238 bits).
pub fn generate() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

/// The hash to store.
pub fn hash(secret: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash a secret: {e}"))
}

/// Whether `secret` is the one `stored` hashes.
pub fn matches(secret: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to check against when the account does not exist, so an unknown
/// name costs the same time as a wrong secret.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&generate()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_secret_matches_its_hash_only() {
        let s = super::generate();
        let h = super::hash(&s).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains(&s));
        assert!(super::matches(&s, &h));
        assert!(!super::matches(&super::generate(), &h));
        assert!(!super::matches(&s, "not a hash"));
    }
}
