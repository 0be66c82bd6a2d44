//! The authorisation matrix (OWASP API1 and API5): every operation of the
//! generated description, called without a token and with a token of each
//! role, on records in the token's scope and outside it, must answer what
//! `src/service/access.rs` says: 401, 403, 404 or 2xx. An operation the table
//! does not list fails here (and in `access::tests`).
//!
//! Reads and refused writes run on one database, and a refused write must
//! leave no audit record and no event. Each allowed write runs on a fresh
//! copy of the same records, so no call depends on another's effect.
//!
//! Then every read again, for what its answer shows (API3).

use std::collections::BTreeMap;

use crate::common::{Engine, Snapshot, TestApp};
use actix_web::http::StatusCode;
use alliance_api::api::access::{self, Access, Outcome, ROLES, Scope};
use alliance_api::auth::Role;
use serde_json::{Value, json};

const IN: &str = "in-alliance";
const OUT: &str = "out-alliance";
/// The member token's organisation, a member of `IN`.
const OWN_ORG: &str = "own-org";
/// A member of `OUT`.
const OTHER_ORG: &str = "other-org";
/// In no alliance: one to admit, or to delete.
const LONE_ORG: &str = "lone-org";
const KPI: &str = "trained_persons";
const ACCOUNT: &str = "matrix-system";
const DRAFT_YEAR: i32 = 2025;
const SUBMITTED_YEAR: i32 = 2024;
const APPROVED_YEAR: i32 = 2023;

/// The ids of the records the calls name, by kind and side.
struct Fixture {
    ids: BTreeMap<String, String>,
    account_secret: String,
}

impl Fixture {
    fn id(&self, key: &str) -> &str {
        self.ids
            .get(key)
            .unwrap_or_else(|| panic!("no fixture record `{key}`"))
    }
}

fn side(in_scope: bool) -> &'static str {
    if in_scope { "in" } else { "out" }
}

fn token(app: &TestApp, role: Role) -> String {
    match role {
        Role::Secretariat => app.token_for(role, &[IN], None),
        Role::Member => app.token_for(role, &[IN], Some(OWN_ORG)),
        _ => app.token(role),
    }
}

fn ok(res: &crate::common::Response, what: &str) -> Value {
    assert!(
        res.status.is_success(),
        "{what}: {} {}",
        res.status,
        res.text()
    );
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    }
}

/// Two alliances, each with a member organisation, a membership, a council
/// seat, a platform, an activity and three report years (approved,
/// submitted, draft); an organisation in neither; a KPI; an account; and a
/// webhook subscription of admin, secretariat and member, each with one
/// delivery.
async fn build_fixture(app: &TestApp) -> Fixture {
    let admin = app.admin();
    let mut ids = BTreeMap::new();
    let res = app
        .post(
            "/api/v1/kpi-definitions",
            &admin,
            &json!({"code": KPI, "name_zh": "培训人数", "unit": "persons",
                    "direction": "increase", "value_type": "integer"}),
        )
        .await;
    ok(&res, "KPI");
    for (s, alliance, org) in [("in", IN, OWN_ORG), ("out", OUT, OTHER_ORG)] {
        let res = app
            .post(
                "/api/v1/alliances",
                &admin,
                &json!({"slug": alliance, "kind": "regional_consortium",
                        "sector": "biomedicine", "name_zh": format!("{alliance}联合体")}),
            )
            .await;
        ok(&res, "alliance");
        let res = app
            .post(
                "/api/v1/organizations",
                &admin,
                &json!({"slug": org, "kind": "enterprise", "name_zh": format!("{org}公司"),
                        "external_refs": [{"system": "hr", "id": format!("{org}-ref")}]}),
            )
            .await;
        ok(&res, "organization");
        let base = format!("/api/v1/alliances/{alliance}");
        let records = [
            (
                "membership",
                "memberships",
                json!({"organization_id": org, "joined_on": "2023-01-01"}),
            ),
            (
                "seat",
                "council-seats",
                json!({"organization": org, "person_name_zh": "王芳", "position": "director",
                       "term_number": 1, "term_starts_on": "2023-01-01", "term_ends_on": "2027-12-31"}),
            ),
            (
                "platform",
                "platforms",
                json!({"kind": "training_center", "name_zh": format!("{alliance}实训中心")}),
            ),
            (
                "activity",
                "activities",
                json!({"kind": "exchange", "title": "交流会", "starts_on": "2025-03-01"}),
            ),
        ];
        for (kind, path, body) in records {
            let res = app.post(&format!("{base}/{path}"), &admin, &body).await;
            let created = ok(&res, kind);
            ids.insert(
                format!("{kind}.{s}"),
                created["id"].as_str().unwrap().to_owned(),
            );
        }
        // 供需对接: the member's published demand and pending one, a peer
        // member's two published offers, and an accepted match.
        let peer = format!("{s}-peer-org");
        ok(
            &app.post(
                "/api/v1/organizations",
                &admin,
                &json!({"slug": peer, "kind": "vocational_college", "name_zh": format!("{peer}学院")}),
            )
            .await,
            "peer organization",
        );
        ok(
            &app.post(
                &format!("{base}/memberships"),
                &admin,
                &json!({"organization_id": peer, "joined_on": "2023-01-01"}),
            )
            .await,
            "peer membership",
        );
        let postings = [
            ("posting", org, "talent", true),
            ("pending", org, "talent", false),
            ("offer", peer.as_str(), "talent_supply", true),
            ("spare", peer.as_str(), "talent_supply", true),
        ];
        for (kind, by, posting_kind, publish) in postings {
            let res = app
                .post(
                    &format!("{base}/postings"),
                    &admin,
                    &json!({"kind": posting_kind, "organization": by, "title_zh": "岗位",
                            "headcount": 3, "submit": true}),
                )
                .await;
            let id = ok(&res, kind)["id"].as_str().unwrap().to_owned();
            if publish {
                let res = app
                    .post(
                        &format!("/api/v1/postings/{id}/publish"),
                        &admin,
                        &json!({}),
                    )
                    .await;
                ok(&res, "publish");
            }
            ids.insert(format!("{kind}.{s}"), id);
        }
        let res = app
            .post(
                &format!("{base}/matches"),
                &admin,
                &json!({"demand_id": ids[&format!("posting.{s}")], "offer_id": ids[&format!("offer.{s}")]}),
            )
            .await;
        let id = ok(&res, "match")["id"].as_str().unwrap().to_owned();
        for side in ["demand", "offer"] {
            let res = app
                .post(
                    &format!("/api/v1/matches/{id}/accept"),
                    &admin,
                    &json!({"side": side}),
                )
                .await;
            ok(&res, "accept");
        }
        ids.insert(format!("match.{s}"), id);
        for year in [APPROVED_YEAR, SUBMITTED_YEAR, DRAFT_YEAR] {
            let res = app
                .put(
                    &format!("{base}/kpis/{year}"),
                    &admin,
                    &json!({"kpis": [{"code": KPI, "target": 100}]}),
                )
                .await;
            ok(&res, "KPI year");
        }
        for (year, step) in [
            (APPROVED_YEAR, "submit"),
            (APPROVED_YEAR, "approve"),
            (SUBMITTED_YEAR, "submit"),
        ] {
            let res = app
                .post(&format!("{base}/reports/{year}/{step}"), &admin, &json!({}))
                .await;
            ok(&res, step);
        }
    }
    let res = app
        .post(
            "/api/v1/organizations",
            &admin,
            &json!({"slug": LONE_ORG, "kind": "enterprise", "name_zh": "独立企业"}),
        )
        .await;
    ok(&res, "lone organization");
    let res = app
        .post(
            "/api/v1/accounts",
            &admin,
            &json!({"name": ACCOUNT, "kind": "system", "role": "viewer"}),
        )
        .await;
    let account = ok(&res, "account");
    ids.insert("account".into(), account["id"].as_str().unwrap().to_owned());
    let account_secret = account["client_secret"].as_str().unwrap().to_owned();
    for role in [Role::Admin, Role::Secretariat, Role::Member] {
        let owner = token(app, role);
        let res = app
            .post(
                "/api/v1/webhooks",
                &owner,
                &json!({"url": "https://hooks.example.com/alliance"}),
            )
            .await;
        let id = ok(&res, "webhook")["id"].as_str().unwrap().to_owned();
        let feed = app.get("/api/v1/changes?limit=1", &owner).await;
        let event = ok(&feed, "feed")["items"][0]["cursor"].clone();
        ids.insert(format!("event.{role}"), event.as_str().unwrap().to_owned());
        let res = app
            .post(
                &format!("/api/v1/webhooks/{id}/deliveries"),
                &owner,
                &json!({ "event": event }),
            )
            .await;
        let delivery = ok(&res, "delivery")["id"].as_str().unwrap().to_owned();
        ids.insert(format!("webhook.{role}"), id);
        ids.insert(format!("delivery.{role}"), delivery);
    }
    Fixture {
        ids,
        account_secret,
    }
}

fn settings(c: &mut alliance_api::config::Config) {
    c.webhook_worker = false;
    c.public_dashboard = true;
    c.public_postings = true;
}

/// The fixture's records, made once through the API and kept as a
/// snapshot: each allowed write runs on a fresh copy of it.
async fn prepare(engine: Engine) -> Option<(Snapshot, Fixture)> {
    let app = TestApp::spawn_with(engine, settings).await?;
    let fixture = build_fixture(&app).await;
    Some((app.into_snapshot().await, fixture))
}

/// One operation of the description.
struct Operation {
    id: String,
    method: String,
    path: String,
}

fn operations(app: &TestApp) -> Vec<Operation> {
    let _ = app;
    let doc: Value = serde_json::to_value(alliance_api::openapi()).unwrap();
    let mut ops = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op["operationId"].as_str() {
                ops.push(Operation {
                    id: id.to_owned(),
                    method: method.to_uppercase(),
                    path: path.clone(),
                });
            }
        }
    }
    ops
}

/// Whose webhook subscription a role's call names: its own in scope, and
/// someone else's outside it.
fn webhook_owner(role: Role, in_scope: bool) -> Role {
    match (role, in_scope) {
        (Role::Secretariat | Role::Member, true) => role,
        (Role::Admin, false) => Role::Secretariat,
        _ => Role::Admin,
    }
}

/// The path with its parameters naming records in or out of scope.
fn path_for(op: &Operation, role: Role, in_scope: bool, fx: &Fixture) -> String {
    let s = side(in_scope);
    let (alliance, org) = if in_scope {
        (IN, OWN_ORG)
    } else {
        (OUT, OTHER_ORG)
    };
    let year = match op.id.as_str() {
        "approve_annual_report" | "return_annual_report" => SUBMITTED_YEAR,
        "reopen_annual_report" => APPROVED_YEAR,
        "get_kpi_year" | "get_annual_report" => SUBMITTED_YEAR,
        _ => DRAFT_YEAR,
    };
    let owner = webhook_owner(role, in_scope);
    let segments: Vec<String> = op.path.split('/').map(str::to_owned).collect();
    let mut out = vec![];
    for (i, seg) in segments.iter().enumerate() {
        let parent = if i > 0 { segments[i - 1].as_str() } else { "" };
        let value = match (parent, seg.as_str()) {
            ("alliances", "{id}") => alliance.to_owned(),
            ("organizations", "{id}") if op.id == "delete_organization" => LONE_ORG.to_owned(),
            ("organizations", "{id}") => org.to_owned(),
            ("memberships", "{id}") => fx.id(&format!("membership.{s}")).to_owned(),
            ("council-seats", "{id}") => fx.id(&format!("seat.{s}")).to_owned(),
            ("platforms", "{id}") => fx.id(&format!("platform.{s}")).to_owned(),
            ("activities", "{id}") => fx.id(&format!("activity.{s}")).to_owned(),
            ("postings", "{id}") => match op.id.as_str() {
                // The steps of a posting under review.
                "update_posting" | "submit_posting" | "publish_posting" | "return_posting" => {
                    fx.id(&format!("pending.{s}")).to_owned()
                }
                _ => fx.id(&format!("posting.{s}")).to_owned(),
            },
            ("matches", "{id}") => fx.id(&format!("match.{s}")).to_owned(),
            ("accounts", "{id}") => fx.id("account").to_owned(),
            ("webhooks", "{id}") => fx.id(&format!("webhook.{owner}")).to_owned(),
            ("deliveries", "{delivery_id}") => fx.id(&format!("delivery.{owner}")).to_owned(),
            ("kpi-definitions", "{code}") => KPI.to_owned(),
            (_, "{year}") => year.to_string(),
            ("by-ref", "{system}") => "hr".to_owned(),
            (_, "{ref}") => format!("{org}-ref"),
            ("assets", "{name}") => "dashboard.js".to_owned(),
            (_, other) if other.starts_with('{') => {
                panic!("{}: no value for the parameter {other}", op.id)
            }
            (_, other) => other.to_owned(),
        };
        out.push(value);
    }
    let mut path = out.join("/");
    if op.id == "dashboard_kpis" || op.id == "export_dashboard_kpis" {
        path.push_str(&format!("?alliance={alliance}"));
    }
    if op.id.starts_with("export_") && op.id != "export_members" {
        path.push_str(if path.contains('?') {
            "&format=csv"
        } else {
            "?format=csv"
        });
    }
    path
}

/// A request body that the operation takes, naming records in or out of
/// scope; `None` for operations without one.
fn body_for(
    op: &Operation,
    role: Role,
    in_scope: bool,
    fx: &Fixture,
) -> Option<(&'static str, Vec<u8>)> {
    let owner = webhook_owner(role, in_scope);
    let (alliance, org) = if in_scope {
        (IN, OWN_ORG)
    } else {
        (OUT, OTHER_ORG)
    };
    let json = |v: Value| Some(("application/json", serde_json::to_vec(&v).unwrap()));
    match op.id.as_str() {
        "issue_token" => json(json!({"grant_type": "client_credentials",
            "client_id": ACCOUNT, "client_secret": fx.account_secret})),
        "create_account" => {
            json(json!({"name": "another-system", "kind": "system", "role": "viewer"}))
        }
        "update_account" => json(json!({"description": "renamed"})),
        "rotate_account_secret" => json(json!({})),
        "create_alliance" => json(
            json!({"slug": "new-alliance", "kind": "regional_consortium",
            "sector": "biomedicine", "name_zh": "新联合体"}),
        ),
        "update_alliance" => json(json!({"name_en": "Renamed"})),
        "create_organization" => json(
            json!({"slug": if in_scope { "joining-org" } else { "stranger-org" },
            "kind": "enterprise", "name_zh": "新企业"}),
        ),
        "update_organization" => json(json!({"region": "滨海新区"})),
        "upsert_organization_by_ref" => json(json!({"slug": org, "kind": "enterprise",
            "name_zh": format!("{org}公司"), "region": "滨海新区", "external_refs": [{"system": "hr", "id": format!("{org}-ref")}]})),
        "create_membership" => {
            json(json!({"organization_id": LONE_ORG, "joined_on": "2025-01-01"}))
        }
        "update_membership" => json(json!({"note": "checked"})),
        "create_council_seat" => json(json!({"organization": org, "person_name_zh": "李明",
            "position": "director", "term_number": 1,
            "term_starts_on": "2025-01-01", "term_ends_on": "2027-12-31"})),
        "update_council_seat" => json(json!({"person_name_en": "Wang Fang"})),
        "create_platform" => json(json!({"kind": "joint_lab", "name_zh": "联合实验室"})),
        "update_platform" => json(json!({"name_en": "Training Centre"})),
        "create_activity" => {
            json(json!({"kind": "exchange", "title": "座谈会", "starts_on": "2025-05-01"}))
        }
        "update_activity" => json(json!({"title": "座谈会（改）"})),
        "create_posting" => json(json!({"kind": "talent", "organization": org,
            "title_zh": "新岗位", "headcount": 2})),
        "update_posting" => json(json!({"headcount": 4})),
        "upsert_posting_by_ref" => json(json!({"kind": "talent", "organization": org,
            "title_zh": "同步岗位", "headcount": 2})),
        "publish_posting" => json(json!({})),
        "submit_posting" => None,
        "return_posting" => json(json!({"comment": "请补充岗位要求"})),
        "close_posting" => json(json!({"reason": "withdrawn"})),
        "create_match" => json(
            json!({"demand_id": fx.id(&format!("posting.{}", side(in_scope))),
            "offer_id": fx.id(&format!("spare.{}", side(in_scope)))}),
        ),
        "accept_match" => json(json!({"side": "demand"})),
        "close_match" => {
            json(json!({"closed_on": "2025-06-01", "outcome": {"students_placed": 3}}))
        }
        "create_kpi_definition" => json(
            json!({"code": "new_kpi", "name_zh": "新指标", "unit": "persons",
            "direction": "increase", "value_type": "integer"}),
        ),
        "update_kpi_definition" => json(json!({"evidence_required": true})),
        "put_kpi_year" => json(json!({"kpis": [{"code": KPI, "target": 120}]})),
        "submit_annual_report" | "approve_annual_report" => json(json!({})),
        "return_annual_report" | "reopen_annual_report" => json(json!({"comment": "请补充材料"})),
        "create_webhook" => {
            json(json!({"url": "https://hooks.example.com/new", "alliance": alliance}))
        }
        "update_webhook" => json(json!({"description": "HR"})),
        "redeliver_webhook_event" => json(json!({"event": fx.id(&format!("event.{owner}"))})),
        "import_members" => Some((
            "text/csv",
            format!("slug,kind,name_zh,joined_on\n{LONE_ORG},enterprise,独立企业,2025-01-01\n")
                .into_bytes(),
        )),
        "import_activities" => Some((
            "text/csv",
            "kind,title,starts_on\nexchange,导入的交流会,2025-06-01\n"
                .as_bytes()
                .to_vec(),
        )),
        "import_kpis" => Some((
            "text/csv",
            format!("year,code,target\n{DRAFT_YEAR},{KPI},150\n").into_bytes(),
        )),
        _ if matches!(op.method.as_str(), "POST" | "PUT" | "PATCH")
            && op.id != "dashboard_token" =>
        {
            panic!("{}: the matrix has no request body for it", op.id)
        }
        _ => None,
    }
}

async fn call(
    app: &TestApp,
    op: &Operation,
    token: Option<&str>,
    path: &str,
    body: Option<(&'static str, Vec<u8>)>,
) -> crate::common::Response {
    let method = actix_web::http::Method::from_bytes(op.method.as_bytes()).unwrap();
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match body {
        Some((content_type, bytes)) => app.send(req.content_type(content_type), Some(bytes)).await,
        None => app.send(req, None).await,
    }
}

fn status_matches(expected: Outcome, status: StatusCode) -> bool {
    match expected {
        Outcome::Allowed => status.is_success(),
        Outcome::Forbidden => status == StatusCode::FORBIDDEN,
        Outcome::Hidden => status == StatusCode::NOT_FOUND,
    }
}

/// The scopes an operation's calls try: in and out, or just one where the
/// operation has no scope.
fn scopes(access: &Access) -> &'static [bool] {
    match access.scope {
        Scope::None => &[true],
        _ => &[true, false],
    }
}

async fn every_operation_answers_as_the_table_says(engine: Engine) {
    let Some((snapshot, fx)) = prepare(engine).await else {
        return;
    };
    let app = snapshot.spawn_with(settings).await;
    let ops = operations(&app);
    let mut failures = vec![];
    let mut calls = 0;
    for op in &ops {
        let access = access::of(&op.id).unwrap_or_else(|| {
            panic!(
                "{} {} ({}) has no entry in src/service/access.rs",
                op.method, op.path, op.id
            )
        });
        let writes = op.method != "GET" && !access.public;
        // No token.
        let path = path_for(op, Role::Admin, true, &fx);
        let before = (app.audit_count(), app.event_count());
        let res = call(&app, op, None, &path, body_for(op, Role::Admin, true, &fx)).await;
        calls += 1;
        let expected_anonymous = if access.public {
            res.status.is_success()
        } else {
            res.status == StatusCode::UNAUTHORIZED
        };
        if !expected_anonymous {
            failures.push(format!(
                "{} without a token: {} {}",
                op.id,
                res.status,
                res.text()
            ));
        }
        if writes {
            assert_eq!(before, (app.audit_count(), app.event_count()), "{}", op.id);
        }
        for role in ROLES {
            for &in_scope in scopes(access) {
                let expected = access.outcome(role, in_scope);
                let mut token = token(&app, role);
                if op.id == "create_organization" && role == Role::Member {
                    // A member token registers its own organisation.
                    token = app.token_for(role, &[IN], Some("joining-org"));
                }
                let path = path_for(op, role, in_scope, &fx);
                let body = body_for(op, role, in_scope, &fx);
                let res = if writes && expected == Outcome::Allowed {
                    // On fresh records, so the call does not depend on others.
                    let fresh = snapshot.spawn_with(settings).await;
                    call(&fresh, op, Some(&token), &path, body).await
                } else {
                    let before = (app.audit_count(), app.event_count());
                    let res = call(&app, op, Some(&token), &path, body).await;
                    if writes {
                        let after = (app.audit_count(), app.event_count());
                        if before != after {
                            failures.push(format!(
                                "{} as {role} ({}): refused but wrote {before:?} → {after:?}",
                                op.id,
                                side(in_scope)
                            ));
                        }
                    }
                    res
                };
                calls += 1;
                if !status_matches(expected, res.status) {
                    failures.push(format!(
                        "{} {} as {role}, {} scope: expected {expected:?}, got {} {}",
                        op.method,
                        path,
                        side(in_scope),
                        res.status,
                        res.text()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls answered otherwise than src/service/access.rs says:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{calls} calls over {} operations", ops.len());
}

/// What the answers show (OWASP API3): no answer to anyone carries an
/// account's secret, its hash or a webhook's signing secret, and a viewer
/// never sees a person's name in full, wherever it appears (the council,
/// the annual report, the change feed), while a reviewer does.
async fn no_answer_shows_what_its_reader_may_not_see(engine: Engine) {
    let Some(app) = TestApp::spawn_with(engine, settings).await else {
        return;
    };
    let fx = build_fixture(&app).await;
    const PERSON: &str = "王芳";
    let mut reviewer_saw_the_name = false;
    for op in operations(&app).iter().filter(|op| op.method == "GET") {
        for role in ROLES {
            let path = path_for(op, role, true, &fx);
            let res = call(&app, op, Some(&token(&app, role)), &path, None).await;
            let body = res.text();
            for secret in [fx.account_secret.as_str(), "$argon2", "whsec_"] {
                assert!(
                    !body.contains(secret),
                    "{} as {role} shows a secret ({secret}): {body}",
                    op.id
                );
            }
            if role == Role::Viewer {
                assert!(
                    !body.contains(PERSON),
                    "{} shows a viewer a person's name: {body}",
                    op.id
                );
            }
            reviewer_saw_the_name |= role == Role::Reviewer && body.contains(PERSON);
        }
    }
    assert!(reviewer_saw_the_name, "the name is in the records");
    let seat = format!("/api/v1/council-seats/{}", fx.id("seat.in"));
    let masked = app.get(&seat, &app.viewer()).await.json();
    assert_eq!(masked["person_name_zh"], "王*");
    let full = app.get(&seat, &app.token(Role::Reviewer)).await.json();
    assert_eq!(full["person_name_zh"], PERSON);
    // The viewer's copy of an approved report is not the frozen snapshot.
    let report = format!("/api/v1/alliances/{IN}/reports/{APPROVED_YEAR}");
    let viewed = app.get(&report, &app.viewer()).await.json();
    assert_eq!(viewed["council"][0]["person_name_zh"], "王*");
    assert_eq!(viewed["frozen"], false);
    let reviewed = app.get(&report, &app.token(Role::Reviewer)).await.json();
    assert_eq!(reviewed["frozen"], true);
}

mod sqlite {
    #[actix_web::test]
    async fn every_operation_answers_as_the_table_says() {
        super::every_operation_answers_as_the_table_says(super::Engine::Sqlite).await
    }

    #[actix_web::test]
    async fn no_answer_shows_what_its_reader_may_not_see() {
        super::no_answer_shows_what_its_reader_may_not_see(super::Engine::Sqlite).await
    }
}

mod postgres {
    #[actix_web::test]
    async fn every_operation_answers_as_the_table_says() {
        super::every_operation_answers_as_the_table_says(super::Engine::Postgres).await
    }

    #[actix_web::test]
    async fn no_answer_shows_what_its_reader_may_not_see() {
        super::no_answer_shows_what_its_reader_may_not_see(super::Engine::Postgres).await
    }
}
