//! Memberships: every body the seed names, joining, closing with `left_on`,
//! and history that is never deleted.

use crate::common::TestApp;
use alliance_api::auth::Role;
use alliance_api::seed::{SEED_TOML, SeedFile};
use serde_json::{Value, json};

on_both_engines!(
    each_seeded_alliance_lists_every_body_the_seed_names,
    joining_and_leaving_keep_history,
    membership_rules_give_conflicts_not_partial_writes,
    secretariats_admit_only_to_their_alliances,
);

async fn all_memberships(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut url = format!("{path}?limit=5");
    loop {
        let body = app.get(&url, &app.viewer()).await.json();
        items.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => url = format!("{path}?limit=5&cursor={c}"),
            None => return items,
        }
    }
}

async fn each_seeded_alliance_lists_every_body_the_seed_names(mut app: TestApp) {
    app.seed().await;
    let file = SeedFile::parse(SEED_TOML).unwrap();
    let names: std::collections::HashMap<&str, &str> = file
        .organizations
        .iter()
        .map(|o| (o.slug.as_str(), o.name_zh.as_str()))
        .collect();
    for alliance in &file.alliances {
        let listed = all_memberships(
            &app,
            &format!("/api/v1/alliances/{}/memberships", alliance.slug),
        )
        .await;
        let got: Vec<(String, String, String)> = listed
            .iter()
            .map(|m| {
                (
                    m["organization"]["slug"].as_str().unwrap().to_owned(),
                    m["organization"]["name_zh"].as_str().unwrap().to_owned(),
                    m["role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want: Vec<(String, String, String)> = alliance
            .members
            .iter()
            .map(|m| {
                (
                    m.org.to_string(),
                    names[m.org.as_str()].to_owned(),
                    m.role.to_string(),
                )
            })
            .collect();
        assert_eq!(got, want, "{}", alliance.slug);
        assert!(
            listed
                .iter()
                .all(|m| m["status"] == "active" && m["joined_on"] == "2023-05-08")
        );
    }
    // 天津大学 belongs to six of the seven.
    let tju = all_memberships(&app, "/api/v1/organizations/tianjin-university/memberships").await;
    assert_eq!(tju.len(), 6);
    let lead = app
        .get(
            "/api/v1/alliances/teda-biomedicine/memberships?role=lead",
            &app.viewer(),
        )
        .await
        .json();
    assert_eq!(lead["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        lead["items"][0]["organization"]["name_zh"],
        "天津经济技术开发区管委会"
    );
}

async fn joining_and_leaving_keep_history(mut app: TestApp) {
    app.seed().await;
    let admin = app.admin();
    let org = app.create_org("new-biotech", "新生物科技有限公司").await;
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/memberships",
            &admin,
            &json!({"organization_id": "new-biotech", "joined_on": "2024-03-01"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let m = res.json();
    assert_eq!(
        (m["role"].as_str(), m["status"].as_str()),
        (Some("member"), Some("active"))
    );
    assert_eq!(m["organization_id"], org["id"]);
    let path = res.header("location").unwrap().to_owned();
    let etag = res.header("etag").unwrap().to_owned();
    assert_eq!(app.get(&path, &admin).await.json(), m);

    // Close it with the tag just read.
    let req = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&admin)
        .content_type("application/json")
        .insert_header(("If-Match", etag.as_str()));
    let res = app
        .send(
            req,
            Some(br#"{"left_on": "2025-12-31", "note": "withdrew"}"#.to_vec()),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let closed = res.json();
    assert_eq!(
        (
            closed["status"].as_str(),
            closed["left_on"].as_str(),
            closed["version"].as_i64()
        ),
        (Some("left"), Some("2025-12-31"), Some(2))
    );

    // A closed membership stays listed and cannot be reopened; rejoining is a new membership.
    let listed = all_memberships(&app, "/api/v1/alliances/teda-biomedicine/memberships").await;
    assert_eq!(listed.len(), 15);
    let left = app
        .get(
            "/api/v1/alliances/teda-biomedicine/memberships?status=left",
            &admin,
        )
        .await
        .json();
    assert_eq!(left["items"].as_array().unwrap().len(), 1);
    app.patch(&path, &admin, &json!({"status": "active"}))
        .await
        .problem(409);
    let again = app
        .post(
            "/api/v1/alliances/teda-biomedicine/memberships",
            &admin,
            &json!({"organization_id": org["id"], "joined_on": "2026-01-05"}),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(
        all_memberships(&app, "/api/v1/organizations/new-biotech/memberships")
            .await
            .len(),
        2
    );
    // There is no way to delete a membership.
    let res = app.delete(&path, &admin).await;
    res.problem(405);
    assert_eq!(res.header("allow"), Some("GET, PATCH"));
}

async fn membership_rules_give_conflicts_not_partial_writes(mut app: TestApp) {
    app.seed().await;
    let admin = app.admin();
    let events = app.event_count();
    // Already an open member.
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/memberships",
            &admin,
            &json!({"organization_id": "nankai-university", "joined_on": "2024-01-01"}),
        )
        .await;
    res.problem(409);
    assert_eq!(
        res.field_errors(),
        vec![("organization_id".into(), "conflict".into())]
    );
    // No such organisation: the body is at fault (422), not the URL.
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/memberships",
            &admin,
            &json!({"organization_id": "nobody", "joined_on": "2024-01-01"}),
        )
        .await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("organization_id".into(), "not_found".into())]
    );
    // No such alliance.
    app.post(
        "/api/v1/alliances/nowhere/memberships",
        &admin,
        &json!({"organization_id": "nankai-university", "joined_on": "2024-01-01"}),
    )
    .await
    .problem(404);
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/memberships",
            &admin,
            &json!({"organization_id": "phytium", "role": "chair", "joined_on": "2024-01-01"}),
        )
        .await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("role".into(), "unknown_variant".into())]
    );

    let list = app
        .get(
            "/api/v1/alliances/teda-biomedicine/memberships?limit=1",
            &admin,
        )
        .await
        .json();
    let path = format!(
        "/api/v1/memberships/{}",
        list["items"][0]["id"].as_str().unwrap()
    );
    let res = app
        .patch(&path, &admin, &json!({"left_on": "2020-01-01"}))
        .await;
    res.problem(409);
    assert_eq!(
        res.field_errors(),
        vec![("left_on".into(), "conflict".into())]
    );
    app.patch(&path, &admin, &json!({"status": "left"}))
        .await
        .problem(409);
    app.patch(
        &path,
        &admin,
        &json!({"status": "active", "left_on": "2025-01-01"}),
    )
    .await
    .problem(409);
    assert_eq!(app.event_count(), events);
    // Suspending and changing role are ordinary updates.
    let res = app
        .patch(
            &path,
            &admin,
            &json!({"status": "suspended", "role": "co_lead"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.event_count(), events + 1);
}

async fn secretariats_admit_only_to_their_alliances(mut app: TestApp) {
    app.seed().await;
    let teda = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    let body = json!({"organization_id": "phytium", "joined_on": "2024-05-01"});
    assert_eq!(
        app.post(
            "/api/v1/alliances/teda-biomedicine/memberships",
            &teda,
            &body
        )
        .await
        .status,
        201
    );
    app.post(
        "/api/v1/alliances/dongjiang-digital-economy/memberships",
        &teda,
        &body,
    )
    .await
    .problem(403);
    app.post(
        "/api/v1/alliances/teda-biomedicine/memberships",
        &app.viewer(),
        &json!({"organization_id": "sugon", "joined_on": "2024-05-01"}),
    )
    .await
    .problem(403);
    let other = app
        .get(
            "/api/v1/alliances/dongjiang-digital-economy/memberships?limit=1",
            &app.admin(),
        )
        .await
        .json();
    let path = format!(
        "/api/v1/memberships/{}",
        other["items"][0]["id"].as_str().unwrap()
    );
    // Outside its alliances the membership does not exist for the token.
    app.patch(&path, &teda, &json!({"note": "x"}))
        .await
        .problem(404);
    app.get(&path, &teda).await.problem(404);
    app.get(
        "/api/v1/alliances/dongjiang-digital-economy/memberships",
        &teda,
    )
    .await
    .problem(403);
}
