//! The shapes generated clients send and expect (issue 17): files as their
//! own `export_*` operations, uploads as `application/octet-stream`, report
//! actions with no body, an empty one or `{}`. The generated
//! clients themselves run in `scripts/client-check.sh`.

use crate::common::TestApp;
use alliance_api::auth::Role;
use alliance_api::db::schema::{annual_reports, organizations};
use diesel::prelude::*;

const TEDA: &str = "teda-biomedicine";
const BOM: &[u8] = b"\xEF\xBB\xBF";
const ZIP: &[u8] = b"PK\x03\x04";

/// Every download is an operation of its own; the list's `?format=` still
/// answers the same file.
async fn files_are_operations_of_their_own(mut app: TestApp) {
    app.seed().await;
    let token = app.token_for(Role::Secretariat, &[TEDA], None);
    let org = "nankai-university";
    // (export, the list whose `?format=` answered the file before)
    let exports = [
        (
            format!("/api/v1/alliances/{TEDA}/exports/activities"),
            format!("/api/v1/alliances/{TEDA}/activities"),
        ),
        (
            format!("/api/v1/alliances/{TEDA}/exports/council-seats"),
            format!("/api/v1/alliances/{TEDA}/council-seats"),
        ),
        (
            format!("/api/v1/alliances/{TEDA}/exports/platforms"),
            format!("/api/v1/alliances/{TEDA}/platforms"),
        ),
        (
            format!("/api/v1/alliances/{TEDA}/exports/memberships"),
            format!("/api/v1/alliances/{TEDA}/memberships"),
        ),
        (
            format!("/api/v1/organizations/{org}/exports/memberships"),
            format!("/api/v1/organizations/{org}/memberships"),
        ),
        (
            "/api/v1/exports/organizations".to_owned(),
            "/api/v1/organizations".to_owned(),
        ),
        (
            format!("/api/v1/alliances/{TEDA}/exports/reports/2024"),
            format!("/api/v1/alliances/{TEDA}/reports/2024"),
        ),
    ];
    for (export, list) in &exports {
        let csv = app.get(&format!("{export}?format=csv"), &token).await;
        assert_eq!(csv.status, 200, "{export}: {}", csv.text());
        assert_eq!(
            csv.header("content-type"),
            Some("text/csv; charset=utf-8"),
            "{export}"
        );
        assert!(csv.body.starts_with(BOM), "{export}: CSV starts with a BOM");
        assert!(
            csv.header("content-disposition")
                .is_some_and(|d| d.starts_with("attachment; filename=")),
            "{export}"
        );
        let old = app.get(&format!("{list}?format=csv"), &token).await;
        assert_eq!(
            old.body, csv.body,
            "{list}?format=csv answers the same file"
        );
        let xlsx = app
            .get(&format!("{export}?format=xlsx&header_language=zh"), &token)
            .await;
        assert_eq!(xlsx.status, 200, "{export}: {}", xlsx.text());
        assert!(xlsx.body.starts_with(ZIP), "{export}: a workbook");
        let json = app.get(list, &token).await;
        assert_eq!(
            json.header("content-type"),
            Some("application/json"),
            "{list}"
        );
        let missing = app.get(export, &token).await;
        assert_eq!(
            missing.problem(400)["errors"][0]["field"],
            "format",
            "{export}"
        );
    }
    let dashboard = app
        .get(
            &format!("/api/v1/exports/dashboard/kpis?format=csv&alliance={TEDA}"),
            &token,
        )
        .await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.text());
    assert!(dashboard.body.starts_with(BOM));
    assert!(
        dashboard.text().contains("total"),
        "the totals follow the rows"
    );
    app.get("/api/v1/exports/dashboard/kpis?format=xlsx", &token)
        .await
        .problem(400);
    // Out of scope is out of scope, as for the list.
    let port = app.token_for(Role::Secretariat, &["port-offshore-equipment"], None);
    app.get(
        &format!("/api/v1/alliances/{TEDA}/exports/activities?format=csv"),
        &port,
    )
    .await
    .problem(403);
}

/// A file sent as `application/octet-stream` is read by its first bytes:
/// a workbook is a zip, anything else CSV.
async fn uploads_are_told_by_their_bytes(mut app: TestApp) {
    app.seed().await;
    let token = app.token_for(Role::Secretariat, &[TEDA], None);
    let upload = |body: Vec<u8>, query: &str| {
        let req = app
            .client
            .post(app.url(&format!("/api/v1/alliances/{TEDA}/imports/members{query}")))
            .bearer_auth(&token)
            .content_type("application/octet-stream");
        app.send(req, Some(body))
    };
    let slug = "octet-stream-pharma";
    let registered = || {
        organizations::table
            .filter(organizations::slug.eq(slug))
            .count()
            .get_result::<i64>(&mut *app.conn())
            .unwrap()
    };
    let csv = format!(
        "\u{feff}slug,kind,name_zh,role,joined_on\n{slug},enterprise,八位字节制药有限公司,member,2025-05-01\n"
    );
    let dry = upload(csv.clone().into_bytes(), "?dry_run=true").await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(dry.json()["dry_run"], true);
    assert_eq!(registered(), 0, "a dry run writes nothing");
    let real = upload(csv.into_bytes(), "").await;
    assert_eq!(real.status, 200, "{}", real.text());
    assert_eq!(registered(), 1);
    // The alliance's member sheet as a workbook, sent back untyped: a no-op.
    let sheet = app
        .get(
            &format!("/api/v1/alliances/{TEDA}/exports/members?format=xlsx"),
            &token,
        )
        .await;
    assert!(sheet.body.starts_with(ZIP));
    let events = app.event_count();
    let again = upload(sheet.body.clone(), "").await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(
        app.event_count(),
        events,
        "an unchanged sheet changes nothing"
    );
    // A broken zip is a malformed workbook (400), not CSV and not a 500.
    let mut broken = ZIP.to_vec();
    broken.extend_from_slice(b"not a workbook");
    upload(broken, "?dry_run=true").await.problem(400);
    // Another type is still refused, before the body is read.
    let req = app
        .client
        .post(app.url(&format!("/api/v1/alliances/{TEDA}/imports/members")))
        .bearer_auth(&token)
        .content_type("image/png");
    app.send(req, Some(b"x".to_vec())).await.problem(415);
}

/// submit, approve, return and reopen take no body, an empty one or `{}`
/// alike; anything else is still checked, `null` too (the body's schema is
/// an object).
async fn report_actions_take_no_body(mut app: TestApp) {
    app.seed_registry().await;
    let sec = app.token_for(Role::Secretariat, &[TEDA], None);
    let reviewer = app.token(Role::Reviewer);
    let report = format!("/api/v1/alliances/{TEDA}/reports/2027");
    let status = || {
        annual_reports::table
            .inner_join(alliance_api::db::schema::alliances::table)
            .filter(alliance_api::db::schema::alliances::slug.eq(TEDA))
            .filter(annual_reports::year.eq(2027))
            .select(annual_reports::status)
            .first::<String>(&mut *app.conn())
            .unwrap()
    };
    let post = |path: String,
                token: String,
                content_type: Option<&'static str>,
                body: Option<&'static str>| {
        let mut req = app.client.post(app.url(&path)).bearer_auth(token);
        if let Some(t) = content_type {
            req = req.content_type(t);
        }
        app.send(req, body.map(|b| b.as_bytes().to_vec()))
    };
    let json = Some("application/json");
    // Nothing at all; a JSON type with an empty body; `{}`.
    for (content_type, body) in [(None, None), (json, Some("")), (json, Some(" {} "))] {
        let res = post(format!("{report}/submit"), sec.clone(), content_type, body).await;
        assert_eq!(res.status, 200, "{body:?}: {}", res.text());
        assert_eq!(status(), "submitted");
        let res = post(
            format!("{report}/return"),
            reviewer.clone(),
            json,
            Some(r#"{"comment": "请补充佐证材料"}"#),
        )
        .await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(status(), "returned");
    }
    post(format!("{report}/submit"), sec.clone(), None, None).await;
    post(
        format!("{report}/approve"),
        reviewer.clone(),
        json,
        Some("null"),
    )
    .await
    .problem(422);
    assert_eq!(status(), "submitted");
    let res = post(format!("{report}/approve"), reviewer.clone(), None, None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(status(), "approved");
    // A comment is still required to reopen; a body that is not an object is refused.
    post(format!("{report}/reopen"), reviewer.clone(), None, None)
        .await
        .problem(422);
    post(
        format!("{report}/reopen"),
        reviewer.clone(),
        json,
        Some("[]"),
    )
    .await
    .problem(422);
    post(
        format!("{report}/reopen"),
        reviewer.clone(),
        Some("text/plain"),
        Some("{}"),
    )
    .await
    .problem(415);
    assert_eq!(status(), "approved");
}

on_both_engines!(
    files_are_operations_of_their_own,
    uploads_are_told_by_their_bytes,
    report_actions_take_no_body,
);
