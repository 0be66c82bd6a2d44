//! Token attacks (OWASP API2, broken authentication): each forged, stale or
//! misdirected token gets a 401 problem, and key rotation keeps tokens of
//! the previous key working. The service signs with an Ed25519 key (test
//! fixture) and still accepts the HS256 secret and an earlier secret.

use std::path::PathBuf;

use crate::common::{Engine, SECRET, TestApp};
use alliance_api::auth::Role;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const KID: &str = "2026-11";
const OLD_SECRET: &str = "the-previous-secret-rotated-out-2026-10";
const URL: &str = "/api/v1/alliances";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jwt")
        .join(name)
}

async fn spawn(engine: Engine) -> Option<TestApp> {
    TestApp::spawn_with(engine, |c| {
        c.jwt_signing_key = Some(fixture("2026-11.key.pem"));
        c.jwt_verifying_keys = vec![fixture("2026-11.pub.pem")];
        c.jwt_previous_secrets = vec![OLD_SECRET.into()];
    })
    .await
}

/// Claims as the service writes them, for a viewer, valid now.
fn claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": "attacker", "role": "viewer", "iss": "alliance-api", "aud": "alliance-api",
        "iat": now, "nbf": now, "exp": now + 600, "jti": "t-1"
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn ed25519(claims: &Value, kid: Option<&str>) -> String {
    let key =
        EncodingKey::from_ed_pem(&std::fs::read(fixture("2026-11.key.pem")).unwrap()).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn hs256(claims: &Value, kid: &str, secret: &[u8]) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// The `kid` the service gives an HS256 secret (a digest of it), read off
/// a token it signs with one.
fn kid_of_secret(secret: &str) -> String {
    let token = alliance_api::auth::JwtKeys::hs256(secret.as_bytes())
        .issue(&alliance_api::auth::Principal::system("test"), 60)
        .unwrap();
    jsonwebtoken::decode_header(&token).unwrap().kid.unwrap()
}

/// A token put together by hand: header and claims, then a signature made
/// by `sign` over `header.claims`.
fn handmade(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = URL_SAFE_NO_PAD.encode(sign(format!("{h}.{c}").as_bytes()));
    format!("{h}.{c}.{signature}")
}

async fn status_of(app: &TestApp, token: &str) -> (u16, Value) {
    let res = app.get(URL, token).await;
    let body = if res.status == 200 {
        Value::Null
    } else {
        assert_eq!(
            res.header("content-type"),
            Some("application/problem+json"),
            "{}",
            res.text()
        );
        assert_eq!(res.header("www-authenticate"), Some("Bearer"));
        res.json()
    };
    (res.status.as_u16(), body)
}

async fn forged_and_stale_tokens_get_401(engine: Engine) {
    let Some(app) = spawn(engine).await else {
        return;
    };
    let good = claims();
    // What should pass: the signing key, the current secret, the previous one.
    assert_eq!(status_of(&app, &ed25519(&good, Some(KID))).await.0, 200);
    assert_eq!(status_of(&app, &app.token(Role::Viewer)).await.0, 200);
    let old = hs256(&good, &kid_of_secret(OLD_SECRET), OLD_SECRET.as_bytes());
    assert_eq!(
        status_of(&app, &old).await.0,
        200,
        "a token of the previous secret"
    );
    let now = chrono::Utc::now().timestamp();
    let public_pem = std::fs::read(fixture("2026-11.pub.pem")).unwrap();

    let attacks: Vec<(&str, String)> = vec![
        (
            "alg none",
            handmade(
                &json!({"alg": "none", "typ": "JWT", "kid": KID}),
                &good,
                |_| vec![],
            ),
        ),
        (
            "HS256 signed with the public key (algorithm confusion)",
            handmade(
                &json!({"alg": "HS256", "typ": "JWT", "kid": KID}),
                &good,
                |m| {
                    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&public_pem).unwrap();
                    mac.update(m);
                    mac.finalize().into_bytes().to_vec()
                },
            ),
        ),
        (
            "expired",
            ed25519(&with(good.clone(), "exp", json!(now - 3600)), Some(KID)),
        ),
        (
            "not yet valid",
            ed25519(&with(good.clone(), "nbf", json!(now + 3600)), Some(KID)),
        ),
        (
            "wrong aud",
            ed25519(&with(good.clone(), "aud", json!("another-api")), Some(KID)),
        ),
        (
            "wrong iss",
            ed25519(&with(good.clone(), "iss", json!("someone-else")), Some(KID)),
        ),
        ("no aud", {
            let mut c = good.clone();
            c.as_object_mut().unwrap().remove("aud");
            ed25519(&c, Some(KID))
        }),
        ("tampered payload", {
            let token = ed25519(&good, Some(KID));
            let parts: Vec<&str> = token.split('.').collect();
            let admin =
                URL_SAFE_NO_PAD.encode(with(good.clone(), "role", json!("admin")).to_string());
            format!("{}.{admin}.{}", parts[0], parts[2])
        }),
        ("unknown kid", ed25519(&good, Some("2025-01"))),
        ("no kid", ed25519(&good, None)),
        (
            "an unknown secret under its own kid",
            hs256(
                &good,
                &kid_of_secret("x".repeat(40).as_str()),
                "x".repeat(40).as_bytes(),
            ),
        ),
        (
            "the current secret under the Ed25519 kid",
            hs256(&good, KID, SECRET.as_bytes()),
        ),
        ("not a JWT", "not-a-token".into()),
    ];
    for (attack, token) in attacks {
        let (status, problem) = status_of(&app, &token).await;
        assert_eq!(status, 401, "{attack}: {problem}");
        assert_eq!(problem["type"], "/problems/unauthorized", "{attack}");
    }
}

mod sqlite {
    #[actix_web::test]
    async fn forged_and_stale_tokens_get_401() {
        super::forged_and_stale_tokens_get_401(super::Engine::Sqlite).await
    }
}

mod postgres {
    #[actix_web::test]
    async fn forged_and_stale_tokens_get_401() {
        super::forged_and_stale_tokens_get_401(super::Engine::Postgres).await
    }
}
