//! Yearly KPIs, the report workflow and its lock, the annual report as
//! files, and the dashboard: through the HTTP API, on both engines.

use std::io::Cursor;

use crate::common::TestApp;
use alliance_api::auth::Role;
use alliance_api::db::schema::{activities, report_events};
use calamine::{Data, Reader, Xlsx};
use diesel::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const TEDA: &str = "teda-biomedicine";

fn line<'a>(year: &'a Value, code: &str) -> &'a Value {
    year["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["code"] == code)
        .unwrap_or_else(|| panic!("no KPI {code}"))
}

fn secretariat(app: &TestApp) -> String {
    app.token_for(Role::Secretariat, &[TEDA], None)
}

/// The SHA-256 of a report's content as a client can recompute it: the
/// report without its workflow fields, as JSON with sorted keys.
fn content_hash(report: &Value) -> String {
    let mut content = report.as_object().unwrap().clone();
    for key in [
        "status", "version", "approval", "comment", "history", "frozen",
    ] {
        content.remove(key);
    }
    let canonical = serde_json::to_string(&Value::Object(content)).unwrap();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn every_seeded_alliance_has_two_demo_years_one_approved(mut app: TestApp) {
    app.seed().await;
    let alliances = app.get("/api/v1/alliances", &app.viewer()).await.json();
    let alliances = alliances["items"].as_array().unwrap();
    assert_eq!(alliances.len(), 7);
    for a in alliances {
        let slug = a["slug"].as_str().unwrap();
        let y2024 = app
            .get(
                &format!("/api/v1/alliances/{slug}/kpis/2024"),
                &app.viewer(),
            )
            .await
            .json();
        assert_eq!(y2024["status"], "approved", "{slug}");
        assert!(line(&y2024, "teacher_training_person_times")["target"].is_number());
        let y2025 = app
            .get(
                &format!("/api/v1/alliances/{slug}/kpis/2025"),
                &app.viewer(),
            )
            .await
            .json();
        assert_eq!(y2025["status"], "draft", "{slug}");
        assert!(line(&y2025, "students_enrolled")["actual"].is_number());

        // The approval's hash is the hash of exactly what the report shows.
        let report = app
            .get(
                &format!("/api/v1/alliances/{slug}/reports/2024"),
                &app.viewer(),
            )
            .await
            .json();
        assert_eq!(report["frozen"], true);
        let hash = report["approval"]["snapshot_sha256"].as_str().unwrap();
        assert_eq!(hash.len(), 64);
        assert_eq!(content_hash(&report), hash, "{slug}");
        let steps: Vec<&str> = report["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["submit", "approve"]);
    }
}

async fn a_training_moves_the_derived_kpi_and_is_listed_as_its_source(mut app: TestApp) {
    app.seed().await;
    let path = format!("/api/v1/alliances/{TEDA}/kpis/2025");
    let before = app.get(&path, &app.viewer()).await.json();
    let training = line(&before, "teacher_training_person_times");
    assert_eq!(training["actual_source"], "derived");
    let was = training["actual"].as_f64().unwrap();

    let res = app
        .post(
            &format!("/api/v1/alliances/{TEDA}/activities"),
            &secretariat(&app),
            &json!({
                "kind": "training", "title": "细胞治疗工艺骨干教师培训",
                "starts_on": "2025-10-13",
                "figures": {"persons": 10, "person_times": 40, "hours": 16}
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_str().unwrap().to_owned();

    let after = app.get(&path, &app.viewer()).await.json();
    let training = line(&after, "teacher_training_person_times");
    // Person-times (人次), not the 10 persons (人).
    assert_eq!(training["actual"].as_f64().unwrap(), was + 40.0);
    let source = training["provenance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .expect("the training is listed");
    assert_eq!(source["record_type"], "activity");
    assert_eq!(source["value"], 40);
    assert_eq!(source["date"], "2025-10-13");
    assert_ne!(
        before["version"],
        Value::Null,
        "the year's version is always present"
    );

    // The dashboard's aggregate gives the same figures as the year's table.
    let board = app
        .get(
            &format!("/api/v1/dashboard/kpis?alliance={TEDA}&from_year=2025&to_year=2025"),
            &app.viewer(),
        )
        .await;
    assert_eq!(board.status, 200, "{}", board.text());
    let board = board.json();
    for k in after["items"].as_array().unwrap() {
        let row = board["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kpi_code"] == k["code"]);
        match row {
            Some(r) => {
                assert_eq!(r["actual"], k["actual"], "{}", k["code"]);
                assert_eq!(r["target"], k["target"], "{}", k["code"]);
            }
            // Left out only when there is nothing to show.
            None => assert!(
                k["target"].is_null() && (k["actual"].is_null() || k["actual"] == 0),
                "{k}"
            ),
        }
    }
}

async fn totals_count_an_organisation_in_two_alliances_once(mut app: TestApp) {
    app.seed().await;
    let org = app.create_org("certified-pharma", "认证制药有限公司").await;
    let id = org["id"].as_str().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/organizations/{id}"),
            &app.admin(),
            &json!({"certification": {"level": "municipal", "certified_on": "2025-03-01"}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    for alliance in [TEDA, "new-energy-community"] {
        let res = app
            .post(
                &format!("/api/v1/alliances/{alliance}/memberships"),
                &app.admin(),
                &json!({"organization_id": id, "role": "member", "joined_on": "2025-04-01"}),
            )
            .await;
        assert_eq!(res.status, 201, "{alliance}: {}", res.text());
    }
    let board = app
        .get(
            &format!(
                "/api/v1/dashboard/kpis?alliance={TEDA},new-energy-community&from_year=2025&to_year=2025&kpi=certified_enterprises"
            ),
            &app.viewer(),
        )
        .await
        .json();
    let rows = board["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{board}");
    assert!(rows.iter().all(|r| r["actual"] == 1));
    let total = &board["totals"][0];
    assert_eq!(total["actual"], 1, "{board}");
    assert_eq!(total["alliances"], 2);
    assert_eq!(total["method"], "distinct_organizations");
}

async fn the_workflow_goes_by_role_and_an_approved_year_is_locked(mut app: TestApp) {
    app.seed().await;
    let sec = secretariat(&app);
    let reviewer = app.token(Role::Reviewer);
    let year = format!("/api/v1/alliances/{TEDA}/kpis/2026");
    let report = format!("/api/v1/alliances/{TEDA}/reports/2026");
    let step = |name: &str| format!("{report}/{name}");

    // Bad entries name the field; nothing is written.
    let res = app
        .put(
            &year,
            &sec,
            &json!({"kpis": [
                {"code": "teacher_training_person_times", "actual": 10},
                {"code": "no_such_kpi", "target": 1},
                {"code": "curriculum_standards", "target": 2.5},
                {"code": "employment_rate", "target": 120}
            ]}),
        )
        .await;
    res.problem(422);
    let fields: Vec<String> = res.field_errors().into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "kpis[0].actual",
            "kpis[1].code",
            "kpis[2].target",
            "kpis[3].target"
        ]
    );
    assert_eq!(app.get(&year, &sec).await.json()["version"], 0);

    // An evidence-required KPI with a figure and no evidence blocks submitting.
    let entries = json!({"kpis": [
        {"code": "teacher_training_person_times", "target": 100,
         "evidence": ["https://example.org/2026/roster.xlsx"]},
        {"code": "technical_service_income", "target": 200, "actual": 150}
    ]});
    let res = app.put(&year, &sec, &entries).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["version"], 1);
    let res = app.post(&step("submit"), &sec, &json!({})).await;
    res.problem(422);
    assert_eq!(
        res.field_errors()[0].0,
        "kpis.technical_service_income.evidence"
    );

    let mut entries = entries;
    entries["kpis"][1]["evidence"] = json!(["https://example.org/2026/contracts.pdf"]);
    let res = app.put(&year, &sec, &entries).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app.post(&step("submit"), &sec, &json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "submitted");

    // Under review the figures wait; a secretariat cannot approve.
    app.put(&year, &sec, &entries).await.problem(409);
    app.post(&step("approve"), &sec, &json!({}))
        .await
        .problem(403);
    let res = app.post(&step("return"), &reviewer, &json!({})).await;
    res.problem(422);
    assert_eq!(res.field_errors()[0].0, "comment");
    let res = app
        .post(
            &step("return"),
            &reviewer,
            &json!({"comment": "请补充合同清单"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "returned");
    assert_eq!(res.json()["comment"], "请补充合同清单");

    entries["kpis"][1]["actual"] = json!(180.5);
    assert_eq!(app.put(&year, &sec, &entries).await.status, 200);
    assert_eq!(
        app.post(&step("submit"), &sec, &json!({})).await.status,
        200
    );
    let res = app.post(&step("approve"), &reviewer, &json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let approved = res.json();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["frozen"], true);
    let first_hash = approved["approval"]["snapshot_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_hash(&approved), first_hash);

    // Locked: the figures, and the records that feed them.
    let res = app.put(&year, &sec, &entries).await;
    let problem = res.problem(409);
    assert_eq!(problem["type"], "/problems/year-locked");
    let detail = problem["detail"].as_str().unwrap();
    // When, not who: the refusal names no reviewer (the report does, for
    // those who may read it).
    assert!(
        detail.contains("approved on") && !detail.contains("test:reviewer"),
        "{detail}"
    );
    let count = || -> i64 {
        activities::table
            .filter(activities::starts_on.ge(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()))
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    let activities_before = count();
    let res = app
        .post(
            &format!("/api/v1/alliances/{TEDA}/activities"),
            &sec,
            &json!({"kind": "training", "title": "迟到的培训", "starts_on": "2026-06-01",
                    "figures": {"person_times": 40}}),
        )
        .await;
    let problem = res.problem(409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("teacher_training_person_times")
    );
    assert_eq!(count(), activities_before, "nothing written");

    // Reopen (with a reason, audited) → change → approve: a new hash.
    app.post(&step("reopen"), &reviewer, &json!({}))
        .await
        .problem(422);
    let res = app
        .post(
            &step("reopen"),
            &reviewer,
            &json!({"comment": "合同金额更正"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "draft");
    assert_eq!(res.json()["frozen"], false);
    entries["kpis"][1]["actual"] = json!(190);
    assert_eq!(app.put(&year, &sec, &entries).await.status, 200);
    assert_eq!(
        app.post(&step("submit"), &sec, &json!({})).await.status,
        200
    );
    let reapproved = app
        .post(&step("approve"), &reviewer, &json!({}))
        .await
        .json();
    let second_hash = reapproved["approval"]["snapshot_sha256"].as_str().unwrap();
    assert_ne!(second_hash, first_hash);
    assert_eq!(content_hash(&reapproved), second_hash);

    let steps: Vec<(String, Option<String>)> = report_events::table
        .order(report_events::at.asc())
        .select((report_events::action, report_events::comment))
        .load(&mut *app.conn())
        .unwrap()
        .into_iter()
        .filter(|(a, _): &(String, Option<String>)| a == "reopen")
        .collect();
    assert_eq!(
        steps,
        [("reopen".to_owned(), Some("合同金额更正".to_owned()))]
    );
    let history: Vec<&str> = reapproved["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "submit", "return", "submit", "approve", "reopen", "submit", "approve"
        ]
    );
}

async fn edits_that_do_not_change_an_approved_figure_go_through(mut app: TestApp) {
    app.seed().await;
    let sec = secretariat(&app);
    let created = app
        .post(
            &format!("/api/v1/alliances/{TEDA}/activities"),
            &sec,
            &json!({"kind": "training", "title": "师资培训", "starts_on": "2027-03-02",
                    "figures": {"person_times": 30}}),
        )
        .await
        .json();
    let id = created["id"].as_str().unwrap();
    let report = format!("/api/v1/alliances/{TEDA}/reports/2027");
    let admin = app.admin();
    let evidence = json!({"kpis": [{"code": "teacher_training_person_times",
        "evidence": ["https://example.org/2027/roster.xlsx"]}]});
    let res = app
        .put(
            &format!("/api/v1/alliances/{TEDA}/kpis/2027"),
            &sec,
            &evidence,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        app.post(&format!("{report}/submit"), &admin, &json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        app.post(&format!("{report}/approve"), &admin, &json!({}))
            .await
            .status,
        200
    );

    let path = format!("/api/v1/activities/{id}");
    let res = app
        .patch(&path, &sec, &json!({"title": "2027年师资培训（更正标题）"}))
        .await;
    assert_eq!(res.status, 200, "a title feeds no figure: {}", res.text());
    let res = app
        .patch(&path, &sec, &json!({"figures": {"person_times": 31}}))
        .await;
    res.problem(409);
    let res = app
        .patch(&path, &sec, &json!({"starts_on": "2028-01-05"}))
        .await;
    res.problem(409);
    app.delete(&path, &sec).await.problem(409);
    let kept = app.get(&path, &sec).await.json();
    assert_eq!(kept["figures"]["person_times"], 30);
}

async fn the_report_downloads_as_a_workbook_with_the_json_numbers(mut app: TestApp) {
    app.seed().await;
    let path = format!("/api/v1/alliances/{TEDA}/reports/2024");
    let report = app.get(&path, &app.viewer()).await.json();
    let res = app.get(&format!("{path}?format=xlsx"), &app.viewer()).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.header("content-disposition")
            .unwrap()
            .contains("teda-biomedicine-2024.xlsx")
    );
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(res.body.clone())).expect("the workbook opens");
    assert_eq!(
        book.sheet_names(),
        ["概况", "指标", "成员变动", "理事会", "平台", "活动"]
    );
    let kpis = book.worksheet_range("指标").unwrap();
    let mut rows = kpis.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        &header[..6],
        ["指标代码", "指标名称", "单位", "方向", "目标值", "实际值"]
    );
    let mut compared = 0;
    for row in rows {
        let code = row[0].to_string();
        let k = report["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["code"] == code.as_str())
            .unwrap();
        for (col, key) in [(4, "target"), (5, "actual")] {
            match (&row[col], k[key].as_f64()) {
                (Data::Float(v), Some(json)) => {
                    assert_eq!(*v, json, "{code} {key}");
                    compared += 1;
                }
                (Data::Empty, None) => {}
                (cell, json) => panic!("{code} {key}: {cell:?} vs {json:?}"),
            }
        }
        if k["unit"] == "person_times" {
            assert_eq!(row[2].to_string(), "人次");
        }
    }
    assert!(compared >= 15, "{compared}");
    let summary = book.worksheet_range("概况").unwrap();
    let hash_row = summary.rows().find(|r| r[0] == "快照 SHA-256").unwrap();
    assert_eq!(
        hash_row[1].to_string(),
        report["approval"]["snapshot_sha256"].as_str().unwrap()
    );

    // CSV: one section, here the activities.
    let csv = app
        .get(
            &format!("{path}?format=csv&section=activities&headers=en"),
            &app.viewer(),
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.text();
    let training = text.lines().find(|l| l.starts_with("training,")).unwrap();
    let json_training = report["activities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "training")
        .unwrap();
    assert_eq!(
        training,
        format!(
            "training,{},{},{},0,0",
            json_training["count"], json_training["persons"], json_training["person_times"]
        )
    );
}

async fn the_dashboard_filters_and_refuses_what_it_cannot_answer(mut app: TestApp) {
    app.seed().await;
    let approved = app
        .get(
            "/api/v1/dashboard/kpis?from_year=2024&to_year=2025&approved_only=true",
            &app.viewer(),
        )
        .await
        .json();
    let rows = approved["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["year"] == 2024
        && r["status"] == "approved"
        && r["snapshot_sha256"].as_str().is_some_and(|h| h.len() == 64)));
    let alliances: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|r| r["alliance_slug"].as_str().unwrap())
        .collect();
    assert_eq!(alliances.len(), 7);
    let percent = approved["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kpi_code"] == "employment_rate")
        .unwrap();
    assert_eq!(percent["method"], "not_additive");
    assert!(percent["actual"].is_null());

    let by_sector = app
        .get(
            "/api/v1/dashboard/kpis?sector=biomedicine&from_year=2024&to_year=2024",
            &app.viewer(),
        )
        .await
        .json();
    assert!(
        by_sector["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["alliance_slug"] != "binhai-hitech-it-innovation")
    );

    let csv = app
        .get(
            "/api/v1/dashboard/kpis?from_year=2024&to_year=2024&kpi=students_enrolled&format=csv",
            &app.viewer(),
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.text();
    assert!(text.contains("alliance_slug,year,status,kpi_code"));
    let total = text.lines().find(|l| l.starts_with("total,")).unwrap();
    assert!(total.ends_with(",sum_of_reported"), "{total}");

    // Polling: 304 until something changes.
    let url = "/api/v1/dashboard/kpis?from_year=2025&to_year=2025";
    let first = app.get(url, &app.viewer()).await;
    let tag = first.header("etag").unwrap().to_owned();
    let poll = || {
        app.send(
            app.client
                .get(app.url(url))
                .bearer_auth(app.viewer())
                .insert_header(("If-None-Match", tag.clone())),
            None,
        )
    };
    assert_eq!(poll().await.status, 304);
    let res = app
        .put(
            &format!("/api/v1/alliances/{TEDA}/kpis/2025"),
            &secretariat(&app),
            &json!({"kpis": [{"code": "students_enrolled", "target": 1, "actual": 2}]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let after = poll().await;
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag").unwrap(), tag);

    let res = app
        .get("/api/v1/dashboard/kpis?kpi=no_such_kpi", &app.viewer())
        .await;
    assert_eq!(res.problem(400)["errors"][0]["field"], "kpi");
    app.get(
        "/api/v1/dashboard/kpis?from_year=2025&to_year=2024",
        &app.viewer(),
    )
    .await
    .problem(400);
    app.get(
        "/api/v1/dashboard/kpis?from_year=1999&to_year=2024",
        &app.viewer(),
    )
    .await
    .problem(400);
    app.get(
        "/api/v1/alliances/teda-biomedicine/kpis/next",
        &app.viewer(),
    )
    .await
    .problem(400);
    app.get(
        "/api/v1/alliances/teda-biomedicine/kpis/1999",
        &app.viewer(),
    )
    .await
    .problem(400);
}

async fn yearly_figures_come_in_by_spreadsheet_with_a_dry_run(mut app: TestApp) {
    use alliance_api::db::schema::kpi_values;
    app.seed().await;
    let sec = secretariat(&app);
    let upload = |query: &'static str, csv: &'static str| {
        let app = &app;
        let sec = sec.clone();
        async move {
            app.send(
                app.client
                    .post(app.url(&format!("/api/v1/alliances/{TEDA}/imports/kpis{query}")))
                    .bearer_auth(&sec)
                    .content_type("text/csv"),
                Some(csv.as_bytes().to_vec()),
            )
            .await
        }
    };
    let entries = || -> i64 {
        kpi_values::table
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    let before = entries();
    let bad = "年度,指标代码,目标值,实际值,说明\n\
               2026,textbooks_developed,3,2,教材\n\
               2026,teacher_training_person_times,900,850,\n\
               2026,no_such_kpi,1,,\n\
               2026,curriculum_standards,2.5,,\n\
               1999,textbooks_developed,1,,\n";
    let res = upload("?dry_run=true", bad).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let conflicts: Vec<(u64, String)> = res.json()["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["row"].as_u64().unwrap(),
                c["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        conflicts,
        [
            (6, "year".to_owned()),
            (3, "actual".to_owned()),
            (4, "code".to_owned()),
            (5, "target".to_owned()),
        ]
    );
    upload("", bad).await.problem(422);
    assert_eq!(entries(), before, "nothing written");

    let good = "year,code,target,actual,note,evidence\n\
                2026,textbooks_developed,3,2,教材,https://example.org/a.pdf\n\
                2026,teacher_training_person_times,900,,,\n\
                2027,students_enrolled,700,,,\n";
    let res = upload("", good).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["kpi_entries_set"], 3);
    let y2026 = app
        .get(
            &format!("/api/v1/alliances/{TEDA}/kpis/2026"),
            &app.viewer(),
        )
        .await
        .json();
    assert_eq!(line(&y2026, "textbooks_developed")["actual"], 2);
    assert_eq!(
        line(&y2026, "textbooks_developed")["evidence"],
        json!(["https://example.org/a.pdf"])
    );
    assert_eq!(line(&y2026, "teacher_training_person_times")["target"], 900);
    assert_eq!(entries(), before + 3);

    // An approved year refuses the file.
    let res = upload("", "year,code,target\n2024,textbooks_developed,9\n").await;
    assert_eq!(res.problem(409)["type"], "/problems/year-locked");
}

on_both_engines!(
    every_seeded_alliance_has_two_demo_years_one_approved,
    a_training_moves_the_derived_kpi_and_is_listed_as_its_source,
    totals_count_an_organisation_in_two_alliances_once,
    the_workflow_goes_by_role_and_an_approved_year_is_locked,
    edits_that_do_not_change_an_approved_figure_go_through,
    the_report_downloads_as_a_workbook_with_the_json_numbers,
    the_dashboard_filters_and_refuses_what_it_cannot_answer,
    yearly_figures_come_in_by_spreadsheet_with_a_dry_run,
);
