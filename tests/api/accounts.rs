//! Accounts and `POST /auth/token`: an admin makes an account, its secret
//! is shown once and kept only as an argon2 hash; the account trades it
//! for a token with its role and scope; rotation and disabling take effect
//! at once; no one but an admin manages accounts.

use crate::common::TestApp;
use alliance_api::auth::Role;
use alliance_api::db::schema::accounts;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use diesel::prelude::*;
use serde_json::{Value, json};

async fn token_with(app: &TestApp, client_id: &str, secret: &str) -> crate::common::Response {
    app.post(
        "/api/v1/auth/token",
        "",
        &json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}),
    )
    .await
}

async fn an_account_gets_tokens_with_its_role_and_scope(mut app: TestApp) {
    app.seed_registry().await;
    let admin = app.admin();
    let res = app
        .post(
            "/api/v1/accounts",
            &admin,
            &json!({"name": "asymchem-hr", "kind": "system", "role": "member",
                    "alliances": ["teda-biomedicine"], "organization": "asymchem"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let created = res.json();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);

    // The secret is never shown again and is stored only as a hash.
    let shown = app.get(&format!("/api/v1/accounts/{id}"), &admin).await;
    assert_eq!(shown.status, 200);
    let shown = shown.text();
    assert!(
        !shown.contains(&secret) && !shown.contains("secret_hash"),
        "{shown}"
    );
    let listed = app.get("/api/v1/accounts", &admin).await.text();
    assert!(
        !listed.contains(&secret) && !listed.contains("argon2"),
        "{listed}"
    );
    let hash: String = accounts::table
        .filter(accounts::id.eq(&id))
        .select(accounts::secret_hash)
        .first(&mut *app.conn())
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(&secret));
    let audit = app
        .get(&format!("/api/v1/audit?resource_id={id}"), &admin)
        .await
        .text();
    assert!(audit.contains("asymchem-hr") && !audit.contains(&secret) && !audit.contains("argon2"));

    // JSON or a form: a token with the account's role and scope.
    let res = token_with(&app, "asymchem-hr", &secret).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let issued = res.json();
    assert_eq!(issued["token_type"], "Bearer");
    assert_eq!(issued["expires_in"], 900);
    let token = issued["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/alliances", &token).await.status, 200);
    app.get("/api/v1/accounts", &token).await.problem(403);
    let form = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/token"))
                .content_type("application/x-www-form-urlencoded"),
            Some(
                format!(
                    "grant_type=client_credentials&client_id=asymchem-hr&client_secret={secret}"
                )
                .into_bytes(),
            ),
        )
        .await;
    assert_eq!(form.status, 200, "{}", form.text());

    // HTTP Basic (RFC 6749 §2.3.1), with the body holding only the grant.
    let basic = |credentials: &str, body: &str| {
        let req = app
            .client
            .post(app.url("/api/v1/auth/token"))
            .insert_header((
                "authorization",
                format!("Basic {}", STANDARD.encode(credentials)),
            ))
            .content_type("application/x-www-form-urlencoded");
        app.send(req, Some(body.as_bytes().to_vec()))
    };
    let res = basic(
        &format!("asymchem-hr:{secret}"),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["access_token"].is_string());
    let res = basic(
        "asymchem-hr:not-the-secret",
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(res.oauth_error(401), "invalid_client");
    assert_eq!(
        res.header("www-authenticate"),
        Some("Basic realm=\"alliance-api\"")
    );
    // Errors are OAuth2's (RFC 6749 §5.2), whatever refused the request.
    // Credentials in both places are refused; in neither, named missing.
    let both = basic(
        &format!("asymchem-hr:{secret}"),
        &format!("grant_type=client_credentials&client_secret={secret}"),
    )
    .await;
    assert_eq!(both.oauth_error(400), "invalid_request");
    let res = app
        .post(
            "/api/v1/auth/token",
            "",
            &json!({"grant_type": "client_credentials"}),
        )
        .await;
    assert_eq!(res.oauth_error(400), "invalid_request");
    assert_eq!(
        res.json()["error_description"],
        "client_id: required unless sent with HTTP Basic; client_secret: required unless sent with HTTP Basic"
    );
    let res = basic(
        &format!("asymchem-hr:{secret}"),
        "grant_type=client_credentials&grant_type=x",
    )
    .await;
    assert_eq!(res.oauth_error(400), "invalid_request");
    let res = basic(
        &format!("asymchem-hr:{secret}"),
        "grant_type=client_credentials&colour=blue",
    )
    .await;
    assert_eq!(res.oauth_error(400), "invalid_request");
    let res = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/token"))
                .content_type("text/plain"),
            Some(b"grant_type=client_credentials".to_vec()),
        )
        .await;
    assert_eq!(res.oauth_error(400), "invalid_request");
    // A scope is taken and not used: a token's scope is its account's.
    let scoped = basic(
        &format!("asymchem-hr:{secret}"),
        "grant_type=client_credentials&scope=read",
    )
    .await;
    assert_eq!(scoped.status, 200, "{}", scoped.text());

    // A wrong secret and an unknown client look the same.
    let wrong = token_with(&app, "asymchem-hr", "not-the-secret").await;
    assert_eq!(wrong.oauth_error(401), "invalid_client");
    let unknown = token_with(&app, "nobody", &secret).await;
    assert_eq!(unknown.oauth_error(401), "invalid_client");
    assert_eq!(wrong.json(), unknown.json());
    let res = basic(&format!("asymchem-hr:{secret}"), "grant_type=password").await;
    assert_eq!(res.oauth_error(400), "unsupported_grant_type");
    // Other paths keep their problems.
    app.get("/api/v1/auth/token", "").await.problem(405);

    // Rotation: the old secret stops at once, the new one works.
    for not_empty in [json!([]), json!({"secret": "mine"})] {
        let res = app
            .post(&format!("/api/v1/accounts/{id}/secret"), &admin, &not_empty)
            .await;
        assert!(res.status.is_client_error(), "{not_empty}: {}", res.status);
    }
    token_with(&app, "asymchem-hr", &secret).await;
    assert_eq!(
        token_with(&app, "asymchem-hr", &secret).await.status,
        200,
        "not rotated"
    );
    let res = app
        .post(&format!("/api/v1/accounts/{id}/secret"), &admin, &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let rotated = res.json()["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(rotated, secret);
    assert_eq!(
        token_with(&app, "asymchem-hr", &secret)
            .await
            .oauth_error(401),
        "invalid_client"
    );
    assert_eq!(token_with(&app, "asymchem-hr", &rotated).await.status, 200);

    // Disabled: no new tokens, and the last one ends with its lifetime.
    let last = token_with(&app, "asymchem-hr", &rotated).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .patch(
            &format!("/api/v1/accounts/{id}"),
            &admin,
            &json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        token_with(&app, "asymchem-hr", &rotated)
            .await
            .oauth_error(401),
        "invalid_client"
    );
    let header = jsonwebtoken::decode_header(&last).unwrap();
    let payload = last.split('.').nth(1).unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        app.config.token_ttl_seconds,
        "the token lasts the configured lifetime, no longer"
    );
    // The same token once that lifetime has passed (beyond the 30 s leeway).
    let iat = claims["iat"].as_i64().unwrap() - app.config.token_ttl_seconds - 31;
    claims["iat"] = json!(iat);
    claims["nbf"] = json!(iat);
    claims["exp"] = json!(iat + app.config.token_ttl_seconds);
    let expired = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(crate::common::SECRET.as_bytes()),
    )
    .unwrap();
    // Until then it still works: tokens are checked, not looked up.
    assert_eq!(app.get("/api/v1/alliances", &last).await.status, 200);
    let res = app.get("/api/v1/alliances", &expired).await;
    res.problem(401);
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
}

async fn only_admins_manage_accounts_and_bodies_are_checked(mut app: TestApp) {
    app.seed_registry().await;
    let admin = app.admin();
    let body = json!({"name": "reviewer-li", "kind": "human", "role": "reviewer"});
    for role in [Role::Viewer, Role::Reviewer, Role::Member] {
        app.post("/api/v1/accounts", &app.token(role), &body)
            .await
            .problem(403);
    }
    let secretariat = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    app.post("/api/v1/accounts", &secretariat, &body)
        .await
        .problem(403);
    app.get("/api/v1/accounts", &secretariat).await.problem(403);
    let count = || -> i64 {
        accounts::table
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    let field_of = |v: &Value| {
        v["errors"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    for (bad, field) in [
        (
            json!({"name": "sec", "kind": "human", "role": "secretariat"}),
            "alliances",
        ),
        (
            json!({"name": "sec", "kind": "human", "role": "secretariat", "alliances": ["no-such-alliance"]}),
            "alliances[0]",
        ),
        (
            json!({"name": "mem", "kind": "system", "role": "member"}),
            "organization",
        ),
        (
            json!({"name": "has space", "kind": "human", "role": "viewer"}),
            "name",
        ),
        (
            json!({"name": "x", "kind": "human", "role": "viewer"}),
            "name",
        ),
        (
            json!({"name": "ok-name", "kind": "robot", "role": "viewer"}),
            "kind",
        ),
    ] {
        let problem = app
            .post("/api/v1/accounts", &admin, &bad)
            .await
            .problem(422);
        assert_eq!(field_of(&problem), field, "{bad}: {problem}");
    }
    // Fields the caller may not set are refused, not ignored.
    for extra in [
        json!({"status": "disabled"}),
        json!({"secret_hash": "$argon2id$forged"}),
        json!({"client_secret": "chosen-by-me"}),
    ] {
        let mut b = body.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let res = app.post("/api/v1/accounts", &admin, &b).await;
        assert!(res.status.is_client_error(), "{b}: {}", res.status);
    }
    assert_eq!(count(), 0);
    assert_eq!(
        app.post("/api/v1/accounts", &admin, &body).await.status,
        201
    );
    app.post("/api/v1/accounts", &admin, &body)
        .await
        .problem(409);
    assert_eq!(count(), 1);
}

on_both_engines!(
    an_account_gets_tokens_with_its_role_and_scope,
    only_admins_manage_accounts_and_bodies_are_checked,
);
