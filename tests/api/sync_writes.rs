//! How member systems write: upsert by their own reference, only the fields
//! a member owns, never over a newer edit (`If-Match`, and 428 when the
//! operator requires it).

use crate::common::{Engine, TestApp};
use alliance_api::auth::Role;
use serde_json::json;

on_both_engines!(
    a_member_upserting_by_reference_twice_creates_one_organization,
    an_upsert_attaches_the_reference_to_the_organization_the_body_names,
    members_change_only_member_owned_fields,
    lists_find_an_organization_by_reference,
);

fn profile(name_en: &str) -> serde_json::Value {
    json!({"slug": "binhai-robotics", "kind": "enterprise", "name_zh": "天津滨海机器人有限公司", "name_en": name_en,
           "website": "https://robotics.example.org/"})
}

async fn put(
    app: &TestApp,
    token: &str,
    body: &serde_json::Value,
    if_match: Option<&str>,
) -> crate::common::Response {
    let mut req = app
        .client
        .put(app.url("/api/v1/organizations/by-ref/robotics-hr/ORG-7"))
        .bearer_auth(token)
        .content_type("application/json");
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req, Some(serde_json::to_vec(body).unwrap())).await
}

async fn a_member_upserting_by_reference_twice_creates_one_organization(app: TestApp) {
    let member = app.token_for(Role::Member, &[], Some("binhai-robotics"));
    let first = put(&app, &member, &profile("Binhai Robotics"), None).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let org = first.json();
    assert_eq!(
        org["external_refs"],
        json!([{"system": "robotics-hr", "id": "ORG-7"}])
    );
    let again = put(&app, &member, &profile("Binhai Robotics"), None).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["id"], org["id"]);
    assert_eq!(
        again.json()["version"],
        1,
        "an identical PUT changes nothing"
    );
    let listed = app
        .get("/api/v1/organizations?q=robotics", &app.viewer())
        .await
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    // A member-owned change goes through with the current tag; a stale one is 412.
    let updated = put(
        &app,
        &member,
        &profile("Binhai Robotics Ltd."),
        Some("\"1\""),
    )
    .await;
    assert_eq!(
        (updated.status.as_u16(), updated.json()["version"].as_i64()),
        (200, Some(2))
    );
    let events = app.event_count();
    put(&app, &member, &profile("Lost Update"), Some("\"1\""))
        .await
        .problem(412);
    assert_eq!(app.event_count(), events);
    // Another member's token cannot take this reference or create another's organisation.
    let other = app.token_for(Role::Member, &[], Some("someone-else"));
    put(&app, &other, &profile("Hijack"), None)
        .await
        .problem(403);
    let viewer = app.viewer();
    put(&app, &viewer, &profile("Hijack"), None)
        .await
        .problem(403);
    // The reference's holder keeps its slug.
    let mut renamed = profile("x");
    renamed["slug"] = json!("other-slug");
    put(&app, &app.admin(), &renamed, None).await.problem(409);
    // Path segments are checked.
    let req = app
        .client
        .put(app.url("/api/v1/organizations/by-ref/bad%20system/1"))
        .bearer_auth(&member)
        .content_type("application/json");
    let res = app
        .send(req, Some(serde_json::to_vec(&profile("x")).unwrap()))
        .await;
    res.problem(400);
    assert_eq!(res.field_errors()[0].0, "system");
}

async fn members_change_only_member_owned_fields(mut app: TestApp) {
    app.seed().await;
    let member = app.token_for(Role::Member, &[], Some("nankai-university"));
    let path = "/api/v1/organizations/nankai-university";
    let ok = app
        .patch(
            path,
            &member,
            &json!({"website": "https://www.nankai.edu.cn/", "region": "天津市南开区"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let events = app.event_count();
    for owned_by_secretariat in [
        json!({"name_zh": "南开"}),
        json!({"kind": "other"}),
        json!({"uscc": null, "name_zh": "南开"}),
    ] {
        let res = app.patch(path, &member, &owned_by_secretariat).await;
        let problem = res.problem(403);
        assert!(
            problem["detail"].as_str().unwrap().contains("name_zh")
                || problem["detail"].as_str().unwrap().contains("kind"),
            "{problem}"
        );
    }
    // Setting a secretariat-owned field to its current value is not a change.
    assert_eq!(
        app.patch(path, &member, &json!({"name_zh": "南开大学"}))
            .await
            .status,
        200
    );
    assert_eq!(app.event_count(), events);
    // The description says who owns what.
    let doc = serde_json::to_value(alliance_api::openapi()).unwrap();
    let fields = &doc["components"]["schemas"]["UpdateOrganization"]["properties"];
    // (A nullable field's description sits inside its `oneOf`.)
    assert!(fields["website"].to_string().contains("Member-owned"));
    assert!(fields["name_zh"].to_string().contains("Secretariat-owned"));
}

async fn lists_find_an_organization_by_reference(app: TestApp) {
    let member = app.token_for(Role::Member, &[], Some("binhai-robotics"));
    assert_eq!(
        put(&app, &member, &profile("Binhai Robotics"), None)
            .await
            .status,
        201
    );
    app.create_org("other-co", "其他公司").await;
    let found = app
        .get("/api/v1/organizations?ref=robotics-hr:ORG-7", &app.viewer())
        .await
        .json();
    let slugs: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, vec!["binhai-robotics"]);
    let none = app
        .get("/api/v1/organizations?ref=robotics-hr:ORG-8", &app.viewer())
        .await
        .json();
    assert_eq!(none["items"], json!([]));
    app.get("/api/v1/organizations?ref=no-colon", &app.viewer())
        .await
        .problem(400);
}

async fn if_match_required_for_members(engine: Engine) {
    let Some(mut app) =
        TestApp::spawn_with(engine, |c| c.require_if_match_for_members = true).await
    else {
        return;
    };
    app.seed().await;
    let member = app.token_for(Role::Member, &[], Some("nankai-university"));
    let path = "/api/v1/organizations/nankai-university";
    app.patch(path, &member, &json!({"website": "https://a.example/"}))
        .await
        .problem(428);
    let req = app
        .client
        .patch(app.url(path))
        .bearer_auth(&member)
        .content_type("application/json")
        .insert_header(("If-Match", "\"1\""));
    assert_eq!(
        app.send(req, Some(br#"{"website": "https://a.example/"}"#.to_vec()))
            .await
            .status,
        200
    );
    // Other roles are not held to it.
    assert_eq!(
        app.patch(path, &app.admin(), &json!({"region": "天津"}))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn sqlite_if_match_required_for_members() {
    if_match_required_for_members(Engine::Sqlite).await
}

#[actix_web::test]
async fn postgres_if_match_required_for_members() {
    if_match_required_for_members(Engine::Postgres).await
}

async fn an_upsert_attaches_the_reference_to_the_organization_the_body_names(app: TestApp) {
    // Registered by a secretariat first, with a reference of another system.
    let admin = app.admin();
    let mut first = profile("Binhai Robotics");
    first["external_refs"] = json!([{"system": "city-registry", "id": "TJ-001"}]);
    assert_eq!(
        app.post("/api/v1/organizations", &admin, &first)
            .await
            .status,
        201
    );
    // The member system claims it by its own id: attached, nothing removed.
    let member = app.token_for(Role::Member, &[], Some("binhai-robotics"));
    let mut mine = profile("Binhai Robotics");
    mine["website"] = json!("https://www.binhai-robotics.example/");
    let res = put(&app, &member, &mine, None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let org = res.json();
    assert_eq!(
        org["external_refs"],
        json!([{"system": "city-registry", "id": "TJ-001"}, {"system": "robotics-hr", "id": "ORG-7"}])
    );
    assert_eq!(org["website"], "https://www.binhai-robotics.example/");
    // But a member may not attach other references along the way.
    let mut more = mine.clone();
    more["external_refs"] = json!([{"system": "elsewhere", "id": "9"}]);
    put(&app, &member, &more, None).await.problem(403);
    let listed = app
        .get("/api/v1/organizations?limit=200", &app.viewer())
        .await
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}
