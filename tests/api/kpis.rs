//! The KPI catalogue: seeded from the seeds' indicators, changed by admins
//! only, and consistent (a derived KPI is in its derivation's unit).

use crate::common::TestApp;
use alliance_api::auth::Role;
use serde_json::json;

async fn the_catalogue_holds_the_seeds_indicators(mut app: TestApp) {
    app.seed().await;
    let res = app.get("/api/v1/kpi-definitions", &app.viewer()).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 18);
    let training = items
        .iter()
        .find(|k| k["code"] == "teacher_training_person_times")
        .unwrap();
    assert_eq!(training["unit"], "person_times");
    assert_eq!(
        training["derivation"],
        json!({"source": "activity_figure", "activity_kind": "training", "figure": "person_times"})
    );
    assert_eq!(training["evidence_required"], true);
    assert!(training["source"].as_str().unwrap().contains("5000"));
    let luban = app
        .get("/api/v1/kpi-definitions/luban_workshops", &app.viewer())
        .await
        .json();
    assert!(luban["derivation"].is_null());
    app.get("/api/v1/kpi-definitions/no_such_kpi", &app.viewer())
        .await
        .problem(404);
}

async fn admins_keep_the_catalogue_consistent(app: TestApp) {
    let new = json!({
        "code": "apprentices", "name_zh": "学徒", "unit": "persons",
        "direction": "increase", "value_type": "integer",
        "derivation": {"source": "activity_figure", "activity_kind": "order_class", "figure": "students"}
    });
    let secretariat = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    app.post("/api/v1/kpi-definitions", &secretariat, &new)
        .await
        .problem(403);
    let events = app.event_count();
    let res = app
        .post("/api/v1/kpi-definitions", &app.admin(), &new)
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.header("location"),
        Some("/api/v1/kpi-definitions/apprentices")
    );
    assert_eq!(app.event_count(), events + 1);
    app.post("/api/v1/kpi-definitions", &app.admin(), &new)
        .await
        .problem(409);

    let mut wrong_unit = new.clone();
    wrong_unit["code"] = json!("apprentice_times");
    wrong_unit["unit"] = json!("person_times");
    let res = app
        .post("/api/v1/kpi-definitions", &app.admin(), &wrong_unit)
        .await;
    res.problem(422);
    assert_eq!(res.field_errors()[0].0, "unit");
    let mut bad_code = new.clone();
    bad_code["code"] = json!("Apprentices!");
    let res = app
        .post("/api/v1/kpi-definitions", &app.admin(), &bad_code)
        .await;
    res.problem(422);
    assert_eq!(res.field_errors()[0].0, "code");
    let mut bad_source = new.clone();
    bad_source["code"] = json!("x2");
    bad_source["derivation"] = json!({"source": "horoscope"});
    app.post("/api/v1/kpi-definitions", &app.admin(), &bad_source)
        .await
        .problem(422);
    let percent = json!({"code": "rate", "name_zh": "比率", "unit": "percent",
        "direction": "increase", "value_type": "integer"});
    let res = app
        .post("/api/v1/kpi-definitions", &app.admin(), &percent)
        .await;
    res.problem(422);
    assert_eq!(res.field_errors()[0].0, "value_type");

    // Changes honour If-Match.
    let res = app
        .send(
            app.client
                .patch(app.url("/api/v1/kpi-definitions/apprentices"))
                .bearer_auth(app.admin())
                .insert_header(("If-Match", "\"1\""))
                .content_type("application/json"),
            Some(br#"{"evidence_required":true}"#.to_vec()),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["version"], 2);
    let stale = app
        .send(
            app.client
                .patch(app.url("/api/v1/kpi-definitions/apprentices"))
                .bearer_auth(app.admin())
                .insert_header(("If-Match", "\"1\""))
                .content_type("application/json"),
            Some(br#"{"direction":"decrease"}"#.to_vec()),
        )
        .await;
    stale.problem(412);
}

on_both_engines!(
    the_catalogue_holds_the_seeds_indicators,
    admins_keep_the_catalogue_consistent,
);
