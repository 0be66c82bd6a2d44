//! Organisations: USCC parsing, uniqueness, external references, search,
//! who may edit, and deletion that never takes membership history along.

use crate::common::TestApp;
use alliance_api::auth::Role;
use alliance_api::domain::Uscc;
use serde_json::{Value, json};

on_both_engines!(
    creates_an_organization_with_a_valid_uscc,
    an_invalid_uscc_is_refused_naming_the_field,
    unique_values_are_enforced_with_field_errors,
    search_finds_chinese_and_english_names,
    members_edit_only_their_own_organization,
    deleting_keeps_membership_history,
);

fn valid_uscc(first17: &str) -> String {
    format!("{first17}{}", Uscc::check_char(first17).unwrap())
}

async fn creates_an_organization_with_a_valid_uscc(app: TestApp) {
    let uscc = valid_uscc("91120116MA05JR6K3");
    let body = json!({
        "slug": "kailaiying-pharma",
        "kind": "enterprise",
        "name_zh": "凯莱英医药集团（天津）股份有限公司",
        "name_en": "Asymchem Laboratories (Tianjin) Co., Ltd.",
        "uscc": uscc.to_lowercase(),
        "region": "天津经济技术开发区",
        "website": "https://www.asymchem.com/",
        "external_refs": [{"system": "kailaiying-hr", "id": "ORG-0001"}]
    });
    let res = app.post("/api/v1/organizations", &app.admin(), &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let org = res.json();
    assert_eq!(org["uscc"], uscc, "stored upper-case");
    assert_eq!(
        org["external_refs"],
        json!([{"system": "kailaiying-hr", "id": "ORG-0001"}])
    );
    let read = app
        .get("/api/v1/organizations/kailaiying-pharma", &app.viewer())
        .await
        .json();
    assert_eq!(read, org);
    let by_uscc = app
        .get(
            &format!("/api/v1/organizations?uscc={}", uscc.to_lowercase()),
            &app.viewer(),
        )
        .await
        .json();
    assert_eq!(by_uscc["items"][0]["slug"], "kailaiying-pharma");
}

async fn an_invalid_uscc_is_refused_naming_the_field(app: TestApp) {
    let good = valid_uscc("91120116MA05JR6K3");
    let wrong_check = format!(
        "{}{}",
        &good[..17],
        if good.ends_with('0') { '1' } else { '0' }
    );
    for bad in [
        wrong_check.as_str(),
        "91120116",
        "91120116MA05JR6KIO",
        "９１１２０１１６ＭＡ０５ＪＲ６Ｋ３Ｗ",
    ] {
        let res = app
            .post("/api/v1/organizations", &app.admin(), &json!({"slug": "some-org", "kind": "enterprise", "name_zh": "某公司", "uscc": bad}))
            .await;
        res.problem(422);
        assert_eq!(
            res.field_errors(),
            vec![("uscc".to_owned(), "invalid".to_owned())],
            "{bad}"
        );
    }
    assert_eq!(app.event_count(), 0);
    // As a filter, a code no organisation can hold finds nothing.
    let res = app
        .get("/api/v1/organizations?uscc=123", &app.viewer())
        .await;
    assert_eq!(res.json()["items"], serde_json::json!([]));
}

async fn unique_values_are_enforced_with_field_errors(app: TestApp) {
    let uscc = valid_uscc("91120000MA06XW3G7");
    let admin = app.admin();
    let first = json!({"slug": "first-co", "kind": "enterprise", "name_zh": "第一公司", "uscc": uscc,
                       "external_refs": [{"system": "hr", "id": "1"}]});
    assert_eq!(
        app.post("/api/v1/organizations", &admin, &first)
            .await
            .status,
        201
    );
    let second = json!({"slug": "first-co", "kind": "enterprise", "name_zh": "第二公司", "uscc": uscc,
                        "external_refs": [{"system": "hr", "id": "1"}, {"system": "jwxt", "id": "1"}]});
    let res = app.post("/api/v1/organizations", &admin, &second).await;
    res.problem(409);
    assert_eq!(
        res.field_errors(),
        vec![
            ("slug".into(), "taken".into()),
            ("uscc".into(), "taken".into()),
            ("external_refs[0]".into(), "taken".into())
        ]
    );
    // The same {system, id} twice in one body is a validation error.
    let dup = json!({"slug": "third-co", "kind": "enterprise", "name_zh": "第三公司",
                     "external_refs": [{"system": "hr", "id": "9"}, {"system": "hr", "id": "9"}]});
    let res = app.post("/api/v1/organizations", &admin, &dup).await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("external_refs".into(), "duplicate".into())]
    );
    // A PATCH that would take another's USCC is refused too.
    let other = json!({"slug": "other-co", "kind": "enterprise", "name_zh": "另一公司"});
    assert_eq!(
        app.post("/api/v1/organizations", &admin, &other)
            .await
            .status,
        201
    );
    let res = app
        .patch(
            "/api/v1/organizations/other-co",
            &admin,
            &json!({"uscc": uscc}),
        )
        .await;
    res.problem(409);
    assert_eq!(res.field_errors(), vec![("uscc".into(), "taken".into())]);
    // Moving a reference between one's own values is fine; clearing works.
    let res = app
        .patch(
            "/api/v1/organizations/first-co",
            &admin,
            &json!({"external_refs": [], "uscc": null}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["external_refs"], json!([]));
    let res = app
        .patch(
            "/api/v1/organizations/other-co",
            &admin,
            &json!({"uscc": uscc, "external_refs": [{"system": "hr", "id": "1"}]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

fn slugs(v: &Value) -> Vec<String> {
    let mut s: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap().to_owned())
        .collect();
    s.sort();
    s
}

async fn search_finds_chinese_and_english_names(mut app: TestApp) {
    app.seed().await;
    let tok = app.viewer();
    let q = async |query: &str| {
        app.get(&format!("/api/v1/organizations?{query}"), &tok)
            .await
            .json()
    };
    // 天津大学 (percent-encoded) matches only itself: not 天津大学 inside other names.
    assert_eq!(
        slugs(&q("q=%E5%A4%A9%E6%B4%A5%E5%A4%A7%E5%AD%A6").await),
        vec!["tianjin-university"]
    );
    assert_eq!(
        slugs(&q("q=supercomputer").await),
        vec!["national-supercomputer-center-tianjin"]
    );
    assert_eq!(slugs(&q("q=NANKAI").await), vec!["nankai-university"]);
    let gov = q("kind=government&limit=200").await;
    assert_eq!(gov["items"].as_array().unwrap().len(), 4);
    let colleges = q("kind=vocational_college&limit=200").await;
    assert_eq!(colleges["items"].as_array().unwrap().len(), 13);
    let all = q("limit=200").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 66);
}

async fn members_edit_only_their_own_organization(mut app: TestApp) {
    app.seed().await;
    let own = app.token_for(Role::Member, &[], Some("nankai-university"));
    let res = app
        .patch(
            "/api/v1/organizations/nankai-university",
            &own,
            &json!({"website": "https://www.nankai.edu.cn/"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.patch(
        "/api/v1/organizations/tianjin-university",
        &own,
        &json!({"website": "https://x.org/"}),
    )
    .await
    .problem(403);
    // A secretariat edits members of its alliance, not others.
    let teda = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    assert_eq!(
        app.patch(
            "/api/v1/organizations/asymchem",
            &teda,
            &json!({"region": "天津经济技术开发区"})
        )
        .await
        .status,
        200
    );
    app.patch(
        "/api/v1/organizations/phytium",
        &teda,
        &json!({"region": "滨海高新区"}),
    )
    .await
    .problem(403);
    app.patch(
        "/api/v1/organizations/phytium",
        &app.viewer(),
        &json!({"region": "滨海高新区"}),
    )
    .await
    .problem(403);
    // Viewers and members cannot register organisations.
    let body = json!({"slug": "new-co", "kind": "enterprise", "name_zh": "新公司"});
    app.post("/api/v1/organizations", &own, &body)
        .await
        .problem(403);
    assert_eq!(
        app.post("/api/v1/organizations", &teda, &body).await.status,
        201
    );
}

async fn deleting_keeps_membership_history(mut app: TestApp) {
    app.seed().await;
    let admin = app.admin();
    let res = app
        .delete("/api/v1/organizations/nankai-university", &admin)
        .await;
    res.problem(409);
    assert!(
        res.json()["detail"]
            .as_str()
            .unwrap()
            .contains("membership")
    );
    let mistake = app.create_org("typo-co", "录入错误公司").await;
    app.delete(
        "/api/v1/organizations/typo-co",
        &app.token(Role::Secretariat),
    )
    .await
    .problem(403);
    // A stale If-Match protects deletes too.
    let req = app
        .client
        .delete(app.url("/api/v1/organizations/typo-co"))
        .bearer_auth(&admin)
        .insert_header(("If-Match", "\"7\""));
    app.send(req, None).await.problem(412);
    let req = app
        .client
        .delete(app.url("/api/v1/organizations/typo-co"))
        .bearer_auth(&admin)
        .insert_header(("If-Match", "\"1\""));
    assert_eq!(app.send(req, None).await.status, 204);
    app.get("/api/v1/organizations/typo-co", &admin)
        .await
        .problem(404);

    use alliance_api::db::schema::change_events;
    use diesel::prelude::*;
    let tombstone: (String, String) = change_events::table
        .filter(change_events::resource_id.eq(mistake["id"].as_str().unwrap()))
        .order(change_events::seq.desc())
        .select((change_events::event_type, change_events::payload))
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(tombstone.0, "organization.deleted");
    assert_eq!(
        serde_json::from_str::<Value>(&tombstone.1).unwrap()["deleted"],
        true
    );
}
