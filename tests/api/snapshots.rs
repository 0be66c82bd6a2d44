//! Snapshots (`insta`) of representative answers: a seeded alliance, one
//! of its platforms, a validation problem, a year-locked conflict and a
//! page of the change feed. Both engines compare with the same snapshot,
//! so they must answer alike. Ids, times and request ids are redacted.
//! `INSTA_UPDATE=always cargo test --test api snapshots::` rewrites them.

use crate::common::TestApp;
use serde_json::json;

on_both_engines!(representative_answers_keep_their_shape);

async fn representative_answers_keep_their_shape(mut app: TestApp) {
    app.seed().await;
    let admin = app.admin();

    let alliance = app.get("/api/v1/alliances/teda-biomedicine", &admin).await;
    assert_eq!(alliance.status, 200, "{}", alliance.text());
    insta::assert_json_snapshot!("alliance", alliance.json(), {
        ".id" => "[id]", ".created_at" => "[time]", ".updated_at" => "[time]",
    });

    let platforms = app
        .get(
            "/api/v1/alliances/teda-biomedicine/platforms?limit=1",
            &admin,
        )
        .await;
    assert_eq!(platforms.status, 200, "{}", platforms.text());
    insta::assert_json_snapshot!("platform_page", platforms.json(), {
        ".items[].id" => "[id]", ".items[].alliance_id" => "[id]",
        ".items[].host_organization.id" => "[id]", ".items[].partners[].id" => "[id]",
        ".items[].created_at" => "[time]", ".items[].updated_at" => "[time]",
        ".next_cursor" => "[cursor]",
    });

    let invalid = app
        .post(
            "/api/v1/organizations",
            &admin,
            &json!({"slug": "bad-uscc", "kind": "enterprise", "name_zh": "某公司", "uscc": "91120116MA05JR6K3X"}),
        )
        .await;
    insta::assert_json_snapshot!("validation_problem", invalid.problem(422), {
        ".request_id" => "[request id]",
    });

    // 2024 is approved in the demo data: a training dated in it is refused.
    let locked = app
        .post(
            "/api/v1/alliances/teda-biomedicine/activities",
            &admin,
            &json!({"kind": "training", "title": "师资培训", "starts_on": "2024-05-01",
                    "figures": {"persons": 10, "person_times": 10, "hours": 8}}),
        )
        .await;
    insta::assert_json_snapshot!("year_locked_problem", locked.problem(409), {
        ".request_id" => "[request id]", ".detail" => "[names the approval time]",
    });

    let feed = app.get("/api/v1/changes?limit=2", &admin).await;
    assert_eq!(feed.status, 200, "{}", feed.text());
    insta::assert_json_snapshot!("change_feed_page", feed.json(), {
        ".items[].resource_id" => "[id]", ".items[].occurred_at" => "[time]",
        ".items[].resource.id" => "[id]", ".items[].resource.created_at" => "[time]",
        ".items[].resource.updated_at" => "[time]",
    });
}
