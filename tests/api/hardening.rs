//! Hardening: cross-origin access only for configured origins, security
//! headers on every answer (and a CSP on the docs), and no secret in the
//! logs even at debug level.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Engine, TestApp};
use serde_json::json;

const SCREEN: &str = "https://screen.example.cn";

async fn preflight(app: &TestApp, origin: &str) -> crate::common::Response {
    app.send(
        app.client
            .request(
                actix_web::http::Method::OPTIONS,
                app.url("/api/v1/alliances"),
            )
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", "GET"))
            .insert_header(("Access-Control-Request-Headers", "authorization")),
        None,
    )
    .await
}

async fn get_from(app: &TestApp, origin: &str) -> crate::common::Response {
    app.send(
        app.client
            .get(app.url("/api/v1/alliances"))
            .bearer_auth(app.viewer())
            .insert_header(("Origin", origin)),
        None,
    )
    .await
}

async fn cross_origin_access_is_off_unless_configured(engine: Engine) {
    let Some(closed) = TestApp::spawn(engine).await else {
        return;
    };
    let res = get_from(&closed, SCREEN).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), None);
    let res = preflight(&closed, SCREEN).await;
    assert_eq!(res.header("access-control-allow-origin"), None);
    assert!(!res.status.is_success(), "{}", res.status);

    let Some(open) = TestApp::spawn_with(engine, |c| c.cors_origins = vec![SCREEN.into()]).await
    else {
        return;
    };
    let res = preflight(&open, SCREEN).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("access-control-allow-origin"), Some(SCREEN));
    let res = get_from(&open, SCREEN).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), Some(SCREEN));
    let exposed = res
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    for name in ["etag", "request-id", "ratelimit-remaining"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    // Another origin gets no grant.
    let res = get_from(&open, "https://evil.example.com").await;
    assert_eq!(res.header("access-control-allow-origin"), None);
    let res = preflight(&open, "https://evil.example.com").await;
    assert_eq!(res.header("access-control-allow-origin"), None);
}

async fn every_answer_carries_the_security_headers(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    for (path, token) in [
        ("/api/v1/alliances", app.viewer()),
        ("/api/v1/alliances", String::new()),
        ("/docs/", String::new()),
        ("/api/v1/openapi.json", String::new()),
    ] {
        let res = app.get(path, &token).await;
        assert_eq!(
            res.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(res.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    let docs = app.get("/docs/", "").await;
    assert_eq!(docs.status, 200);
    let csp = docs.header("content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
        "{csp}"
    );
    // The dashboard keeps its own, stricter policy.
    let page = app.get("/dashboard", "").await;
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("script-src 'self';")
    );
}

/// The real binary at debug level: a bearer token, the signing secret and a
/// webhook's signing secret never reach its output.
#[actix_web::test]
async fn secrets_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logs.db");
    let secret = "log-test-secret-log-test-secret-log-0001";
    let port = crate::common::free_port();
    let command = |args: &[&str]| {
        let mut cmd = crate::common::binary(&db, args);
        cmd.env("ALLIANCE_JWT_SECRET", secret)
            .env("ALLIANCE_ADDR", format!("127.0.0.1:{port}"))
            .env("ALLIANCE_DEMO_SEED", "off")
            .env("ALLIANCE_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
            .env("RUST_LOG", "debug");
        cmd
    };
    let token = String::from_utf8(
        command(&["token", "--role", "admin"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let mut server = command(&["serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::default();
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "never ready");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let mut res = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(&token)
        .send_json(&json!({"url": format!("http://127.0.0.1:{port}/nowhere"), "event_types": ["organization.created"]}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    let hook_secret = created["secret"].as_str().unwrap().to_owned();
    let res = client
        .get(format!("{base}/api/v1/alliances"))
        .insert_header(("Authorization", format!("Bearer {token}x")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = client
        .post(format!("{base}/api/v1/organizations"))
        .bearer_auth(&token)
        .send_json(&json!({"slug": "log-test-co", "kind": "enterprise", "name_zh": "日志测试企业"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    server.kill().unwrap();
    server.wait().unwrap();
    let mut logs = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("request"),
        "the service logged nothing: {logs}"
    );
    let signature = token.rsplit('.').next().unwrap();
    for (what, value) in [
        ("the token's signature", signature),
        ("the JWT secret", secret),
        ("the webhook secret", hook_secret.as_str()),
    ] {
        assert!(!logs.contains(value), "{what} is in the logs");
    }
}

mod sqlite {
    #[actix_web::test]
    async fn cross_origin_access_is_off_unless_configured() {
        super::cross_origin_access_is_off_unless_configured(super::Engine::Sqlite).await
    }

    #[actix_web::test]
    async fn every_answer_carries_the_security_headers() {
        super::every_answer_carries_the_security_headers(super::Engine::Sqlite).await
    }
}

mod postgres {
    #[actix_web::test]
    async fn cross_origin_access_is_off_unless_configured() {
        super::cross_origin_access_is_off_unless_configured(super::Engine::Postgres).await
    }

    #[actix_web::test]
    async fn every_answer_carries_the_security_headers() {
        super::every_answer_carries_the_security_headers(super::Engine::Postgres).await
    }
}
