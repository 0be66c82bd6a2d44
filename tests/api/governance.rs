//! The secretariat's records: platforms, activities and membership history.

use crate::common::TestApp;
use alliance_api::auth::Role;
use alliance_api::db::schema::{activities, activity_organizations, platforms};
use diesel::prelude::*;
use serde_json::json;

fn secretariat(app: &TestApp, alliance: &str) -> String {
    app.token_for(Role::Secretariat, &[alliance], None)
}

async fn the_seeded_alliances_have_their_platforms(mut app: TestApp) {
    app.seed().await;
    let res = app
        .get(
            "/api/v1/alliances/teda-biomedicine/platforms",
            &app.viewer(),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let items = res.json()["items"].as_array().unwrap().clone();
    let names: Vec<&str> = items
        .iter()
        .map(|p| p["name_zh"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"生物医药技术公共实训中心"), "{names:?}");
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|p| p["status"] == "planned"));
    let res = app
        .get(
            "/api/v1/alliances/tjftz-offshore-equipment/platforms?kind=training_center",
            &app.viewer(),
        )
        .await;
    let items = res.json()["items"].as_array().unwrap().clone();
    let center = items
        .iter()
        .find(|p| p["name_zh"] == "智能制造产教融合实训中心")
        .expect("the smart-manufacturing centre of seed 001");
    assert_eq!(
        center["host_organization"]["slug"],
        "offshore-oil-engineering"
    );
    let total: i64 = platforms::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(total, 23);
}

async fn a_secretariat_records_for_its_own_alliance_only(mut app: TestApp) {
    app.seed_registry().await;
    let teda = secretariat(&app, "teda-biomedicine");
    let meeting = json!({
        "kind": "council_meeting",
        "title": "理事会2025年第一次全体会议",
        "starts_on": "2025-03-18",
        "organizations": ["teda-admin-committee", "nankai-university", "asymchem"],
        "figures": {"persons": 31},
        "resolutions": ["审议通过《联合体章程（修订）》", "增补天津现代职业技术学院为理事单位"],
        "evidence": ["https://www.teda.gov.cn/notice/2025-03-18.html"]
    });
    let events = app.event_count();
    let audits = app.audit_count();
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/activities",
            &teda,
            &meeting,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let created = res.json();
    assert_eq!(created["organizations"].as_array().unwrap().len(), 3);
    assert_eq!(
        created["resolutions"][1],
        "增补天津现代职业技术学院为理事单位"
    );
    assert_eq!(app.event_count(), events + 1);
    assert_eq!(app.audit_count(), audits + 1);
    let location = res.header("location").unwrap().to_owned();
    let read = app.get(&location, &app.viewer()).await;
    assert_eq!(read.json(), created);

    let training = json!({
        "kind": "training",
        "title": "2025年生物医药骨干教师培训班",
        "starts_on": "2025-07-14",
        "ends_on": "2025-07-18",
        "organizations": ["nankai-university"],
        "figures": {"persons": 40, "person_times": 200, "hours": 32}
    });
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/activities",
            &teda,
            &training,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    // Another alliance's secretariat cannot record for this one; nothing is written.
    let other = secretariat(&app, "dongjiang-digital-economy");
    let before: i64 = activities::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    app.post(
        "/api/v1/alliances/teda-biomedicine/activities",
        &other,
        &training,
    )
    .await
    .problem(403);
    app.post(
        "/api/v1/alliances/teda-biomedicine/activities",
        &app.viewer(),
        &training,
    )
    .await
    .problem(403);
    let after: i64 = activities::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(before, after);

    // Filters: kind, date range, organisation.
    let list = |q: &'static str| {
        let app = &app;
        async move {
            let res = app
                .get(
                    &format!("/api/v1/alliances/teda-biomedicine/activities{q}"),
                    &app.viewer(),
                )
                .await;
            assert_eq!(res.status, 200, "{}", res.text());
            res.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["kind"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("?kind=training").await, vec!["training"]);
    assert_eq!(
        list("?from=2025-07-18&to=2025-12-31").await,
        vec!["training"]
    );
    assert_eq!(list("?to=2025-03-18").await, vec!["council_meeting"]);
    assert_eq!(
        list("?organization=asymchem").await,
        vec!["council_meeting"]
    );
    assert_eq!(list("?organization=nankai-university").await.len(), 2);
    app.get(
        "/api/v1/alliances/teda-biomedicine/activities?kind=party",
        &app.viewer(),
    )
    .await
    .problem(400);
}

async fn activity_figures_follow_their_kind(mut app: TestApp) {
    app.seed_registry().await;
    let teda = secretariat(&app, "teda-biomedicine");
    let post = |body: serde_json::Value| {
        let app = &app;
        let teda = teda.clone();
        async move {
            app.post(
                "/api/v1/alliances/teda-biomedicine/activities",
                &teda,
                &body,
            )
            .await
        }
    };
    let base = |kind: &str, figures: serde_json::Value| json!({"kind": kind, "title": "测试活动", "starts_on": "2025-05-01", "figures": figures});
    let cases = [
        (
            base("order_class", json!({"person_times": 10})),
            "figures.person_times",
        ),
        (
            base("training", json!({"persons": 50, "person_times": 40})),
            "figures.person_times",
        ),
        (
            base("training", json!({"budget_cny": 10})),
            "figures.budget_cny",
        ),
        (
            base("joint_research", json!({"budget_cny": 2000000})),
            "research_status",
        ),
        (
            json!({"kind": "training", "title": "t", "starts_on": "2025-05-02", "ends_on": "2025-05-01"}),
            "ends_on",
        ),
        (
            json!({"kind": "training", "title": "t", "starts_on": "2025-05-01", "resolutions": ["x"]}),
            "resolutions",
        ),
        (
            json!({"kind": "training", "title": "t", "starts_on": "2025-05-01", "organizations": ["no-such-org"]}),
            "organizations[0]",
        ),
    ];
    for (body, field) in cases {
        let res = post(body.clone()).await;
        res.problem(422);
        let fields: Vec<String> = res.field_errors().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec![field.to_owned()], "{body}");
    }
    // Wrong types and unknown kinds never reach the rules.
    let res = post(json!({"kind": "training", "title": "t", "starts_on": "2025-05-01", "figures": {"persons": "many"}})).await;
    assert!(res.status == 400 || res.status == 422, "{}", res.text());
    post(json!({"kind": "picnic", "title": "t", "starts_on": "2025-05-01"}))
        .await
        .problem(422);
    let count: i64 = activities::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(count, 0, "nothing was written");

    // Joint research by open call (揭榜挂帅) with a budget in yuan.
    let res = post(json!({
        "kind": "joint_research",
        "title": "海洋装备卡脖子技术联合攻关",
        "starts_on": "2025-01-10",
        "research_status": "ongoing",
        "open_call": true,
        "figures": {"budget_cny": 2000000, "persons": 12}
    }))
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let etag = res.header("etag").unwrap().to_owned();

    // A change keeps the rules too, honours If-Match, and a delete is audited.
    let res = app
        .patch(
            &format!("/api/v1/activities/{id}"),
            &teda,
            &json!({"research_status": null}),
        )
        .await;
    res.problem(422);
    let res = app
        .send(
            app.client
                .patch(app.url(&format!("/api/v1/activities/{id}")))
                .bearer_auth(&teda)
                .insert_header(("If-Match", etag.as_str()))
                .content_type("application/json"),
            Some(br#"{"research_status":"completed"}"#.to_vec()),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["version"], 2);
    let stale = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/activities/{id}")))
                .bearer_auth(&teda)
                .insert_header(("If-Match", etag.as_str())),
            None,
        )
        .await;
    stale.problem(412);
    let res = app.delete(&format!("/api/v1/activities/{id}"), &teda).await;
    assert_eq!(res.status, 204);
    app.get(&format!("/api/v1/activities/{id}"), &teda)
        .await
        .problem(404);
    let links: i64 = activity_organizations::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(links, 0);
}

async fn platforms_keep_their_rules(mut app: TestApp) {
    app.seed().await;
    let teda = secretariat(&app, "teda-biomedicine");
    let url = "/api/v1/alliances/teda-biomedicine/platforms";
    // The host must be a current member of this alliance.
    let res = app
        .post(
            url,
            &teda,
            &json!({"kind": "joint_lab", "name_zh": "测试实验室", "host_organization": "tianjin-port-group"}),
        )
        .await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("host_organization".to_owned(), "not_a_member".to_owned())]
    );
    let res = app
        .post(
            url,
            &teda,
            &json!({"kind": "joint_lab", "name_zh": "测试实验室", "status": "closed"}),
        )
        .await;
    res.problem(422);
    assert_eq!(res.field_errors()[0].0, "closed_on");
    // A name is unique within the alliance.
    let res = app
        .post(
            url,
            &teda,
            &json!({"kind": "joint_lab", "name_zh": "生物医药技术公共实训中心"}),
        )
        .await;
    res.problem(409);

    let res = app
        .post(
            url,
            &teda,
            &json!({
                "kind": "joint_lab",
                "name_zh": "细胞治疗联合实验室",
                "host_organization": "asymchem",
                "partners": ["nankai-university", "tianjin-port-group"],
                "focus_areas": ["细胞治疗"],
                "opened_on": "2025-04-01"
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let lab = res.json();
    let id = lab["id"].as_str().unwrap().to_owned();
    assert_eq!(lab["partners"].as_array().unwrap().len(), 2);

    // An activity on it; then the platform cannot be deleted, only closed.
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/activities",
            &teda,
            &json!({"kind": "training", "title": "实验室开放日", "starts_on": "2025-05-01", "platform_id": id}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let other_alliance_platform = app
        .get(
            "/api/v1/alliances/dongjiang-digital-economy/platforms",
            &app.admin(),
        )
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/activities",
            &teda,
            &json!({"kind": "training", "title": "t", "starts_on": "2025-05-01", "platform_id": other_alliance_platform}),
        )
        .await;
    // Answered as an unknown platform: nothing about another alliance leaks.
    res.problem(422);
    assert_eq!(
        res.field_errors()[0],
        ("platform_id".to_owned(), "not_found".to_owned())
    );
    app.delete(&format!("/api/v1/platforms/{id}"), &teda)
        .await
        .problem(409);
    let res = app
        .patch(
            &format!("/api/v1/platforms/{id}"),
            &teda,
            &json!({"status": "closed", "closed_on": "2025-03-01"}),
        )
        .await;
    res.problem(422);
    let res = app
        .patch(
            &format!("/api/v1/platforms/{id}"),
            &teda,
            &json!({"status": "closed", "closed_on": "2026-06-30"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "closed");
    let on_platform = app
        .get(
            &format!("/api/v1/alliances/teda-biomedicine/activities?platform={id}"),
            &teda,
        )
        .await
        .json();
    assert_eq!(on_platform["items"].as_array().unwrap().len(), 1);
    // For another alliance's secretariat it does not exist.
    app.patch(
        &format!("/api/v1/platforms/{id}"),
        &secretariat(&app, "dongjiang-digital-economy"),
        &json!({"description": "x"}),
    )
    .await
    .problem(404);
}

async fn membership_history_records_each_change(mut app: TestApp) {
    app.seed().await;
    let teda = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    app.create_org("history-co", "历史公司").await;
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/memberships",
            &teda,
            &json!({"organization_id": "history-co", "joined_on": "2024-01-01"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/memberships/{id}");
    let res = app
        .patch(
            &path,
            &teda,
            &json!({"role": "co_lead", "reason": "elected co-lead"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .patch(
            &path,
            &teda,
            &json!({"status": "suspended", "reason": "dues unpaid"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .patch(
            &path,
            &teda,
            &json!({"left_on": "2025-12-31", "reason": "withdrew"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    // A note alone is no role or status change: no entry.
    let res = app.patch(&path, &teda, &json!({"note": "archived"})).await;
    assert_eq!(
        res.status,
        409,
        "a closed membership does not change: {}",
        res.text()
    );

    let history = app.get(&format!("{path}/history"), &app.viewer()).await;
    assert_eq!(history.status, 200, "{}", history.text());
    let entries = history.json()["items"].as_array().unwrap().clone();
    let steps: Vec<(String, Option<String>, String)> = entries
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["from"].as_str().map(str::to_owned),
                e["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("joined", None, "member"),
        ("role", Some("member"), "co_lead"),
        ("status", Some("active"), "suspended"),
        ("status", Some("suspended"), "left"),
    ];
    let expected: Vec<(String, Option<String>, String)> = expected
        .iter()
        .map(|(f, from, to)| (f.to_string(), from.map(str::to_owned), to.to_string()))
        .collect();
    assert_eq!(steps, expected);
    assert!(entries.iter().all(|e| e["actor"] == "test:secretariat"));
    assert_eq!(entries[0]["effective_on"], "2024-01-01");
    assert_eq!(entries[3]["effective_on"], "2025-12-31");
    assert_eq!(entries[3]["reason"], "withdrew");
    assert!(entries.iter().all(|e| e["at"].is_string()));
    // Seeded memberships begin their history too.
    let seeded = app
        .get(
            "/api/v1/alliances/teda-biomedicine/memberships?limit=1",
            &app.viewer(),
        )
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let h = app
        .get(
            &format!("/api/v1/memberships/{seeded}/history"),
            &app.viewer(),
        )
        .await
        .json();
    assert_eq!(h["items"][0]["field"], "joined");
    app.get("/api/v1/memberships/nope/history", &app.viewer())
        .await
        .problem(404);
}

async fn the_council_keeps_its_rules(mut app: TestApp) {
    app.seed().await;
    let teda = secretariat(&app, "teda-biomedicine");
    let seats = "/api/v1/alliances/teda-biomedicine/council-seats";
    let seat = |org: &str, person: &str, position: &str, from: &str, to: &str| {
        json!({
            "organization": org, "person_name_zh": person, "position": position,
            "term_number": 1, "term_starts_on": from, "term_ends_on": to
        })
    };
    let res = app
        .post(
            seats,
            &teda,
            &seat(
                "teda-admin-committee",
                "王主任",
                "chair",
                "2023-05-08",
                "2026-05-07",
            ),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .post(
            seats,
            &teda,
            &seat(
                "nankai-university",
                "李教授",
                "vice_chair",
                "2023-05-08",
                "2026-05-07",
            ),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let nankai_seat = res.json()["id"].as_str().unwrap().to_owned();
    let res = app
        .post(
            seats,
            &teda,
            &seat("asymchem", "赵总", "director", "2023-05-08", "2026-05-07"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let asymchem_seat = res.json()["id"].as_str().unwrap().to_owned();

    // A second sitting chair: refused, naming the rule; nothing written.
    let events = app.event_count();
    let res = app
        .post(
            seats,
            &teda,
            &seat(
                "nankai-university",
                "钱院长",
                "chair",
                "2025-01-01",
                "2027-12-31",
            ),
        )
        .await;
    let problem = res.problem(409);
    assert_eq!(
        res.field_errors(),
        vec![("position".to_owned(), "one_sitting_chair".to_owned())]
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("王主任"),
        "{problem}"
    );
    // After the first chair's term, a new chair is fine.
    let res = app
        .post(
            seats,
            &teda,
            &seat(
                "nankai-university",
                "钱院长",
                "chair",
                "2026-05-08",
                "2029-05-07",
            ),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(app.event_count(), events + 1);
    // The same person twice in one position at once: refused.
    let res = app
        .post(
            seats,
            &teda,
            &seat("asymchem", "赵总", "director", "2025-01-01", "2027-12-31"),
        )
        .await;
    res.problem(409);
    assert_eq!(res.field_errors()[0].1, "overlapping_term");
    app.get(
        "/api/v1/alliances/teda-biomedicine/council-seats?term=0",
        &teda,
    )
    .await
    .problem(400);
    // A seat for a non-member: 422.
    let res = app
        .post(
            seats,
            &teda,
            &seat(
                "tianjin-port-group",
                "孙经理",
                "director",
                "2023-05-08",
                "2026-05-07",
            ),
        )
        .await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("organization".to_owned(), "not_a_member".to_owned())]
    );
    // Another alliance's secretariat cannot seat anyone here.
    app.post(
        seats,
        &secretariat(&app, "dongjiang-digital-economy"),
        &seat("asymchem", "周", "director", "2023-05-08", "2026-05-07"),
    )
    .await
    .problem(403);

    // The council as of a day: seats, vacancies, ending soon.
    let council = app
        .get(
            "/api/v1/alliances/teda-biomedicine/council?as_of=2026-03-01&ending_within_days=90",
            &app.viewer(),
        )
        .await;
    assert_eq!(council.status, 200, "{}", council.text());
    let council = council.json();
    let positions: Vec<&str> = council["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["position"].as_str().unwrap())
        .collect();
    assert_eq!(positions, vec!["chair", "vice_chair", "director"]);
    assert_eq!(council["vacancies"], json!(["secretary_general"]));
    assert_eq!(council["ending_soon"].as_array().unwrap().len(), 3);
    let later = app
        .get(
            "/api/v1/alliances/teda-biomedicine/council?as_of=2026-06-01",
            &app.token(Role::Reviewer),
        )
        .await
        .json();
    assert_eq!(later["seats"][0]["person_name_zh"], "钱院长");
    // A viewer gets people's names masked.
    let masked = app
        .get(
            "/api/v1/alliances/teda-biomedicine/council?as_of=2026-06-01",
            &app.viewer(),
        )
        .await
        .json();
    assert_eq!(masked["seats"][0]["person_name_zh"], "钱**");
    assert_eq!(later["vacancies"], json!(["secretary_general"]));

    // A member leaving ends its seats, on the day it leaves.
    let membership = app
        .get("/api/v1/organizations/asymchem/memberships", &app.viewer())
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["status"] == "active")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .patch(
            &format!("/api/v1/memberships/{membership}"),
            &teda,
            &json!({"left_on": "2025-06-30", "reason": "withdrew"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let ended = app
        .get(
            &format!("/api/v1/council-seats/{asymchem_seat}"),
            &app.viewer(),
        )
        .await
        .json();
    assert_eq!(ended["ended_on"], "2025-06-30");
    assert!(
        ended["end_reason"]
            .as_str()
            .unwrap()
            .contains("left the alliance")
    );
    assert_eq!(ended["version"], 2);
    let untouched = app
        .get(
            &format!("/api/v1/council-seats/{nankai_seat}"),
            &app.viewer(),
        )
        .await
        .json();
    assert!(untouched["ended_on"].is_null());
    let after = app
        .get(
            "/api/v1/alliances/teda-biomedicine/council?as_of=2025-07-01",
            &app.viewer(),
        )
        .await
        .json();
    assert!(
        !after["seats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == asymchem_seat.as_str()),
        "{after}"
    );
    // Ending a seat outside its term is refused.
    let res = app
        .patch(
            &format!("/api/v1/council-seats/{nankai_seat}"),
            &teda,
            &json!({"ended_on": "2030-01-01"}),
        )
        .await;
    res.problem(422);
}

async fn organizations_carry_certification_and_former_names(app: TestApp) {
    let admin = app.admin();
    let res = app
        .post(
            "/api/v1/organizations",
            &admin,
            &json!({
                "slug": "certified-co", "kind": "enterprise", "name_zh": "旧名称科技有限公司",
                "uscc": "91120116MA05JR6K3W",
                "certification": {"level": "municipal", "certified_on": "2024-06-01", "expires_on": "2027-05-31"}
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let org = res.json();
    assert_eq!(org["registration_category"], "enterprise");
    assert_eq!(org["certification"]["level"], "municipal");
    // Only enterprises are certified; a certification does not end before it starts.
    let res = app
        .post(
            "/api/v1/organizations",
            &admin,
            &json!({"slug": "cert-uni", "kind": "university", "name_zh": "某大学",
                    "certification": {"level": "national", "certified_on": "2024-06-01"}}),
        )
        .await;
    res.problem(422);
    assert_eq!(res.field_errors()[0].0, "certification");
    let res = app
        .post(
            "/api/v1/organizations",
            &admin,
            &json!({"slug": "cert-bad", "kind": "enterprise", "name_zh": "某公司",
                    "certification": {"level": "national", "certified_on": "2024-06-01", "expires_on": "2024-01-01"}}),
        )
        .await;
    res.problem(422);
    assert_eq!(res.field_errors()[0].0, "certification.expires_on");
    app.create_org("uncertified-co", "未认证公司").await;
    let slugs = |q: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/organizations{q}"), &app.viewer())
                .await
                .json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["slug"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        slugs("?certification=municipal").await,
        vec!["certified-co"]
    );
    assert_eq!(
        slugs("?certified_on=2025-01-01").await,
        vec!["certified-co"]
    );
    assert!(slugs("?certified_on=2028-01-01").await.is_empty());
    assert!(slugs("?certification=national").await.is_empty());

    // A rename keeps the old name, and `q` still finds the organisation by it.
    let res = app
        .patch(
            "/api/v1/organizations/certified-co",
            &admin,
            &json!({"name_zh": "新名称科技有限公司"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let renamed = res.json();
    assert_eq!(renamed["former_names"][0]["name_zh"], "旧名称科技有限公司");
    assert!(renamed["former_names"][0]["used_until"].is_string());
    assert_eq!(
        slugs("?q=%E6%97%A7%E5%90%8D%E7%A7%B0").await,
        vec!["certified-co"]
    );
    assert_eq!(
        slugs("?q=%E6%96%B0%E5%90%8D%E7%A7%B0").await,
        vec!["certified-co"]
    );

    // The certification is the secretariats' to set, not the member's.
    let member = app.token_for(Role::Member, &[], Some("certified-co"));
    app.patch(
        "/api/v1/organizations/certified-co",
        &member,
        &json!({"certification": null}),
    )
    .await
    .problem(403);
}

async fn every_list_comes_as_a_file(mut app: TestApp) {
    use alliance_api::tabular::{self, Format};
    app.seed_registry().await;
    let teda = secretariat(&app, "teda-biomedicine");
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/activities",
            &teda,
            &json!({"kind": "training", "title": "导出测试培训", "starts_on": "2025-07-14",
                    "figures": {"persons": 40, "person_times": 120}}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let lists = [
        ("memberships", 14, "角色"),
        ("platforms", 4, "名称"),
        ("activities", 1, "人次"),
        ("council-seats", 0, "职务"),
    ];
    for (list, rows, zh_header) in lists {
        for format in [Format::Csv, Format::Xlsx] {
            let name = if format == Format::Csv { "csv" } else { "xlsx" };
            let res = app
                .get(
                    &format!(
                        "/api/v1/alliances/teda-biomedicine/{list}?format={name}&headers=zh&limit=2"
                    ),
                    &app.viewer(),
                )
                .await;
            assert_eq!(res.status, 200, "{list}: {}", res.text());
            let sheet = tabular::read(format, &res.body, &tabular::IMPORT_BOUNDS).unwrap();
            assert!(
                sheet.headers.iter().any(|h| h == zh_header),
                "{list}: {:?}",
                sheet.headers
            );
            // Every record, not one page.
            assert_eq!(sheet.rows.len(), rows, "{list} as {name}");
        }
    }
    let orgs = app
        .get(
            "/api/v1/organizations?format=csv&headers=zh&kind=university",
            &app.viewer(),
        )
        .await;
    assert_eq!(orgs.status, 200);
    let sheet = tabular::read(Format::Csv, &orgs.body, &tabular::IMPORT_BOUNDS).unwrap();
    assert_eq!(sheet.headers[4], "统一社会信用代码");
    let listed = app
        .get(
            "/api/v1/organizations?kind=university&limit=200",
            &app.viewer(),
        )
        .await
        .json();
    assert_eq!(sheet.rows.len(), listed["items"].as_array().unwrap().len());
    // `Accept` works as well as `format`, with English keys by default.
    let res = app
        .send(
            app.client
                .get(app.url("/api/v1/alliances/teda-biomedicine/activities?kind=training"))
                .bearer_auth(app.viewer())
                .insert_header(("Accept", "text/csv")),
            None,
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().starts_with("text/csv"));
    let sheet = tabular::read(Format::Csv, &res.body, &tabular::IMPORT_BOUNDS).unwrap();
    let col = sheet
        .headers
        .iter()
        .position(|h| h == "person_times")
        .unwrap();
    assert_eq!(sheet.rows[0].cells[col], "120");
    app.get(
        "/api/v1/alliances/teda-biomedicine/platforms?format=pdf",
        &app.viewer(),
    )
    .await
    .problem(400);
}

on_both_engines!(
    the_seeded_alliances_have_their_platforms,
    a_secretariat_records_for_its_own_alliance_only,
    activity_figures_follow_their_kind,
    platforms_keep_their_rules,
    membership_history_records_each_change,
    the_council_keeps_its_rules,
    organizations_carry_certification_and_former_names,
    every_list_comes_as_a_file,
);
