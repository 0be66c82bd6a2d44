//! The audit trail: every write leaves a record that admins and reviewers
//! can read and filter, that no one else can read, and that nothing in the
//! API can change.

use crate::common::TestApp;
use alliance_api::auth::Role;
use serde_json::json;

async fn the_audit_trail_is_readable_filterable_and_read_only(mut app: TestApp) {
    app.seed_registry().await;
    let admin = app.admin();
    let created = app
        .post(
            "/api/v1/organizations",
            &admin,
            &json!({"slug": "audit-test-co", "kind": "enterprise", "name_zh": "审计测试企业"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let res = app
        .patch(
            "/api/v1/organizations/audit-test-co",
            &admin,
            &json!({"name_zh": "审计测试企业（更名）"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // A reviewer reads the organisation's two records, oldest first, with
    // the resource before and after.
    let reviewer = app.token(Role::Reviewer);
    let audited = app.audit_count();
    let res = app
        .get(
            &format!("/api/v1/audit?resource_type=organization&resource_id={id}"),
            &reviewer,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let page = res.json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    assert_eq!(items[0]["action"], "created");
    assert_eq!(items[0]["before"], serde_json::Value::Null);
    assert_eq!(items[0]["after"]["name_zh"], "审计测试企业");
    assert_eq!(items[1]["action"], "updated");
    assert_eq!(items[1]["before"]["name_zh"], "审计测试企业");
    assert_eq!(items[1]["after"]["name_zh"], "审计测试企业（更名）");
    assert_eq!(items[1]["actor"], "test:admin");
    assert_eq!(app.audit_count(), audited, "reading writes nothing");

    // Filters: actor, time; pages by cursor.
    let by_seed = app
        .get("/api/v1/audit?actor=test:admin&limit=1", &admin)
        .await
        .json();
    assert_eq!(by_seed["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_seed["items"][0]["resource_id"], id.as_str());
    let cursor = by_seed["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/api/v1/audit?actor=test:admin&limit=1&cursor={cursor}"),
            &admin,
        )
        .await
        .json();
    assert_eq!(next["items"][0]["action"], "updated");
    assert_eq!(next["next_cursor"], serde_json::Value::Null);
    let later = app
        .get(
            "/api/v1/audit?actor=test:admin&from=2100-01-01T00:00:00Z",
            &admin,
        )
        .await
        .json();
    assert_eq!(later["items"], json!([]));
    let earlier = app
        .get(
            "/api/v1/audit?actor=test:admin&until=2000-01-01T00:00:00Z",
            &admin,
        )
        .await
        .json();
    assert_eq!(earlier["items"], json!([]));
    app.get("/api/v1/audit?cursor=zz", &admin)
        .await
        .problem(400);
    app.get("/api/v1/audit?colour=red", &admin)
        .await
        .problem(400);

    // No one else reads it; nothing changes it.
    for role in [Role::Viewer, Role::Member, Role::Secretariat] {
        let res = app.get("/api/v1/audit", &app.token(role)).await;
        assert_eq!(res.problem(403)["type"], "/problems/forbidden");
    }
    app.get("/api/v1/audit", "").await.problem(401);
    for method in ["PUT", "PATCH", "DELETE", "POST"] {
        let req = app
            .client
            .request(method.parse().unwrap(), app.url("/api/v1/audit"))
            .bearer_auth(&admin);
        let res = app.send(req, Some(b"{}".to_vec())).await;
        assert_eq!(res.status, 405, "{method}: {}", res.text());
    }
    let res = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/audit/{}", items[0]["id"])))
                .bearer_auth(&admin),
            None,
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(app.audit_count(), audited);
}

on_both_engines!(the_audit_trail_is_readable_filterable_and_read_only);
