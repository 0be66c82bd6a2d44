//! Writes that race: with `If-Match` exactly one wins and the rest get 412
//! (no lost update); unrelated concurrent writes all succeed on both
//! engines (no SQLITE_BUSY, no 5xx).

use crate::common::TestApp;
use serde_json::json;

on_both_engines!(
    racing_patches_with_the_same_etag_have_one_winner,
    concurrent_creates_all_succeed
);

async fn racing_patches_with_the_same_etag_have_one_winner(mut app: TestApp) {
    app.seed().await;
    let events = app.event_count();
    let url = app.url("/api/v1/alliances/teda-biomedicine");
    let admin = app.admin();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let req = app
                .client
                .patch(&url)
                .bearer_auth(&admin)
                .content_type("application/json")
                .insert_header(("If-Match", "\"1\""));
            actix_web::rt::spawn(async move {
                let res = req
                    .send_body(format!(r#"{{"name_en": "Writer {i}"}}"#))
                    .await
                    .unwrap();
                res.status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        11,
        "{statuses:?}"
    );
    let now = app
        .get("/api/v1/alliances/teda-biomedicine", &admin)
        .await
        .json();
    assert_eq!(now["version"], 2);
    assert_eq!(app.event_count(), events + 1);
}

async fn concurrent_creates_all_succeed(app: TestApp) {
    let admin = app.admin();
    let url = app.url("/api/v1/organizations");
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let req = app.client.post(&url).bearer_auth(&admin).content_type("application/json");
            let body = json!({"slug": format!("co-{i}"), "kind": "enterprise", "name_zh": format!("并发公司{i}")}).to_string();
            actix_web::rt::spawn(async move { req.send_body(body).await.unwrap().status().as_u16() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let all = app
        .get("/api/v1/organizations?limit=200", &admin)
        .await
        .json();
    assert_eq!(all["items"].as_array().unwrap().len(), 24);
    assert_eq!(app.event_count(), 24);
    assert_eq!(app.audit_count(), 24);
}
