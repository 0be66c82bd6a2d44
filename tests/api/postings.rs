//! 供需对接: an enterprise's demand and a college's offer, reviewed,
//! published (in the feed and to a webhook), suggested to each other,
//! matched, accepted by both and closed with students placed, which moves
//! a derived KPI; search in both languages; who may touch whose posting;
//! and the year's summary as JSON and as a workbook.

use std::io::Cursor;
use std::time::Duration;

use crate::common::{Engine, TestApp};
use crate::webhooks::{Receiver, fast_retries};
use alliance_api::auth::Role;
use alliance_api::db::schema::{posting_matches, postings};
use calamine::{Data, Reader, Xlsx};
use diesel::prelude::*;
use serde_json::{Value, json};

const TEDA: &str = "teda-biomedicine";
const ENTERPRISE: &str = "asymchem";
const COLLEGE: &str = "tianjin-bioengineering-vocational-college";

/// The calendar day in Tianjin, as the service dates what it fills in.
fn tianjin_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// A query value, percent-encoded.
fn encoded(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn created(res: &crate::common::Response, what: &str) -> Value {
    assert_eq!(res.status, 201, "{what}: {}", res.text());
    res.json()
}

fn ok(res: &crate::common::Response, what: &str) -> Value {
    assert_eq!(res.status, 200, "{what}: {}", res.text());
    res.json()
}

fn stored_status(app: &TestApp, id: &str) -> String {
    postings::table
        .filter(postings::id.eq(id))
        .select(postings::status)
        .first(&mut *app.conn())
        .unwrap()
}

/// The actual of a KPI in a year's table.
async fn actual(app: &TestApp, year: i32, code: &str) -> f64 {
    let table = ok(
        &app.get(
            &format!("/api/v1/alliances/{TEDA}/kpis/{year}"),
            &app.admin(),
        )
        .await,
        "KPI year",
    );
    table["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {table}"))["actual"]
        .as_f64()
        .unwrap_or(0.0)
}

async fn a_demand_meets_a_supply_and_places_students(engine: Engine) {
    let Some(mut app) = TestApp::spawn_with(engine, fast_retries).await else {
        return;
    };
    app.seed().await;
    let year = {
        use chrono::Datelike;
        tianjin_today().year()
    };
    let receiver = Receiver::start(false).await;
    let res = app
        .post(
            "/api/v1/webhooks",
            &app.admin(),
            &json!({"url": receiver.url, "alliance": TEDA, "event_types": ["posting.published"]}),
        )
        .await;
    created(&res, "subscription");
    let res = app
        .post(
            "/api/v1/kpi-definitions",
            &app.admin(),
            &json!({"code": "students_placed_by_matching", "name_zh": "供需对接就业人数",
                    "unit": "persons", "direction": "increase", "value_type": "integer",
                    "derivation": {"source": "students_placed"}}),
        )
        .await;
    created(&res, "KPI");
    let enterprise = app.token_for(Role::Member, &[], Some(ENTERPRISE));
    let college = app.token_for(Role::Member, &[], Some(COLLEGE));
    let secretariat = app.token_for(Role::Secretariat, &[TEDA], None);

    // 凯莱英 posts a talent demand; it waits for review, unseen by others.
    let demand = created(
        &app.post(
            &format!("/api/v1/alliances/{TEDA}/postings"),
            &enterprise,
            &json!({"kind": "talent", "title_zh": "细胞药物研发技术员",
                    "title_en": "Cell therapy R&D technicians",
                    "description_zh": "参与CAR-T细胞药物工艺开发。",
                    "majors": ["生物制药技术"], "level": "higher_vocational",
                    "region": "滨海新区", "headcount": 12,
                    "details": {"positions": ["细胞培养技术员"]}, "submit": true}),
        )
        .await,
        "demand",
    );
    let demand_id = demand["id"].as_str().unwrap().to_owned();
    assert_eq!(demand["status"], "pending_review", "{demand}");
    assert_eq!(demand["direction"], "demand");
    assert_eq!(demand["organization"]["slug"], ENTERPRISE);
    assert_eq!(stored_status(&app, &demand_id), "pending_review");
    let unseen = app
        .get(&format!("/api/v1/postings/{demand_id}"), &college)
        .await;
    unseen.problem(404);

    // The secretariat publishes it: in the feed and at the webhook, once.
    let head = app.feed_head();
    let published = ok(
        &app.post(
            &format!("/api/v1/postings/{demand_id}/publish"),
            &secretariat,
            &json!({"comment": "已审核"}),
        )
        .await,
        "publish",
    );
    assert_eq!(published["status"], "published");
    assert_eq!(published["review_comment"], "已审核");
    assert_eq!(stored_status(&app, &demand_id), "published");
    let feed = ok(
        &app.get(
            &format!("/api/v1/changes?after={head}&limit=10&types=posting.published"),
            &app.admin(),
        )
        .await,
        "feed",
    );
    let events: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_id"] == demand_id.as_str())
        .collect();
    assert_eq!(events.len(), 1, "{feed}");
    assert_eq!(events[0]["type"], "posting.published");
    receiver
        .wait_until(Duration::from_secs(20), "posting.published", |s| {
            !s.received.lock().unwrap().is_empty()
        })
        .await;
    let received = receiver.state.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_slice(&received[0].1).unwrap();
    assert_eq!(body["type"], "posting.published", "{body}");
    assert_eq!(body["resource"]["id"], demand_id.as_str(), "{body}");
    assert_eq!(body["resource"]["status"], "published", "{body}");

    // The college offers its graduates; published too.
    let supply = created(
        &app.post(
            &format!("/api/v1/alliances/{TEDA}/postings"),
            &college,
            &json!({"kind": "talent_supply", "title_zh": "2026届生物制药技术专业毕业生",
                    "majors": ["生物制药技术", "药品生产技术"], "level": "higher_vocational",
                    "region": "滨海新区", "headcount": 30,
                    "details": {"graduation_year": 2026}, "submit": true}),
        )
        .await,
        "supply",
    );
    let supply_id = supply["id"].as_str().unwrap().to_owned();
    ok(
        &app.post(
            &format!("/api/v1/postings/{supply_id}/publish"),
            &secretariat,
            &json!({}),
        )
        .await,
        "publish supply",
    );

    // The suggestion names the college's offer, with its reasons.
    let suggested = ok(
        &app.get(
            &format!("/api/v1/postings/{demand_id}/suggestions"),
            &enterprise,
        )
        .await,
        "suggestions",
    );
    let first = &suggested[0];
    assert_eq!(first["posting"]["id"], supply_id.as_str(), "{suggested}");
    assert_eq!(first["posting"]["organization"]["slug"], COLLEGE);
    let reasons: Vec<&str> = first["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["kind", "majors", "level", "region", "dates"]);
    assert!(
        first["reasons"][1]["detail"]
            .as_str()
            .unwrap()
            .contains("生物制药技术")
    );
    assert_eq!(first["score"], 100);

    // Matched, accepted by both sides, closed with 12 students placed.
    let m = created(
        &app.post(
            &format!("/api/v1/alliances/{TEDA}/matches"),
            &enterprise,
            &json!({"demand_id": demand_id, "offer_id": supply_id}),
        )
        .await,
        "match",
    );
    let match_id = m["id"].as_str().unwrap().to_owned();
    assert_eq!(m["status"], "proposed");
    let early = app
        .post(
            &format!("/api/v1/matches/{match_id}/close"),
            &enterprise,
            &json!({"closed_on": tianjin_today(), "outcome": {"students_placed": 12}}),
        )
        .await;
    early.problem(409);
    let half = ok(
        &app.post(
            &format!("/api/v1/matches/{match_id}/accept"),
            &enterprise,
            &json!({}),
        )
        .await,
        "accept demand",
    );
    assert_eq!(half["status"], "proposed");
    assert!(half["demand_accepted_at"].is_string());
    let both = ok(
        &app.post(
            &format!("/api/v1/matches/{match_id}/accept"),
            &college,
            &json!({}),
        )
        .await,
        "accept offer",
    );
    assert_eq!(both["status"], "accepted");
    let future = app
        .post(
            &format!("/api/v1/matches/{match_id}/close"),
            &enterprise,
            &json!({"closed_on": tianjin_today() + chrono::Duration::days(1), "outcome": {"students_placed": 12}}),
        )
        .await;
    future.problem(422);
    assert_eq!(future.field_errors()[0].0, "closed_on", "{}", future.text());
    let before = actual(&app, year, "students_placed_by_matching").await;
    let closed = ok(
        &app.post(
            &format!("/api/v1/matches/{match_id}/close"),
            &enterprise,
            &json!({"closed_on": tianjin_today(), "outcome": {"students_placed": 12}}),
        )
        .await,
        "close",
    );
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["outcome"]["students_placed"], 12);
    let after = actual(&app, year, "students_placed_by_matching").await;
    assert_eq!(after - before, 12.0);
    let (status, placed): (String, Option<i64>) = posting_matches::table
        .filter(posting_matches::id.eq(&match_id))
        .select((posting_matches::status, posting_matches::students_placed))
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!((status.as_str(), placed), ("closed", Some(12)));

    // The year's summary, the alliance's and the city's.
    let teda = ok(
        &app.get(
            &format!("/api/v1/alliances/{TEDA}/supply-demand/{year}"),
            &secretariat,
        )
        .await,
        "summary",
    );
    let totals = &teda["totals"];
    assert_eq!(
        (
            &totals["demands"],
            &totals["offers"],
            &totals["demand_headcount"],
            &totals["offer_headcount"],
            &totals["demands_filled"],
            &totals["matches_closed"],
            &totals["students_placed"],
        ),
        (
            &json!(1),
            &json!(1),
            &json!(12),
            &json!(30),
            &json!(1),
            &json!(1),
            &json!(12)
        ),
        "{teda}"
    );
    assert_eq!(totals["fill_rate"], 1.0);
    let major = teda["by_major"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "生物制药技术")
        .unwrap();
    assert_eq!(
        (&major["demands"], &major["offers"]),
        (&json!(1), &json!(1))
    );
    let city = ok(
        &app.get(&format!("/api/v1/supply-demand/{year}"), &app.viewer())
            .await,
        "city summary",
    );
    assert_eq!(city["alliance"], Value::Null);
    assert_eq!(city["totals"], teda["totals"], "one alliance has postings");

    // The city's workbook holds the same totals.
    let file = app
        .get(
            &format!("/api/v1/exports/supply-demand/{year}?format=xlsx"),
            &app.viewer(),
        )
        .await;
    assert_eq!(file.status, 200, "{}", file.text());
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(file.body.to_vec())).unwrap();
    let sheet = book.worksheet_range("totals").unwrap();
    for row in sheet.rows().skip(1) {
        let key = row[0].to_string();
        let want = match key.as_str() {
            "year" => &city["year"],
            _ => &city["totals"][key.as_str()],
        };
        match &row[1] {
            Data::Float(v) => assert_eq!(want.as_f64(), Some(*v), "{key}"),
            Data::Int(v) => assert_eq!(want.as_i64(), Some(*v), "{key}"),
            Data::Empty => assert!(want.is_null(), "{key}: {want}"),
            other => panic!("{key}: {other:?}"),
        }
    }
    let breakdown = book.worksheet_range("breakdown").unwrap();
    let total_row = breakdown.rows().nth(1).unwrap();
    assert_eq!(total_row[0].to_string(), "total");
    assert_eq!(total_row[4], Data::Float(12.0), "demand headcount");
}

async fn postings_are_found_in_both_languages(engine: Engine) {
    let Some(mut app) = TestApp::spawn(engine).await else {
        return;
    };
    app.seed().await;
    let secretariat = app.token_for(Role::Secretariat, &[TEDA], None);
    let bilingual = created(
        &app.post(
            &format!("/api/v1/alliances/{TEDA}/postings"),
            &secretariat,
            &json!({"kind": "research", "organization": ENTERPRISE,
                    "title_zh": "细胞药物规模化生产工艺攻关",
                    "title_en": "Scaling up Cell Therapy manufacturing",
                    "details": {"problem": "提高CAR-T细胞扩增效率", "budget_min_cny": 500000, "budget_max_cny": 2000000}}),
        )
        .await,
        "bilingual posting",
    );
    created(
        &app.post(
            &format!("/api/v1/alliances/{TEDA}/postings"),
            &secretariat,
            &json!({"kind": "research", "organization": ENTERPRISE,
                    "title_zh": "疫苗冷链监测", "title_en": "Vaccine cold chain monitoring"}),
        )
        .await,
        "other posting",
    );
    let id = bilingual["id"].as_str().unwrap();
    for q in ["细胞药物", "cell therapy", "CELL THERAPY", "扩增效率"] {
        let found = ok(
            &app.get(
                &format!("/api/v1/alliances/{TEDA}/postings?q={}", encoded(q)),
                &secretariat,
            )
            .await,
            q,
        );
        let ids: Vec<&str> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id], "q={q}");
    }
    // The wildcards of LIKE are text like any other.
    let none = ok(
        &app.get(
            &format!("/api/v1/alliances/{TEDA}/postings?q=%25"),
            &secretariat,
        )
        .await,
        "percent",
    );
    assert_eq!(none["items"], json!([]));
    app.get(
        &format!("/api/v1/alliances/{TEDA}/postings?q="),
        &secretariat,
    )
    .await
    .problem(400);
    // The export: every match as a file; its paging parameters are checked.
    let file = app
        .get(
            &format!(
                "/api/v1/alliances/{TEDA}/exports/postings?format=csv&q={}",
                encoded("cell therapy")
            ),
            &secretariat,
        )
        .await;
    assert_eq!(file.status, 200, "{}", file.text());
    let csv = file.text();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("细胞药物规模化生产工艺攻关"), "{csv}");
    app.get(
        &format!("/api/v1/alliances/{TEDA}/exports/postings?format=csv&cursor=zz"),
        &secretariat,
    )
    .await
    .problem(400);
}

async fn only_the_poster_and_its_alliance_touch_a_posting(engine: Engine) {
    let Some(mut app) = TestApp::spawn(engine).await else {
        return;
    };
    app.seed().await;
    let enterprise = app.token_for(Role::Member, &[], Some(ENTERPRISE));
    let college = app.token_for(Role::Member, &[], Some(COLLEGE));
    let secretariat = app.token_for(Role::Secretariat, &[TEDA], None);
    let demand = created(
        &app.post(
            &format!("/api/v1/alliances/{TEDA}/postings"),
            &enterprise,
            &json!({"kind": "talent", "title_zh": "质量检验员", "headcount": 5, "submit": true}),
        )
        .await,
        "demand",
    );
    let id = demand["id"].as_str().unwrap().to_owned();
    ok(
        &app.post(
            &format!("/api/v1/postings/{id}/publish"),
            &secretariat,
            &json!({}),
        )
        .await,
        "publish",
    );
    let events = app.event_count();

    // Another organisation of the alliance reads it, and may not edit it.
    ok(
        &app.get(&format!("/api/v1/postings/{id}"), &college).await,
        "read",
    );
    let res = app
        .patch(
            &format!("/api/v1/postings/{id}"),
            &college,
            &json!({"headcount": 50}),
        )
        .await;
    res.problem(403);
    // A member may not post for another organisation either.
    let res = app
        .post(
            &format!("/api/v1/alliances/{TEDA}/postings"),
            &college,
            &json!({"kind": "talent", "organization": ENTERPRISE, "title_zh": "冒名", "headcount": 1}),
        )
        .await;
    res.problem(403);
    // The secretariat of another alliance: as if it did not exist.
    let other = app.token_for(Role::Secretariat, &["tjftz-offshore-equipment"], None);
    app.patch(
        &format!("/api/v1/postings/{id}"),
        &other,
        &json!({"headcount": 50}),
    )
    .await
    .problem(404);
    app.get(&format!("/api/v1/postings/{id}"), &other)
        .await
        .problem(404);
    assert_eq!(app.event_count(), events, "refusals write nothing");

    // Bad input names its field.
    let res = app
        .post(
            &format!("/api/v1/alliances/{TEDA}/postings"),
            &enterprise,
            &json!({"kind": "talent", "title_zh": "零人", "headcount": 0}),
        )
        .await;
    res.problem(422);
    assert!(
        res.field_errors().iter().any(|(f, _)| f == "headcount"),
        "{}",
        res.text()
    );
    let res = app
        .post(
            &format!("/api/v1/alliances/{TEDA}/postings"),
            &enterprise,
            &json!({"kind": "talent", "title_zh": "倒序", "headcount": 3,
                    "opens_on": "2025-06-01", "closes_on": "2025-05-01"}),
        )
        .await;
    res.problem(422);
    assert!(
        res.field_errors().iter().any(|(f, _)| f == "closes_on"),
        "{}",
        res.text()
    );
    // The secretariat may post only for a member of the alliance.
    let res = app
        .post(
            &format!("/api/v1/alliances/{TEDA}/postings"),
            &secretariat,
            &json!({"kind": "talent", "organization": "tianjin-university", "title_zh": "非成员", "headcount": 3}),
        )
        .await;
    res.problem(422);
    assert!(
        res.field_errors().iter().any(|(f, _)| f == "organization"),
        "{}",
        res.text()
    );
    assert_eq!(app.event_count(), events, "bad input writes nothing");

    // The poster edits its own: back to review, since members read it.
    let edited = ok(
        &app.patch(
            &format!("/api/v1/postings/{id}"),
            &enterprise,
            &json!({"headcount": 6}),
        )
        .await,
        "own edit",
    );
    assert_eq!(edited["status"], "pending_review");
    assert_eq!(edited["headcount"], 6);
    // A published posting past its close date reads as expired.
    ok(
        &app.patch(
            &format!("/api/v1/postings/{id}"),
            &secretariat,
            &json!({"opens_on": "2024-01-01", "closes_on": "2024-02-01"}),
        )
        .await,
        "dates",
    );
    let expired = ok(
        &app.post(
            &format!("/api/v1/postings/{id}/publish"),
            &secretariat,
            &json!({}),
        )
        .await,
        "republish",
    );
    assert_eq!(
        (&expired["status"], &expired["close_reason"]),
        (&json!("published"), &Value::Null)
    );
    let read = ok(
        &app.get(&format!("/api/v1/postings/{id}"), &enterprise)
            .await,
        "read",
    );
    assert_eq!(
        (&read["status"], &read["close_reason"]),
        (&json!("closed"), &json!("expired"))
    );
    assert_eq!(stored_status(&app, &id), "published");
}

async fn the_public_listing_shows_what_posters_opened(engine: Engine) {
    let Some(mut app) = TestApp::spawn_with(engine, |c| c.public_postings = true).await else {
        return;
    };
    app.seed().await;
    let secretariat = app.token_for(Role::Secretariat, &[TEDA], None);
    let mut ids = vec![];
    for (title, public, publish) in [
        ("公开岗位", true, true),
        ("仅成员可见", false, true),
        ("待审公开", true, false),
    ] {
        let p = created(
            &app.post(
                &format!("/api/v1/alliances/{TEDA}/postings"),
                &secretariat,
                &json!({"kind": "talent", "organization": ENTERPRISE, "title_zh": title,
                        "headcount": 2, "public": public, "external_ref": format!("HR-{title}"),
                        "submit": true}),
            )
            .await,
            title,
        );
        let id = p["id"].as_str().unwrap().to_owned();
        if publish {
            ok(
                &app.post(
                    &format!("/api/v1/postings/{id}/publish"),
                    &secretariat,
                    &json!({"comment": "内部意见"}),
                )
                .await,
                "publish",
            );
        }
        ids.push(id);
    }
    let res = app
        .send(app.client.get(app.url("/api/v1/public/postings")), None)
        .await;
    let listed = ok(&res, "public listing");
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["id"], ids[0].as_str());
    assert_eq!(items[0]["alliance"], TEDA);
    let text = res.text();
    for private in ["HR-", "内部意见", "external_ref", "review_comment"] {
        assert!(
            !text.contains(private),
            "the public listing shows {private}: {text}"
        );
    }
    let filtered = app
        .send(
            app.client
                .get(app.url("/api/v1/public/postings?alliance=tjftz-offshore-equipment")),
            None,
        )
        .await;
    assert_eq!(ok(&filtered, "other alliance")["items"], json!([]));
    app.send(
        app.client
            .get(app.url("/api/v1/public/postings?alliance=nowhere")),
        None,
    )
    .await
    .problem(400);
}

async fn a_member_system_syncs_its_postings_by_reference(engine: Engine) {
    let Some(mut app) = TestApp::spawn(engine).await else {
        return;
    };
    app.seed().await;
    let enterprise = app.token_for(Role::Member, &[], Some(ENTERPRISE));
    let secretariat = app.token_for(Role::Secretariat, &[TEDA], None);
    let path = format!("/api/v1/alliances/{TEDA}/postings/by-ref/HR-2025-017");
    let body = json!({"kind": "talent", "title_zh": "发酵工程师", "headcount": 4, "submit": true});
    let first = app.put(&path, &enterprise, &body).await;
    let posted = created(&first, "first sync");
    let id = posted["id"].as_str().unwrap().to_owned();
    assert_eq!(
        first.header("location"),
        Some(format!("/api/v1/postings/{id}").as_str())
    );
    assert_eq!(posted["external_ref"], "HR-2025-017");
    assert_eq!(posted["status"], "pending_review");
    // The same body again changes nothing and writes nothing.
    let events = app.event_count();
    let again = ok(&app.put(&path, &enterprise, &body).await, "same sync");
    assert_eq!(
        (&again["id"], &again["version"]),
        (&posted["id"], &json!(1))
    );
    assert_eq!(app.event_count(), events);
    ok(
        &app.post(
            &format!("/api/v1/postings/{id}/publish"),
            &secretariat,
            &json!({}),
        )
        .await,
        "publish",
    );
    // A change from the member system: replaced, and back to review.
    let changed = ok(
        &app.put(
            &path,
            &enterprise,
            &json!({"kind": "talent", "title_zh": "发酵工程师", "headcount": 6}),
        )
        .await,
        "changed sync",
    );
    assert_eq!(
        (&changed["headcount"], &changed["status"]),
        (&json!(6), &json!("pending_review"))
    );
    let found = ok(
        &app.get(
            &format!("/api/v1/alliances/{TEDA}/postings?organization={ENTERPRISE}&external_ref=HR-2025-017"),
            &enterprise,
        )
        .await,
        "by reference",
    );
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["id"], id.as_str());
    let headcount: Option<i64> = postings::table
        .filter(postings::id.eq(&id))
        .select(postings::headcount)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(headcount, Some(6));
    // Another reference in the body than in the path; another kind.
    let res = app
        .put(
            &path,
            &enterprise,
            &json!({"kind": "talent", "title_zh": "x", "headcount": 1, "external_ref": "HR-9"}),
        )
        .await;
    res.problem(422);
    app.put(
        &path,
        &enterprise,
        &json!({"kind": "project", "title_zh": "x"}),
    )
    .await
    .problem(409);
}

async fn the_public_listing_is_off_by_default(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    app.send(app.client.get(app.url("/api/v1/public/postings")), None)
        .await
        .problem(404);
}

mod sqlite {
    #[actix_web::test]
    async fn a_member_system_syncs_its_postings_by_reference() {
        super::a_member_system_syncs_its_postings_by_reference(super::Engine::Sqlite).await
    }
    #[actix_web::test]
    async fn the_public_listing_shows_what_posters_opened() {
        super::the_public_listing_shows_what_posters_opened(super::Engine::Sqlite).await
    }
    #[actix_web::test]
    async fn the_public_listing_is_off_by_default() {
        super::the_public_listing_is_off_by_default(super::Engine::Sqlite).await
    }
    #[actix_web::test]
    async fn a_demand_meets_a_supply_and_places_students() {
        super::a_demand_meets_a_supply_and_places_students(super::Engine::Sqlite).await
    }
    #[actix_web::test]
    async fn postings_are_found_in_both_languages() {
        super::postings_are_found_in_both_languages(super::Engine::Sqlite).await
    }
    #[actix_web::test]
    async fn only_the_poster_and_its_alliance_touch_a_posting() {
        super::only_the_poster_and_its_alliance_touch_a_posting(super::Engine::Sqlite).await
    }
}

mod postgres {
    #[actix_web::test]
    async fn the_public_listing_is_off_by_default() {
        super::the_public_listing_is_off_by_default(super::Engine::Postgres).await
    }
    #[actix_web::test]
    async fn a_member_system_syncs_its_postings_by_reference() {
        super::a_member_system_syncs_its_postings_by_reference(super::Engine::Postgres).await
    }
    #[actix_web::test]
    async fn the_public_listing_shows_what_posters_opened() {
        super::the_public_listing_shows_what_posters_opened(super::Engine::Postgres).await
    }
    #[actix_web::test]
    async fn a_demand_meets_a_supply_and_places_students() {
        super::a_demand_meets_a_supply_and_places_students(super::Engine::Postgres).await
    }
    #[actix_web::test]
    async fn postings_are_found_in_both_languages() {
        super::postings_are_found_in_both_languages(super::Engine::Postgres).await
    }
    #[actix_web::test]
    async fn only_the_poster_and_its_alliance_touch_a_posting() {
        super::only_the_poster_and_its_alliance_touch_a_posting(super::Engine::Postgres).await
    }
}
