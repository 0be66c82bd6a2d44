//! `Idempotency-Key` on POST: a retry replays the first response and writes
//! nothing; the same key with another request is refused; concurrent
//! duplicates never write twice.

use crate::common::{Response, TestApp};
use alliance_api::auth::Role;
use alliance_api::db::schema::{idempotency_keys, organizations};
use diesel::prelude::*;
use serde_json::{Value, json};

on_both_engines!(
    a_retry_replays_the_first_response_and_writes_nothing,
    the_same_key_with_another_request_is_refused,
    concurrent_duplicates_write_once,
    keys_belong_to_their_caller,
);

async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Response {
    let req = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .content_type("application/json")
        .insert_header(("Idempotency-Key", key));
    app.send(req, Some(serde_json::to_vec(body).unwrap())).await
}

fn org_count(app: &TestApp) -> i64 {
    organizations::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

async fn a_retry_replays_the_first_response_and_writes_nothing(mut app: TestApp) {
    let admin = app.admin();
    let body = json!({"slug": "retry-co", "kind": "enterprise", "name_zh": "重试公司"});
    let first = post_with_key(&app, "/api/v1/organizations", &admin, "key-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let events = app.event_count();
    let again = post_with_key(&app, "/api/v1/organizations", &admin, "key-1", &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(org_count(&app), 1);
    assert_eq!(app.event_count(), events);
    // The key is remembered with the first response.
    let stored: i64 = idempotency_keys::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(stored, 1);
    // Memberships too.
    app.seed().await;
    let join = json!({"organization_id": "retry-co", "joined_on": "2024-01-01"});
    let a = post_with_key(
        &app,
        "/api/v1/alliances/teda-biomedicine/memberships",
        &admin,
        "join-1",
        &join,
    )
    .await;
    let b = post_with_key(
        &app,
        "/api/v1/alliances/teda-biomedicine/memberships",
        &admin,
        "join-1",
        &join,
    )
    .await;
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (201, 201));
    assert_eq!(a.json()["id"], b.json()["id"]);
    // Without a key nothing is remembered: the same POST is a new request.
    let plain = app
        .post(
            "/api/v1/alliances/teda-biomedicine/memberships",
            &admin,
            &join,
        )
        .await;
    plain.problem(409);
}

async fn the_same_key_with_another_request_is_refused(app: TestApp) {
    let admin = app.admin();
    let body = json!({"slug": "first-co", "kind": "enterprise", "name_zh": "第一公司"});
    assert_eq!(
        post_with_key(&app, "/api/v1/organizations", &admin, "k", &body)
            .await
            .status,
        201
    );
    let other = json!({"slug": "second-co", "kind": "enterprise", "name_zh": "第二公司"});
    let res = post_with_key(&app, "/api/v1/organizations", &admin, "k", &other).await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("Idempotency-Key".into(), "reused".into())]
    );
    // The same body to another endpoint is another request too.
    let res = post_with_key(&app, "/api/v1/alliances", &admin, "k", &body).await;
    assert!(res.status == 422, "{}", res.text());
    assert_eq!(org_count(&app), 1);
    for bad in ["", &"x".repeat(256), "has space"] {
        let req = app
            .client
            .post(app.url("/api/v1/organizations"))
            .bearer_auth(&admin)
            .content_type("application/json");
        let req = if bad.is_empty() {
            req.insert_header(("Idempotency-Key", ""))
        } else {
            req.insert_header(("Idempotency-Key", bad))
        };
        app.send(req, Some(serde_json::to_vec(&other).unwrap()))
            .await
            .problem(400);
    }
    assert_eq!(org_count(&app), 1);
}

async fn concurrent_duplicates_write_once(app: TestApp) {
    let admin = app.admin();
    let body = serde_json::to_vec(
        &json!({"slug": "racy-co", "kind": "enterprise", "name_zh": "并发重试公司"}),
    )
    .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let req = app
                .client
                .post(app.url("/api/v1/organizations"))
                .bearer_auth(&admin)
                .content_type("application/json")
                .insert_header(("Idempotency-Key", "same-key"));
            let body = body.clone();
            actix_web::rt::spawn(async move {
                let mut res = req.send_body(body).await.unwrap();
                (res.status().as_u16(), res.body().await.unwrap())
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201);
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every answer is the first one"
    );
    assert_eq!(org_count(&app), 1);
    assert_eq!(app.event_count(), 1);
}

async fn keys_belong_to_their_caller(app: TestApp) {
    let body = json!({"slug": "shared-key-co", "kind": "enterprise", "name_zh": "共用键公司"});
    assert_eq!(
        post_with_key(&app, "/api/v1/organizations", &app.admin(), "k1", &body)
            .await
            .status,
        201
    );
    // Another caller's identical request with the same key is not a replay
    // of someone else's response: it runs, and here the slug is taken.
    let other = app.token_for(Role::Secretariat, &[], None);
    post_with_key(&app, "/api/v1/organizations", &other, "k1", &body)
        .await
        .problem(409);
}
