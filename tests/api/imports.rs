//! Member imports from XLSX and CSV: dry runs, all-or-nothing runs, re-runs
//! that update instead of duplicating, and exports that import again.

use std::time::Instant;

use crate::common::TestApp;
use alliance_api::auth::Role;
use alliance_api::db::schema::{audit_records, change_events, memberships, organizations};
use alliance_api::tabular::{self, Format, Table};
use diesel::prelude::*;
use serde_json::Value;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const URL: &str = "/api/v1/alliances/teda-biomedicine/imports/members";

fn headers() -> Vec<String> {
    [
        "slug",
        "kind",
        "name_zh",
        "external_ref",
        "role",
        "joined_on",
        "uscc",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn row(i: usize) -> Vec<String> {
    vec![
        format!("import-co-{i:04}"),
        if i.is_multiple_of(2) {
            "enterprise"
        } else {
            "企业"
        }
        .to_owned(),
        format!("导入测试企业{i:04}号"),
        format!("teda-hr:E{i:04}"),
        "member".to_owned(),
        "2024-03-01".to_owned(),
        String::new(),
    ]
}

fn workbook(rows: Vec<Vec<String>>) -> Vec<u8> {
    Table {
        sheet: "members",
        headers: headers(),
        rows,
        numeric: vec![],
    }
    .write(Format::Xlsx)
    .unwrap()
}

async fn upload(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> crate::common::Response {
    app.send(
        app.client
            .post(app.url(&format!("{URL}{query}")))
            .bearer_auth(token)
            .content_type(content_type),
        Some(body),
    )
    .await
}

/// Organisations, memberships, change events and audit records.
fn counts(app: &TestApp) -> (i64, i64, i64, i64) {
    let orgs = organizations::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    let members = memberships::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    (orgs, members, app.event_count(), app.audit_count())
}

fn conflicts(report: &Value) -> Vec<(u64, String)> {
    report["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["row"].as_u64().unwrap(),
                c["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn a_thousand_rows_all_or_nothing(mut app: TestApp) {
    app.seed().await;
    let token = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    let mut rows: Vec<Vec<String>> = (0..1000).map(row).collect();
    rows[100][1] = "公司".into(); // no such kind → spreadsheet row 102
    rows[500][5] = "2024-13-01".into(); // no such date → row 502
    rows[900][6] = "91120116MA05JR6K3X".into(); // wrong check character → row 902
    let bad = workbook(rows.clone());
    let before = counts(&app);

    // A dry run names exactly the three rows, and writes nothing.
    let res = upload(&app, &token, "?dry_run=true", XLSX, bad.clone()).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let report = res.json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["rows"], 1000);
    assert_eq!(
        conflicts(&report),
        vec![
            (102, "kind".into()),
            (502, "joined_on".into()),
            (902, "uscc".into())
        ]
    );
    assert!(
        report["conflicts"][2]["message"]
            .as_str()
            .unwrap()
            .contains("check"),
        "{report}"
    );
    assert_eq!(report["organizations_created"], 997);
    assert_eq!(counts(&app), before, "a dry run writes nothing");

    // The real run is refused whole, with the same conflicts.
    let res = upload(&app, &token, "", XLSX, bad).await;
    let problem = res.problem(422);
    assert_eq!(problem["type"], "/problems/import-rejected");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["rows[102].kind", "rows[502].joined_on", "rows[902].uscc"]
    );
    assert_eq!(problem["report"]["dry_run"], false);
    assert_eq!(counts(&app), before, "a rejected run writes nothing");

    // Fixed, it writes every row in one transaction.
    rows[100][1] = "enterprise".into();
    rows[500][5] = "2024-12-01".into();
    rows[900][6] = "91120116MA05JR6K3W".into();
    let good = workbook(rows.clone());
    let started = Instant::now();
    let res = upload(&app, &token, "", XLSX, good.clone()).await;
    let took = started.elapsed();
    assert_eq!(res.status, 200, "{}", res.text());
    eprintln!(
        "import of 1000 XLSX rows on {:?}: {} ms",
        app.engine,
        took.as_millis()
    );
    let report = res.json();
    assert_eq!(report["organizations_created"], 1000);
    assert_eq!(report["memberships_created"], 1000);
    assert_eq!(report["conflicts"], serde_json::json!([]));
    let after = counts(&app);
    assert_eq!(after.0, before.0 + 1000);
    assert_eq!(after.1, before.1 + 1000);
    assert_eq!(
        after.2,
        before.2 + 2000,
        "an event per organisation and membership"
    );
    assert_eq!(after.3, before.3 + 2000);
    let member = app
        .get("/api/v1/organizations?ref=teda-hr:E0900", &app.viewer())
        .await
        .json();
    assert_eq!(member["items"][0]["uscc"], "91120116MA05JR6K3W");

    // A re-run updates rather than duplicates: nothing new, nothing changed.
    let res = upload(&app, &token, "", XLSX, good).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let report = res.json();
    assert_eq!(report["organizations_created"], 0);
    assert_eq!(report["memberships_created"], 0);
    assert_eq!(report["unchanged"], 1000);
    assert_eq!(counts(&app), after);

    // Changed rows update what they name, found by external reference.
    rows[5][4] = "co_lead".into();
    rows[6][2] = "导入测试企业0006号（更名）".into();
    rows[6][0] = String::new();
    let res = upload(&app, &token, "", XLSX, workbook(rows)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let report = res.json();
    assert_eq!(report["memberships_updated"], 1);
    assert_eq!(report["organizations_updated"], 1);
    assert_eq!(report["unchanged"], 998);
    let renamed = app
        .get("/api/v1/organizations/import-co-0006", &app.viewer())
        .await
        .json();
    assert_eq!(renamed["name_zh"], "导入测试企业0006号（更名）");
}

/// New organisations go in by multi-row inserts; what they leave must be
/// what the one-row-at-a-time path leaves, and a batch a check refuses
/// must fall back to rows so the report names each one.
async fn new_members_in_bulk_leave_what_one_by_one_leaves(mut app: TestApp) {
    app.seed().await;
    let token = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    let mut rows: Vec<Vec<String>> = (0..40).map(row).collect();
    // Two rows naming one slug go one by one: the second updates the first.
    let mut twin = row(40);
    twin[0] = "import-co-0039".into();
    twin[2] = "导入测试企业0039号（简称）".into();
    twin[3] = String::new();
    rows.push(twin);
    let before = counts(&app);
    let first_seq = app.event_count();
    let res = upload(&app, &token, "", XLSX, workbook(rows.clone())).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let report = res.json();
    assert_eq!(report["organizations_created"], 40, "{report}");
    assert_eq!(report["memberships_created"], 40);
    assert_eq!(report["organizations_updated"], 1);
    assert_eq!(counts(&app).0, before.0 + 40);
    assert_eq!(app.event_count(), first_seq + 81);

    // Each organisation and membership has its event, whose payload is the
    // resource as the API serves it, its audit record, and a joined entry.
    let org = app
        .get("/api/v1/organizations/import-co-0007", &app.viewer())
        .await
        .json();
    let events: Vec<(String, Option<String>, String)> = change_events::table
        .filter(change_events::resource_type.eq_any(["organization", "membership"]))
        .order(change_events::seq.asc())
        .select((
            change_events::event_type,
            change_events::alliance_id,
            change_events::payload,
        ))
        .load(&mut *app.conn())
        .unwrap();
    // The batch writes all organisations, then all memberships (one by
    // one would alternate): that is how this test knows the batch ran.
    let kinds: Vec<&str> = events[events.len() - 81..]
        .iter()
        .map(|(t, _, _)| t.as_str())
        .collect();
    // The twins' first row goes one by one after the batch of 39.
    assert_eq!(kinds[..39], ["organization.created"; 39]);
    assert_eq!(kinds[39..78], ["membership.created"; 39]);
    assert_eq!(
        kinds[78..],
        [
            "organization.created",
            "membership.created",
            "organization.updated"
        ]
    );
    let payload_of = |kind: &str, id: &str| {
        let found: Vec<Value> = events
            .iter()
            .filter(|(t, _, p)| t == kind && p.contains(id))
            .map(|(_, _, p)| serde_json::from_str(p).unwrap())
            .collect();
        assert_eq!(found.len(), 1, "one {kind} event for {id}");
        found.into_iter().next().unwrap()
    };
    let mut served = org.clone();
    served
        .as_object_mut()
        .unwrap()
        .remove("registration_category");
    let mut sent = payload_of("organization.created", org["id"].as_str().unwrap());
    sent.as_object_mut()
        .unwrap()
        .remove("registration_category");
    assert_eq!(sent, served);
    let membership = app
        .get(
            "/api/v1/organizations/import-co-0007/memberships",
            &app.viewer(),
        )
        .await
        .json();
    let membership = &membership["items"][0];
    assert_eq!(
        payload_of("membership.created", membership["id"].as_str().unwrap()),
        *membership
    );
    let audited: i64 = audit_records::table
        .filter(audit_records::resource_id.eq_any([
            org["id"].as_str().unwrap(),
            membership["id"].as_str().unwrap(),
        ]))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(audited, 2);
    let history = app
        .get(
            &format!(
                "/api/v1/memberships/{}/history",
                membership["id"].as_str().unwrap()
            ),
            &app.viewer(),
        )
        .await
        .json();
    assert_eq!(history["items"][0]["field"], "joined", "{history}");
    assert_eq!(history["items"][0]["to"], "member", "{history}");

    // A dissolved alliance refuses the batch; the rows then go one by one
    // and each is named, and nothing is written.
    let res = app
        .patch(
            "/api/v1/alliances/teda-biomedicine",
            &app.admin(),
            &serde_json::json!({"status": "dissolved"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let before = counts(&app);
    let fresh: Vec<Vec<String>> = (100..105).map(row).collect();
    let res = upload(&app, &token, "?dry_run=true", XLSX, workbook(fresh)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let report = res.json();
    let rows_named: Vec<u64> = conflicts(&report).iter().map(|c| c.0).collect();
    assert_eq!(rows_named, vec![2, 3, 4, 5, 6], "{report}");
    assert!(
        report["conflicts"][0]["message"]
            .as_str()
            .unwrap()
            .contains("dissolved"),
        "{report}"
    );
    assert_eq!(counts(&app), before);
}

async fn csv_with_chinese_headers_and_bad_files(mut app: TestApp) {
    app.seed().await;
    let token = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    let csv = "\u{feff}标识,类型,名称,角色,加入日期\nhaihe-lab-co,企业,海河实验室科技公司,成员单位,2025/1/15\n";
    let res = upload(&app, &token, "", "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["memberships_created"], 1);
    let org = app
        .get("/api/v1/organizations/haihe-lab-co", &app.viewer())
        .await
        .json();
    assert_eq!(org["kind"], "enterprise");

    // An unknown column, a missing required one: 422 naming them.
    let res = upload(
        &app,
        &token,
        "",
        "text/csv",
        b"slug,colour\nx,red\n".to_vec(),
    )
    .await;
    res.problem(422);
    let fields: Vec<String> = res.field_errors().into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, vec!["columns.colour", "columns.name_zh"]);
    // Not UTF-8 (a GBK export), not a workbook, not a spreadsheet type.
    let gbk = b"name_zh\n\xc4\xcf\xbf\xaa\xb4\xf3\xd1\xa7\n".to_vec();
    let res = upload(&app, &token, "", "text/csv", gbk).await;
    assert!(
        res.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("UTF-8")
    );
    upload(&app, &token, "", XLSX, b"PK\x03\x04 not really".to_vec())
        .await
        .problem(400);
    upload(&app, &token, "", "application/json", b"{}".to_vec())
        .await
        .problem(415);
    // Another alliance's secretariat: 403, nothing written.
    let before = counts(&app);
    let other = app.token_for(Role::Secretariat, &["dongjiang-digital-economy"], None);
    let csv = "slug,kind,name_zh,joined_on\nsomeone-co,enterprise,某公司,2025-01-01\n";
    upload(&app, &other, "", "text/csv", csv.as_bytes().to_vec())
        .await
        .problem(403);
    assert_eq!(counts(&app), before);
    // A role that never imports is refused before its file is read.
    upload(
        &app,
        &app.viewer(),
        "",
        "text/csv",
        b"colour\nred\n".to_vec(),
    )
    .await
    .problem(403);
    // More rows than an import takes: 413 naming the limit, nothing written.
    let limit = alliance_api::api::imports::MAX_ROWS;
    let mut big = String::from("slug,kind,name_zh,joined_on\n");
    for i in 0..=limit {
        big.push_str(&format!("bulk-{i},enterprise,批量{i},2025-01-01\n"));
    }
    let res = upload(&app, &token, "", "text/csv", big.into_bytes()).await;
    let problem = res.problem(413);
    assert!(
        problem["detail"].as_str().unwrap().contains(&format!(
            "more than {limit} rows; an import takes at most {limit}"
        )),
        "{problem}"
    );
    assert_eq!(counts(&app), before);
}

async fn exports_import_again(mut app: TestApp) {
    app.seed().await;
    let token = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    for (format, content_type) in [("xlsx", XLSX), ("csv", "text/csv")] {
        let res = app
            .get(
                &format!(
                    "/api/v1/alliances/teda-biomedicine/exports/members?format={format}&headers=zh"
                ),
                &token,
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert!(
            res.header("content-type")
                .unwrap()
                .starts_with(content_type)
        );
        assert!(
            res.header("content-disposition")
                .unwrap()
                .contains("teda-biomedicine-members")
        );
        let sheet = tabular::read(
            if format == "xlsx" {
                Format::Xlsx
            } else {
                Format::Csv
            },
            &res.body,
            &tabular::IMPORT_BOUNDS,
        )
        .unwrap();
        assert_eq!(sheet.headers[2], "名称");
        assert_eq!(sheet.rows.len(), 14, "the seeded members of TEDA");
        // Importing the export changes nothing.
        let before = counts(&app);
        let again = upload(&app, &token, "", content_type, res.body.clone()).await;
        assert_eq!(again.status, 200, "{}", again.text());
        assert_eq!(again.json()["unchanged"], 14, "{}", again.text());
        assert_eq!(counts(&app), before);
    }
    let template = app
        .get("/api/v1/imports/members/template?format=csv", &app.viewer())
        .await;
    assert_eq!(template.status, 200);
    let sheet = tabular::read(Format::Csv, &template.body, &tabular::IMPORT_BOUNDS).unwrap();
    assert_eq!(sheet.headers[0], "slug");
    app.get("/api/v1/imports/members/template?format=pdf", &app.viewer())
        .await
        .problem(400);
}

async fn activities_import_with_names_and_rules(mut app: TestApp) {
    use alliance_api::db::schema::activities;
    app.seed_registry().await;
    let token = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    let url = "/api/v1/alliances/teda-biomedicine/imports/activities";
    let file = |order_class_figures: &str, persons: &str| {
        format!(
            "类型,名称,开始日期,结束日期,平台,参与单位,人数（人）,人次,学时,学生数（人）,决议\n\
             培训,骨干教师培训班,2025-07-14,2025-07-18,生物医药技术公共实训中心,nankai-university；天津医科大学,{persons},200,32,,\n\
             理事会会议,理事会第二次会议,2025-03-18,,,teda-admin-committee,31,,,,审议年度计划；增补理事\n\
             订单班,凯莱英订单班,2025-09-01,,,asymchem,,{order_class_figures},,45,\n"
        )
        .into_bytes()
    };
    let post = |query: &'static str, body: Vec<u8>| {
        let app = &app;
        let token = token.clone();
        async move {
            app.send(
                app.client
                    .post(app.url(&format!("{url}{query}")))
                    .bearer_auth(&token)
                    .content_type("text/csv"),
                Some(body),
            )
            .await
        }
    };
    let count = || -> i64 {
        activities::table
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    // An order-based class counts students, not person-times: row 4 is refused.
    let res = post("?dry_run=true", file("60", "40")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let report = res.json();
    assert_eq!(conflicts(&report), vec![(4, "person_times".into())]);
    assert_eq!(report["activities_created"], 2);
    assert_eq!(count(), 0);
    post("", file("60", "40")).await.problem(422);
    assert_eq!(count(), 0);

    let res = post("", file("", "40")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["activities_created"], 3);
    let listed = app
        .get(
            "/api/v1/alliances/teda-biomedicine/activities?kind=training",
            &token,
        )
        .await
        .json();
    let training = &listed["items"][0];
    assert_eq!(training["organizations"].as_array().unwrap().len(), 2);
    assert!(training["platform_id"].is_string());
    assert_eq!(training["figures"]["person_times"], 200);
    // A re-run changes nothing; a changed figure updates that activity.
    let res = post("", file("", "40")).await;
    assert_eq!(res.json()["unchanged"], 3, "{}", res.text());
    let res = post("", file("", "42")).await;
    assert_eq!(res.json()["activities_updated"], 1, "{}", res.text());
    assert_eq!(count(), 3);
    let template = app
        .get(
            "/api/v1/imports/activities/template?format=xlsx&headers=zh",
            &token,
        )
        .await;
    assert_eq!(template.status, 200);
    let sheet = tabular::read(Format::Xlsx, &template.body, &tabular::IMPORT_BOUNDS).unwrap();
    assert_eq!(sheet.headers[7], "人次");
}

on_both_engines!(
    a_thousand_rows_all_or_nothing,
    new_members_in_bulk_leave_what_one_by_one_leaves,
    csv_with_chinese_headers_and_bad_files,
    exports_import_again,
    activities_import_with_names_and_rules,
);
