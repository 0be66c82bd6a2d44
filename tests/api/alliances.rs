//! Alliances: the seeded list, reads by slug and id, ETags, writes and
//! their scope, validation, and what the database holds afterwards.

use crate::common::TestApp;
use alliance_api::auth::Role;
use serde_json::json;

on_both_engines!(
    lists_the_seven_seeded_alliances,
    reads_by_slug_or_id_with_etag_and_304,
    admin_founds_an_alliance_and_chinese_round_trips,
    patch_honours_if_match_and_bumps_version,
    writes_are_scoped_by_role_and_alliance,
    invalid_bodies_name_the_field_and_write_nothing,
    lists_page_with_cursors_and_filter,
);

async fn lists_the_seven_seeded_alliances(mut app: TestApp) {
    let report = app.seed().await;
    assert_eq!(
        (report.alliances, report.organizations, report.memberships),
        (7, 66, 97)
    );
    let res = app.get("/api/v1/alliances", &app.viewer()).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    let slugs: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        [
            "teda-biomedicine",
            "tjftz-offshore-equipment",
            "binhai-hitech-it-innovation",
            "dongjiang-digital-economy",
            "high-end-equipment-community",
            "new-energy-community",
            "smart-supply-chain-community"
        ]
    );
    assert_eq!(body["next_cursor"], serde_json::Value::Null);
    let kinds: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "regional_consortium")
            .count(),
        4
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "industry_chain_community")
            .count(),
        3
    );

    // Seeding again adds nothing.
    let events = app.event_count();
    assert_eq!(app.seed().await, Default::default());
    assert_eq!(app.event_count(), events);
}

async fn reads_by_slug_or_id_with_etag_and_304(mut app: TestApp) {
    app.seed().await;
    let tok = app.viewer();
    let by_slug = app.get("/api/v1/alliances/teda-biomedicine", &tok).await;
    assert_eq!(by_slug.status, 200);
    let body = by_slug.json();
    assert_eq!(body["name_zh"], "天津经济技术开发区生物医药产教联合体");
    assert_eq!(body["version"], 1);
    let etag = by_slug.header("etag").unwrap().to_owned();
    assert_eq!(etag, "\"1\"");

    let by_id = app
        .get(
            &format!("/api/v1/alliances/{}", body["id"].as_str().unwrap()),
            &tok,
        )
        .await;
    assert_eq!(by_id.json(), body);

    let req = app
        .client
        .get(app.url("/api/v1/alliances/teda-biomedicine"))
        .bearer_auth(&tok)
        .insert_header(("If-None-Match", etag.as_str()));
    let not_modified = app.send(req, None).await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));

    let req = app
        .client
        .get(app.url("/api/v1/alliances/teda-biomedicine"))
        .bearer_auth(&tok)
        .insert_header(("If-None-Match", "\"0\""));
    assert_eq!(app.send(req, None).await.status, 200);

    app.get("/api/v1/alliances/no-such-alliance", &tok)
        .await
        .problem(404);
    app.get("/api/v1/alliances", "not-a-token")
        .await
        .problem(401);
    let res = app
        .send(app.client.get(app.url("/api/v1/alliances")), None)
        .await;
    res.problem(401);
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
}

async fn admin_founds_an_alliance_and_chinese_round_trips(app: TestApp) {
    let name = "天津市航空航天产业链产教融合共同体（试点）·「测试」";
    let body = json!({
        "slug": "aerospace-community",
        "kind": "industry_chain_community",
        "sector": "aerospace",
        "name_zh": name,
        "name_en": "Aerospace Community",
        "founded_on": "2024-06-01",
        "documents": [{"kind": "charter", "title": "章程", "url": "https://example.org/c.pdf", "adopted_on": "2024-06-01"}]
    });
    let res = app.post("/api/v1/alliances", &app.admin(), &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.header("location"),
        Some("/api/v1/alliances/aerospace-community")
    );
    assert_eq!(res.header("etag"), Some("\"1\""));
    let created = res.json();
    assert_eq!(created["status"], "active");
    assert_eq!(created["documents"][0]["title"], "章程");

    // Byte for byte: the raw response holds the UTF-8 of the name as sent.
    let res = app
        .get("/api/v1/alliances/aerospace-community", &app.viewer())
        .await;
    let needle = serde_json::to_vec(name).unwrap();
    assert!(
        res.body
            .windows(needle.len())
            .any(|w| w == needle.as_slice())
    );
    assert_eq!(
        res.json()["name_zh"].as_str().unwrap().as_bytes(),
        name.as_bytes()
    );

    // The database holds it, with one audit record and one change event.
    use alliance_api::db::schema::{alliances, audit_records, change_events};
    use diesel::prelude::*;
    let id = created["id"].as_str().unwrap();
    let stored: String = alliances::table
        .find(id)
        .select(alliances::name_zh)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(stored, name);
    let actions: Vec<(String, String)> = audit_records::table
        .filter(audit_records::resource_id.eq(id))
        .select((audit_records::actor, audit_records::action))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        actions,
        vec![("test:admin".to_owned(), "created".to_owned())]
    );
    let events: Vec<(String, i64)> = change_events::table
        .filter(change_events::resource_id.eq(id))
        .select((change_events::event_type, change_events::version))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(events, vec![("alliance.created".to_owned(), 1)]);

    // The slug is taken now.
    let again = app.post("/api/v1/alliances", &app.admin(), &body).await;
    again.problem(409);
    assert_eq!(
        again.field_errors(),
        vec![("slug".to_owned(), "taken".to_owned())]
    );
}

async fn patch_honours_if_match_and_bumps_version(mut app: TestApp) {
    app.seed().await;
    let admin = app.admin();
    let path = "/api/v1/alliances/new-energy-community";
    let first = app.get(path, &admin).await;
    let etag = first.header("etag").unwrap().to_owned();

    let req = app
        .client
        .patch(app.url(path))
        .bearer_auth(&admin)
        .content_type("application/json")
        .insert_header(("If-Match", etag.as_str()));
    let res = app
        .send(
            req,
            Some(br#"{"founded_on": "2023-11-20", "name_en": "New Energy Community"}"#.to_vec()),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let after = res.json();
    assert_eq!(after["version"], 2);
    assert_eq!(after["founded_on"], "2023-11-20");
    assert_eq!(after["name_en"], "New Energy Community");
    assert_eq!(after["name_zh"], first.json()["name_zh"]);
    assert_eq!(res.header("etag"), Some("\"2\""));

    // The old tag is stale now: 412, and nothing changes.
    let events = app.event_count();
    let req = app
        .client
        .patch(app.url(path))
        .bearer_auth(&admin)
        .content_type("application/json")
        .insert_header(("If-Match", etag.as_str()));
    app.send(req, Some(br#"{"name_en": "Lost update"}"#.to_vec()))
        .await
        .problem(412);
    assert_eq!(app.event_count(), events);
    assert_eq!(
        app.get(path, &admin).await.json()["name_en"],
        "New Energy Community"
    );

    // null clears an optional field; a no-op PATCH keeps the version.
    let cleared = app
        .patch(path, &admin, &json!({"name_en": null}))
        .await
        .json();
    assert_eq!(
        (cleared["name_en"].clone(), cleared["version"].clone()),
        (serde_json::Value::Null, json!(3))
    );
    let same = app
        .patch(path, &admin, &json!({"name_en": null}))
        .await
        .json();
    assert_eq!(same["version"], 3);
    // null for a field that cannot be empty is refused.
    let res = app.patch(path, &admin, &json!({"name_zh": null})).await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("name_zh".to_owned(), "invalid_type".to_owned())]
    );
    // If-Match must be well-formed.
    let req = app
        .client
        .patch(app.url(path))
        .bearer_auth(&admin)
        .content_type("application/json")
        .insert_header(("If-Match", "3"));
    app.send(req, Some(b"{}".to_vec())).await.problem(400);
}

async fn writes_are_scoped_by_role_and_alliance(mut app: TestApp) {
    app.seed().await;
    let change = json!({"name_en": "changed"});
    for role in [Role::Viewer, Role::Member, Role::Reviewer] {
        app.patch(
            "/api/v1/alliances/teda-biomedicine",
            &app.token(role),
            &change,
        )
        .await
        .problem(403);
    }
    let teda = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    // Its own alliance: allowed. Another: 403, and nothing written.
    assert_eq!(
        app.patch("/api/v1/alliances/teda-biomedicine", &teda, &change)
            .await
            .status,
        200
    );
    let events = app.event_count();
    app.patch("/api/v1/alliances/new-energy-community", &teda, &change)
        .await
        .problem(403);
    assert_eq!(app.event_count(), events);
    // Only an admin founds alliances.
    let body = json!({"slug": "x-alliance", "kind": "regional_consortium", "sector": "other", "name_zh": "某联合体"});
    app.post("/api/v1/alliances", &teda, &body)
        .await
        .problem(403);
    assert_eq!(
        app.post("/api/v1/alliances", &app.admin(), &body)
            .await
            .status,
        201
    );
}

async fn invalid_bodies_name_the_field_and_write_nothing(app: TestApp) {
    let admin = app.admin();
    let events = app.event_count();
    let cases = [
        (
            json!({"kind": "regional_consortium", "sector": "other", "name_zh": "甲"}),
            "slug",
            "required",
        ),
        (
            json!({"slug": "Bad Slug", "kind": "regional_consortium", "sector": "other", "name_zh": "甲"}),
            "slug",
            "invalid",
        ),
        (
            json!({"slug": "ok-slug", "kind": "galaxy", "sector": "other", "name_zh": "甲"}),
            "kind",
            "unknown_variant",
        ),
        (
            json!({"slug": "ok-slug", "kind": "regional_consortium", "sector": "other", "name_zh": 5}),
            "name_zh",
            "invalid_type",
        ),
        (
            json!({"slug": "ok-slug", "kind": "regional_consortium", "sector": "other", "name_zh": "  "}),
            "name_zh",
            "invalid",
        ),
        (
            json!({"slug": "ok-slug", "kind": "regional_consortium", "sector": "other", "name_zh": "甲", "version": 9}),
            "version",
            "unknown_field",
        ),
        (
            json!({"slug": "ok-slug", "kind": "regional_consortium", "sector": "other", "name_zh": "甲", "founded_on": "2024-13-01"}),
            "founded_on",
            "invalid",
        ),
        (
            json!({"slug": "ok-slug", "kind": "regional_consortium", "sector": "other", "name_zh": "甲",
                   "documents": [{"kind": "charter", "title": "章程", "url": "ftp://x"}]}),
            "documents[0].url",
            "invalid",
        ),
    ];
    for (body, field, code) in cases {
        let res = app.post("/api/v1/alliances", &admin, &body).await;
        res.problem(422);
        assert_eq!(
            res.field_errors(),
            vec![(field.to_owned(), code.to_owned())],
            "{body}"
        );
    }
    let many_docs: Vec<_> = (0..21)
        .map(|i| json!({"kind": "other", "title": format!("文件{i}"), "url": "https://e.org/"}))
        .collect();
    let res = app
        .post("/api/v1/alliances", &admin, &json!({"slug": "ok-slug", "kind": "regional_consortium", "sector": "other", "name_zh": "甲", "documents": many_docs}))
        .await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("documents".to_owned(), "length".to_owned())]
    );
    assert_eq!(app.event_count(), events);
    assert_eq!(app.audit_count(), 0);
}

async fn lists_page_with_cursors_and_filter(mut app: TestApp) {
    app.seed().await;
    let tok = app.viewer();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/alliances?limit=3&cursor={c}"),
            None => "/api/v1/alliances?limit=3".to_owned(),
        };
        let body = app.get(&path, &tok).await.json();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|a| a["slug"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7);

    let q = async |s: &str| app.get(&format!("/api/v1/alliances?{s}"), &tok).await;
    let slugs = |v: serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        slugs(q("q=%E7%94%9F%E7%89%A9%E5%8C%BB%E8%8D%AF").await.json()),
        vec!["teda-biomedicine"]
    ); // 生物医药
    assert_eq!(
        slugs(q("q=DIGITAL").await.json()),
        vec!["dongjiang-digital-economy"]
    );
    assert_eq!(
        slugs(
            q("kind=industry_chain_community&sector=new_energy")
                .await
                .json()
        ),
        vec!["new-energy-community"]
    );
    assert_eq!(slugs(q("q=100%25").await.json()), Vec::<String>::new());
    assert_eq!(
        slugs(q("updated_since=2999-01-01T00:00:00Z").await.json()),
        Vec::<String>::new()
    );

    let res = q("kind=galaxy").await;
    res.problem(400);
    assert_eq!(
        res.field_errors(),
        vec![("kind".to_owned(), "unknown_variant".to_owned())]
    );
    assert_eq!(
        q("limit=0").await.problem(400)["errors"][0]["field"],
        "limit"
    );
    assert_eq!(
        q("limit=201").await.problem(400)["errors"][0]["field"],
        "limit"
    );
    assert_eq!(
        q("limit=ten").await.problem(400)["errors"][0]["field"],
        "limit"
    );
    assert_eq!(
        q("cursor=garbage").await.problem(400)["errors"][0]["field"],
        "cursor"
    );
    assert_eq!(
        q("colour=red").await.problem(400)["errors"][0]["code"],
        "unknown_field"
    );
}
